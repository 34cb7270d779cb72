"""The aiohttp server: /as4, /api/v1, health and metrics. Handlers stay thin."""

from accesspoint.server.app import create_app

__all__ = ["create_app"]
