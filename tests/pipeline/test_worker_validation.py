"""The worker's inbound validation step while the validator is not ready yet, the observer hooks, and
the hooks told when an outbound document is final."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from accesspoint import sbdh
from accesspoint.as4.trust import AnchorTrust
from accesspoint.config import load_config
from accesspoint.identity import APIdentity
from accesspoint.pipeline.delivery import build
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.pipeline.inbound import VALIDATE_JOB, InboundSettings, receive
from accesspoint.pipeline.outbound import submit
from accesspoint.pipeline.routing import Router, StaticRouting
from accesspoint.pipeline.worker import Worker, WorkerSettings
from accesspoint.pki.devpki import create_dev_pki
from accesspoint.store.documents import get_outbound
from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from accesspoint.store.schema import inbound, jobs
from accesspoint.store.tenants import add_participant, create_tenant
from accesspoint.validation.engine import Validator
from accesspoint.validation.report import Report
from accesspoint.validation.setup import ValidationUnavailable, locate

INVOICE = "supplement/docs/004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"


class Counted:
    def __init__(self) -> None:
        self.inbound: list[str] = []

    def transmitted(self, outcome: str, seconds: float) -> None:
        pass

    def outbound_final(self, status: str, seconds_since_submit: float) -> None:
        pass

    def inbound_validated(self, status: str) -> None:
        self.inbound.append(status)


@pytest.fixture(scope="module")
def validator() -> Validator:
    try:
        root, catalogue = locate(load_config())
    except ValidationUnavailable as exc:
        pytest.fail(str(exc))
    return Validator(root, catalogue)


async def test_not_ready_validation_is_retried_soon_then_lands_in_the_inbox(
    store: Store, corpus: Path, validator: Validator
) -> None:
    pki = create_dev_pki(("POP000001", "POP000002"))
    trust = AnchorTrust(pki.anchors, pki.intermediates)
    sender = APIdentity(pki.ap("POP000001"), "POP000001", trust)
    receiver = APIdentity(pki.ap("POP000002"), "POP000002", trust)
    envelope = sbdh.envelope_for_ubl((corpus / INVOICE).read_bytes())
    recipient = sbdh.read_envelope(envelope).receiver
    assert recipient is not None and recipient.value
    async with store.begin() as conn:
        await add_participant(conn, await create_tenant(conn, "buyer"), recipient.value)
    message = build(sender, envelope, pki.ap("POP000002").certificate, None)
    answer = await receive(store, receiver, message.content_type, message.body, InboundSettings())
    assert answer.kind == "receipt"

    ready = False

    async def validate(data: bytes) -> Report:
        if not ready:
            raise ValidationUnavailable("validation artifacts are loading")
        return validator.validate(data)

    observer = Counted()
    settings = WorkerSettings(lease_seconds=300, not_ready_seconds=0.2)
    worker = Worker(
        store, receiver, StaticRouting(()), validate, settings, observer=observer, webhook_key=b"k" * 32
    )

    async with aiohttp.ClientSession() as session:
        before = now()
        assert await worker.run_once(session)
        async with store.connect() as conn:
            job = (await conn.execute(sa.select(jobs).where(jobs.c.kind == VALIDATE_JOB))).one()
        # released (not left to its 300 s lease) and due again shortly
        assert job.lease_owner is None and not job.done
        assert before < job.run_at < before + 5
        assert observer.inbound == []

        ready = True
        await asyncio.sleep(max(0.0, job.run_at - now()) + 0.05)
        assert await worker.run_once(session)
    async with store.connect() as conn:
        status = (await conn.execute(sa.select(inbound.c.status))).scalar_one()
    assert status == "accepted"
    assert observer.inbound == ["accepted"]


async def test_doorbell_wakes_an_idle_worker_at_once_and_keeps_a_ring_for_later() -> None:
    bell = Doorbell()
    started = asyncio.get_running_loop().time()
    waiter = asyncio.create_task(bell.wait(5))
    await asyncio.sleep(0.01)
    bell.ring()
    await waiter
    assert asyncio.get_running_loop().time() - started < 1
    bell.ring()  # nobody waiting: kept until the next wait
    started = asyncio.get_running_loop().time()
    await bell.wait(5)
    assert asyncio.get_running_loop().time() - started < 0.1
    started = asyncio.get_running_loop().time()
    await bell.wait(0.2)  # no ring: the poll interval
    assert asyncio.get_running_loop().time() - started >= 0.19


async def test_final_hooks_hear_of_a_final_document_after_its_commit_and_a_failing_one_is_contained(
    store: Store, corpus: Path, validator: Validator
) -> None:
    pki = create_dev_pki(("POP000001",))
    sender = APIdentity(pki.ap("POP000001"), "POP000001", AnchorTrust(pki.anchors, pki.intermediates))
    document = (corpus / INVOICE).read_bytes()
    seller = sbdh.read_envelope(sbdh.envelope_for_ubl(document)).sender
    assert seller is not None and seller.value
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "seller")
        await add_participant(conn, tenant, seller.value)

    async def validate(data: bytes) -> Report:
        return validator.validate(data)

    submission = await submit(store, tenant, document, validate)
    heard: list[tuple[str, str, str, str | None]] = []

    async def broken(document_id: str, tenant_id: str, status: str) -> None:
        raise RuntimeError("a listener broke")

    async def listener(document_id: str, tenant_id: str, status: str) -> None:
        async with store.connect() as conn:  # committed before the hook is called
            stored = await get_outbound(conn, document_id)
        heard.append((document_id, tenant_id, status, stored.status if stored else None))

    settings = WorkerSettings(lease_seconds=300)
    hooks = [broken, listener]
    worker = Worker(  # no static route and no discovery: the document fails at once
        store, sender, Router(StaticRouting(())), validate, settings, webhook_key=b"k" * 32, final_hooks=hooks
    )
    async with aiohttp.ClientSession() as session:
        assert await worker.run_once(session)
    assert heard == [(submission.document.id, tenant.id, "failed", "failed")]
