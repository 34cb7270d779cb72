"""The run engine on a real store (SQLite and PostgreSQL) with scripted methods standing in for channels."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from accesspoint.config import Config
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.pipeline.webhooks import add_event, register_webhook
from accesspoint.store.engine import Store
from accesspoint.store.events import history
from accesspoint.store.schema import jobs, webhook_deliveries
from accesspoint.store.tenants import Tenant, create_tenant
from accesspoint.validation.report import DocumentInfo, Report
from distribution.methods.base import AttachmentFile, Customer, DeliveryMethod, Outcome
from distribution.run.accept import NewInvoice, accept
from distribution.run.engine import FINAL_EVENT, Engine, EngineSettings
from distribution.run.wake import wake, wake_waiting_on
from distribution.storage.designs import StoredDesign, save_design
from distribution.storage.invoices import InvoiceRow, attempts_of, get_invoice
from distribution.storage.runs import save_run
from tests.distribution.corpus import NORWEGIAN_EXAMPLE
from tests.distribution.scripted import CRASH, RAISE, Crash, Scripted, scripted

FAST = EngineSettings(retry_schedule=(0, 0), status_poll_seconds=0, lease_seconds=30, workers=1)


async def valid(_: bytes) -> Report:
    """Validation is the API's concern (tested there); the engine's tests take the document as valid."""
    info = DocumentInfo("Invoice", None, None, None, "2.1", "peppol-bis-billing-3")
    return Report(info, "UBL-Invoice-2.1.xsd", True, (), ())


class Harness:
    def __init__(self, store: Store, tenant: Tenant, document: bytes, http: aiohttp.ClientSession) -> None:
        self.store, self.tenant, self.document, self.http = store, tenant, document, http

    def engine(self, methods: Mapping[str, DeliveryMethod], settings: EngineSettings = FAST) -> Engine:
        return Engine(self.store, methods, Config(), self.http, settings)

    async def submit(
        self,
        methods: Mapping[str, DeliveryMethod],
        customer: Customer,
        *,
        run: list[dict[str, Any]] | None = None,
        method: str | None = None,
        key: str | None = None,
        attachments: tuple[AttachmentFile, ...] = (),
    ) -> str:
        if run is not None:
            async with self.store.begin() as conn:
                await save_run(conn, self.tenant.id, run)
        new = NewInvoice(self.document, customer, attachments, method)
        accepted = await accept(
            self.store, self.tenant.id, new, valid, available=methods, idempotency_key=key
        )
        return accepted.id

    async def subscribe(self) -> None:
        """A webhook for ``invoice.final`` (registered as the extension does at start-up)."""
        add_event(FINAL_EVENT)
        async with self.store.begin() as conn:
            await register_webhook(conn, b"k" * 32, self.tenant.id, "http://127.0.0.1:9/hook", [FINAL_EVENT])

    async def drain(self, engine: Engine, limit: int = 50) -> int:
        steps = 0
        while await engine.run_once():
            steps += 1
            assert steps < limit, "the run does not settle"
        return steps

    async def invoice(self, invoice_id: str) -> InvoiceRow:
        async with self.store.connect() as conn:
            row = await get_invoice(conn, invoice_id)
        assert row is not None
        return row

    async def attempts(self, invoice_id: str) -> list[tuple[str, str]]:
        async with self.store.connect() as conn:
            return [(a.method, a.outcome) for a in await attempts_of(conn, invoice_id)]

    async def events(self, invoice_id: str) -> list[str]:
        async with self.store.connect() as conn:
            return [e.kind for e in await history(conn, invoice_id)]


@pytest.fixture
async def harness(store: Store, corpus: Path) -> AsyncIterator[Harness]:
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "acme")
    async with aiohttp.ClientSession() as http:
        yield Harness(store, tenant, (corpus / NORWEGIAN_EXAMPLE).read_bytes(), http)


def run_of(*names: str) -> list[dict[str, Any]]:
    return [{"method": name} for name in names]


async def test_first_eligible_method_delivers(harness: Harness) -> None:
    a, b = scripted("a"), scripted("b")
    methods = {"a": a, "b": b}
    invoice_id = await harness.submit(methods, Customer(), run=run_of("a", "b"))
    assert (await harness.invoice(invoice_id)).status == "queued"
    await harness.drain(harness.engine(methods))
    row = await harness.invoice(invoice_id)
    assert (row.status, row.method) == ("delivered", "a")
    assert await harness.attempts(invoice_id) == [("a", "delivered")]
    assert b.checks == [] and b.calls == []
    assert [call.attempt_key for call in a.calls] == list(a.delivered)
    events = await harness.events(invoice_id)
    assert events == [
        "distribution.accepted",
        "distribution.check",
        "distribution.attempt",
        "distribution.outcome",
        "distribution.delivered",
    ]


async def test_not_eligible_falls_through_with_reason(harness: Harness) -> None:
    a, b = scripted("a", needs="mobile"), scripted("b", needs="email")
    methods = {"a": a, "b": b}
    invoice_id = await harness.submit(methods, Customer(email="x@example.com"), run=run_of("a", "b"))
    await harness.drain(harness.engine(methods))
    assert (await harness.invoice(invoice_id)).method == "b"
    async with harness.store.connect() as conn:
        attempts = await attempts_of(conn, invoice_id)
    assert [(x.method, x.outcome, x.reason) for x in attempts] == [
        ("a", "not-eligible", "customer has no mobile"),
        ("b", "delivered", "b said delivered"),
    ]
    assert a.calls == []
    assert "distribution.fall-through" in await harness.events(invoice_id)


async def test_transient_is_retried_then_delivers(harness: Harness) -> None:
    a = scripted("a", script=[Outcome.TRANSIENT, Outcome.DELIVERED])
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    await harness.drain(harness.engine({"a": a}))
    assert (await harness.invoice(invoice_id)).status == "delivered"
    assert await harness.attempts(invoice_id) == [("a", "transient"), ("a", "delivered")]
    # a retry may follow a try that reached the other side: it carries the same idempotency key
    assert len({call.attempt_key for call in a.calls}) == 1
    assert "distribution.retry" in await harness.events(invoice_id)


async def test_transient_retry_waits_for_the_schedule(harness: Harness) -> None:
    a = scripted("a", script=[Outcome.TRANSIENT, Outcome.DELIVERED])
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    engine = harness.engine({"a": a}, EngineSettings(retry_schedule=(3600,), status_poll_seconds=0))
    assert await harness.drain(engine) == 1  # the retry is not due for an hour
    async with harness.store.connect() as conn:
        run_at = (await conn.execute(sa.select(jobs.c.run_at).where(jobs.c.ref == invoice_id))).scalar_one()
    row = await harness.invoice(invoice_id)
    assert 0.8 * 3600 <= run_at - row.updated_at <= 1.2 * 3600 + 5  # ±20 % jitter
    assert row.status == "delivering"


async def test_transient_used_up_falls_through(harness: Harness) -> None:
    a = scripted("a", script=[Outcome.TRANSIENT])
    b = scripted("b")
    methods = {"a": a, "b": b}
    invoice_id = await harness.submit(methods, Customer(), run=run_of("a", "b"))
    await harness.drain(harness.engine(methods))
    assert len(a.calls) == 3  # first try and two retries (schedule of two)
    assert await harness.attempts(invoice_id) == [("a", "transient")] * 3 + [("b", "delivered")]


@pytest.mark.parametrize("outcome", [Outcome.PERMANENT, Outcome.CANNOT_RECEIVE])
async def test_permanent_and_cannot_receive_fall_through_at_once(harness: Harness, outcome: Outcome) -> None:
    a, b = scripted("a", script=[outcome]), scripted("b")
    methods = {"a": a, "b": b}
    invoice_id = await harness.submit(methods, Customer(), run=run_of("a", "b"))
    await harness.drain(harness.engine(methods))
    assert len(a.calls) == 1
    assert await harness.attempts(invoice_id) == [("a", str(outcome)), ("b", "delivered")]


async def test_exception_in_method_is_transient_with_its_text(harness: Harness) -> None:
    a = scripted("a", script=[RAISE, Outcome.DELIVERED])
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    await harness.drain(harness.engine({"a": a}))
    async with harness.store.connect() as conn:
        first = (await attempts_of(conn, invoice_id))[0]
    assert (first.outcome, first.reason) == ("transient", "RuntimeError: a broke")
    assert (await harness.invoice(invoice_id)).status == "delivered"


async def test_pending_then_delivered_via_status(harness: Harness) -> None:
    a = scripted("a", script=[Outcome.PENDING], status_script=[Outcome.PENDING, RAISE, Outcome.DELIVERED])
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    await harness.drain(harness.engine({"a": a}))
    row = await harness.invoice(invoice_id)
    assert (row.status, row.method) == ("delivered", "a")
    assert len(a.calls) == 1  # never delivered again while pending, not even when status failed
    assert a.polls == [f"ref-{a.calls[0].attempt_key}"] * 3
    assert await harness.attempts(invoice_id) == [("a", "delivered")]


async def test_pending_is_woken_early(harness: Harness) -> None:
    a = scripted("a", script=[Outcome.PENDING], status_script=[Outcome.DELIVERED])
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    engine = harness.engine({"a": a}, EngineSettings(retry_schedule=(0,), status_poll_seconds=3600))
    assert await harness.drain(engine) == 1
    assert (await harness.invoice(invoice_id)).status == "delivering"
    assert await harness.attempts(invoice_id) == [("a", "pending")]
    assert await engine.run_once() is False  # next poll is an hour away
    assert await wake(harness.store, invoice_id) is True
    assert await engine.run_once() is True
    assert (await harness.invoice(invoice_id)).status == "delivered"
    assert await wake(harness.store, invoice_id) is False  # finished: nothing to wake
    assert await wake(harness.store, "inv_unknown") is False


async def test_a_run_waiting_on_a_reference_is_woken_by_it_for_its_tenant_only(harness: Harness) -> None:
    a = scripted("a", script=[Outcome.PENDING], status_script=[Outcome.DELIVERED])
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    engine = harness.engine({"a": a}, EngineSettings(retry_schedule=(0,), status_poll_seconds=3600))
    assert await harness.drain(engine) == 1
    reference = f"ref-{a.calls[0].attempt_key}"  # what the scripted method answered, as EHF its document id
    assert await engine.run_once() is False  # next poll is an hour away
    assert await wake_waiting_on(harness.store, "ten_other", reference) is False  # another tenant's id
    assert await wake_waiting_on(harness.store, harness.tenant.id, "ref-unknown") is False
    assert await engine.run_once() is False
    assert await wake_waiting_on(harness.store, harness.tenant.id, reference) is True
    assert await engine.run_once() is True
    assert (await harness.invoice(invoice_id)).status == "delivered"
    assert a.polls == [reference]
    assert await wake_waiting_on(harness.store, harness.tenant.id, reference) is False  # nothing waits now


async def test_nothing_possible_is_undeliverable_with_every_reason(harness: Harness) -> None:
    await harness.subscribe()
    methods: dict[str, DeliveryMethod] = {
        "a": scripted("a", needs="participant"),
        "b": scripted("b", script=[Outcome.PERMANENT]),
        "c": scripted("c", script=[Outcome.CANNOT_RECEIVE]),
    }
    invoice_id = await harness.submit(methods, Customer(), run=run_of("a", "b", "c"))
    await harness.drain(harness.engine(methods))
    row = await harness.invoice(invoice_id)
    assert (row.status, row.method) == ("undeliverable", None)
    assert await harness.attempts(invoice_id) == [
        ("a", "not-eligible"),
        ("b", "permanent"),
        ("c", "cannot-receive"),
    ]
    async with harness.store.connect() as conn:
        events = await history(conn, invoice_id)
        deliveries = (await conn.execute(sa.select(webhook_deliveries))).all()
    final = events[-1]
    assert final.kind == "distribution.undeliverable"
    assert [r["reason"] for r in final.detail["reasons"]] == [
        "customer has no participant",
        "b said permanent",
        "c said cannot-receive",
    ]
    assert [(d.event, d.payload["id"], d.payload["status"]) for d in deliveries] == [
        (FINAL_EVENT, invoice_id, "undeliverable")
    ]
    assert len(deliveries[0].payload["reasons"]) == 3


async def test_delivery_queues_the_final_webhook(harness: Harness) -> None:
    await harness.subscribe()
    a = scripted("a", evidence={"sold": True})
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    await harness.drain(harness.engine({"a": a}))
    assert (await harness.invoice(invoice_id)).status == "sold"
    async with harness.store.connect() as conn:
        deliveries = (await conn.execute(sa.select(webhook_deliveries))).all()
    assert [(d.event, d.payload["status"], d.payload["method"]) for d in deliveries] == [
        (FINAL_EVENT, "sold", "a")
    ]


async def test_preferred_method_first(harness: Harness) -> None:
    a, b = scripted("a"), scripted("b")
    methods = {"a": a, "b": b}
    invoice_id = await harness.submit(methods, Customer(preferred_method="b"), run=run_of("a", "b"))
    await harness.drain(harness.engine(methods))
    assert (await harness.invoice(invoice_id)).method == "b"
    assert a.checks == []


async def test_preferred_method_not_enabled_is_skipped_with_reason(harness: Harness) -> None:
    a, b = scripted("a"), scripted("b")
    methods = {"a": a, "b": b}
    invoice_id = await harness.submit(methods, Customer(preferred_method="b"), run=run_of("a"))
    await harness.drain(harness.engine(methods))
    async with harness.store.connect() as conn:
        attempts = await attempts_of(conn, invoice_id)
    assert [(x.method, x.outcome) for x in attempts] == [("b", "skipped"), ("a", "delivered")]
    assert "not enabled" in attempts[0].reason
    assert b.checks == []


async def test_override_is_the_only_method(harness: Harness) -> None:
    a, b = scripted("a"), scripted("b", needs="mobile")
    methods = {"a": a, "b": b}
    invoice_id = await harness.submit(methods, Customer(), run=run_of("a", "b"), method="b")
    await harness.drain(harness.engine(methods))
    assert (await harness.invoice(invoice_id)).status == "undeliverable"
    assert await harness.attempts(invoice_id) == [("b", "not-eligible")]
    assert a.checks == []


async def test_method_settings_reach_the_method(harness: Harness) -> None:
    a = scripted("a")
    invoice_id = await harness.submit({"a": a}, Customer(), run=[{"method": "a", "colour": "blue"}])
    await harness.drain(harness.engine({"a": a}))
    assert a.calls[0].settings == {"colour": "blue"} and a.calls[0].invoice_id == invoice_id


async def test_context_carries_attachments_and_renders_with_the_tenant_design(harness: Harness) -> None:
    async with harness.store.begin() as conn:
        await save_design(
            conn, harness.tenant.id, StoredDesign({"footer_text": "Acme footer", "language": "en"})
        )
    a = scripted("a", render=True)
    sheet = AttachmentFile("sheet.csv", "text/csv", b"a;b\n1;2\n")
    await harness.submit({"a": a}, Customer(name="Kari"), run=run_of("a"), attachments=(sheet,))
    await harness.drain(harness.engine({"a": a}))
    assert a.calls[0].attachments == (sheet,)
    assert a.pdfs[0].startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(a.pdfs[0])).pages)
    assert "Acme footer" in text


async def test_crash_between_started_and_outcome_resumes_with_same_key(harness: Harness) -> None:
    a = scripted("a", script=[CRASH, Outcome.DELIVERED])
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    short = EngineSettings(retry_schedule=(0,), status_poll_seconds=0, lease_seconds=0.3)
    with pytest.raises(Crash):
        await harness.engine({"a": a}, short).run_once()
    assert await harness.attempts(invoice_id) == [("a", "started")]
    await asyncio.sleep(0.4)  # the dead process's lease runs out
    restarted = harness.engine({"a": a}, short)
    assert await harness.drain(restarted) == 1
    assert [call.attempt_key for call in a.calls] == [a.calls[0].attempt_key] * 2
    assert sum(a.delivered.values()) == 1  # the provider saw one delivery
    async with harness.store.connect() as conn:
        attempts = await attempts_of(conn, invoice_id)
    assert [(x.id, x.outcome) for x in attempts] == [(a.calls[0].attempt_key, "delivered")]
    assert (await harness.invoice(invoice_id)).status == "delivered"


async def test_idempotent_submission(harness: Harness) -> None:
    a = scripted("a")
    first = await harness.submit({"a": a}, Customer(), run=run_of("a"), key="order-1")
    again = await harness.submit({"a": a}, Customer(name="changed"), key="order-1")
    other = await harness.submit({"a": a}, Customer(), key="order-2")
    assert first == again != other
    async with harness.store.connect() as conn:
        refs = (await conn.execute(sa.select(jobs.c.ref).where(jobs.c.kind == "distribution"))).scalars()
        assert sorted(refs) == sorted([first, other])
    await harness.drain(harness.engine({"a": a}))
    assert len(a.calls) == 2


async def test_workers_run_in_the_background(harness: Harness) -> None:
    a = scripted("a")
    invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
    engine = harness.engine({"a": a}, EngineSettings(status_poll_seconds=0, workers=2, idle_seconds=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        for _ in range(100):
            if (await harness.invoice(invoice_id)).status == "delivered":
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert (await harness.invoice(invoice_id)).status == "delivered"


async def test_the_doorbell_starts_an_idle_engine_at_once_and_stop_ends_it_at_once(harness: Harness) -> None:
    a = scripted("a")
    bell = Doorbell()
    slow_poll = EngineSettings(status_poll_seconds=0, workers=2, idle_seconds=30)
    engine = Engine(harness.store, {"a": a}, Config(), harness.http, slow_poll, bell)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        await asyncio.sleep(0.2)  # both workers found nothing and wait (30 s) for the bell
        invoice_id = await harness.submit({"a": a}, Customer(), run=run_of("a"))
        bell.ring()
        async with asyncio.timeout(5):
            while (await harness.invoice(invoice_id)).status != "delivered":  # noqa: ASYNC110 - the store says
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        async with asyncio.timeout(5):  # idle workers leave now, not after their 30 s poll
            await task
    assert len(a.calls) == 1


def test_scripted_method_is_a_delivery_method() -> None:
    method: DeliveryMethod = Scripted()
    assert method.name == "scripted"
