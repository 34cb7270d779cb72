"""Typed application state keys."""

from __future__ import annotations

from aiohttp import web

from accesspoint.config import Config
from accesspoint.identity import APIdentity
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.pipeline.inbound import InboundSettings
from accesspoint.pipeline.observer import OutboundFinalHook
from accesspoint.pipeline.routing import Router
from accesspoint.secretbox import SecretBox
from accesspoint.server.extensions import Extension
from accesspoint.server.metrics import Metrics
from accesspoint.server.validation_service import ValidationService
from accesspoint.store.engine import Store
from accesspoint.store.tenants import Tenant

CONFIG = web.AppKey("config", Config)
METRICS = web.AppKey("metrics", Metrics)
VALIDATION = web.AppKey("validation", ValidationService)
IDENTITY = web.AppKey("identity", APIdentity)
STORE = web.AppKey("store", Store)
INBOUND_SETTINGS = web.AppKey("inbound_settings", InboundSettings)
WEBHOOK_KEY = web.AppKey("webhook_key", bytes)
SECRET_BOX = web.AppKey("secret_box", SecretBox)
ROUTER = web.AppKey("router", Router)
DOORBELL = web.AppKey("doorbell", Doorbell)
# Extensions add theirs in ``setup``; the outbound worker calls each when a document is final.
OUTBOUND_FINAL_HOOKS = web.AppKey("outbound_final_hooks", list[OutboundFinalHook])
EXTENSIONS = web.AppKey("extensions", tuple[Extension, ...])
TENANT = web.RequestKey("tenant", Tenant)
