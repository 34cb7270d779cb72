"""Application factory: state in typed AppKeys, start-up and clean-up in cleanup contexts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from accesspoint import keyfile
from accesspoint.config import Config
from accesspoint.discovery.lookup import Discovery
from accesspoint.identity import load_identity
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.pipeline.inbound import InboundSettings
from accesspoint.pipeline.routing import Router, StaticRouting
from accesspoint.pipeline.worker import Worker, WorkerSettings
from accesspoint.secretbox import secret_box
from accesspoint.server import api_documents, api_openapi, api_validate, api_webhooks, as4_endpoint, health
from accesspoint.server.auth import auth_middleware
from accesspoint.server.extensions import Extension, discover
from accesspoint.server.keys import (
    CONFIG,
    DOORBELL,
    EXTENSIONS,
    IDENTITY,
    INBOUND_SETTINGS,
    METRICS,
    OUTBOUND_FINAL_HOOKS,
    ROUTER,
    SECRET_BOX,
    STORE,
    VALIDATION,
    WEBHOOK_KEY,
)
from accesspoint.server.metrics import Metrics
from accesspoint.server.problems import Handler, problem_middleware
from accesspoint.server.validation_service import ValidationService
from accesspoint.store.engine import Store
from accesspoint.store.keyring import agree_on_key
from accesspoint.store.migrate import upgrade

WEBHOOK_KEY_FILE = "webhooks.key"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[METRICS].http_requests.labels(route=route, status=str(response.status)).inc()
    return response


async def _validation_ctx(app: web.Application) -> AsyncIterator[None]:
    service = ValidationService(app[CONFIG], observe=app[METRICS].validated)
    app[VALIDATION] = service
    await service.start()
    yield
    await service.close()


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    store = Store(config.store_url)
    if config.store.migrate_on_start:
        await upgrade(store)
    try:
        await agree_on_key(store, "webhooks.secret_key", keyfile.fingerprint(app[WEBHOOK_KEY], "webhooks"))
        await agree_on_key(store, "secrets.key", keyfile.fingerprint(app[SECRET_BOX].key, "secrets"))
    except BaseException:
        await store.close()
        raise
    app[STORE] = store
    yield
    await store.close()


async def _worker_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    settings = WorkerSettings(
        retry_schedule=config.outbound.retry_schedule,
        lease_seconds=config.outbound.lease_seconds,
        timeout_seconds=config.outbound.timeout_seconds,
        concurrency=config.outbound.workers,
    )
    hooks = app[OUTBOUND_FINAL_HOOKS]  # the list itself: extensions' hooks, added in their setup
    worker = Worker(
        app[STORE],
        app[IDENTITY],
        app[ROUTER],
        app[VALIDATION].validate,
        settings,
        observer=app[METRICS],
        webhook_key=app[WEBHOOK_KEY],
        doorbell=app[DOORBELL],
        final_hooks=hooks,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield
    stop.set()
    await task


async def _routing_ctx(app: web.Application) -> AsyncIterator[None]:
    """Where outbound documents go (static routes, then SML + SMP): one router for the worker and for
    extensions that ask whether a participant can receive (the distribution run's EHF method)."""
    config, identity = app[CONFIG], app[IDENTITY]
    discovery = None
    if config.routing.discovery and identity.checker is not None:
        discovery = Discovery.from_config(config, identity.checker)
    app[ROUTER] = Router(StaticRouting(config.routing.static), discovery, identity.checker)
    yield
    if discovery is not None:
        await discovery.aclose()


async def _trust_ctx(app: web.Application) -> AsyncIterator[None]:
    """The certificate checker keeps an HTTP session for OCSP and CRLs: closed on shutdown."""
    yield
    checker = app[IDENTITY].checker
    if checker is not None:
        await checker.aclose()


def create_app(config: Config, extensions: Sequence[Extension] | None = None) -> web.Application:
    """The server; ``extensions`` default to the installed ones (``ehfgate.extensions``)."""
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        middlewares=[metrics_middleware, problem_middleware, auth_middleware],
    )
    app[CONFIG] = config
    app[METRICS] = Metrics()
    app[IDENTITY] = load_identity(config)
    app[DOORBELL] = Doorbell()
    app[OUTBOUND_FINAL_HOOKS] = []
    app[WEBHOOK_KEY] = keyfile.resolve(
        config.webhooks.secret_key, config.server.data_dir / WEBHOOK_KEY_FILE, "webhooks.secret_key"
    )
    app[SECRET_BOX] = secret_box(config)
    app[INBOUND_SETTINGS] = InboundSettings(config.inbound.duplicate_retention_days * 86400)
    app.cleanup_ctx.append(_trust_ctx)
    app.cleanup_ctx.append(_routing_ctx)
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_validation_ctx)
    if config.outbound.workers > 0:
        app.cleanup_ctx.append(_worker_ctx)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_get("/api/v1/openapi.json", api_openapi.openapi)
    app.router.add_post("/api/v1/validate", api_validate.validate)
    app.router.add_post("/as4", as4_endpoint.as4)
    app.router.add_post("/api/v1/documents", api_documents.submit_document)
    app.router.add_get("/api/v1/documents/{id}", api_documents.get_document)
    app.router.add_get("/api/v1/documents/{id}/events", api_documents.document_events)
    app.router.add_get("/api/v1/inbox", api_documents.inbox)
    app.router.add_get("/api/v1/inbox/{id}", api_documents.inbox_item)
    app.router.add_get("/api/v1/inbox/{id}/document", api_documents.inbox_document)
    app.router.add_post("/api/v1/inbox/{id}/ack", api_documents.inbox_ack)
    app.router.add_post("/api/v1/webhooks", api_webhooks.create)
    app.router.add_get("/api/v1/webhooks", api_webhooks.index)
    chosen = discover() if extensions is None else list(extensions)
    app[EXTENSIONS] = tuple(chosen)
    for extension in chosen:
        extension.setup(app)
    return app
