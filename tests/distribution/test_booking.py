"""Payments booked against invoices on SQLite and PostgreSQL: an OCR file paying three invoices (full,
partial, unmatched), re-imports and overlapping files booking nothing twice, payments adding up,
over-payment, matching by invoice number and amount, the ``invoice.paid`` webhook queued once, and
tenants kept apart."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from accesspoint.pipeline.webhooks import add_event, register_webhook
from accesspoint.store.blobs import put_blob
from accesspoint.store.engine import Store
from accesspoint.store.events import history
from accesspoint.store.schema import webhook_deliveries
from accesspoint.store.tenants import Tenant, create_tenant
from distribution.payments.booking import (
    PAID_EVENT,
    book_payment,
    import_ocr,
    import_ocr_file,
    list_payments,
    payments_of_invoice,
)
from distribution.payments.kid import make_kid
from distribution.payments.ocr import OcrFormatError
from distribution.storage.payments_schema import payment_imports, payments
from distribution.storage.schema import invoices
from tests.distribution.test_ocr import SETTLED, Giro, ocr_file

WEBHOOK_KEY = b"k" * 32
KID_A = make_kid("1001", algorithm="mod10")
KID_B = make_kid("1002", algorithm="mod10")
KID_C = make_kid("1003", algorithm="mod11")
UNKNOWN_KID = make_kid("9999", algorithm="mod10")


async def new_invoice(
    store: Store,
    tenant: Tenant,
    number: str,
    amount: str,
    kid: str | None,
    *,
    currency: str = "NOK",
    kind: str = "invoice",
) -> str:
    async with store.begin() as conn:
        blob = await put_blob(conn, b"<Invoice/>", "application/xml")
        stamp = 1_700_000_000.0 + len(number)
        invoice_id = f"inv_{tenant.name}_{number}"
        await conn.execute(
            invoices.insert().values(
                id=invoice_id,
                tenant_id=tenant.id,
                status="delivered",
                customer={},
                document_blob=blob,
                kind=kind,
                number=number,
                kid=kid,
                amount=amount,
                currency=currency,
                due_date="2024-03-30",
                created_at=stamp,
                updated_at=stamp,
            )
        )
    return invoice_id


async def invoice_state(store: Store, invoice_id: str) -> tuple[str, str | None]:
    async with store.connect() as conn:
        row = (
            await conn.execute(
                sa.select(invoices.c.status, invoices.c.paid_amount).where(invoices.c.id == invoice_id)
            )
        ).one()
    return row.status, row.paid_amount


async def paid_deliveries(store: Store) -> list[dict[str, Any]]:
    async with store.connect() as conn:
        rows = await conn.execute(
            sa.select(webhook_deliveries.c.payload).where(webhook_deliveries.c.event == PAID_EVENT)
        )
        return [dict(row.payload) for row in rows]


async def count(store: Store, table: sa.Table) -> int:
    async with store.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


@pytest.fixture
async def tenants(store: Store) -> tuple[Tenant, Tenant]:
    add_event(PAID_EVENT)
    async with store.begin() as conn:
        acme = await create_tenant(conn, "acme")
        globex = await create_tenant(conn, "globex")
        await register_webhook(conn, WEBHOOK_KEY, acme.id, "https://erp.example/hook", [PAID_EVENT])
    return acme, globex


async def test_three_invoices_full_partial_unmatched_and_reimport(
    store: Store, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants
    full = await new_invoice(store, acme, "2024-1", "1250.00", KID_A)
    partial = await new_invoice(store, acme, "2024-2", "800.00", KID_B)
    untouched = await new_invoice(store, acme, "2024-3", "300.00", KID_C)
    data = ocr_file(
        [
            Giro(Decimal("1250.00"), kid=KID_A),
            Giro(Decimal("500.00"), kid=KID_B),
            Giro(Decimal("42.00"), kid=UNKNOWN_KID),
        ]
    )
    first = await import_ocr_file(store, acme.id, data)
    assert (first.counts.matched, first.counts.unmatched, first.counts.duplicates) == (2, 1, 0)
    assert (first.counts.full, first.counts.partial, first.counts.over) == (1, 1, 0)
    assert not first.already_imported
    assert await invoice_state(store, full) == ("paid", "1250.00")
    assert await invoice_state(store, partial) == ("delivered", "500.00")
    assert await invoice_state(store, untouched) == ("delivered", None)

    async with store.connect() as conn:
        unmatched = await list_payments(conn, acme.id, unmatched=True)
        assert [(p.kid, p.amount, p.match, p.invoice_id) for p in unmatched] == [
            (UNKNOWN_KID, "42.00", "unmatched", None)
        ]
        assert unmatched[0].reference == "1703231/4000086/3" and unmatched[0].paid_on == SETTLED.isoformat()
        assert unmatched[0].detail["unmatched_reason"]
        assert await payments_of_invoice(conn, acme.id, full) == [
            {
                "amount": "1250.00",
                "currency": "NOK",
                "date": "2024-03-15",
                "channel": "ocr",
                "reference": "1703231/4000086/1",
                "match": "full",
            }
        ]
        assert [e.kind for e in await history(conn, full, acme.id)] == [PAID_EVENT]
        assert [e.kind for e in await history(conn, partial, acme.id)] == ["invoice.payment"]

    (delivery,) = await paid_deliveries(store)
    assert delivery["invoice_id"] == full and delivery["number"] == "2024-1"
    assert delivery["paid_amount"] == "1250.00" and delivery["paid_on"] == "2024-03-15"
    assert delivery["channel"] == "ocr" and delivery["reference"] == "1703231/4000086/1"
    assert delivery["summary"] == "invoice 2024-1 paid, 1250.00 NOK, 2024-03-15, ocr, 1703231/4000086/1"

    again = await import_ocr_file(store, acme.id, data)
    assert again.already_imported and again.import_id == first.import_id
    assert (again.counts.matched, again.counts.unmatched, again.counts.duplicates) == (0, 0, 3)
    assert await count(store, payments) == 3 and await count(store, payment_imports) == 1
    assert await invoice_state(store, partial) == ("delivered", "500.00")
    assert len(await paid_deliveries(store)) == 1


async def test_overlapping_files_and_payments_adding_up(store: Store, tenants: tuple[Tenant, Tenant]) -> None:
    acme, _ = tenants
    invoice = await new_invoice(store, acme, "77", "1000.00", KID_A)
    await import_ocr_file(store, acme.id, ocr_file([Giro(Decimal("400.00"), kid=KID_A)]))
    assert await invoice_state(store, invoice) == ("delivered", "400.00")
    # The bank's next file repeats transaction 1 and adds two more: only the new ones book.
    overlapping = ocr_file(
        [
            Giro(Decimal("400.00"), kid=KID_A),
            Giro(Decimal("600.00"), kid=KID_A),
            Giro(Decimal("50.00"), kid=KID_A),
        ]
    )
    result = await import_ocr_file(store, acme.id, overlapping)
    assert not result.already_imported
    assert (result.counts.duplicates, result.counts.full, result.counts.over) == (1, 1, 1)
    assert await invoice_state(store, invoice) == ("paid", "1050.00")
    async with store.connect() as conn:
        listed = await list_payments(conn, acme.id)
    assert [p.match for p in listed] == ["partial", "full", "over"]
    assert len(await paid_deliveries(store)) == 1  # the over-payment does not announce it again


async def test_number_and_amount_in_the_text(store: Store, tenants: tuple[Tenant, Tenant]) -> None:
    acme, _ = tenants
    by_text = await new_invoice(store, acme, "INV-5001", "99.50", None)
    other = await new_invoice(store, acme, "INV-5002", "99.50", None)
    data = ocr_file(
        [
            Giro(Decimal("99.50"), text="INV-5001 INV-5002"),  # two candidates: a person decides
            Giro(Decimal("99.50"), text="Betaling faktura INV-5001"),
            Giro(Decimal("10.00"), text="faktura INV-5002"),  # number without the amount
        ]
    )
    result = await import_ocr_file(store, acme.id, data)
    assert (result.counts.full, result.counts.unmatched) == (1, 2)
    assert await invoice_state(store, by_text) == ("paid", "99.50")
    assert await invoice_state(store, other) == ("delivered", None)


async def test_refusals_and_reversals(store: Store, tenants: tuple[Tenant, Tenant]) -> None:
    acme, _ = tenants
    euro = await new_invoice(store, acme, "E-1", "100.00", KID_A, currency="EUR")
    credit = await new_invoice(store, acme, "CN-1", "100.00", KID_B, kind="credit_note")
    result = await import_ocr_file(
        store,
        acme.id,
        ocr_file(
            [
                Giro(Decimal("100.00"), kid=KID_A),
                Giro(Decimal("100.00"), kid=KID_B),
                Giro(Decimal(5), kid=KID_A, reversal=True),
            ]
        ),
    )
    assert result.counts.unmatched == 3 and result.counts.matched == 0
    assert await invoice_state(store, euro) == ("delivered", None)
    assert await invoice_state(store, credit) == ("delivered", None)
    async with store.connect() as conn:
        reasons = [p.detail["unmatched_reason"] for p in await list_payments(conn, acme.id, unmatched=True)]
    assert "EUR" in reasons[0] and "reversal" in reasons[2]

    async with store.begin() as conn:
        with pytest.raises(OcrFormatError):
            await import_ocr(conn, acme.id, b"garbage")
    assert await count(store, payment_imports) == 1


async def test_tenants_do_not_see_each_other(store: Store, tenants: tuple[Tenant, Tenant]) -> None:
    acme, globex = tenants
    theirs = await new_invoice(store, acme, "1", "100.00", KID_A)
    data = ocr_file([Giro(Decimal("100.00"), kid=KID_A)])
    result = await import_ocr_file(store, globex.id, data)
    assert (result.counts.matched, result.counts.unmatched) == (0, 1)
    assert await invoice_state(store, theirs) == ("delivered", None)
    # The same file is new for the tenant it belongs to.
    mine = await import_ocr_file(store, acme.id, data)
    assert not mine.already_imported and mine.counts.full == 1
    async with store.connect() as conn:
        assert [p.invoice_id for p in await list_payments(conn, acme.id)] == [theirs]
        assert [p.invoice_id for p in await list_payments(conn, globex.id)] == [None]
        assert await payments_of_invoice(conn, globex.id, theirs) == []


async def test_book_payment_is_idempotent(store: Store, tenants: tuple[Tenant, Tenant]) -> None:
    acme, _ = tenants
    invoice = await new_invoice(store, acme, "V-1", "300.00", KID_C)
    arguments: dict[str, Any] = {
        "channel": "vipps",
        "reference": "inv-V-1-attempt",
        "amount": Decimal("300.00"),
        "currency": "NOK",
        "paid_on": dt.date(2024, 4, 1),
        "kid": None,
        "invoice_id": invoice,
    }
    async with store.begin() as conn:
        booking = await book_payment(conn, acme.id, **arguments)
    assert (booking.invoice_id, booking.match, booking.paid, booking.duplicate) == (
        invoice,
        "full",
        True,
        False,
    )
    async with store.begin() as conn:
        repeat = await book_payment(conn, acme.id, **arguments)
    assert repeat.duplicate and repeat.payment_id is None
    assert await invoice_state(store, invoice) == ("paid", "300.00")
    assert len(await paid_deliveries(store)) == 1

    # Another tenant's invoice id is unknown to this tenant.
    async with store.begin() as conn:
        stray = await book_payment(conn, tenants[1].id, **{**arguments, "reference": "other"})
    assert (stray.invoice_id, stray.match) == (None, "unmatched")


async def test_concurrent_bookings_of_one_payment(store: Store, tenants: tuple[Tenant, Tenant]) -> None:
    acme, _ = tenants
    invoice = await new_invoice(store, acme, "C-1", "100.00", KID_A)

    async def book(reference: str, kid: str = KID_A) -> bool:
        async with store.begin() as conn:
            booking = await book_payment(
                conn,
                acme.id,
                channel="vipps",
                reference=reference,
                amount=Decimal("60.00"),
                currency="NOK",
                paid_on=None,
                kid=kid,
            )
        return booking.duplicate

    async def together(*bookings: Coroutine[Any, Any, bool]) -> list[bool]:
        """At once on PostgreSQL; SQLite has one writer at a time, so one after the other there."""
        if store.is_sqlite:
            return [await booking for booking in bookings]
        return list(await asyncio.gather(*bookings))

    results = await together(book("same"), book("same"), book("second"))
    assert sorted(results) == [False, False, True]
    assert await invoice_state(store, invoice) == ("paid", "120.00")
    # Unmatched payments lock no invoice: the unique reference decides (a savepoint keeps the
    # caller's transaction usable).
    outcomes = await together(book("lonely", UNKNOWN_KID), book("lonely", UNKNOWN_KID))
    assert sorted(outcomes) == [False, True]
    assert len(await paid_deliveries(store)) == 1
