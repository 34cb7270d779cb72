"""Liveness, readiness and metrics endpoints (outside /api/v1, no authentication)."""

from __future__ import annotations

from aiohttp import web

from accesspoint.server.keys import METRICS, VALIDATION
from accesspoint.server.metrics import CONTENT_TYPE_LATEST


async def healthz(request: web.Request) -> web.Response:
    """The process is up and answering."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready only when everything a document needs is in place (validation artifacts compiled)."""
    service = request.app[VALIDATION]
    checks = {"validation": "ok" if service.ready else service.problem}
    ready = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
    )


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
