"""Liveness, readiness and metrics endpoints (outside /api/v1, no authentication)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from aiohttp import web

from accesspoint.server.keys import IDENTITY, METRICS, STORE, VALIDATION
from accesspoint.server.metrics import CONTENT_TYPE_LATEST
from accesspoint.store import queue


async def healthz(request: web.Request) -> web.Response:
    """The process is up and answering."""
    return web.json_response({"status": "ok"})


def _days_left(request: web.Request) -> float:
    expires = request.app[IDENTITY].credentials.certificate.not_valid_after_utc
    return (expires - dt.datetime.now(dt.UTC)).total_seconds() / 86400


async def _store_check(request: web.Request) -> str:
    try:
        async with request.app[STORE].connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the reason is shown
        return f"store unreachable: {type(exc).__name__}"
    return "ok"


async def readyz(request: web.Request) -> web.Response:
    """Ready only when a document can be taken end to end: store reachable, artifacts compiled, keys valid."""
    service = request.app[VALIDATION]
    days = _days_left(request)
    checks = {
        "store": await _store_check(request),
        "validation": "ok" if service.ready else service.problem,
        "keys": "ok" if days > 0 else "the AP certificate has expired",
    }
    ready = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
    )


async def metrics(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    metrics.certificate_days.set(_days_left(request))
    async with request.app[STORE].connect() as conn:
        depths = await queue.depth(conn)
    for kind in ("send", "validate_inbound", "webhook"):
        metrics.queue_depth.labels(kind=kind).set(depths.get(kind, 0))
    body = metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
