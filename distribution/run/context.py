"""What a method sees of one invoice: built from the stored invoice, once per engine step.

The document is parsed and the attachments read once; the PDF is rendered only if a method asks
(``ctx.pdf()``), with the tenant's design as saved in ``distribution_designs``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from distribution.invoice import Invoice, read_invoice
from distribution.methods.base import (
    AttachmentFile,
    Customer,
    InvoiceContext,
    Services,
    Tenant,
)
from distribution.render import Design, DesignError
from distribution.run.customer import customer_from_json
from distribution.storage.designs import StoredDesign, get_design
from distribution.storage.invoices import InvoiceRow, attachment_files, document_and_tenant_name

DESIGN_FIELDS = ("primary_colour", "accent_colour", "footer_text", "language")
PARSED_KEPT = 256

# Invoices parsed when accepted, by the id of their (immutable) document blob: the first step of the
# run usually follows in the same process a moment later, and need not parse the document again.
_parsed: OrderedDict[str, Invoice] = OrderedDict()
_parsed_lock = threading.Lock()


def remember_parsed(blob_id: str, invoice: Invoice) -> None:
    with _parsed_lock:
        _parsed[blob_id] = invoice
        while len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)


def parsed_invoice(blob_id: str, document: bytes) -> Invoice:
    """The invoice in the blob ``blob_id`` (whose content is ``document``), parsed at most once here."""
    with _parsed_lock:
        invoice = _parsed.pop(blob_id, None)
    return invoice if invoice is not None else read_invoice(document)


def design_of(stored: StoredDesign) -> Design:
    """The renderer's :class:`Design` from saved settings; raises DesignError on a bad value."""
    values = {key: stored.settings[key] for key in DESIGN_FIELDS if stored.settings.get(key) is not None}
    return Design(logo=stored.logo, **values)


@dataclass(frozen=True, slots=True)
class LoadedInvoice:
    """A stored invoice with everything a context needs, read in one go."""

    row: InvoiceRow
    tenant: Tenant
    document: bytes
    invoice: Invoice
    customer: Customer
    attachments: tuple[AttachmentFile, ...]
    stored_design: StoredDesign  # as saved: what methods read (sender, language)
    design: Design  # the renderer's, made from it


async def load_invoice(conn: AsyncConnection, row: InvoiceRow) -> LoadedInvoice:
    document, name = await document_and_tenant_name(conn, row)
    files = [AttachmentFile(*file) for file in await attachment_files(conn, row.id)]
    stored_design = await get_design(conn, row.tenant_id)
    try:
        design = design_of(stored_design)
    except DesignError:
        design = Design()  # saved designs are checked on PUT; never let one stop a delivery
    return LoadedInvoice(
        row=row,
        tenant=Tenant(row.tenant_id, name),
        document=document,
        invoice=parsed_invoice(row.document_blob, document),
        customer=customer_from_json(row.customer),
        attachments=tuple(files),
        stored_design=stored_design,
        design=design,
    )


def invoice_context(
    loaded: LoadedInvoice, attempt_key: str, settings: Mapping[str, Any], services: Services
) -> InvoiceContext:
    invoice, design = loaded.invoice, loaded.design
    return InvoiceContext(
        invoice_id=loaded.row.id,
        attempt_key=attempt_key,
        tenant=loaded.tenant,
        document=loaded.document,
        invoice=invoice,
        customer=loaded.customer,
        attachments=loaded.attachments,
        settings=settings,
        services=services,
        render=lambda: services.renderer.render(invoice, design),
        design=loaded.stored_design,
    )
