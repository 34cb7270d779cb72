"""Identify a business document: root element, specification ids, and which profile applies."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
UBL_MAINDOC = "urn:oasis:names:specification:ubl:schema:xsd:{}-2"


@dataclass(frozen=True, slots=True)
class Identity:
    namespace: str | None
    local_name: str
    customization_id: str | None
    profile_id: str | None
    ubl_version: str | None

    @property
    def is_ubl(self) -> bool:
        return self.namespace == UBL_MAINDOC.format(self.local_name)


def _child_text(root: etree._Element, local: str) -> str | None:
    element = root.find(f"{{{CBC}}}{local}")
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def identify(root: etree._Element) -> Identity:
    """Read the identifying fields of a (possibly non-UBL) document root."""
    qname = etree.QName(root)
    return Identity(
        namespace=qname.namespace,
        local_name=qname.localname,
        customization_id=_child_text(root, "CustomizationID"),
        profile_id=_child_text(root, "ProfileID"),
        ubl_version=_child_text(root, "UBLVersionID"),
    )
