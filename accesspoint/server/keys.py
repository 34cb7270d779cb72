"""Typed application state keys."""

from __future__ import annotations

from aiohttp import web

from accesspoint.config import Config
from accesspoint.server.metrics import Metrics
from accesspoint.server.validation_service import ValidationService

CONFIG = web.AppKey("config", Config)
METRICS = web.AppKey("metrics", Metrics)
VALIDATION = web.AppKey("validation", ValidationService)
