"""Application factory: state in typed AppKeys, start-up and clean-up in cleanup contexts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from accesspoint.config import Config
from accesspoint.server import api_validate, health
from accesspoint.server.keys import CONFIG, METRICS, VALIDATION
from accesspoint.server.metrics import Metrics
from accesspoint.server.problems import Handler, problem_middleware
from accesspoint.server.validation_service import ValidationService


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    request.app[METRICS].http_requests.labels(route=route, status=str(response.status)).inc()
    return response


async def _validation_ctx(app: web.Application) -> AsyncIterator[None]:
    service = ValidationService(app[CONFIG])
    app[VALIDATION] = service
    await service.start()
    yield
    await service.close()


def create_app(config: Config) -> web.Application:
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        middlewares=[metrics_middleware, problem_middleware],
    )
    app[CONFIG] = config
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_validation_ctx)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_post("/api/v1/validate", api_validate.validate)
    app["started"] = time.time()
    return app
