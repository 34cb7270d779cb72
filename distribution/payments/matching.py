"""Which invoice a payment pays, decided in memory over the invoices the batch could touch.

Order of evidence: the invoice id when the channel knows it (a Vipps payment made for one invoice);
else the KID, exact; else an invoice number in the payment's free text *and* an amount equal to what
is still owed, because a number alone is too easy to mistype. Whatever is left is unmatched and kept
for a person. A payment in another currency than the invoice's, or not a positive amount (a reversal),
is never matched automatically.

The ledger holds each candidate invoice's running paid amount, so several payments in one batch add
up exactly as they would one by one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from distribution.storage.schema import invoices

Match = Literal["full", "partial", "over", "unmatched"]
PAID = "paid"
# Values per lookup: within SQLite's 32 766 parameters; PostgreSQL gets one array parameter.
CHUNK = {"postgresql": 50_000, "sqlite": 10_000}
NUMBER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,199}")
MATCHABLE_KINDS = ("invoice",)


CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """A stored amount: at least two decimals (``1250.00``), more where the value has them."""
    text = str(value)
    point = text.find(".")
    if point >= 0 and len(text) - point > 2:
        return text
    return str(value.quantize(CENT))


def decimal_or_zero(value: str | None) -> Decimal:
    if not value:
        return Decimal(0)
    try:
        return Decimal(value)
    except InvalidOperation:
        return Decimal(0)


@dataclass(slots=True)
class OpenInvoice:
    """A candidate invoice with its running paid amount (mutated as the batch books)."""

    id: str
    number: str | None
    kid: str | None
    amount: Decimal
    currency: str | None
    status: str
    paid: Decimal
    created_at: float
    paid_before: Decimal = field(init=False)
    status_before: str = field(init=False)

    def __post_init__(self) -> None:
        self.paid_before = self.paid
        self.status_before = self.status

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid

    @property
    def changed(self) -> bool:
        return self.paid != self.paid_before or self.status != self.status_before

    @property
    def became_paid(self) -> bool:
        return self.status == PAID and self.status_before != PAID


@dataclass(frozen=True, slots=True)
class Incoming:
    """What matching needs to know about one payment."""

    amount: Decimal
    currency: str
    kid: str | None = None
    text: str | None = None
    invoice_id: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    invoice: OpenInvoice | None
    match: Match
    via: str | None  # invoice_id | kid | number, None when unmatched
    reason: str | None = None  # why a payment stayed unmatched


class Ledger:
    """Candidate invoices of one tenant, indexed by id, KID and number."""

    def __init__(self, candidates: Iterable[OpenInvoice] = ()) -> None:
        self.by_id: dict[str, OpenInvoice] = {}
        self.by_kid: dict[str, list[OpenInvoice]] = {}
        self.by_number: dict[str, list[OpenInvoice]] = {}
        for invoice in candidates:
            self.add(invoice)

    def add(self, invoice: OpenInvoice) -> None:
        if invoice.id in self.by_id:
            return
        self.by_id[invoice.id] = invoice
        if invoice.kid:
            self.by_kid.setdefault(invoice.kid, []).append(invoice)
        if invoice.number:
            self.by_number.setdefault(invoice.number, []).append(invoice)

    def changed(self) -> list[OpenInvoice]:
        return [invoice for invoice in self.by_id.values() if invoice.changed]


def text_tokens(text: str | None) -> list[str]:
    """Words of a free text that could be invoice numbers."""
    return NUMBER_TOKEN.findall(text or "")


def _by_kid(candidates: list[OpenInvoice], amount: Decimal) -> OpenInvoice:
    """One KID may name several invoices (a KID per customer): the unpaid one owing exactly this
    amount, else the oldest unpaid one, else the latest."""
    unpaid = [invoice for invoice in candidates if invoice.status != PAID and invoice.outstanding > 0]
    exact = [invoice for invoice in unpaid if invoice.outstanding == amount]
    if exact:
        return exact[0]
    if unpaid:
        return min(unpaid, key=lambda invoice: invoice.created_at)
    return max(candidates, key=lambda invoice: invoice.created_at)


def _by_number(ledger: Ledger, payment: Incoming) -> OpenInvoice | None:
    found = {
        invoice.id: invoice
        for token in text_tokens(payment.text)
        for invoice in ledger.by_number.get(token, ())
        if invoice.outstanding == payment.amount and invoice.status != PAID
    }
    return next(iter(found.values())) if len(found) == 1 else None


def decide(ledger: Ledger, payment: Incoming) -> Decision:
    """The invoice ``payment`` pays (not yet applied; see :func:`apply`)."""
    if payment.amount <= 0:
        return Decision(None, "unmatched", None, "not a positive amount (a reversal is for a person)")
    invoice: OpenInvoice | None = None
    via: str | None = None
    if payment.invoice_id is not None:
        invoice, via = ledger.by_id.get(payment.invoice_id), "invoice_id"
    elif payment.kid and payment.kid in ledger.by_kid:
        invoice, via = _by_kid(ledger.by_kid[payment.kid], payment.amount), "kid"
    else:
        invoice, via = _by_number(ledger, payment), "number"
    if invoice is None:
        reason = "unknown invoice" if payment.invoice_id else "no invoice with this KID or number and amount"
        return Decision(None, "unmatched", None, reason)
    if invoice.currency and invoice.currency != payment.currency:
        return Decision(
            None, "unmatched", None, f"paid in {payment.currency}, invoiced in {invoice.currency}"
        )
    after = invoice.paid + payment.amount
    match: Match = "partial" if after < invoice.amount else "full" if after == invoice.amount else "over"
    if invoice.paid >= invoice.amount:
        match = "over"  # already paid: all of this is too much
    return Decision(invoice, match, via)


def apply(decision: Decision, amount: Decimal) -> None:
    """Book ``amount`` on the decided invoice in the ledger: paid once the sum reaches the amount."""
    invoice = decision.invoice
    if invoice is None:
        return
    invoice.paid += amount
    if invoice.paid >= invoice.amount:
        invoice.status = PAID


def chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def chunk_size(conn: AsyncConnection) -> int:
    return CHUNK.get(conn.dialect.name, 500)


def one_of(conn: AsyncConnection, column: sa.Column[Any], values: Sequence[str]) -> sa.ColumnElement[bool]:
    """``column`` among ``values``: one array parameter on PostgreSQL (hashed, one scan), a plain
    ``IN`` list elsewhere (SQLite turns it into a temporary index)."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(sa.String)))
    return column.in_(values)


def _invoice(row: Any) -> OpenInvoice:
    mapping = row._mapping
    return OpenInvoice(
        id=str(mapping["id"]),
        number=mapping["number"],
        kid=mapping["kid"],
        amount=decimal_or_zero(mapping["amount"]),
        currency=mapping["currency"],
        status=str(mapping["status"]),
        paid=decimal_or_zero(mapping["paid_amount"]),
        created_at=float(mapping["created_at"]),
    )


COLUMNS = (
    invoices.c.id,
    invoices.c.number,
    invoices.c.kid,
    invoices.c.amount,
    invoices.c.currency,
    invoices.c.status,
    invoices.c.paid_amount,
    invoices.c.created_at,
)


async def load_ledger(
    conn: AsyncConnection, tenant_id: str, payments: Sequence[Incoming], *, lock: bool = True
) -> Ledger:
    """The tenant's invoices any of ``payments`` could pay, locked for this transaction where the
    database locks rows (PostgreSQL), so a concurrent booking waits instead of losing an update."""
    ids = sorted({p.invoice_id for p in payments if p.invoice_id})
    kids = sorted({p.kid for p in payments if p.kid and p.invoice_id is None})
    tokens = sorted({t for p in payments if p.text and p.invoice_id is None for t in text_tokens(p.text)})
    ledger = Ledger()
    for column, values in ((invoices.c.id, ids), (invoices.c.kid, kids), (invoices.c.number, tokens)):
        for chunk in chunks(values, chunk_size(conn)):
            query = sa.select(*COLUMNS).where(
                invoices.c.tenant_id == tenant_id,
                invoices.c.kind.in_(MATCHABLE_KINDS),
                one_of(conn, column, chunk),
            )
            if lock:
                query = query.with_for_update()
            for row in await conn.execute(query):
                ledger.add(_invoice(row))
    return ledger
