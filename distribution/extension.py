"""The distribution run as a server extension: its routes, the ``invoice.final`` webhook event, and
the engine's workers, started after the store and validation and stopped before them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.pipeline.webhooks import add_event
from accesspoint.server.api_openapi import openapi_path
from accesspoint.server.keys import CONFIG, OUTBOUND_FINAL_HOOKS, ROUTER, STORE, VALIDATION
from distribution.api import (
    avtalegiro,
    channels,
    invoices,
    payments,
    print_callbacks,
    printers,
    runs,
    templates,
    vipps_callbacks,
)
from distribution.avtalegiro import scheduler
from distribution.methods.base import DeliveryMethod
from distribution.methods.registry import default_methods
from distribution.payments.booking import PAID_EVENT
from distribution.run.app_keys import BELL, HTTP, METHODS
from distribution.run.engine import FINAL_EVENT, Engine, EngineSettings
from distribution.run.wake import wake_waiting_on

# Next to the core document (schemas/ of the project, or wherever EHFGATE_OPENAPI points, as in the image).
FRAGMENT_NAMES = (
    "openapi-distribution.json",
    "openapi-distribution-mail.json",
    "openapi-distribution-payments.json",
    "openapi-distribution-avtalegiro.json",
    "openapi-distribution-channels.json",
)


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        yield


async def _engine_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    settings = EngineSettings.from_config(config)
    if settings.workers <= 0:
        yield
        return
    engine = Engine(app[STORE], app[METHODS], config, app[HTTP], settings, app[BELL])
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    yield
    stop.set()
    await task


class DistributionExtension:
    """``methods`` replaces the built-in registry (tests pass scripted methods)."""

    name = "distribution"

    def __init__(self, methods: Mapping[str, DeliveryMethod] | None = None) -> None:
        self._methods: dict[str, DeliveryMethod] | None = dict(methods) if methods is not None else None

    def setup(self, app: web.Application) -> None:
        add_event(FINAL_EVENT)
        add_event(PAID_EVENT)
        if self._methods is not None:
            methods = self._methods
        else:
            methods = default_methods(
                app[CONFIG],
                router=lambda: app[ROUTER],
                validate=lambda data: app[VALIDATION].validate(data),
            )
        app[METHODS] = methods
        app[BELL] = Doorbell()

        async def outbound_final(document_id: str, tenant_id: str, status: str) -> None:
            """An EHF delivery's document is final: its run asks for the status now, not at the poll."""
            if await wake_waiting_on(app[STORE], tenant_id, document_id):
                app[BELL].ring()

        app[OUTBOUND_FINAL_HOOKS].append(outbound_final)
        app.router.add_routes(invoices.routes)
        app.router.add_routes(runs.routes)
        app.router.add_routes(print_callbacks.routes)
        app.router.add_routes(templates.routes)
        app.router.add_routes(printers.routes)
        app.router.add_routes(payments.routes)
        app.router.add_routes(avtalegiro.routes)
        app.router.add_routes(channels.routes)
        app.router.add_routes(vipps_callbacks.routes)
        app.cleanup_ctx.append(_http_ctx)
        app.cleanup_ctx.append(_engine_ctx)
        app.cleanup_ctx.append(scheduler.claims_ctx)

    def openapi_fragments(self) -> Sequence[Path]:
        schemas = openapi_path().parent
        return tuple(schemas / name for name in FRAGMENT_NAMES)
