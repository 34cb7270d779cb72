"""Accept an invoice for the run: nothing is stored unless the document is valid, and the invoice,
its attachments, its plan and its job are committed in one transaction (no invoice without a run,
no run without an invoice)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from accesspoint.store import queue
from accesspoint.store.blobs import put_blob
from accesspoint.store.engine import Store
from accesspoint.store.events import record
from accesspoint.validation.report import Report
from distribution.invoice import read_invoice
from distribution.methods.base import AttachmentFile, Customer
from distribution.payments.kid import assign_kid, kid_for, load_kid_settings
from distribution.run.context import remember_parsed
from distribution.run.customer import customer_to_json
from distribution.run.engine import JOB_KIND, SKIPPED
from distribution.run.plan import make_plan
from distribution.storage.invoices import (
    add_attachment,
    insert_attempt,
    insert_invoice,
    invoice_by_idempotency_key,
)
from distribution.storage.runs import get_run

Validate = Callable[[bytes], Awaitable[Report]]


class InvoiceRejected(Exception):
    """The document failed validation: nothing was stored."""

    def __init__(self, report: Report) -> None:
        super().__init__("the document is not valid")
        self.report = report


@dataclass(frozen=True, slots=True)
class NewInvoice:
    document: bytes
    customer: Customer
    attachments: tuple[AttachmentFile, ...] = ()
    method: str | None = None  # deliver by this method only


@dataclass(frozen=True, slots=True)
class Accepted:
    id: str
    status: str
    created: bool  # False: an earlier submission with the same idempotency key


async def accept(
    store: Store,
    tenant_id: str,
    new: NewInvoice,
    validate: Validate,
    *,
    available: Collection[str],
    idempotency_key: str | None = None,
) -> Accepted:
    """Validate and queue ``new``. Raises InvoiceReadError (not an Invoice/CreditNote) or
    InvoiceRejected; a repeated ``idempotency_key`` returns the first invoice before any work."""
    if idempotency_key:
        async with store.connect() as conn:
            existing = await invoice_by_idempotency_key(conn, tenant_id, idempotency_key)
        if existing is not None:
            return Accepted(existing.id, existing.status, created=False)
    document = new.document
    invoice = read_invoice(document)
    if not invoice.kid:  # the tenant may have KIDs made: written into the UBL before validation
        async with store.connect() as conn:
            scheme = await load_kid_settings(conn, tenant_id)
        if scheme is not None:
            kid = kid_for(scheme, invoice_number=invoice.number or "")
            document = assign_kid(document, kid)
            invoice = read_invoice(document)
    report = await validate(document)
    if not report.valid:
        raise InvoiceRejected(report)
    try:
        async with store.begin() as conn:
            plan = make_plan(
                await get_run(conn, tenant_id),
                available=available,
                preferred=new.customer.preferred_method,
                override=new.method,
            )
            document_blob = await put_blob(conn, document, "application/xml")
            remember_parsed(document_blob, invoice)
            invoice_id = await insert_invoice(
                conn,
                tenant_id=tenant_id,
                status="queued",
                override_method=new.method,
                customer=customer_to_json(new.customer),
                document_blob=document_blob,
                kind=invoice.kind.value,
                number=invoice.number[:200] if invoice.number else None,
                kid=invoice.kid[:40] if invoice.kid else None,
                amount=str(invoice.totals.payable) if invoice.totals.payable is not None else None,
                currency=invoice.currency[:3] if invoice.currency else None,
                due_date=invoice.due_date.isoformat() if invoice.due_date else None,
                idempotency_key=idempotency_key,
                plan=plan.to_json(),
                position=0,
            )
            for position, attachment in enumerate(new.attachments):
                blob = await put_blob(conn, attachment.content, attachment.mime_type)
                await add_attachment(
                    conn, invoice_id, position, attachment.filename, attachment.mime_type, blob
                )
            for skip in plan.skipped:
                await insert_attempt(conn, invoice_id, skip.method, SKIPPED, skip.reason)
            await record(
                conn,
                invoice_id,
                "distribution.accepted",
                tenant_id=tenant_id,
                plan=[step.method for step in plan.steps],
                skipped=[{"method": s.method, "reason": s.reason} for s in plan.skipped],
            )
            await queue.enqueue(conn, JOB_KIND, invoice_id)
    except IntegrityError:
        if not idempotency_key:
            raise
        async with store.connect() as conn:  # a concurrent submission with the same key won
            existing = await invoice_by_idempotency_key(conn, tenant_id, idempotency_key)
        if existing is None:
            raise
        return Accepted(existing.id, existing.status, created=False)
    return Accepted(invoice_id, "queued", created=True)
