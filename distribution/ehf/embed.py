"""Embed the rendered PDF and the attachments in the UBL as ``AdditionalDocumentReference`` (BG-24).

EN 16931 wants an ID (BT-122), the content base64 in ``EmbeddedDocumentBinaryObject`` with ``mimeCode``
and ``filename`` (BT-125); BR-CL-24 allows only the MIME codes below, so other attachments are left out
and named. New references go after the existing ones, or where UBL's element order puts the first.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from accesspoint.xml import parse_xml
from distribution.methods.base import AttachmentFile

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ALLOWED_MIME_CODES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
# The elements an AdditionalDocumentReference must come before, in Invoice and CreditNote order.
_FOLLOWERS = (
    "StatementDocumentReference",
    "OriginatorDocumentReference",
    "ProjectReference",
    "Signature",
    "AccountingSupplierParty",
)


@dataclass(frozen=True, slots=True)
class Embedded:
    document: bytes
    embedded: tuple[str, ...]
    skipped: tuple[str, ...]  # attachments whose MIME type Peppol does not allow


def _reference(identifier: str, description: str, item: AttachmentFile) -> etree._Element:
    reference = etree.Element(f"{{{CAC}}}AdditionalDocumentReference")
    etree.SubElement(reference, f"{{{CBC}}}ID").text = identifier
    etree.SubElement(reference, f"{{{CBC}}}DocumentDescription").text = description
    attachment = etree.SubElement(reference, f"{{{CAC}}}Attachment")
    binary = etree.SubElement(
        attachment,
        f"{{{CBC}}}EmbeddedDocumentBinaryObject",
        mimeCode=item.mime_type,
        filename=item.filename,
    )
    binary.text = base64.b64encode(item.content).decode()
    return reference


def embed(
    document: bytes, invoice_number: str | None, pdf: bytes | None, attachments: Sequence[AttachmentFile]
) -> Embedded:
    """The document with the PDF (first) and every allowed attachment embedded."""
    root = parse_xml(document).getroot()
    items: list[tuple[str, str, AttachmentFile]] = []
    if pdf is not None:
        name = f"{invoice_number or 'invoice'}.pdf"
        items.append((name, "Invoice as PDF", AttachmentFile(name, "application/pdf", pdf)))
    skipped: list[str] = []
    for item in attachments:
        if item.mime_type in ALLOWED_MIME_CODES:
            items.append((item.filename, item.filename, item))
        else:
            skipped.append(item.filename)
    existing = root.findall(f"{{{CAC}}}AdditionalDocumentReference")
    elements = [child for child in root if isinstance(child.tag, str)]  # not comments
    follower = next((child for child in elements if etree.QName(child).localname in _FOLLOWERS), None)
    if existing:
        anchor, before = existing[-1], False
    elif follower is not None:
        anchor, before = follower, True
    else:
        raise ValueError("not a UBL invoice: no AccountingSupplierParty")
    taken = {ref.findtext(f"{{{CBC}}}ID") for ref in existing}
    for identifier, description, item in items:
        unique, n = identifier, 1
        while unique in taken:
            n += 1
            unique = f"{identifier} ({n})"
        taken.add(unique)
        element = _reference(unique[:200], description, item)
        if before:
            anchor.addprevious(element)
        else:
            anchor.addnext(element)
            anchor = element
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Embedded(bytes(body), tuple(item.filename for _, _, item in items), tuple(skipped))
