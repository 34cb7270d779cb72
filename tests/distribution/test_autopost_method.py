"""AutoPost end to end on loopback: eligibility, delivery to the contract's provider, status polling,
and signed callbacks that wake the run (engine on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer
from pypdf import PdfReader

from accesspoint.config import Config
from accesspoint.config.model import AutopostConfig
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.server.keys import CONFIG, STORE
from accesspoint.server.problems import problem_middleware
from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from accesspoint.store.schema import jobs
from accesspoint.store.tenants import create_tenant
from accesspoint.validation.report import DocumentInfo, Report
from distribution.api import print_callbacks
from distribution.invoice import Invoice, read_invoice
from distribution.methods.autopost import AutopostMethod
from distribution.methods.base import (
    AttachmentFile,
    Customer,
    InvoiceContext,
    Outcome,
    PostalAddress,
    Services,
    SettingsError,
    Tenant,
)
from distribution.render import Design
from distribution.render.pool import PdfRenderer
from distribution.run.accept import NewInvoice, accept
from distribution.run.app_keys import BELL
from distribution.run.engine import Engine, EngineSettings
from distribution.storage.invoices import attempts_of, get_invoice
from distribution.storage.runs import save_run
from tests.distribution.corpus import NORWEGIAN_EXAMPLE
from tests.distribution.print_provider_server import PrintProviderServer
from tests.distribution.scripted import scripted
from tests.distribution.test_printfile import pdf_pages

OSLO = PostalAddress(("Storgata 1",), "0155", "Oslo", None)
KARI = Customer(kind="private", name="Kari Nordmann", address=OSLO)


@pytest.fixture
async def provider() -> AsyncIterator[PrintProviderServer]:
    server = PrintProviderServer()
    await server.start()
    yield server
    await server.close()


def configured(provider: PrintProviderServer | None, public_url: str | None = None) -> Config:
    base = Config()
    autopost = AutopostConfig(url=provider.url, api_key=provider.api_key) if provider else AutopostConfig()
    return dataclasses.replace(
        base, autopost=autopost, server=dataclasses.replace(base.server, public_url=public_url)
    )


class Contexts:
    """Builds the context the run would hand the method, for one invoice document."""

    def __init__(self, document: bytes, http: aiohttp.ClientSession, store: Store) -> None:
        self.document, self.http, self.store = document, http, store
        self.invoice: Invoice = read_invoice(document)

    def __call__(
        self,
        config: Config,
        customer: Customer = KARI,
        *,
        key: str = "attempt-1",
        settings: dict[str, Any] | None = None,
        attachments: tuple[AttachmentFile, ...] = (),
    ) -> InvoiceContext:
        invoice = self.invoice
        return InvoiceContext(
            invoice_id="inv-1",
            attempt_key=key,
            tenant=Tenant("t-1", "Acme"),
            document=self.document,
            invoice=invoice,
            customer=customer,
            attachments=attachments,
            settings=settings or {},
            services=Services(self.store, config, self.http),
            render=lambda: PdfRenderer(0).render(invoice, Design()),
        )


@pytest.fixture
async def contexts(corpus: Path, tmp_path: Path) -> AsyncIterator[Contexts]:
    store = Store(f"sqlite:///{tmp_path / 'unused.db'}")  # methods get a store; AutoPost does not use it
    async with aiohttp.ClientSession() as http:
        yield Contexts((corpus / NORWEGIAN_EXAMPLE).read_bytes(), http, store)
    await store.close()


METHOD = AutopostMethod()


@pytest.mark.parametrize(
    ("address", "eligible", "reason"),
    [
        (OSLO, True, "complete postal address (from the customer's postal address)"),
        (PostalAddress(("Storgata 1",), "0155", "Oslo", "NO"), True, "complete postal address"),
        (PostalAddress(("Storgata 1",), None, "Oslo", None), False, "the Norwegian address has no postcode"),
        (PostalAddress(("Storgata 1",), "155", "Oslo", None), False, "postcode '155' is not four digits"),
        (PostalAddress(("Storgata 1",), "0155", None, None), False, "has no place"),
        (PostalAddress((), "0155", "Oslo", None), False, "has no address line"),
        (PostalAddress(("Hovedgatan 32", "456 34 Stockholm"), None, None, "SE"), True, "complete"),
        (PostalAddress((), None, None, "SE"), False, "has no address line"),
        (PostalAddress(("Hovedgatan 32",), None, None, "Sweden"), False, "not an ISO 3166-1 alpha-2 code"),
    ],
)
async def test_eligibility_needs_a_complete_address(
    contexts: Contexts, provider: PrintProviderServer, address: PostalAddress, eligible: bool, reason: str
) -> None:
    verdict = await METHOD.eligible(contexts(configured(provider), Customer(name="Kari", address=address)))
    assert verdict.eligible is eligible
    assert reason in verdict.reason


async def test_without_a_given_address_the_buyer_in_the_invoice_is_used(
    contexts: Contexts, provider: PrintProviderServer
) -> None:
    verdict = await METHOD.eligible(contexts(configured(provider), Customer()))
    # The corpus example's buyer has postcode "101": not a Norwegian postcode.
    assert not verdict.eligible
    assert verdict.reason == "the Norwegian postcode '101' is not four digits (from the invoice's buyer)"


async def test_not_eligible_without_a_provider(contexts: Contexts) -> None:
    verdict = await METHOD.eligible(contexts(configured(None)))
    assert not verdict.eligible and "autopost.url" in verdict.reason


def test_settings_are_checked() -> None:
    METHOD.check_settings({"post_class": "A", "color": "COLORS", "duplex": False, "nondeliverable": "SHRED"})
    METHOD.check_settings(
        {"return_address": {"name": "Acme", "lines": ["Postboks 1"], "postcode": "0101", "city": "Oslo"}}
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({"post_class": "C"}, "post_class must be one of A, B"),
        ({"duplex": "yes"}, "duplex must be true or false"),
        ({"colour": "COLORS"}, "unknown setting 'colour'"),
        ({"return_address": {"name": "Acme", "lines": ["Postboks 1"], "city": "Oslo"}}, "no postcode"),
    ]
    for bad, words in cases:
        with pytest.raises(SettingsError, match=words):
            METHOD.check_settings(bad)


async def test_deliver_submits_the_print_file_and_is_pending(
    contexts: Contexts, provider: PrintProviderServer
) -> None:
    attachments = (
        AttachmentFile("vedlegg.pdf", "application/pdf", pdf_pages("Vedlegg")),
        AttachmentFile("foto.jpg", "image/jpeg", b"\xff\xd8\xff"),
    )
    ctx = contexts(configured(provider), settings={"post_class": "A"}, attachments=attachments)
    result = await METHOD.deliver(ctx)
    assert result.outcome == Outcome.PENDING
    job = provider.jobs[result.reference or ""]
    assert result.evidence["job_id"] == job.job_id
    assert result.evidence["pages"] == job.pages == 4  # page 1, address sheet, page 2, attachment
    assert result.evidence["skipped_attachments"][0]["filename"] == "foto.jpg"
    assert "not printed: foto.jpg" in result.reason
    request = job.request
    assert (request["reference"], request["idempotency_key"]) == ("inv-1", "attempt-1")
    assert (request["post_class"], request["duplex"], request["color"]) == ("A", True, "MONOCHROME")
    assert request["nondeliverable"] == "RETURN_TO_SENDER"
    assert request["recipient"] == {
        "name": "Kari Nordmann",
        "address_lines": ["Storgata 1"],
        "postcode": "0155",
        "city": "Oslo",
        "country": "NO",
    }
    assert "callback_url" not in request  # no public URL configured: the run polls
    page2 = PdfReader(io.BytesIO(job.pdf)).pages[1].extract_text()
    assert page2.splitlines() == ["Kari Nordmann", "Storgata 1", "0155 Oslo"]


async def test_same_attempt_key_twice_makes_one_job(
    contexts: Contexts, provider: PrintProviderServer
) -> None:
    config = configured(provider)
    first = await METHOD.deliver(contexts(config))
    again = await METHOD.deliver(contexts(config))  # a resumed run: new context, same attempt key
    assert first.reference == again.reference and len(provider.jobs) == 1
    assert provider.submissions == 2


async def test_status_moves_to_delivered(contexts: Contexts, provider: PrintProviderServer) -> None:
    ctx = contexts(configured(provider))
    job_id = (await METHOD.deliver(ctx)).reference or ""
    assert (await METHOD.status(ctx, job_id)).outcome == Outcome.PENDING
    provider.move(job_id, "printed")
    printed = await METHOD.status(ctx, job_id)
    assert (printed.outcome, printed.reason) == (Outcome.PENDING, f"print job {job_id} is printed")
    provider.failures.append(503)
    unknown = await METHOD.status(ctx, job_id)
    assert unknown.outcome == Outcome.PENDING and "status unknown" in unknown.reason
    provider.move(job_id, "dispatched")
    done = await METHOD.status(ctx, job_id)
    assert done.outcome == Outcome.DELIVERED and done.evidence["provider_status"] == "dispatched"


async def test_provider_failure_is_permanent_with_its_reason(
    contexts: Contexts, provider: PrintProviderServer
) -> None:
    ctx = contexts(configured(provider))
    job_id = (await METHOD.deliver(ctx)).reference or ""
    provider.move(job_id, "failed", "the address could not be printed")
    result = await METHOD.status(ctx, job_id)
    assert result.outcome == Outcome.PERMANENT
    assert result.reason == f"print job {job_id} failed: the address could not be printed"
    lost = await METHOD.status(ctx, "job-unknown")
    assert lost.outcome == Outcome.PERMANENT and "has no job job-unknown" in lost.reason


async def test_5xx_is_transient_and_4xx_permanent(contexts: Contexts, provider: PrintProviderServer) -> None:
    ctx = contexts(configured(provider))
    provider.failures.append(502)
    assert (await METHOD.deliver(ctx)).outcome == Outcome.TRANSIENT
    provider.failures.append(422)
    refused = await METHOD.deliver(ctx)
    assert refused.outcome == Outcome.PERMANENT and "422" in refused.reason
    assert provider.jobs == {}


async def test_unprintable_attachment_is_permanent_and_nothing_is_sent(
    contexts: Contexts, provider: PrintProviderServer
) -> None:
    broken = (AttachmentFile("skadet.pdf", "application/pdf", b"%PDF-1.7 broken"),)
    result = await METHOD.deliver(contexts(configured(provider), attachments=broken))
    assert result.outcome == Outcome.PERMANENT
    assert "cannot make the print file: attachment 'skadet.pdf' is not a readable PDF" in result.reason
    assert provider.submissions == 0


# --- the run, woken by the provider's signed callbacks --------------------------------------------


async def valid(_: bytes) -> Report:
    """Validation is the API's concern; here the corpus document is taken as valid."""
    info = DocumentInfo("Invoice", None, None, None, "2.1", "peppol-bis-billing-3")
    return Report(info, "UBL-Invoice-2.1.xsd", True, (), ())


SLOW_POLL = EngineSettings(retry_schedule=(0,), status_poll_seconds=3600, lease_seconds=30, workers=1)


class Loop:
    """A tenant whose run is [autopost, fallback], an engine, and the callback endpoint on loopback."""

    def __init__(self, store: Store, engine: Engine, tenant_id: str, fallback: Any) -> None:
        self.store, self.engine, self.tenant_id, self.fallback = store, engine, tenant_id, fallback

    async def submit(self, document: bytes) -> str:
        new = NewInvoice(document, KARI)
        accepted = await accept(self.store, self.tenant_id, new, valid, available=self.engine.methods)
        return accepted.id

    async def due(self, invoice_id: str) -> bool:
        async with self.store.connect() as conn:
            run_at = (
                await conn.execute(sa.select(jobs.c.run_at).where(jobs.c.ref == invoice_id))
            ).scalar_one()
        return float(run_at) <= now()

    async def outcome(self, invoice_id: str) -> tuple[str, str | None, list[tuple[str, str, str]]]:
        async with self.store.connect() as conn:
            row = await get_invoice(conn, invoice_id)
            attempts = await attempts_of(conn, invoice_id)
        assert row is not None
        return row.status, row.method, [(a.method, a.outcome, a.reason) for a in attempts]


@pytest.fixture
async def loop(store: Store, provider: PrintProviderServer) -> AsyncIterator[tuple[Loop, TestServer]]:
    app = web.Application(middlewares=[problem_middleware])
    app[STORE], app[CONFIG] = store, configured(provider)  # the endpoint needs only autopost.api_key
    app[BELL] = Doorbell()
    app.router.add_routes(print_callbacks.routes)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    config = configured(provider, public_url=str(server.make_url("/as4")))  # what the engine sends
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "acme")
        await save_run(conn, tenant.id, [{"method": "autopost"}, {"method": "fallback"}])
    fallback = scripted("fallback")
    async with aiohttp.ClientSession() as http:
        engine = Engine(store, {"autopost": AutopostMethod(), "fallback": fallback}, config, http, SLOW_POLL)
        yield Loop(store, engine, tenant.id, fallback), server
    await server.close()


async def test_dispatched_callback_wakes_the_run_which_delivers(
    loop: tuple[Loop, TestServer], provider: PrintProviderServer, corpus: Path
) -> None:
    run, server = loop
    invoice_id = await run.submit((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    assert await run.engine.run_once()  # eligible, submitted: pending
    (job,) = provider.jobs.values()
    assert job.request["callback_url"] == str(server.make_url("/callbacks/print"))
    assert job.reference == invoice_id
    assert not await run.due(invoice_id) and not await run.engine.run_once()  # next poll in an hour
    provider.move(job.job_id, "dispatched")
    response = await provider.callback(job.job_id)
    assert response.status == 204
    assert await run.due(invoice_id)
    assert await run.engine.run_once()
    status, method, attempts = await run.outcome(invoice_id)
    assert (status, method) == ("delivered", "autopost")
    assert attempts[-1][:2] == ("autopost", "delivered")


async def test_failed_callback_falls_through_to_the_next_method(
    loop: tuple[Loop, TestServer], provider: PrintProviderServer, corpus: Path
) -> None:
    run, _ = loop
    invoice_id = await run.submit((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    assert await run.engine.run_once()
    (job,) = provider.jobs.values()
    provider.move(job.job_id, "failed", "paper jam beyond repair")
    assert (await provider.callback(job.job_id)).status == 204
    while await run.engine.run_once():
        pass
    status, method, attempts = await run.outcome(invoice_id)
    assert (status, method) == ("delivered", "fallback")
    assert ("autopost", "permanent", f"print job {job.job_id} failed: paper jam beyond repair") in attempts
    assert len(provider.jobs) == 1


async def test_bad_or_old_signature_is_refused(
    loop: tuple[Loop, TestServer], provider: PrintProviderServer, corpus: Path
) -> None:
    run, _ = loop
    invoice_id = await run.submit((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    assert await run.engine.run_once()
    (job,) = provider.jobs.values()
    for response in (
        await provider.callback(job.job_id, key="not-the-api-key"),
        await provider.callback(job.job_id, timestamp=int(now()) - 3600),
    ):
        assert response.status == 401
        assert response.content_type == "application/problem+json"
    async with aiohttp.ClientSession() as http:
        body = json.dumps(job.to_json()).encode()
        async with http.post(job.request["callback_url"], data=body) as unsigned:
            assert unsigned.status == 401
            assert (await unsigned.json())["code"] == "bad-signature"
    assert not await run.due(invoice_id)  # nothing was woken


async def test_signed_callback_that_is_not_a_job_status_is_400(
    loop: tuple[Loop, TestServer], provider: PrintProviderServer, corpus: Path
) -> None:
    run, _ = loop
    await run.submit((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    assert await run.engine.run_once()
    (job,) = provider.jobs.values()
    response = await provider.callback(job.job_id, body=b'{"job_id": "x", "status": "lost"}')
    assert response.status == 400


async def test_oversized_callback_is_refused(
    loop: tuple[Loop, TestServer], provider: PrintProviderServer, corpus: Path
) -> None:
    run, _ = loop
    await run.submit((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    assert await run.engine.run_once()
    (job,) = provider.jobs.values()
    response = await provider.callback(job.job_id, body=b" " * (print_callbacks.MAX_BODY + 1))
    assert response.status == 413
