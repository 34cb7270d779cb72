"""What the envelope needs to know about a UBL payload: its Peppol ids and its two end points.

Why: C1 usually hands us a bare UBL document. The document type id is
``{root namespace}::{root local name}##{CustomizationID}::{UBLVersionID or 2.1}`` and the process
id is the ProfileID, so both can be derived instead of being typed in (and mistyped).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from accesspoint.sbdh.model import direct_text

UBL_NS_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
DEFAULT_UBL_VERSION = "2.1"
_NS = {"cbc": CBC, "cac": CAC}

# Where sender (C1) and receiver (C4) electronic addresses sit, per UBL document type.
_PARTIES: dict[str, tuple[str, str]] = {
    "Invoice": ("cac:AccountingSupplierParty/cac:Party", "cac:AccountingCustomerParty/cac:Party"),
    "CreditNote": ("cac:AccountingSupplierParty/cac:Party", "cac:AccountingCustomerParty/cac:Party"),
    "ApplicationResponse": ("cac:SenderParty", "cac:ReceiverParty"),
    "Order": ("cac:BuyerCustomerParty/cac:Party", "cac:SellerSupplierParty/cac:Party"),
    "OrderResponse": ("cac:SellerSupplierParty/cac:Party", "cac:BuyerCustomerParty/cac:Party"),
}


def is_ubl(root: etree._Element) -> bool:
    """A UBL main document: its root lives in a ``...:xsd:<Name>-2`` namespace."""
    namespace = etree.QName(root).namespace or ""
    return namespace.startswith(UBL_NS_PREFIX) and namespace not in (CBC, CAC)


def _text(root: etree._Element, path: str) -> str | None:
    found = root.find(path, _NS)
    if found is None:
        return None
    return direct_text(found).strip()


@dataclass(frozen=True, slots=True)
class UblFacts:
    """The header-relevant facts of one UBL document (values whitespace-trimmed)."""

    namespace: str
    local_name: str
    customization_id: str | None
    profile_id: str | None
    ubl_version_id: str | None

    @property
    def version(self) -> str:
        """UBLVersionID, or 2.1 when absent (Peppol BIS 3 documents omit it)."""
        return self.ubl_version_id or DEFAULT_UBL_VERSION

    @property
    def document_type_id(self) -> str:
        """The busdox-docid-qns value; raises ValueError without a CustomizationID."""
        if not self.customization_id:
            raise ValueError(f"{self.local_name} has no cbc:CustomizationID; cannot derive DOCUMENTID")
        return f"{self.namespace}::{self.local_name}##{self.customization_id}::{self.version}"


def ubl_facts(root: etree._Element) -> UblFacts:
    qname = etree.QName(root)
    return UblFacts(
        namespace=qname.namespace or "",
        local_name=qname.localname,
        customization_id=_text(root, "cbc:CustomizationID") or None,
        profile_id=_text(root, "cbc:ProfileID") or None,
        ubl_version_id=_text(root, "cbc:UBLVersionID") or None,
    )


def _endpoint(root: etree._Element, party_path: str) -> str | None:
    found = root.find(f"{party_path}/cbc:EndpointID", _NS)
    if found is None:
        return None
    value = (found.text or "").strip()
    scheme = (found.get("schemeID") or "").strip()
    return f"{scheme}:{value}" if scheme and value else None


def ubl_endpoints(root: etree._Element) -> tuple[str | None, str | None]:
    """(sender, receiver) as ``schemeID:value`` from the parties' cbc:EndpointID, when present."""
    paths = _PARTIES.get(etree.QName(root).localname)
    if paths is None:
        return None, None
    return _endpoint(root, paths[0]), _endpoint(root, paths[1])


def ubl_sender_country(root: etree._Element) -> str | None:
    """The sending party's postal country: the usual source of COUNTRY_C1."""
    paths = _PARTIES.get(etree.QName(root).localname)
    if paths is None:
        return None
    return _text(root, f"{paths[0]}/cac:PostalAddress/cac:Country/cbc:IdentificationCode") or None
