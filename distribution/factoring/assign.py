"""Rewrite a UBL invoice as sold to a factor, the way EN 16931 and Peppol BIS mark it.

- Payee (BG-10): ``cac:PayeeParty`` with PartyIdentification/ID (BT-60), PartyName/Name (BT-59,
  mandatory when the payee is not the seller, BR-17) and PartyLegalEntity/CompanyID (BT-61).
- The factor's account in every ``cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID`` (BT-84); an
  invoice without payment means gets one for credit transfer (code 30).
- The factor's KID, when it makes one, as every PaymentID.
- The assignment notice in the document-level ``cbc:Note``: Peppol allows only one
  (PEPPOL-EN16931-R002), so the notice goes first and an existing note follows it.

Only invoices are sold: a credit note is refused.
"""

from __future__ import annotations

from lxml import etree

from accesspoint.xml.errors import XMLError
from accesspoint.xml.parser import parse_xml
from distribution.factoring.settings import Factor
from distribution.invoice import NS_CAC, NS_CBC, NS_INVOICE
from distribution.payments.kid import assign_kid

NS = {"cac": NS_CAC, "cbc": NS_CBC}
ORGNO_SCHEME = "0192"  # Norwegian organisation number in the ICD list
# Invoice children that come after cbc:Note, in UBL 2.1 order.
AFTER_NOTE = ("TaxPointDate", "DocumentCurrencyCode")
# Invoice children that come after cac:PayeeParty, in UBL 2.1 order.
AFTER_PAYEE = (
    "BuyerCustomerParty",
    "SellerSupplierParty",
    "TaxRepresentativeParty",
    "Delivery",
    "DeliveryTerms",
    "PaymentMeans",
    "PaymentTerms",
    "PrepaidPayment",
    "AllowanceCharge",
    "TaxExchangeRate",
    "PricingExchangeRate",
    "PaymentExchangeRate",
    "PaymentAlternativeExchangeRate",
    "TaxTotal",
    "WithholdingTaxTotal",
    "LegalMonetaryTotal",
    "InvoiceLine",
)
AFTER_MEANS = AFTER_PAYEE[AFTER_PAYEE.index("PaymentTerms") :]
# PaymentMeans children that come after cac:PayeeFinancialAccount.
AFTER_ACCOUNT = ("CreditAccount", "PaymentMandate", "TradeFinancing")


class AssignError(ValueError):
    """The document cannot be marked as sold (not a UBL invoice, or unreadable)."""


def _cbc(name: str, text: str) -> etree._Element:
    element = etree.Element(f"{{{NS_CBC}}}{name}", nsmap={"cbc": NS_CBC})
    element.text = text
    return element


def _cac(name: str, *children: etree._Element) -> etree._Element:
    element = etree.Element(f"{{{NS_CAC}}}{name}", nsmap={"cac": NS_CAC})
    element.extend(children)
    return element


def _insert_before(
    parent: etree._Element, element: etree._Element, followers: tuple[str, ...], ns: str
) -> None:
    """Put ``element`` before the first child named in ``followers`` (else last)."""
    wanted = {f"{{{ns}}}{name}" for name in followers}
    for index, child in enumerate(parent):
        if child.tag in wanted:
            parent.insert(index, element)
            element.tail = child.tail if index == 0 else parent[index - 1].tail if index > 0 else None
            return
    parent.append(element)


def _payee(factor: Factor) -> etree._Element:
    company = _cbc("CompanyID", factor.organisation_number)
    company.set("schemeID", ORGNO_SCHEME)
    identifier = _cbc("ID", factor.organisation_number)
    identifier.set("schemeID", ORGNO_SCHEME)
    return _cac(
        "PayeeParty",
        _cac("PartyIdentification", identifier),
        _cac("PartyName", _cbc("Name", factor.name)),
        _cac("PartyLegalEntity", company),
    )


def _set_note(root: etree._Element, notice: str) -> None:
    notes = root.findall("cbc:Note", NS)
    if notes:
        existing = "\n".join(note.text or "" for note in notes).strip()
        notes[0].text = f"{notice}\n{existing}" if existing and notice not in existing else notice
        for extra in notes[1:]:
            root.remove(extra)
        return
    _insert_before(root, _cbc("Note", notice), (*AFTER_NOTE, "TaxCurrencyCode"), NS_CBC)


def _set_account(means: etree._Element, factor: Factor) -> None:
    for old in means.findall("cac:PayeeFinancialAccount", NS):
        means.remove(old)
    account = _cac("PayeeFinancialAccount", _cbc("ID", factor.account), _cbc("Name", factor.name))
    _insert_before(means, account, AFTER_ACCOUNT, NS_CAC)


def assign_to_factor(document: bytes, factor: Factor, notice: str, kid: str | None = None) -> bytes:
    try:
        tree = parse_xml(document)
    except XMLError as exc:
        raise AssignError(f"the document is not readable XML: {exc}") from None
    root = tree.getroot()
    if root.tag != f"{{{NS_INVOICE}}}Invoice":
        raise AssignError("only an Invoice can be sold to a factor")
    _set_note(root, notice)
    for old in root.findall("cac:PayeeParty", NS):
        root.remove(old)
    _insert_before(root, _payee(factor), AFTER_PAYEE, NS_CAC)
    means = root.findall("cac:PaymentMeans", NS)
    if not means:
        created = _cac("PaymentMeans", _cbc("PaymentMeansCode", "30"))
        _insert_before(root, created, AFTER_MEANS, NS_CAC)
        means = [created]
    for element in means:
        _set_account(element, factor)
    result = etree.tostring(tree, xml_declaration=True, encoding=tree.docinfo.encoding or "UTF-8")
    assert isinstance(result, bytes)
    return assign_kid(result, kid) if kid else result
