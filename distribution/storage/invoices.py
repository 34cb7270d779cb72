"""Invoices handed to the run, their attachments and attempts: rows and tenant-scoped reads.

A read that takes the tenant treats another tenant's invoice as absent, so the API answers 404 and
never reveals that an id exists. Attempt rows are written before a delivery starts (outcome
``started``) and completed in place; the event log keeps every step's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import blobs, tenants
from distribution.storage.schema import invoice_attachments, invoice_attempts, invoices

STARTED = "started"


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: str
    tenant_id: str
    status: str
    method: str | None
    override_method: str | None
    customer: dict[str, Any]
    document_blob: str
    kind: str
    number: str | None
    kid: str | None
    amount: str | None
    currency: str | None
    due_date: str | None
    idempotency_key: str | None
    plan: list[dict[str, Any]]
    position: int
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: str  # doubles as the attempt key methods pass on as their idempotency key
    method: str
    outcome: str
    reason: str
    reference: str | None
    evidence: dict[str, Any] | None
    at: float


def _columns() -> list[sa.Column[Any]]:
    """The columns this read model knows (other features may add theirs to the table)."""
    return [invoices.c[name] for name in InvoiceRow.__dataclass_fields__]


def _invoice(row: Any) -> InvoiceRow:
    values = {name: getattr(row, name) for name in InvoiceRow.__dataclass_fields__}
    values["plan"] = list(values["plan"] or [])
    values["customer"] = dict(values["customer"] or {})
    return InvoiceRow(**values)


async def insert_invoice(conn: AsyncConnection, **values: Any) -> str:
    """A new invoice row; ``values`` are the table's columns but id and times."""
    invoice_id = new_id("inv")
    stamp = now()
    await conn.execute(invoices.insert().values(id=invoice_id, created_at=stamp, updated_at=stamp, **values))
    return invoice_id


async def get_invoice(
    conn: AsyncConnection, invoice_id: str, tenant_id: str | None = None
) -> InvoiceRow | None:
    query = sa.select(*_columns()).where(invoices.c.id == invoice_id)
    if tenant_id is not None:
        query = query.where(invoices.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).first()
    return _invoice(row) if row is not None else None


async def invoice_by_idempotency_key(conn: AsyncConnection, tenant_id: str, key: str) -> InvoiceRow | None:
    row = (
        await conn.execute(
            sa.select(*_columns()).where(invoices.c.tenant_id == tenant_id, invoices.c.idempotency_key == key)
        )
    ).first()
    return _invoice(row) if row is not None else None


async def update_invoice(conn: AsyncConnection, invoice_id: str, **values: Any) -> str | None:
    """Update columns; a ``paid`` invoice stays ``paid`` (money may arrive before the run finishes).

    Returns the status now stored (None: no such invoice), so the caller learns of a payment without
    reading the row again."""
    if "status" in values:
        values["status"] = sa.case((invoices.c.status == "paid", "paid"), else_=sa.literal(values["status"]))
    result = await conn.execute(
        invoices.update()
        .where(invoices.c.id == invoice_id)
        .values(updated_at=now(), **values)
        .returning(invoices.c.status)
    )
    status: str | None = result.scalar()
    return status


async def add_attachment(
    conn: AsyncConnection, invoice_id: str, position: int, filename: str, mime_type: str, blob_id: str
) -> None:
    await conn.execute(
        invoice_attachments.insert().values(
            id=new_id("att"),
            invoice_id=invoice_id,
            position=position,
            filename=filename,
            mime_type=mime_type,
            blob_id=blob_id,
        )
    )


async def document_and_tenant_name(conn: AsyncConnection, row: InvoiceRow) -> tuple[bytes, str]:
    """The stored UBL and the tenant's name, in one query (the run reads both at every step)."""
    name = sa.select(tenants.c.name).where(tenants.c.id == row.tenant_id).scalar_subquery()
    found = (
        await conn.execute(
            sa.select(blobs.c.content, name.label("name")).where(blobs.c.id == row.document_blob)
        )
    ).first()
    if found is None:
        raise KeyError(row.document_blob)
    return bytes(found.content), found.name or ""


async def attachment_files(conn: AsyncConnection, invoice_id: str) -> list[tuple[str, str, bytes]]:
    """File name, MIME type and content of every attachment, in order, in one query."""
    rows = await conn.execute(
        sa.select(invoice_attachments.c.filename, invoice_attachments.c.mime_type, blobs.c.content)
        .select_from(invoice_attachments.join(blobs, blobs.c.id == invoice_attachments.c.blob_id))
        .where(invoice_attachments.c.invoice_id == invoice_id)
        .order_by(invoice_attachments.c.position)
    )
    return [(r.filename, r.mime_type, bytes(r.content)) for r in rows.all()]


async def insert_attempt(
    conn: AsyncConnection,
    invoice_id: str,
    method: str,
    outcome: str,
    reason: str,
    *,
    attempt_id: str | None = None,
    reference: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> str:
    attempt_id = attempt_id or new_attempt_key()
    await conn.execute(
        invoice_attempts.insert().values(
            id=attempt_id,
            invoice_id=invoice_id,
            method=method,
            outcome=outcome,
            reason=reason,
            reference=reference,
            evidence=evidence,
            at=now(),
        )
    )
    return attempt_id


def new_attempt_key() -> str:
    return new_id("try")


async def update_attempt(conn: AsyncConnection, attempt_id: str, **values: Any) -> None:
    await conn.execute(
        invoice_attempts.update().where(invoice_attempts.c.id == attempt_id).values(at=now(), **values)
    )


async def attempts_of(conn: AsyncConnection, invoice_id: str) -> list[AttemptRow]:
    """Every check and attempt of the invoice, oldest first."""
    rows = await conn.execute(
        sa.select(invoice_attempts)
        .where(invoice_attempts.c.invoice_id == invoice_id)
        .order_by(invoice_attempts.c.at, invoice_attempts.c.id)
    )
    return [
        AttemptRow(r.id, r.method, r.outcome, r.reason, r.reference, r.evidence, r.at) for r in rows.all()
    ]
