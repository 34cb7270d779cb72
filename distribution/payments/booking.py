"""Payments booked against invoices: one payment from a channel, or a whole OCR giro file.

The same payment never books twice: ``payments`` is unique on (tenant, channel, reference), and a
file already imported (same sha256 for the tenant) is answered from the first import without
touching anything. A file is one transaction, so it books completely or not at all. An invoice whose
payments reach its amount becomes ``paid`` and the tenant's ``invoice.paid`` webhook is queued in the
same transaction, once: only the booking that moves the invoice to ``paid`` announces it.

Candidate invoices are read and locked together, the matching happens in memory
(:mod:`distribution.payments.matching`), and rows are written in bulk, so a file of 100 000 records
costs a few statements per thousands of records rather than several per record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.pipeline.webhooks import ALL_EVENTS, notify
from accesspoint.store import webhooks as webhook_store
from accesspoint.store.blobs import put_blob
from accesspoint.store.engine import Store
from accesspoint.store.events import record
from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import events
from distribution.payments.matching import (
    Decision,
    Incoming,
    Ledger,
    OpenInvoice,
    apply,
    chunk_size,
    chunks,
    decide,
    load_ledger,
    money,
    one_of,
)
from distribution.payments.ocr import OcrPayment, parse_ocr
from distribution.storage.payments_schema import payment_imports, payments
from distribution.storage.schema import invoices

PAID_EVENT = "invoice.paid"
PAID = "paid"
WRITE_CHUNK = 5000
OCR_CHANNEL = "ocr"
OCR_MEDIA_TYPE = "text/plain; charset=iso-8859-1"


@dataclass(frozen=True, slots=True)
class Booking:
    """What happened to one payment. ``duplicate``: it was booked before, nothing changed now."""

    payment_id: str | None = None
    duplicate: bool = False
    invoice_id: str | None = None
    match: str | None = None  # full | partial | over | unmatched
    paid: bool = False  # this payment made the invoice paid


DUPLICATE = Booking(duplicate=True)


@dataclass(frozen=True, slots=True)
class NewPayment:
    channel: str
    reference: str
    amount: Decimal
    currency: str
    paid_on: dt.date | None
    kid: str | None
    invoice_id: str | None = None
    text: str | None = None
    detail: dict[str, Any] | None = None
    ocr: OcrPayment | None = None  # its detail is made when the row is written (memory on big files)

    def details(self) -> dict[str, Any]:
        detail = dict(self.detail or {})
        if self.ocr is not None:
            detail.update(self.ocr.detail())
        return detail

    def incoming(self) -> Incoming:
        return Incoming(self.amount, self.currency, self.kid, self.text, self.invoice_id)


@dataclass(slots=True)
class Counts:
    full: int = 0
    partial: int = 0
    over: int = 0
    unmatched: int = 0
    duplicates: int = 0
    paid_invoices: int = 0

    @property
    def matched(self) -> int:
        return self.full + self.partial + self.over

    @property
    def records(self) -> int:
        return self.matched + self.unmatched + self.duplicates

    def to_json(self) -> dict[str, int]:
        return {
            "matched": self.matched,
            "unmatched": self.unmatched,
            "duplicates": self.duplicates,
            "full": self.full,
            "partial": self.partial,
            "over": self.over,
            "paid_invoices": self.paid_invoices,
            "records": self.records,
        }


@dataclass(frozen=True, slots=True)
class BatchResult:
    bookings: list[Booking]
    counts: Counts


@dataclass(frozen=True, slots=True)
class ImportResult:
    import_id: str
    counts: Counts
    already_imported: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "already_imported": self.already_imported,
            **self.counts.to_json(),
        }


@dataclass(slots=True)
class _Completion:
    """The payment that made an invoice paid: what the webhook tells."""

    invoice: OpenInvoice
    payment: NewPayment
    payment_id: str


async def _booked_references(
    conn: AsyncConnection, tenant_id: str, channel: str, refs: list[str]
) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(sorted(refs), chunk_size(conn)):
        rows = await conn.execute(
            sa.select(payments.c.reference).where(
                payments.c.tenant_id == tenant_id,
                payments.c.channel == channel,
                one_of(conn, payments.c.reference, chunk),
            )
        )
        found.update(rows.scalars())
    return found


async def _already_booked(
    conn: AsyncConnection, tenant_id: str, items: Sequence[NewPayment]
) -> set[tuple[str, str]]:
    by_channel: dict[str, list[str]] = {}
    for item in items:
        by_channel.setdefault(item.channel, []).append(item.reference)
    return {
        (channel, reference)
        for channel, refs in by_channel.items()
        for reference in await _booked_references(conn, tenant_id, channel, refs)
    }


async def book_payments(
    conn: AsyncConnection, tenant_id: str, items: Sequence[NewPayment], *, import_id: str | None = None
) -> BatchResult:
    """Book ``items`` in the caller's transaction, in order; repeats (booked before, or twice in
    ``items``) are duplicates and change nothing."""
    # Lock the candidates first: a concurrent booking of the same payment then waits for the other
    # transaction, and the duplicate check below sees its row.
    ledger = await load_ledger(conn, tenant_id, [item.incoming() for item in items])
    seen = await _already_booked(conn, tenant_id, items)
    stamp = now()
    # One random prefix per batch and a counter: ids sort in booking order within the batch.
    batch_prefix = new_id("pay")[:20]
    counts = Counts()
    bookings: list[Booking] = []
    rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    completions: list[_Completion] = []
    written = 0
    for item in items:
        key = (item.channel, item.reference)
        if key in seen:
            counts.duplicates += 1
            bookings.append(DUPLICATE)
            continue
        seen.add(key)
        decision = decide(ledger, item.incoming())
        payment_id = f"{batch_prefix}{written + len(rows):07x}"
        invoice = decision.invoice
        was_paid = invoice is not None and invoice.status == PAID
        apply(decision, item.amount)
        became_paid = invoice is not None and not was_paid and invoice.status == PAID
        setattr(counts, decision.match, getattr(counts, decision.match) + 1)
        rows.append(_payment_row(tenant_id, payment_id, item, decision, import_id, stamp))
        if invoice is not None:
            # One event per booked payment on the invoice's history; ``invoice.paid`` when it
            # is the one that paid the invoice.
            event_rows.append(
                _event(
                    tenant_id,
                    invoice.id,
                    PAID_EVENT if became_paid else "invoice.payment",
                    stamp,
                    payment=payment_id,
                    match=decision.match,
                    amount=money(item.amount),
                    paid_amount=money(invoice.paid),
                    channel=item.channel,
                    reference=item.reference,
                    via=decision.via,
                )
            )
        if became_paid and invoice is not None:
            counts.paid_invoices += 1
            completions.append(_Completion(invoice, item, payment_id))
        bookings.append(
            Booking(payment_id, False, invoice.id if invoice else None, decision.match, became_paid)
        )
        if len(rows) >= WRITE_CHUNK:
            written += await _flush(conn, rows, event_rows)
    await _flush(conn, rows, event_rows)
    await _write_invoices(conn, ledger, stamp)
    await _announce(conn, tenant_id, completions)
    return BatchResult(bookings, counts)


async def _flush(conn: AsyncConnection, rows: list[dict[str, Any]], event_rows: list[dict[str, Any]]) -> int:
    """Write the rows gathered so far and empty the lists (bounded memory on big files)."""
    count = len(rows)
    if rows:
        await conn.execute(payments.insert(), rows)
    if event_rows:
        await conn.execute(events.insert(), event_rows)
    rows.clear()
    event_rows.clear()
    return count


def _payment_row(
    tenant_id: str, payment_id: str, item: NewPayment, decision: Decision, import_id: str | None, stamp: float
) -> dict[str, Any]:
    detail = item.details()
    if item.text and "text" not in detail:
        detail["text"] = item.text
    if decision.via:
        detail["matched_by"] = decision.via
    if decision.reason:
        detail["unmatched_reason"] = decision.reason
    return {
        "id": payment_id,
        "tenant_id": tenant_id,
        "invoice_id": decision.invoice.id if decision.invoice else None,
        "channel": item.channel,
        "reference": item.reference,
        "amount": money(item.amount),
        "currency": item.currency,
        "paid_on": item.paid_on.isoformat() if item.paid_on else None,
        "kid": item.kid,
        "match": decision.match,
        "detail": detail,
        "import_id": import_id,
        "created_at": stamp,
    }


def _event(tenant_id: str, subject: str, kind: str, stamp: float, **detail: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "subject": subject,
        "kind": kind,
        "actor": "ehfgate",
        "detail": detail,
        "at": stamp,
    }


async def _write_invoices(conn: AsyncConnection, ledger: Ledger, stamp: float) -> None:
    """Paid amounts of every touched invoice; the status only where it became ``paid`` (the run owns
    every other status change)."""
    amounts = [
        {"b_id": invoice.id, "b_paid": money(invoice.paid)}
        for invoice in ledger.changed()
        if not invoice.became_paid
    ]
    paid = [
        {"b_id": invoice.id, "b_paid": money(invoice.paid)}
        for invoice in ledger.changed()
        if invoice.became_paid
    ]
    where = invoices.c.id == sa.bindparam("b_id")
    if amounts:
        statement = (
            invoices.update().where(where).values(paid_amount=sa.bindparam("b_paid"), updated_at=stamp)
        )
        await conn.execute(statement, amounts)
    if paid:
        statement = (
            invoices.update()
            .where(where)
            .values(paid_amount=sa.bindparam("b_paid"), status="paid", updated_at=stamp)
        )
        await conn.execute(statement, paid)


async def _announce(conn: AsyncConnection, tenant_id: str, completions: list[_Completion]) -> None:
    """Queue ``invoice.paid`` for each newly paid invoice, when any webhook of the tenant listens
    (asked once per batch rather than once per invoice)."""
    if not completions:
        return
    hooks = await webhook_store.tenant_webhooks(conn, tenant_id, active_only=True)
    if not any(PAID_EVENT in hook.events or ALL_EVENTS in hook.events for hook in hooks):
        return
    for completion in completions:
        await notify(
            conn,
            tenant_id,
            PAID_EVENT,
            paid_payload(completion.invoice, completion.payment, completion.payment_id),
        )


def paid_payload(invoice: OpenInvoice, payment: NewPayment, payment_id: str) -> dict[str, Any]:
    """The ledger's message: invoice N paid, amount, date, channel, reference."""
    paid_on = payment.paid_on.isoformat() if payment.paid_on else None
    number = invoice.number or invoice.id
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "amount": money(invoice.amount),
        "paid_amount": money(invoice.paid),
        "currency": invoice.currency or payment.currency,
        "paid_on": paid_on,
        "channel": payment.channel,
        "reference": payment.reference,
        "kid": payment.kid,
        "payment_id": payment_id,
        "summary": f"invoice {number} paid, {money(invoice.paid)} {invoice.currency or payment.currency}, "
        f"{paid_on or 'date unknown'}, {payment.channel}, {payment.reference}",
    }


async def book_payment(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    channel: str,
    reference: str,
    amount: Decimal,
    currency: str,
    paid_on: dt.date | None,
    kid: str | None,
    invoice_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Booking:
    """Book one payment (a Vipps capture, a manual entry) in the caller's transaction.

    Idempotent on (tenant, channel, reference): a repeat answers ``Booking(duplicate=True)``, also
    when another transaction books the same payment at the same moment.
    """
    text = detail.get("text") if detail else None
    item = NewPayment(
        channel,
        reference,
        Decimal(amount),
        currency,
        paid_on,
        kid,
        invoice_id,
        text if isinstance(text, str) else None,
        detail,
    )
    try:
        async with conn.begin_nested():
            result = await book_payments(conn, tenant_id, [item])
    except IntegrityError:
        return Booking(duplicate=True)
    return result.bookings[0]


def ocr_items(records: Sequence[OcrPayment]) -> list[NewPayment]:
    return [
        NewPayment(
            OCR_CHANNEL,
            record.reference,
            record.amount,
            "NOK",
            record.paid_on,
            record.kid,
            None,
            record.text,
            ocr=record,
        )
        for record in records
    ]


async def import_ocr(conn: AsyncConnection, tenant_id: str, data: bytes) -> ImportResult:
    """Import one OCR giro file in the caller's transaction (raises ``OcrFormatError`` first, before
    anything is written, when the file does not parse)."""
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = (
        await conn.execute(
            sa.select(payment_imports.c.id, payment_imports.c.counts).where(
                payment_imports.c.tenant_id == tenant_id, payment_imports.c.sha256 == sha256
            )
        )
    ).first()
    if earlier is not None:
        return ImportResult(
            earlier.id, Counts(duplicates=int((earlier.counts or {}).get("records", 0))), True
        )
    parsed = parse_ocr(data)
    import_id = new_id("pim")
    blob_id = await put_blob(conn, data, OCR_MEDIA_TYPE)
    await conn.execute(
        payment_imports.insert().values(
            id=import_id,
            tenant_id=tenant_id,
            kind=OCR_CHANNEL,
            sha256=sha256,
            blob_id=blob_id,
            counts={},
            created_at=now(),
        )
    )
    result = await book_payments(conn, tenant_id, ocr_items(parsed.payments), import_id=import_id)
    counts = result.counts.to_json()
    await conn.execute(
        payment_imports.update().where(payment_imports.c.id == import_id).values(counts=counts)
    )
    await record(
        conn,
        import_id,
        "payments.imported",
        tenant_id=tenant_id,
        transmission=parsed.transmission,
        counts=counts,
    )
    return ImportResult(import_id, result.counts)


async def import_ocr_file(store: Store, tenant_id: str, data: bytes) -> ImportResult:
    """:func:`import_ocr` in a transaction of its own, retried once when a concurrent import of an
    overlapping file won a race on a payment (the retry then counts those as duplicates)."""
    for attempt in range(2):
        try:
            async with store.begin() as conn:
                return await import_ocr(conn, tenant_id, data)
        except IntegrityError:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: str
    invoice_id: str | None
    channel: str
    reference: str
    amount: str
    currency: str
    paid_on: str | None
    kid: str | None
    match: str
    detail: dict[str, Any]
    import_id: str | None
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "invoice_id": self.invoice_id,
            "channel": self.channel,
            "reference": self.reference,
            "amount": self.amount,
            "currency": self.currency,
            "paid_on": self.paid_on,
            "kid": self.kid,
            "match": self.match,
            "detail": self.detail,
            "import_id": self.import_id,
            "created_at": self.created_at,
        }


def _row(row: Any) -> PaymentRow:
    values = {name: getattr(row, name) for name in PaymentRow.__dataclass_fields__}
    values["detail"] = dict(values["detail"] or {})
    return PaymentRow(**values)


async def list_payments(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    unmatched: bool = False,
    after: tuple[float, str] | None = None,
    limit: int = 50,
) -> list[PaymentRow]:
    """The tenant's payments in the order they were booked, a page at a time."""
    columns = [payments.c[name] for name in PaymentRow.__dataclass_fields__]
    query = sa.select(*columns).where(payments.c.tenant_id == tenant_id)
    if unmatched:
        query = query.where(payments.c.invoice_id.is_(None))
    if after is not None:
        stamp, last_id = after
        query = query.where(
            sa.or_(
                payments.c.created_at > stamp,
                sa.and_(payments.c.created_at == stamp, payments.c.id > last_id),
            )
        )
    rows = await conn.execute(query.order_by(payments.c.created_at, payments.c.id).limit(limit))
    return [_row(row) for row in rows]


async def payments_of_invoice(conn: AsyncConnection, tenant_id: str, invoice_id: str) -> list[dict[str, Any]]:
    """What GET /invoices/{id} shows as ``payments``: amount, date, channel, reference."""
    rows = await conn.execute(
        sa.select(
            payments.c.amount,
            payments.c.currency,
            payments.c.paid_on,
            payments.c.channel,
            payments.c.reference,
            payments.c.match,
        )
        .where(payments.c.tenant_id == tenant_id, payments.c.invoice_id == invoice_id)
        .order_by(payments.c.created_at, payments.c.id)
    )
    return [
        {
            "amount": r.amount,
            "currency": r.currency,
            "date": r.paid_on,
            "channel": r.channel,
            "reference": r.reference,
            "match": r.match,
        }
        for r in rows
    ]
