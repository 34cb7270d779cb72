"""``POST /as4``: bytes in, receipt or ebMS error signal out (HTTP 200 either way, as the profile says)."""

from __future__ import annotations

from aiohttp import web

from accesspoint.pipeline.inbound import receive
from accesspoint.server.keys import DOORBELL, IDENTITY, INBOUND_SETTINGS, METRICS, STORE


async def as4(request: web.Request) -> web.Response:
    body = await request.read()
    answer = await receive(
        request.app[STORE], request.app[IDENTITY], request.headers.get("Content-Type", ""), body,
        request.app[INBOUND_SETTINGS],
    )  # fmt: skip
    request.app[METRICS].as4_messages.labels(direction="in", outcome=answer.kind).inc()
    if answer.kind == "receipt":
        request.app[DOORBELL].ring()  # its validation job is committed
    return web.Response(status=200, body=answer.body, headers={"Content-Type": answer.content_type})
