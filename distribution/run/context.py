"""What a method sees of one invoice: built from the stored invoice, once per engine step.

The document is parsed and the attachments read once; the PDF is rendered only if a method asks
(``ctx.pdf()``), with the tenant's design as saved in ``distribution_designs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.blobs import get_blob
from accesspoint.store.schema import tenants
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
from distribution.storage.invoices import InvoiceRow, attachments_of

DESIGN_FIELDS = ("primary_colour", "accent_colour", "footer_text", "language")


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
    design: Design


async def load_invoice(conn: AsyncConnection, row: InvoiceRow) -> LoadedInvoice:
    document = (await get_blob(conn, row.document_blob))[0]
    name = (await conn.execute(sa.select(tenants.c.name).where(tenants.c.id == row.tenant_id))).scalar()
    files = []
    for attachment in await attachments_of(conn, row.id):
        content = (await get_blob(conn, attachment.blob_id))[0]
        files.append(AttachmentFile(attachment.filename, attachment.mime_type, content))
    try:
        design = design_of(await get_design(conn, row.tenant_id))
    except DesignError:
        design = Design()  # saved designs are checked on PUT; never let one stop a delivery
    return LoadedInvoice(
        row=row,
        tenant=Tenant(row.tenant_id, name or ""),
        document=document,
        invoice=read_invoice(document),
        customer=customer_from_json(row.customer),
        attachments=tuple(files),
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
    )
