"""Typed application state the distribution extension adds to the server."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from aiohttp import web

from accesspoint.pipeline.doorbell import Doorbell
from distribution.methods.base import DeliveryMethod

METHODS = web.AppKey("distribution_methods", Mapping[str, DeliveryMethod])
# One HTTP client session for methods run outside the engine (``explain``); the engine has its own.
HTTP = web.AppKey("distribution_http", aiohttp.ClientSession)
# Rung when an invoice is queued or woken, so the engine's idle workers start at once.
BELL = web.AppKey("distribution_doorbell", Doorbell)
