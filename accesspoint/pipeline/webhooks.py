"""Tenant webhooks: tell a business's own system when a document arrived or an outbound one is final.

``notify`` runs inside the pipeline's own transaction, so a delivery exists exactly when the state
change it announces was committed (no lost or phantom notifications). Sending happens later, from the
durable queue (job kind ``WEBHOOK_JOB``), one attempt per lease: a slow or broken endpoint only delays
its own deliveries and never blocks or fails the document pipeline.

Receivers authenticate a delivery with ``Ehfgate-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`` over
``b"<t>." + body``; the timestamp lets them reject replays (see ``verify_signature``). Each webhook's
secret is HMAC(``webhooks.secret_key``, webhook id): derived when needed, never stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import random
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store import queue
from accesspoint.store import webhooks as repo
from accesspoint.store.engine import Store
from accesspoint.store.events import record
from accesspoint.store.ids import now

WEBHOOK_JOB = "webhook"
INBOUND_RECEIVED = "inbound.received"  # an inbound document validated and in the inbox
OUTBOUND_FINAL = "outbound.final"  # an outbound document delivered or failed for good
EVENTS = [INBOUND_RECEIVED, OUTBOUND_FINAL]  # extensions add theirs with ``add_event``
ALL_EVENTS = "*"

# Delay (seconds) before retry n; after the last one the delivery fails (len + 1 attempts in all).
DEFAULT_SCHEDULE: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800)
TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "Ehfgate-Signature"
EVENT_HEADER = "Ehfgate-Event"
DELIVERY_HEADER = "Ehfgate-Delivery"

Webhook = repo.Webhook


def add_event(name: str) -> None:
    """Make ``name`` an event tenants can subscribe to (extensions announce their own, e.g. invoices)."""
    if name not in EVENTS:
        EVENTS.append(name)


class WebhookError(ValueError):
    """A webhook registration that cannot be accepted (bad URL or unknown event)."""


def webhook_secret(key: bytes, webhook_id: str) -> str:
    """The signing secret of one webhook, derived from the server's ``webhooks.secret_key``."""
    mac = hmac.new(key, f"ehfgate webhook secret: {webhook_id}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def register_webhook(
    conn: AsyncConnection, key: bytes, tenant_id: str, url: str, events: list[str]
) -> tuple[str, str]:
    """Register ``url`` for ``events``; returns (webhook id, secret). The secret is shown only here."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"webhook url must be http(s)://host/...: {url!r}")
    if not events:
        raise WebhookError("a webhook needs at least one event")
    unknown = sorted(set(events) - {*EVENTS, ALL_EVENTS})
    if unknown:
        raise WebhookError(f"unknown webhook events {unknown}; known: {[*EVENTS, ALL_EVENTS]}")
    webhook_id = await repo.insert_webhook(conn, tenant_id, url, sorted(set(events)))
    return webhook_id, webhook_secret(key, webhook_id)


async def list_webhooks(conn: AsyncConnection, tenant_id: str) -> list[Webhook]:
    """The tenant's webhooks, without secrets."""
    return await repo.tenant_webhooks(conn, tenant_id)


async def notify(conn: AsyncConnection, tenant_id: str, event: str, payload: dict[str, Any]) -> list[str]:
    """Queue ``event`` for each active subscribed webhook of the tenant, in the caller's transaction.

    Returns the new delivery ids (empty when nobody listens).
    """
    delivery_ids: list[str] = []
    for hook in await repo.tenant_webhooks(conn, tenant_id, active_only=True):
        if event not in hook.events and ALL_EVENTS not in hook.events:
            continue
        delivery_id = await repo.insert_delivery(conn, hook.id, event, payload)
        await queue.enqueue(conn, WEBHOOK_JOB, delivery_id)
        await record(conn, delivery_id, "webhook.queued", tenant_id=tenant_id, webhook=hook.id, event=event)
        delivery_ids.append(delivery_id)
    return delivery_ids


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``b"<timestamp>." + body``: binds the body to the time it was sent."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its time is within the tolerance.

    For receivers: the tolerance bounds replays of a captured delivery. Several ``v1=`` values are
    accepted (any may match), so a secret rotation can sign with old and new secrets at once.
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)
    # Check every candidate (no early exit) so timing does not reveal which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    return matched


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def body_of(delivery: repo.WebhookDelivery) -> bytes:
    """The JSON body: the same bytes on every attempt (receivers dedupe on ``id``)."""
    document = {
        "id": delivery.id,
        "event": delivery.event,
        "created_at": _iso(delivery.created_at),
        "data": delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


async def _post(
    session: aiohttp.ClientSession, target: repo.DeliveryTarget, secret: str, timeout_seconds: float
) -> tuple[int | None, str | None]:
    """One POST; (HTTP status or None, error or None). Endpoint failures are returned, never raised."""
    delivery = target.delivery
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(secret, int(time.time()), body),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: delivery.id,
    }
    try:
        async with session.post(
            target.url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
            allow_redirects=False,  # a redirect would re-send signed data somewhere unregistered
        ) as response:
            if 200 <= response.status < 300:
                return response.status, None
            return response.status, f"HTTP {response.status} {response.reason or ''}".strip()
    except TimeoutError:
        return None, f"timeout after {timeout_seconds:g} s"
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


async def deliver(
    store: Store,
    job: queue.Job,
    session: aiohttp.ClientSession,
    *,
    key: bytes,
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> str:
    """One attempt of the leased webhook ``job``; returns the delivery's status afterwards.

    2xx -> ``delivered``; anything else is retried after ``schedule[n-1]`` (±20 % jitter) and
    ``failed`` once the schedule is used up. No transaction is held during the POST; the lease
    (longer than ``timeout_seconds``) is what keeps two workers off one delivery. When the lease was
    lost meanwhile the row is left to the new owner.
    """
    async with store.connect() as conn:
        target = await repo.delivery_target(conn, job.ref)
    if target is None:  # the delivery is gone: nothing to send
        async with store.begin() as conn:
            await queue.complete(conn, job)
        return "missing"
    delivery = target.delivery
    if delivery.status != "pending":  # already final (e.g. a duplicate job): do not send twice
        async with store.begin() as conn:
            await queue.complete(conn, job)
        return delivery.status
    if not target.active:
        async with store.begin() as conn:
            if await queue.complete(conn, job):
                await repo.update_delivery(conn, delivery.id, status="failed", last_error="webhook inactive")
                await record(
                    conn, delivery.id, "webhook.failed", tenant_id=target.tenant_id, reason="inactive"
                )
        return "failed"

    secret = webhook_secret(key, delivery.webhook_id)
    status_code, error = await _post(session, target, secret, timeout_seconds)
    attempts = delivery.attempts + 1
    async with store.begin() as conn:
        if error is None:
            if not await queue.complete(conn, job):
                return delivery.status
            await repo.update_delivery(
                conn,
                delivery.id,
                status="delivered",
                attempts=attempts,
                last_status=status_code,
                last_error=None,
                delivered_at=now(),
            )
            await record(
                conn,
                delivery.id,
                "webhook.delivered",
                tenant_id=target.tenant_id,
                attempt=attempts,
                http_status=status_code,
            )
            return "delivered"
        if attempts > len(schedule):
            if not await queue.complete(conn, job):
                return delivery.status
            await repo.update_delivery(
                conn,
                delivery.id,
                status="failed",
                attempts=attempts,
                last_status=status_code,
                last_error=error,
            )
            await record(
                conn,
                delivery.id,
                "webhook.failed",
                tenant_id=target.tenant_id,
                attempt=attempts,
                http_status=status_code,
                reason=error,
            )
            return "failed"
        delay = schedule[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret
        if not await queue.reschedule(conn, job, now() + delay):
            return delivery.status
        await repo.update_delivery(
            conn, delivery.id, attempts=attempts, last_status=status_code, last_error=error
        )
        await record(
            conn,
            delivery.id,
            "webhook.retry",
            tenant_id=target.tenant_id,
            attempt=attempts,
            http_status=status_code,
            reason=error,
            next_in=round(delay, 3),
        )
        return "pending"
