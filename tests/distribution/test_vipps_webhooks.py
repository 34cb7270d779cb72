"""Vipps webhooks verified exactly as the Webhooks API documents it: the documentation's own example
verifies; on a real server a signed event wakes the invoice's run, and a tampered body, a wrong
secret, a stale date or an unknown reference are refused with 401."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from accesspoint.config import Config, load_config
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.server import create_app
from accesspoint.store.engine import Store
from accesspoint.store.schema import jobs
from distribution.api import vipps_callbacks
from distribution.methods.vipps import VippsMethod
from distribution.run.app_keys import BELL
from distribution.run.engine import JOB_KIND
from distribution.storage.schema import invoice_attempts
from distribution.vipps.webhooks import WebhookSignatureError, authorization, content_hash, sign, verify
from tests.distribution import test_vipps
from tests.distribution.test_vipps import SECRETS_KEY, WEBHOOK_SECRET, World, configure_vipps
from tests.distribution.vipps_server import VippsServer

world, vipps = test_vipps.world, test_vipps.vipps  # the shared fixtures

# The worked example in Vipps' "Webhooks API request authentication" page.
DOC_BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
DOC_DATE = "Thu, 30 Mar 2023 08:38:32 GMT"
DOC_HASH = "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
DOC_AUTH = (
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&"
    "Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
)
DOC_PATH = "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"


def test_the_documented_example_verifies() -> None:
    assert content_hash(DOC_BODY) == DOC_HASH
    assert authorization(WEBHOOK_SECRET, DOC_PATH, DOC_DATE, "webhook.site", DOC_HASH) == DOC_AUTH
    headers = {"x-ms-date": DOC_DATE, "x-ms-content-sha256": DOC_HASH, "Authorization": DOC_AUTH}
    at = 1680165512.0  # the example's date
    verify(WEBHOOK_SECRET, DOC_BODY, headers, path_and_query=DOC_PATH, host="webhook.site", now=at)
    with pytest.raises(WebhookSignatureError, match="outside"):
        verify(WEBHOOK_SECRET, DOC_BODY, headers, path_and_query=DOC_PATH, host="webhook.site", now=at + 301)
    with pytest.raises(WebhookSignatureError, match="does not match the body"):
        verify(WEBHOOK_SECRET, DOC_BODY + b" ", headers, path_and_query=DOC_PATH, host="webhook.site", now=at)
    with pytest.raises(WebhookSignatureError, match="signature does not match"):
        verify(WEBHOOK_SECRET, DOC_BODY, headers, path_and_query="/other", host="webhook.site", now=at)
    with pytest.raises(WebhookSignatureError, match="signature does not match"):
        verify("another secret", DOC_BODY, headers, path_and_query=DOC_PATH, host="webhook.site", now=at)
    with pytest.raises(WebhookSignatureError, match="required"):
        verify(WEBHOOK_SECRET, DOC_BODY, {}, path_and_query=DOC_PATH, host="webhook.site", now=at)


def test_sign_round_trips() -> None:
    headers = sign("s3cret", b"{}", path_and_query="/callbacks/vipps", host="example.com:8443")
    verify("s3cret", b"{}", headers, path_and_query="/callbacks/vipps", host="example.com:8443")


class VippsRoutes:
    name = "vipps-callbacks"

    def setup(self, app: web.Application) -> None:
        app[BELL] = Doorbell()
        app.router.add_routes(vipps_callbacks.routes)

    def openapi_fragments(self) -> tuple[Path, ...]:
        return ()


@pytest.fixture
async def server(world: World, store_url: str, tmp_path: Path) -> AsyncIterator[TestServer]:
    base = load_config()
    config: Config = dataclasses.replace(
        base,
        secrets=world.config.secrets,
        server=dataclasses.replace(base.server, data_dir=tmp_path / "var"),
        store=dataclasses.replace(base.store, url=store_url),
        outbound=dataclasses.replace(base.outbound, workers=0),
    )
    assert config.secrets.key == SECRETS_KEY
    test_server = TestServer(create_app(config, extensions=[VippsRoutes()]))
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def _pending_payment(world: World, vipps: VippsServer) -> str:
    await configure_vipps(world, vipps)
    result = await VippsMethod().deliver(world.ctx())
    assert result.reference is not None
    async with world.store.begin() as conn:
        await conn.execute(
            invoice_attempts.insert().values(
                id="att_0001",
                invoice_id=world.invoice_id,
                method="vipps",
                outcome="pending",
                reason=result.reason,
                reference=result.reference,
                at=time.time(),
            )
        )
        await conn.execute(
            jobs.insert().values(
                id="job_1",
                kind=JOB_KIND,
                ref=world.invoice_id,
                run_at=time.time() + 86400,
                created_at=time.time(),
            )
        )
    return result.reference


async def _run_at(store: Store) -> float:
    async with store.connect() as conn:
        value: Any = (await conn.execute(sa.select(jobs.c.run_at).where(jobs.c.id == "job_1"))).scalar_one()
    return float(value)


async def test_signed_events_wake_the_run_and_forgeries_do_not(
    world: World, vipps: VippsServer, server: TestServer
) -> None:
    reference = await _pending_payment(world, vipps)
    url = str(server.make_url("/callbacks/vipps"))
    vipps.set_state(reference, "AUTHORIZED")

    status, _, _ = await vipps.send_webhook(url, "wrong secret", reference, "AUTHORIZED")
    assert status == 401
    status, _, _ = await vipps.send_webhook(
        url, WEBHOOK_SECRET, reference, "AUTHORIZED", at=time.time() - 3600
    )
    assert status == 401
    assert await _run_at(world.store) > time.time() + 3600  # nothing woke it

    # Tampered: the body changed after signing (the amount), the headers kept.
    _, body, _ = await vipps.send_webhook(url, "wrong secret", reference, "AUTHORIZED")
    good = sign(WEBHOOK_SECRET, body, path_and_query="/callbacks/vipps", host=f"{server.host}:{server.port}")
    async with aiohttp.ClientSession() as http:
        tampered = body.replace(b'"value": 80200', b'"value": 1')
        async with http.post(
            url, data=tampered, headers={**good, "Content-Type": "application/json"}
        ) as answer:
            assert answer.status == 401
        forged = body.replace(reference.encode(), b"inv-unknown-00000000")
        async with http.post(url, data=forged, headers=good) as answer:
            assert answer.status == 401
        async with http.post(url, data=body, headers={**good, "Content-Type": "application/json"}) as answer:
            assert answer.status == 200
    assert await _run_at(world.store) <= time.time()

    status, _, _ = await vipps.send_webhook(url, WEBHOOK_SECRET, reference, "CAPTURED")
    assert status == 200
