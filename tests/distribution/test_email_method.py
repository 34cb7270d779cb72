"""The ``email`` method end to end: the tenant's design and templates from the store (SQLite and
PostgreSQL), the invoice rendered to PDF, and a real SMTP server on 127.0.0.1 receiving the mail."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Iterator, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from accesspoint.config import Config, DistributionConfig, SmtpConfig
from accesspoint.store.engine import Store
from accesspoint.store.tenants import create_tenant
from distribution.invoice import read_invoice
from distribution.mail.compose import message_id_for
from distribution.methods.base import (
    AttachmentFile,
    Customer,
    InvoiceContext,
    Outcome,
    Services,
    SettingsError,
    Tenant,
)
from distribution.methods.email import EmailMethod
from distribution.render import Design, render_pdf
from distribution.render.pool import PdfRenderer
from distribution.storage.designs import StoredDesign, save_design
from distribution.storage.templates import save_template
from distribution.templates import EmailTemplate
from tests.distribution.corpus import NORWEGIAN_EXAMPLE
from tests.distribution.smtp_server import REJECTED, SmtpServer, free_port, running_smtp_server

GATEWAY = "faktura@gateway.example"
ATTACHMENTS = (
    AttachmentFile("Timeliste.pdf", "application/pdf", b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"%%EOF\n"),
    AttachmentFile("grunnlag.csv", "text/csv", "linje;beløp\n1;802,00\n".encode()),
)


@functools.cache
def invoice_bytes(corpus: Path) -> bytes:
    return (corpus / NORWEGIAN_EXAMPLE).read_bytes()


@functools.cache
def rendered_pdf(corpus: Path) -> bytes:
    return render_pdf(read_invoice(invoice_bytes(corpus)), Design())


@dataclasses.dataclass
class Mailroom:
    """One tenant, its store, an SMTP server and the configuration that points at it."""

    store: Store
    tenant: Tenant
    smtp: SmtpServer
    config: Config
    http: aiohttp.ClientSession
    corpus: Path

    def context(
        self,
        customer: Customer,
        *,
        settings: Mapping[str, Any] | None = None,
        attachments: tuple[AttachmentFile, ...] = ATTACHMENTS,
        attempt_key: str = "inv-1:email:1",
        config: Config | None = None,
    ) -> InvoiceContext:
        document = invoice_bytes(self.corpus)
        return InvoiceContext(
            invoice_id="inv-1",
            attempt_key=attempt_key,
            tenant=self.tenant,
            document=document,
            invoice=read_invoice(document),
            customer=customer,
            attachments=attachments,
            settings=settings or {},
            services=Services(self.store, config or self.config, self.http),
            render=lambda: PdfRenderer(0).render(read_invoice(invoice_bytes(self.corpus)), Design()),
        )

    async def set_email_from(self, address: str | None) -> None:
        settings = {"email_from": address} if address else {}
        async with self.store.begin() as conn:
            await save_design(conn, self.tenant.id, StoredDesign(settings))

    def received(self) -> EmailMessage:
        return self.smtp.messages[-1].message


def config_for(smtp: SmtpServer, **distribution: Any) -> Config:
    defaults: dict[str, Any] = {"sender": f"Gateway <{GATEWAY}>", "allowed_sender_domains": ("acme.example",)}
    return Config(
        smtp=SmtpConfig(host=smtp.host, port=smtp.port, security="none", timeout_seconds=5),
        distribution=DistributionConfig(**{**defaults, **distribution}),
    )


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
async def mailroom(store: Store, smtp_server: SmtpServer, corpus: Path) -> AsyncIterator[Mailroom]:
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "Acme AS")
    async with aiohttp.ClientSession() as http:
        yield Mailroom(
            store, Tenant(tenant.id, tenant.name), smtp_server, config_for(smtp_server), http, corpus
        )


def attachments_of(message: EmailMessage) -> list[tuple[str | None, str, Any]]:
    return [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    ]


def test_settings_are_checked() -> None:
    method = EmailMethod()
    method.check_settings({})
    method.check_settings({"template": "purring", "language": "en"})
    for bad in ({"language": "sv"}, {"template": "../x"}, {"template": 3}, {"subject": "x"}):
        with pytest.raises(SettingsError):
            method.check_settings(bad)


async def test_eligible_prefers_the_invoice_email(mailroom: Mailroom) -> None:
    method = EmailMethod()
    both = await method.eligible(
        mailroom.context(Customer(email="a@kunde.no", invoice_email="faktura@kunde.no"))
    )
    assert both.eligible and "invoice e-mail" in both.reason and "faktura@kunde.no" in both.reason
    only = await method.eligible(mailroom.context(Customer(email="a@kunde.no")))
    assert only.eligible and "a@kunde.no" in only.reason
    none = await method.eligible(mailroom.context(Customer(mobile="+4790000000")))
    assert (none.eligible, none.reason) == (False, "the customer has no e-mail address")
    broken = await method.eligible(mailroom.context(Customer(email="not an address")))
    assert not broken.eligible and "not a valid address" in broken.reason
    assert mailroom.smtp.messages == []  # eligibility sends nothing


async def test_delivers_with_merge_fields_pdf_and_attachments(mailroom: Mailroom, corpus: Path) -> None:
    customer = Customer(name="Kari <Nordmann>", email="a@kunde.no", invoice_email="faktura@kunde.no")
    result = await EmailMethod().deliver(mailroom.context(customer))
    assert result.outcome is Outcome.DELIVERED, result.reason
    [received] = mailroom.smtp.messages
    assert received.rcpt_tos == ["faktura@kunde.no"] and received.mail_from == GATEWAY
    message = received.message
    assert message["Subject"] == "Faktura TOSL108 fra The Sellercompany ASA"
    assert message["From"] == f"Acme AS <{GATEWAY}>"
    assert message["Reply-To"] is None
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        for value in ("TOSL108", "802,00", "20.07.2013", "0003434323213231", "86011117947"):
            assert value in body
    assert "Kari <Nordmann>" in text and "Kari &lt;Nordmann&gt;" in html
    files = attachments_of(message)
    assert files[0] == ("Faktura-TOSL108.pdf", "application/pdf", rendered_pdf(corpus))
    assert files[1:] == [(a.filename, a.mime_type, a.content) for a in ATTACHMENTS]
    assert result.evidence["message_id"] == message["Message-ID"]
    assert result.evidence["recipients"] == ["faktura@kunde.no"]
    assert result.evidence["reply"].startswith("250")
    assert [a["filename"] for a in result.evidence["attachments"]] == [
        "Faktura-TOSL108.pdf",
        "Timeliste.pdf",
        "grunnlag.csv",
    ]


async def test_message_id_is_stable_for_one_attempt(mailroom: Mailroom) -> None:
    method, customer = EmailMethod(), Customer(email="a@kunde.no")
    first = await method.deliver(mailroom.context(customer, attempt_key="inv-1:email:1"))
    again = await method.deliver(mailroom.context(customer, attempt_key="inv-1:email:1"))
    other = await method.deliver(mailroom.context(customer, attempt_key="inv-1:email:2"))
    ids = [m.message["Message-ID"] for m in mailroom.smtp.messages]
    assert ids[0] == ids[1] != ids[2]
    assert (
        ids[0] == first.evidence["message_id"] == again.evidence["message_id"] != other.evidence["message_id"]
    )
    assert ids[0] == message_id_for("inv-1:email:1", "gateway.example")


async def test_tenant_sender_on_allowed_domain_is_from(mailroom: Mailroom) -> None:
    await mailroom.set_email_from("regnskap@acme.example")
    result = await EmailMethod().deliver(mailroom.context(Customer(email="a@kunde.no")))
    assert result.outcome is Outcome.DELIVERED
    received = mailroom.smtp.messages[-1]
    assert received.mail_from == "regnskap@acme.example"
    assert received.message["From"] == "Acme AS <regnskap@acme.example>"
    assert received.message["Reply-To"] is None


async def test_the_design_the_run_read_is_used_without_reading_it_again(mailroom: Mailroom) -> None:
    await mailroom.set_email_from("stored@acme.example")  # what a second read would find
    ctx = mailroom.context(Customer(email="a@kunde.no"))
    ctx.design = StoredDesign({"email_from": "regnskap@acme.example"})  # as the step read it
    result = await EmailMethod().deliver(ctx)
    assert result.outcome is Outcome.DELIVERED
    assert mailroom.smtp.messages[-1].mail_from == "regnskap@acme.example"


async def test_tenant_sender_elsewhere_is_reply_to(mailroom: Mailroom) -> None:
    await mailroom.set_email_from("regnskap@acme-regnskap.example")
    result = await EmailMethod().deliver(mailroom.context(Customer(email="a@kunde.no")))
    assert result.outcome is Outcome.DELIVERED
    received = mailroom.smtp.messages[-1]
    assert received.mail_from == GATEWAY
    assert received.message["From"] == f"Acme AS <{GATEWAY}>"
    assert received.message["Reply-To"] == "regnskap@acme-regnskap.example"
    assert result.evidence["reply_to"] == "regnskap@acme-regnskap.example"


async def test_no_sender_is_permanent_with_a_clear_reason(mailroom: Mailroom) -> None:
    config = config_for(mailroom.smtp, sender=None)
    result = await EmailMethod().deliver(mailroom.context(Customer(email="a@kunde.no"), config=config))
    assert result.outcome is Outcome.PERMANENT
    assert "distribution.sender" in result.reason
    assert mailroom.smtp.messages == []


async def test_4xx_is_transient_then_the_next_call_delivers(mailroom: Mailroom) -> None:
    mailroom.smtp.fail_next(1)
    method, customer = EmailMethod(), Customer(email="a@kunde.no")
    first = await method.deliver(mailroom.context(customer, attempt_key="k1"))
    assert first.outcome is Outcome.TRANSIENT and "451" in first.reason
    assert first.evidence["reply"].startswith("451")
    second = await method.deliver(mailroom.context(customer, attempt_key="k2"))
    assert second.outcome is Outcome.DELIVERED
    assert len(mailroom.smtp.messages) == 1


async def test_5xx_is_permanent(mailroom: Mailroom) -> None:
    mailroom.smtp.fail_next(1, REJECTED)
    result = await EmailMethod().deliver(mailroom.context(Customer(email="a@kunde.no")))
    assert result.outcome is Outcome.PERMANENT and "554" in result.reason
    assert mailroom.smtp.messages == []


async def test_connection_refused_is_transient(mailroom: Mailroom) -> None:
    config = dataclasses.replace(
        mailroom.config,
        smtp=SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout_seconds=5),
    )
    result = await EmailMethod().deliver(mailroom.context(Customer(email="a@kunde.no"), config=config))
    assert result.outcome is Outcome.TRANSIENT


async def test_no_address_cannot_receive(mailroom: Mailroom) -> None:
    result = await EmailMethod().deliver(mailroom.context(Customer()))
    assert result.outcome is Outcome.CANNOT_RECEIVE


async def test_tenant_template_and_language_are_used(mailroom: Mailroom) -> None:
    template = EmailTemplate(
        subject="Purring: {{ invoice_number }} ({{ amount }} {{ currency }})",
        html="<h1>{{ customer_name }}</h1><p>{{ due_date }}</p>",
        text="Dear {{ customer_name }}, pay {{ amount }} by {{ due_date }}.",
    )
    async with mailroom.store.begin() as conn:
        await save_template(conn, mailroom.tenant.id, "reminder", "en", template)
    settings = {"template": "reminder", "language": "en"}
    result = await EmailMethod().deliver(
        mailroom.context(Customer(name="Kari", email="a@kunde.no"), settings=settings)
    )
    assert result.outcome is Outcome.DELIVERED
    message = mailroom.received()
    assert message["Subject"] == "Purring: TOSL108 (802.00 NOK)"
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.strip() == "Dear Kari, pay 802.00 by 20 Jul 2013."
    assert result.evidence["template"] == "reminder (en)"
    assert attachments_of(message)[0][0] == "Invoice-TOSL108.pdf"


async def test_missing_tenant_template_falls_back_to_the_built_in(mailroom: Mailroom) -> None:
    settings = {"template": "gone", "language": "nb"}
    result = await EmailMethod().deliver(mailroom.context(Customer(email="a@kunde.no"), settings=settings))
    assert result.outcome is Outcome.DELIVERED
    assert "built-in" in result.evidence["template"] and "gone" in result.evidence["template"]
    assert mailroom.received()["Subject"].startswith("Faktura TOSL108")
