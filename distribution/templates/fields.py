"""The merge fields a template may use: the catalogue (names, meaning, a sample) and their values for
one invoice, formatted for the reader's language exactly as the PDF formats them.

Every field is always defined, as text or (``credit_note``) a boolean; a value the document does not
carry is the empty string, so ``{% if kid %}`` works and a strict sandbox never meets a missing name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from distribution.invoice import Invoice
from distribution.methods.base import Customer
from distribution.render.design import Language
from distribution.render.formatting import format_amount, format_date
from distribution.render.labels import LABELS

FieldValue = str | bool


@dataclass(frozen=True, slots=True)
class MergeField:
    name: str
    description: str
    sample_nb: FieldValue
    sample_en: FieldValue


CATALOGUE: tuple[MergeField, ...] = (
    MergeField(
        "customer_name",
        "The customer's name as given with the invoice, else the buyer's name in the document",
        "Ola Nordmann AS",
        "Ola Nordmann AS",
    ),
    MergeField("invoice_number", "The invoice or credit note number", "10045", "10045"),
    MergeField("document_title", "'Faktura'/'Kreditnota' or 'Invoice'/'Credit note'", "Faktura", "Invoice"),
    MergeField("credit_note", "true for a credit note, false for an invoice", False, False),
    MergeField("issue_date", "Issue date: 30.06.2025 (nb), 30 Jun 2025 (en)", "30.06.2025", "30 Jun 2025"),
    MergeField(
        "due_date", "Due date, formatted like issue_date; empty when none", "14.07.2025", "14 Jul 2025"
    ),
    MergeField("amount", "Amount payable: 1 234,50 (nb), 1,234.50 (en)", "12\u00a0500,00", "12,500.00"),
    MergeField("currency", "ISO 4217 currency code of the document", "NOK", "NOK"),
    MergeField("vat_amount", "Total VAT, formatted like amount", "2\u00a0500,00", "2,500.00"),
    MergeField("kid", "The payment reference (KID); empty when none", "0012345678903", "0012345678903"),
    MergeField("account_number", "The account to pay to (BBAN or IBAN)", "15032080119", "15032080119"),
    MergeField("payment_terms", "The payment terms text of the document", "14 dager netto", "Net 14 days"),
    MergeField("buyer_reference", "The buyer's reference (BT-10)", "Kari Hansen", "Kari Hansen"),
    MergeField("order_reference", "The buyer's order number (BT-13)", "PO-778", "PO-778"),
    MergeField("seller_name", "The seller's name in the document", "Leverandør AS", "Leverandør AS"),
    MergeField("seller_organisation_number", "The seller's organisation number", "987654325", "987654325"),
    MergeField(
        "tenant_name", "The sending business as registered in ehfgate", "Leverandør AS", "Leverandør AS"
    ),
    MergeField("language", "The template's language: nb or en", "nb", "en"),
)

FIELD_NAMES: frozenset[str] = frozenset(field.name for field in CATALOGUE)


def sample_fields(language: Language) -> dict[str, FieldValue]:
    """Values for a trial render when a template is saved."""
    return {field.name: field.sample_nb if language == "nb" else field.sample_en for field in CATALOGUE}


def merge_fields(
    invoice: Invoice, customer: Customer, tenant_name: str, language: Language
) -> dict[str, FieldValue]:
    """The catalogue's values for one invoice; keys are exactly :data:`FIELD_NAMES`."""
    labels = LABELS[language]
    seller, buyer = invoice.seller, invoice.buyer
    values: Mapping[str, FieldValue | None] = {
        "customer_name": customer.name or (buyer.display_name if buyer else None),
        "invoice_number": invoice.number,
        "document_title": labels.credit_note if invoice.is_credit_note else labels.invoice,
        "credit_note": invoice.is_credit_note,
        "issue_date": format_date(invoice.issue_date, language),
        "due_date": format_date(_due_date(invoice), language),
        "amount": format_amount(invoice.totals.payable, language),
        "currency": invoice.currency,
        "vat_amount": format_amount(invoice.totals.vat_total, language),
        "kid": invoice.kid,
        "account_number": invoice.account_id,
        "payment_terms": invoice.payment_terms,
        "buyer_reference": invoice.buyer_reference,
        "order_reference": invoice.order_reference,
        "seller_name": seller.display_name if seller else None,
        "seller_organisation_number": seller.organisation_number if seller else None,
        "tenant_name": tenant_name,
        "language": language,
    }
    return {name: "" if value is None else value for name, value in values.items()}


def _due_date(invoice: Invoice) -> dt.date | None:
    """BT-9, else the first payment means' due date (credit notes carry it there)."""
    if invoice.due_date is not None:
        return invoice.due_date
    return next((means.due_date for means in invoice.payment_means if means.due_date), None)
