"""The ``cloudprint`` method: the tenant's printers in the store (SQLite and PostgreSQL), and the
invoice PDF plus only the PDF attachments e-mailed to the printer's address on a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from accesspoint.store.engine import Store
from accesspoint.store.tenants import create_tenant
from distribution.methods.base import AttachmentFile, Customer, Outcome, SettingsError, Tenant
from distribution.methods.cloudprint import CloudPrintMethod
from distribution.storage.printers import PrinterExists, add_printer, delete_printer, list_printers
from tests.distribution.smtp_server import REJECTED, SmtpServer, running_smtp_server
from tests.distribution.test_email_method import Mailroom, attachments_of, config_for, rendered_pdf

TIMESHEET = AttachmentFile("Timeliste.pdf", "application/pdf", b"%PDF-1.4\n" + b"x" * 2000 + b"\n%%EOF\n")
SPREADSHEET = AttachmentFile("grunnlag.csv", "text/csv", b"a;b\n1;2\n")
PHOTO = AttachmentFile("bilde.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
APPENDIX = AttachmentFile("Vedlegg.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n")
FAKE_PDF = AttachmentFile("ikke-pdf.pdf", "application/pdf", b"MZ not a pdf at all")
PRINTER = "Resepsjon"
PRINTER_ADDRESS = "resepsjon-7f3k@hpeprint.example"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
async def mailroom(store: Store, smtp_server: SmtpServer, corpus: Path) -> AsyncIterator[Mailroom]:
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "Acme AS")
        await add_printer(conn, tenant.id, PRINTER, PRINTER_ADDRESS, None)
    async with aiohttp.ClientSession() as http:
        yield Mailroom(
            store, Tenant(tenant.id, tenant.name), smtp_server, config_for(smtp_server), http, corpus
        )


def test_settings_require_a_printer() -> None:
    method = CloudPrintMethod()
    method.check_settings({"printer": PRINTER})
    for bad in ({}, {"printer": ""}, {"printer": 7}, {"printer": PRINTER, "tray": 2}):
        with pytest.raises(SettingsError):
            method.check_settings(bad)


async def test_eligible_only_with_a_registered_printer_of_this_tenant(mailroom: Mailroom) -> None:
    method = CloudPrintMethod()
    customer = Customer()
    registered = await method.eligible(mailroom.context(customer, settings={"printer": PRINTER}))
    assert registered.eligible and PRINTER_ADDRESS in registered.reason
    unknown = await method.eligible(mailroom.context(customer, settings={"printer": "Lager"}))
    assert not unknown.eligible and "Lager" in unknown.reason
    async with mailroom.store.begin() as conn:
        other = await create_tenant(conn, "Globex")
        await add_printer(conn, other.id, "Lager", "lager@hpeprint.example", None)
    still_unknown = await method.eligible(mailroom.context(customer, settings={"printer": "Lager"}))
    assert not still_unknown.eligible  # another tenant's printer does not count


async def test_prints_the_invoice_and_only_pdf_attachments(mailroom: Mailroom, corpus: Path) -> None:
    attachments = (SPREADSHEET, TIMESHEET, PHOTO, APPENDIX, FAKE_PDF)
    ctx = mailroom.context(
        Customer(email="a@kunde.no"), settings={"printer": PRINTER}, attachments=attachments
    )
    result = await CloudPrintMethod().deliver(ctx)
    assert result.outcome is Outcome.DELIVERED, result.reason
    [received] = mailroom.smtp.messages  # one e-mail per invoice
    assert received.rcpt_tos == [PRINTER_ADDRESS]
    message = received.message
    assert message.get_body(preferencelist=("plain", "html")) is None  # nothing but the documents
    assert attachments_of(message) == [
        ("Faktura-TOSL108.pdf", "application/pdf", rendered_pdf(corpus)),
        (TIMESHEET.filename, "application/pdf", TIMESHEET.content),
        (APPENDIX.filename, "application/pdf", APPENDIX.content),
    ]
    assert [(s["filename"], s["mime_type"]) for s in result.evidence["skipped"]] == [
        ("grunnlag.csv", "text/csv"),
        ("bilde.png", "image/png"),
        ("ikke-pdf.pdf", "application/pdf"),
    ]
    assert result.evidence["printer"] == PRINTER
    assert result.evidence["message_id"] == message["Message-ID"]
    assert result.evidence["recipients"] == [PRINTER_ADDRESS]


async def test_over_the_printer_limit_is_permanent_and_nothing_is_sent(mailroom: Mailroom) -> None:
    async with mailroom.store.begin() as conn:
        await add_printer(conn, mailroom.tenant.id, "Liten", "liten@hpeprint.example", 10_000)
    ctx = mailroom.context(Customer(), settings={"printer": "Liten"}, attachments=(TIMESHEET,))
    result = await CloudPrintMethod().deliver(ctx)
    assert result.outcome is Outcome.PERMANENT
    assert "at most 10000" in result.reason and result.evidence["bytes"] > 10_000
    assert mailroom.smtp.messages == []


async def test_printer_removed_after_the_plan_is_permanent(mailroom: Mailroom) -> None:
    async with mailroom.store.begin() as conn:
        [printer] = await list_printers(conn, mailroom.tenant.id)
        assert await delete_printer(conn, mailroom.tenant.id, printer.id)
    result = await CloudPrintMethod().deliver(mailroom.context(Customer(), settings={"printer": PRINTER}))
    assert result.outcome is Outcome.PERMANENT and PRINTER in result.reason
    assert mailroom.smtp.messages == []


async def test_smtp_refusals_map_to_outcomes(mailroom: Mailroom) -> None:
    method = CloudPrintMethod()
    mailroom.smtp.fail_next(1)
    transient = await method.deliver(
        mailroom.context(Customer(), settings={"printer": PRINTER}, attempt_key="a1")
    )
    assert transient.outcome is Outcome.TRANSIENT
    mailroom.smtp.fail_next(1, REJECTED)
    permanent = await method.deliver(
        mailroom.context(Customer(), settings={"printer": PRINTER}, attempt_key="a2")
    )
    assert permanent.outcome is Outcome.PERMANENT
    delivered = await method.deliver(
        mailroom.context(Customer(), settings={"printer": PRINTER}, attempt_key="a3")
    )
    assert delivered.outcome is Outcome.DELIVERED
    assert len(mailroom.smtp.messages) == 1


async def test_printer_names_are_unique_per_tenant(store: Store) -> None:
    async with store.begin() as conn:
        acme, globex = await create_tenant(conn, "Acme"), await create_tenant(conn, "Globex")
        await add_printer(conn, acme.id, "Resepsjon", "a@hpeprint.example", None)
        await add_printer(conn, globex.id, "Resepsjon", "b@hpeprint.example", 5_000_000)
    with pytest.raises(PrinterExists):
        async with store.begin() as conn:
            await add_printer(conn, acme.id, "Resepsjon", "c@hpeprint.example", None)
    async with store.connect() as conn:
        assert [p.email for p in await list_printers(conn, acme.id)] == ["a@hpeprint.example"]
        [theirs] = await list_printers(conn, globex.id)
    assert theirs.max_bytes == 5_000_000
    async with store.begin() as conn:
        assert not await delete_printer(conn, acme.id, theirs.id)  # not acme's to delete
    async with store.connect() as conn:
        assert len(await list_printers(conn, globex.id)) == 1
