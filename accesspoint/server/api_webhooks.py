"""``POST/GET /api/v1/webhooks``: a tenant registers where it is told of inbound arrivals and final
outbound statuses. The signing secret is answered once, at registration."""

from __future__ import annotations

from aiohttp import web

from accesspoint.pipeline.webhooks import WebhookError, list_webhooks, register_webhook
from accesspoint.server.keys import STORE, TENANT, WEBHOOK_KEY
from accesspoint.server.problems import problem


async def create(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        url, events = body["url"], list(body.get("events", ["*"]))
    except (ValueError, RecursionError, KeyError, TypeError):  # not UTF-8 or not JSON, too deep, wrong shape
        return problem(400, "Bad Request", 'send {"url": ..., "events": [...]}', code="bad-request")
    if not isinstance(url, str) or not url.isprintable():  # NUL or lone surrogates: no store can hold them
        return problem(422, "Invalid webhook", "the webhook url must be a URL", code="invalid-webhook")
    try:
        async with request.app[STORE].begin() as conn:
            webhook_id, secret = await register_webhook(
                conn, request.app[WEBHOOK_KEY], request[TENANT].id, str(url), [str(e) for e in events]
            )
    except WebhookError as exc:
        return problem(422, "Invalid webhook", str(exc), code="invalid-webhook")
    return web.json_response({"id": webhook_id, "url": url, "events": events, "secret": secret}, status=201)


async def index(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        hooks = await list_webhooks(conn, request[TENANT].id)
    return web.json_response(
        {"items": [{"id": h.id, "url": h.url, "events": list(h.events), "active": h.active} for h in hooks]}
    )
