"""``POST /callbacks/vipps``: Vipps MobilePay says a payment request moved on (ePayment webhooks).

Outside /api/v1: the caller is Vipps, authenticated only by the Webhooks API's HMAC over date, host,
path and body, keyed with the tenant's webhook secret. Which tenant is read from the event's
``reference`` (the reference our Vipps method gave the payment, recorded with its attempt) before
the signature is checked, and trusted only once it verifies. A verified event does not change the
invoice itself: it wakes the invoice's run, which asks Vipps for the payment's state at once (and
captures and books an authorized payment) exactly as a poll would. Unknown references and bad
signatures get the same 401, so the endpoint tells an outsider nothing.
"""

from __future__ import annotations

import json
import logging
import re

import sqlalchemy as sa
from aiohttp import web

from accesspoint.httpio import TooLarge, read_request_bounded
from accesspoint.secretbox import SecretBoxError
from accesspoint.server.keys import SECRET_BOX, STORE
from accesspoint.server.problems import problem
from distribution.run.app_keys import BELL
from distribution.run.wake import wake
from distribution.storage.schema import invoice_attempts, invoices
from distribution.storage.secrets import read_secret
from distribution.vipps.settings import NAME
from distribution.vipps.webhooks import WebhookSignatureError, verify

CALLBACK_PATH = "/callbacks/vipps"
MAX_BODY = 64 * 1024
_REFERENCE = re.compile(r"[a-zA-Z0-9-]{8,50}")
log = logging.getLogger("ehfgate.distribution")
routes = web.RouteTableDef()


def _unauthorized() -> web.Response:
    return problem(401, "Unauthorized", "the webhook signature cannot be verified", code="bad-signature")


async def _read(request: web.Request) -> bytes | None:
    try:
        return await read_request_bounded(request, MAX_BODY)
    except TooLarge:
        return None


async def _invoice_of(request: web.Request, reference: str) -> tuple[str, str, str] | None:
    """(tenant id, invoice id, webhook secret) of the Vipps attempt with this reference."""
    async with request.app[STORE].connect() as conn:
        row = (
            await conn.execute(
                sa.select(invoices.c.tenant_id, invoices.c.id)
                .join(invoice_attempts, invoice_attempts.c.invoice_id == invoices.c.id)
                .where(invoice_attempts.c.method == NAME, invoice_attempts.c.reference == reference)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        try:
            secrets = await read_secret(conn, request.app[SECRET_BOX], row.tenant_id, NAME)
        except SecretBoxError:
            return None
    secret = (secrets or {}).get("webhook_secret")
    return (row.tenant_id, row.id, secret) if isinstance(secret, str) and secret else None


@routes.post(CALLBACK_PATH)
async def vipps_callback(request: web.Request) -> web.StreamResponse:
    body = await _read(request)
    if body is None:
        return problem(413, "Payload Too Large", f"a webhook is at most {MAX_BODY} bytes", code="too-large")
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    reference = event.get("reference") if isinstance(event, dict) else None
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        return _unauthorized()
    found = await _invoice_of(request, reference)
    if found is None:
        return _unauthorized()
    tenant_id, invoice_id, secret = found
    try:
        verify(secret, body, request.headers, path_and_query=request.raw_path, host=request.host)
    except WebhookSignatureError as exc:
        log.warning("vipps webhook for %s refused: %s", reference, exc)
        return _unauthorized()
    assert isinstance(event, dict)
    woken = await wake(request.app[STORE], invoice_id)
    if woken:
        request.app[BELL].ring()
    log.info(
        "vipps webhook: %s is %s (tenant %s, run woken: %s)", reference, event.get("name"), tenant_id, woken
    )
    return web.json_response({"received": True})
