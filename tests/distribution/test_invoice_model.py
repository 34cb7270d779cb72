"""The UBL read model against what the corpus XML itself says (read here with XPath, not hard-coded)."""

from __future__ import annotations

import collections
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from distribution.invoice import DocumentKind, InvoiceReadError, read_invoice
from tests.distribution.corpus import (
    CREDIT_NOTE_EXAMPLE,
    NORWEGIAN_CREDIT_NOTE,
    NORWEGIAN_EXAMPLE,
    SBDH_INVOICE,
    corpus_files,
)

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def xpath_text(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list) and found, path
    value = found[0]
    return str(value.text if isinstance(value, etree._Element) else value).strip()


def xml_root(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def test_norwegian_invoice_matches_its_xml(corpus: Path) -> None:
    path = corpus / NORWEGIAN_EXAMPLE
    root = xml_root(path)
    invoice = read_invoice(path.read_bytes())

    assert invoice.kind is DocumentKind.INVOICE and not invoice.is_credit_note
    assert invoice.number == xpath_text(root, "/*/cbc:ID")
    assert invoice.issue_date == dt.date.fromisoformat(xpath_text(root, "/*/cbc:IssueDate"))
    assert invoice.due_date == dt.date.fromisoformat(xpath_text(root, "/*/cbc:DueDate"))
    assert invoice.currency == xpath_text(root, "/*/cbc:DocumentCurrencyCode")
    assert invoice.buyer_reference == xpath_text(root, "/*/cbc:BuyerReference")
    assert invoice.order_reference == xpath_text(root, "/*/cac:OrderReference/cbc:ID")

    monetary = "/*/cac:LegalMonetaryTotal/cbc:"
    assert invoice.totals.payable == Decimal(xpath_text(root, monetary + "PayableAmount"))
    assert invoice.totals.tax_inclusive == Decimal(xpath_text(root, monetary + "TaxInclusiveAmount"))
    assert invoice.totals.prepaid == Decimal(xpath_text(root, monetary + "PrepaidAmount"))
    assert invoice.totals.rounding == Decimal(xpath_text(root, monetary + "PayableRoundingAmount"))
    assert invoice.totals.vat_total == Decimal(xpath_text(root, "/*/cac:TaxTotal/cbc:TaxAmount"))
    assert sum(v.tax_amount or 0 for v in invoice.vat_breakdown) == Decimal(
        str(root.xpath("sum(/*/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount)", namespaces=NS))
    )

    assert invoice.kid == xpath_text(root, "/*/cac:PaymentMeans/cbc:PaymentID")
    assert invoice.account_id == xpath_text(root, "/*/cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID")
    assert invoice.payment_means[0].bic == xpath_text(
        root, "/*/cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"
    )

    seller, buyer = invoice.seller, invoice.buyer
    assert seller is not None and buyer is not None
    supplier = "/*/cac:AccountingSupplierParty/cac:Party/"
    customer = "/*/cac:AccountingCustomerParty/cac:Party/"
    assert seller.organisation_number == xpath_text(root, supplier + "cac:PartyLegalEntity/cbc:CompanyID")
    assert seller.organisation_scheme == xpath_text(
        root, supplier + "cac:PartyLegalEntity/cbc:CompanyID/@schemeID"
    )
    assert seller.vat_number == xpath_text(
        root, supplier + "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"
    )
    assert xpath_text(root, supplier + "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='TAX']/cbc:CompanyID") == (
        "Foretaksregisteret"
    )
    assert seller.foretaksregisteret is True
    assert buyer.foretaksregisteret is False
    assert buyer.organisation_number == xpath_text(root, customer + "cac:PartyLegalEntity/cbc:CompanyID")
    assert seller.display_name == xpath_text(root, supplier + "cac:PartyLegalEntity/cbc:RegistrationName")
    assert seller.address is not None
    assert seller.address.city == xpath_text(root, supplier + "cac:PostalAddress/cbc:CityName")

    line_ids = root.xpath("/*/cac:InvoiceLine/cbc:ID/text()", namespaces=NS)
    assert [line.id for line in invoice.lines] == line_ids
    first = invoice.lines[0]
    assert first.quantity == Decimal(xpath_text(root, "/*/cac:InvoiceLine[1]/cbc:InvoicedQuantity"))
    assert first.unit_code == xpath_text(root, "/*/cac:InvoiceLine[1]/cbc:InvoicedQuantity/@unitCode")
    assert first.price == Decimal(xpath_text(root, "/*/cac:InvoiceLine[1]/cac:Price/cbc:PriceAmount"))
    assert first.vat_percent == Decimal(
        xpath_text(root, "/*/cac:InvoiceLine[1]/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent")
    )
    assert first.notes == (xpath_text(root, "/*/cac:InvoiceLine[1]/cbc:Note"),)
    # The example wraps the description over two indented lines; the model gives one clean line.
    assert first.description is not None and "\n" not in first.description and "  " not in first.description

    charges = [ac for ac in invoice.allowances_charges if ac.is_charge]
    assert [c.reason for c in charges] == root.xpath(
        "/*/cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:AllowanceChargeReason/text()", namespaces=NS
    )
    exempt = [v for v in invoice.vat_breakdown if v.category == "E"]
    assert exempt and exempt[0].exemption_reason == xpath_text(
        root, "//cac:TaxSubtotal/cac:TaxCategory[cbc:ID='E']/cbc:TaxExemptionReason"
    )

    embedded = [a for a in invoice.attachments if a.embedded]
    assert [a.filename for a in embedded] == root.xpath(
        "//cac:AdditionalDocumentReference//cbc:EmbeddedDocumentBinaryObject/@filename", namespaces=NS
    )
    assert invoice.payment_terms == xpath_text(root, "/*/cac:PaymentTerms/cbc:Note")


@pytest.mark.parametrize("name", [CREDIT_NOTE_EXAMPLE, NORWEGIAN_CREDIT_NOTE])
def test_credit_notes_are_read_as_credit_notes(corpus: Path, name: str) -> None:
    path = corpus / name
    root = xml_root(path)
    invoice = read_invoice(path.read_bytes())
    assert invoice.kind is DocumentKind.CREDIT_NOTE and invoice.is_credit_note
    assert invoice.type_code == xpath_text(root, "/*/cbc:CreditNoteTypeCode")
    assert [line.id for line in invoice.lines] == root.xpath(
        "/*/cac:CreditNoteLine/cbc:ID/text()", namespaces=NS
    )
    assert invoice.lines[0].quantity == Decimal(
        xpath_text(root, "/*/cac:CreditNoteLine[1]/cbc:CreditedQuantity")
    )
    assert invoice.totals.payable == Decimal(xpath_text(root, "/*/cac:LegalMonetaryTotal/cbc:PayableAmount"))
    assert invoice.preceding_invoices == tuple(
        root.xpath("/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID/text()", namespaces=NS)
    )


def test_credit_note_due_date_comes_from_payment_means(corpus: Path) -> None:
    data = (corpus / CREDIT_NOTE_EXAMPLE).read_bytes()
    assert b"PaymentDueDate" not in data
    patched = data.replace(
        b"<cbc:PaymentID>", b"<cbc:PaymentDueDate>2024-02-29</cbc:PaymentDueDate><cbc:PaymentID>", 1
    )
    assert read_invoice(data).due_date is None
    assert read_invoice(patched).due_date == dt.date(2024, 2, 29)


def test_malformed_values_become_none(corpus: Path) -> None:
    data = (corpus / NORWEGIAN_EXAMPLE).read_bytes()
    patched = (
        data.replace(b">802.00<", b">802,00<")
        .replace(b"<cbc:DueDate>2013-07-20", b"<cbc:DueDate>2013-02-30")
        .replace(b">1436.5</cbc:TaxExclusiveAmount>", b">1E9999999</cbc:TaxExclusiveAmount>")
    )
    assert patched.count(b"802,00") == 1
    invoice = read_invoice(patched)
    assert invoice.totals.payable is None
    assert invoice.due_date is None
    assert invoice.totals.tax_exclusive is None
    assert invoice.totals.tax_inclusive == Decimal("1801.78")


def test_sbdh_wrapped_invoice_is_unwrapped(corpus: Path) -> None:
    path = corpus / SBDH_INVOICE
    invoice = read_invoice(path.read_bytes())
    root = xml_root(path)
    payload = root.xpath("/*/*[local-name()='Invoice']", namespaces=NS)
    assert isinstance(payload, list) and len(payload) == 1
    assert invoice.kind is DocumentKind.INVOICE
    # The envelope test file carries a dummy payload: compare whatever it has.
    expected_ids = payload[0].xpath("cbc:ID/text()", namespaces=NS)
    assert ([invoice.number] if invoice.number else []) == expected_ids
    assert len(invoice.lines) == len(payload[0].xpath("cac:InvoiceLine", namespaces=NS))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not xml at all", "not readable as XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', "not readable as XML"),
        (b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", "not a UBL Invoice"),
        (b"<Invoice/>", "not a UBL Invoice"),
    ],
)
def test_non_invoices_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(InvoiceReadError, match=message):
        read_invoice(data)


def test_minimal_invoice_reads_with_nones() -> None:
    invoice = read_invoice(b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>")
    assert invoice.number is None and invoice.seller is None and invoice.lines == ()
    assert invoice.totals.payable is None and invoice.kid is None


def test_every_corpus_document_reads_or_is_refused(corpus: Path) -> None:
    """The corpus is full of deliberately broken invoices; none may crash the reader."""
    refused: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[DocumentKind] = collections.Counter()
    for path in corpus_files(corpus):
        try:
            kinds[read_invoice(path.read_bytes()).kind] += 1
        except InvoiceReadError as exc:
            refused[str(exc).split(":")[0]] += 1
    assert kinds[DocumentKind.INVOICE] > 900 and kinds[DocumentKind.CREDIT_NOTE] > 100
    # Invoice Responses, MLS, one SBDH without payload and one non-XML file.
    assert sum(refused.values()) < 40, refused
