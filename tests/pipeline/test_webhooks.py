"""Tenant webhooks on both engines, against a real HTTP receiver on loopback (no mocks).

The receiver verifies every delivery the way a tenant's system would, with ``verify_signature``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from accesspoint.pipeline import webhooks
from accesspoint.store import queue
from accesspoint.store import schema as repo_schema
from accesspoint.store import webhooks as repo
from accesspoint.store.engine import Store
from accesspoint.store.events import history
from accesspoint.store.tenants import create_tenant

TINY = (0.01, 0.01)
KEY = b"k" * 32


@dataclass
class Receiver:
    """A loopback endpoint answering with scripted statuses (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    secret: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            {
                "headers": dict(request.headers),
                "body": body,
                "verified": webhooks.verify_signature(
                    self.secret, request.headers.get(webhooks.SIGNATURE_HEADER), body
                ),
            }
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        return web.Response(status=status, text="ok" if status < 300 else "nope")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    spec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", spec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    spec.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield spec
    finally:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _tenant(store: Store, name: str) -> str:
    async with store.begin() as conn:
        return (await create_tenant(conn, name)).id


async def _register(store: Store, tenant_id: str, url: str, events: list[str]) -> tuple[str, str]:
    async with store.begin() as conn:
        return await webhooks.register_webhook(conn, KEY, tenant_id, url, events)


async def _notify(store: Store, tenant_id: str, event: str, payload: dict[str, Any]) -> list[str]:
    async with store.begin() as conn:
        return await webhooks.notify(conn, tenant_id, event, payload)


async def _lease(store: Store, wait: float = 2.0) -> queue.Job | None:
    """The next due webhook job, waiting out a (tiny) backoff."""
    deadline = time.monotonic() + wait
    while True:
        job = await queue.lease(store, (webhooks.WEBHOOK_JOB,), "test-worker", 30)
        if job is not None or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.01)


async def _drain(store: Store, session: aiohttp.ClientSession, **kwargs: Any) -> list[str]:
    """Run webhook jobs until none is left; the statuses ``deliver`` returned."""
    outcomes: list[str] = []
    while (job := await _lease(store, wait=0.5)) is not None:
        outcomes.append(await webhooks.deliver(store, job, session, key=KEY, **kwargs))
    return outcomes


async def _delivery(store: Store, delivery_id: str) -> repo.WebhookDelivery:
    async with store.connect() as conn:
        found = await repo.get_delivery(conn, delivery_id)
    assert found is not None
    return found


async def _event_kinds(store: Store, delivery_id: str) -> list[str]:
    async with store.connect() as conn:
        return [event.kind for event in await history(conn, delivery_id)]


async def test_signed_delivery_round_trips(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    tenant = await _tenant(store, "acme")
    hook_id, secret = await _register(store, tenant, receiver.url, [webhooks.INBOUND_RECEIVED])
    receiver.secret = secret
    payload = {"document_id": "in_1", "sender": "0192:987654321", "amount": "1250.00", "æøå": True}
    [delivery_id] = await _notify(store, tenant, webhooks.INBOUND_RECEIVED, payload)

    assert await _drain(store, session, schedule=TINY) == ["delivered"]
    [request] = receiver.requests
    assert request["verified"]
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers[webhooks.EVENT_HEADER] == webhooks.INBOUND_RECEIVED
    assert headers[webhooks.DELIVERY_HEADER] == delivery_id
    body = json.loads(request["body"])
    assert body["id"] == delivery_id and body["event"] == webhooks.INBOUND_RECEIVED
    assert body["data"] == payload and body["created_at"]

    delivery = await _delivery(store, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None and delivery.webhook_id == hook_id
    assert await _event_kinds(store, delivery_id) == ["webhook.queued", "webhook.delivered"]

    # The receiver's checks: a changed body, a wrong secret or a stale timestamp do not verify.
    signature = headers[webhooks.SIGNATURE_HEADER]
    raw: bytes = request["body"]
    assert webhooks.verify_signature(secret, signature, raw)
    assert not webhooks.verify_signature(secret, signature, raw.replace(b"1250.00", b"9250.00"))
    assert not webhooks.verify_signature("whsec_wrong", signature, raw)
    assert not webhooks.verify_signature(secret, signature, raw, now=time.time() + 301)
    assert not webhooks.verify_signature(secret, None, raw)
    assert not webhooks.verify_signature(secret, "t=abc,v1=00", raw)


def test_sign_is_hmac_over_timestamp_and_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhooks.sign("s3cret", 1700000000, b"{}") == expected
    header = f"t=1700000000,v1=deadbeef,v1={expected}"  # rotation: any v1 may match
    assert webhooks.verify_signature("s3cret", header, b"{}", now=1700000100)


async def test_server_error_is_retried_until_delivered(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.statuses = [500, 200]
    tenant = await _tenant(store, "acme")
    _, receiver.secret = await _register(store, tenant, receiver.url, [webhooks.OUTBOUND_FINAL])
    [delivery_id] = await _notify(store, tenant, webhooks.OUTBOUND_FINAL, {"document_id": "doc_1"})

    first = await _lease(store)
    assert first is not None
    assert await webhooks.deliver(store, first, session, key=KEY, schedule=TINY) == "pending"
    pending = await _delivery(store, delivery_id)
    assert (pending.status, pending.attempts, pending.last_status) == ("pending", 1, 500)
    assert pending.last_error is not None and "500" in pending.last_error

    second = await _lease(store)
    assert second is not None and second.id == first.id
    assert await webhooks.deliver(store, second, session, key=KEY, schedule=TINY) == "delivered"
    done = await _delivery(store, delivery_id)
    assert (done.status, done.attempts, done.last_status, done.last_error) == ("delivered", 2, 200, None)
    assert [r["verified"] for r in receiver.requests] == [True, True]
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]  # same delivery, same bytes
    assert await _event_kinds(store, delivery_id) == ["webhook.queued", "webhook.retry", "webhook.delivered"]
    assert await _lease(store, wait=0.1) is None


async def test_always_failing_endpoint_ends_failed(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.statuses = [503]
    tenant = await _tenant(store, "acme")
    _, receiver.secret = await _register(store, tenant, receiver.url, ["*"])
    [delivery_id] = await _notify(store, tenant, webhooks.INBOUND_RECEIVED, {"document_id": "in_1"})

    assert await _drain(store, session, schedule=TINY) == ["pending", "pending", "failed"]
    failed = await _delivery(store, delivery_id)
    assert (failed.status, failed.attempts, failed.last_status) == ("failed", 3, 503)
    assert failed.delivered_at is None
    assert len(receiver.requests) == 3
    assert await _event_kinds(store, delivery_id) == [
        "webhook.queued",
        "webhook.retry",
        "webhook.retry",
        "webhook.failed",
    ]


async def test_unreachable_and_slow_endpoints_are_retried_not_raised(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    tenant = await _tenant(store, "acme")
    await _register(store, tenant, "http://127.0.0.1:9/hook", [webhooks.OUTBOUND_FINAL])  # discard port
    [refused_id] = await _notify(store, tenant, webhooks.OUTBOUND_FINAL, {"document_id": "doc_1"})
    assert await _drain(store, session, schedule=(0.01,)) == ["pending", "failed"]
    refused = await _delivery(store, refused_id)
    assert refused.status == "failed" and refused.last_status is None and refused.last_error

    slow_tenant = await _tenant(store, "slow")
    receiver.delay = 1.0
    _, receiver.secret = await _register(store, slow_tenant, receiver.url, [webhooks.OUTBOUND_FINAL])
    [slow_id] = await _notify(store, slow_tenant, webhooks.OUTBOUND_FINAL, {"document_id": "doc_2"})
    job = await _lease(store)
    assert job is not None
    assert (
        await webhooks.deliver(store, job, session, key=KEY, schedule=TINY, timeout_seconds=0.2) == "pending"
    )
    slow = await _delivery(store, slow_id)
    assert slow.attempts == 1 and slow.last_error is not None and "timeout" in slow.last_error


async def test_only_the_tenants_subscribed_webhooks_are_notified(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    tenant_a = await _tenant(store, "a")
    tenant_b = await _tenant(store, "b")
    hook_a, secret_a = await _register(store, tenant_a, receiver.url, [webhooks.INBOUND_RECEIVED])
    hook_other, _ = await _register(store, tenant_a, receiver.url, [webhooks.OUTBOUND_FINAL])

    assert await _notify(store, tenant_b, webhooks.INBOUND_RECEIVED, {"document_id": "in_b"}) == []
    [delivery_id] = await _notify(store, tenant_a, webhooks.INBOUND_RECEIVED, {"document_id": "in_a"})
    receiver.secret = secret_a
    assert await _drain(store, session, schedule=TINY) == ["delivered"]
    [request] = receiver.requests
    assert request["verified"] and json.loads(request["body"])["data"] == {"document_id": "in_a"}
    async with store.connect() as conn:
        assert [d.id for d in await repo.webhook_deliveries_of(conn, hook_a)] == [delivery_id]
        assert await repo.webhook_deliveries_of(conn, hook_other) == []


async def test_notify_joins_the_callers_transaction(store: Store) -> None:
    tenant = await _tenant(store, "acme")
    hook_id, _ = await _register(store, tenant, "https://example.invalid/hook", ["*"])
    with pytest.raises(RuntimeError):
        async with store.begin() as conn:
            assert await webhooks.notify(conn, tenant, webhooks.OUTBOUND_FINAL, {"document_id": "d"})
            raise RuntimeError("the pipeline step failed")
    async with store.connect() as conn:
        assert await repo.webhook_deliveries_of(conn, hook_id) == []
        assert await queue.depth(conn) == {}


async def test_register_and_list_never_show_the_secret(store: Store) -> None:
    tenant = await _tenant(store, "acme")
    other = await _tenant(store, "other")
    hook_id, secret = await _register(store, tenant, "https://erp.example/hook", [webhooks.INBOUND_RECEIVED])
    assert secret.startswith("whsec_") and len(secret) > 40
    async with store.connect() as conn:
        [listed] = await webhooks.list_webhooks(conn, tenant)
        assert await webhooks.list_webhooks(conn, other) == []
    assert listed.id == hook_id and listed.url == "https://erp.example/hook" and listed.active
    assert listed.events == [webhooks.INBOUND_RECEIVED]
    assert secret not in repr(listed) and not hasattr(listed, "secret")
    async with store.begin() as conn:
        with pytest.raises(webhooks.WebhookError):
            await webhooks.register_webhook(conn, KEY, tenant, "ftp://erp.example/hook", ["*"])
        with pytest.raises(webhooks.WebhookError):
            await webhooks.register_webhook(
                conn, KEY, tenant, "https://erp.example/hook", ["inbound.recieved"]
            )
        with pytest.raises(webhooks.WebhookError):
            await webhooks.register_webhook(conn, KEY, tenant, "https://erp.example/hook", [])


async def test_secrets_are_derived_not_stored(store: Store) -> None:
    tenant = await _tenant(store, "acme")
    first_id, first = await _register(store, tenant, "https://erp.example/a", ["*"])
    _, second = await _register(store, tenant, "https://erp.example/b", ["*"])
    assert first != second and first.startswith("whsec_")
    assert webhooks.webhook_secret(KEY, first_id) == first
    assert webhooks.webhook_secret(b"x" * 32, first_id) != first  # another server key, another secret
    async with store.connect() as conn:
        rows = (await conn.execute(sa.select(repo_schema.webhooks))).mappings().all()
    stored = json.dumps([dict(r) for r in rows], default=str)
    assert first not in stored and second not in stored and "whsec_" not in stored
