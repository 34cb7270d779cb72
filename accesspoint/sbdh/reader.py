"""Read a Standard Business Document into the wire model, and unwrap its payload.

The reader is faithful and lenient: it records what is there (including duplicates and empty
values) and leaves judgement to :mod:`accesspoint.sbdh.rules`. It only refuses input that is not
XML (``XMLError`` from the hardened parser) or whose root is not ``StandardBusinessDocument``.
"""

from __future__ import annotations

from lxml import etree

from accesspoint.sbdh.model import (
    SBD_TAG,
    SBDH_NS,
    SBDH_TAG,
    DocumentIdentification,
    Envelope,
    EnvelopeReadError,
    PartnerIdentification,
    Scope,
    direct_text,
)
from accesspoint.xml import DEFAULT_LIMITS, XMLLimits, parse_xml

Source = bytes | etree._Element | etree._ElementTree


def _q(name: str) -> str:
    return f"{{{SBDH_NS}}}{name}"


def _child_text(parent: etree._Element, name: str) -> str | None:
    child = parent.find(_q(name))
    return None if child is None else direct_text(child)


def _partner(element: etree._Element) -> PartnerIdentification:
    identifier = element.find(_q("Identifier"))
    if identifier is None:
        return PartnerIdentification(value=None, authority=None)
    return PartnerIdentification(value=direct_text(identifier), authority=identifier.get("Authority"))


def _document_identification(header: etree._Element) -> DocumentIdentification | None:
    di = header.find(_q("DocumentIdentification"))
    if di is None:
        return None
    return DocumentIdentification(
        standard=_child_text(di, "Standard"),
        type_version=_child_text(di, "TypeVersion"),
        instance_identifier=_child_text(di, "InstanceIdentifier"),
        type=_child_text(di, "Type"),
        creation_date_and_time=_child_text(di, "CreationDateAndTime"),
        multiple_type=_child_text(di, "MultipleType"),
    )


def _scopes(header: etree._Element) -> tuple[bool, tuple[Scope, ...]]:
    business_scope = header.find(_q("BusinessScope"))
    if business_scope is None:
        return False, ()
    scopes = tuple(
        Scope(
            type=_child_text(scope, "Type"),
            instance_identifier=_child_text(scope, "InstanceIdentifier"),
            identifier=_child_text(scope, "Identifier"),
        )
        for scope in business_scope.iterfind(_q("Scope"))
    )
    return True, scopes


def _root_of(source: Source, limits: XMLLimits) -> etree._Element:
    if isinstance(source, bytes | bytearray | memoryview):
        return parse_xml(bytes(source), limits=limits).getroot()
    if isinstance(source, etree._ElementTree):
        return source.getroot()
    return source


def read_envelope(source: Source, *, limits: XMLLimits = DEFAULT_LIMITS) -> Envelope:
    """Parse an SBD (untrusted bytes, or an already parsed tree) into an :class:`Envelope`."""
    root = _root_of(source, limits)
    if root.tag != SBD_TAG:
        raise EnvelopeReadError(f"root element is {root.tag}, not {SBD_TAG}")
    children = [child for child in root if isinstance(child.tag, str)]
    header = children[0] if children and children[0].tag == SBDH_TAG else None
    payloads = children[1:] if header is not None else children
    if header is None:
        return Envelope(
            root=root,
            header_present=False,
            header_version=None,
            senders=(),
            receivers=(),
            document_identification=None,
            business_scope_present=False,
            scopes=(),
            payload=payloads[0] if payloads else None,
            payload_count=len(payloads),
        )
    business_scope_present, scopes = _scopes(header)
    return Envelope(
        root=root,
        header_present=True,
        header_version=_child_text(header, "HeaderVersion"),
        senders=tuple(_partner(e) for e in header.iterfind(_q("Sender"))),
        receivers=tuple(_partner(e) for e in header.iterfind(_q("Receiver"))),
        document_identification=_document_identification(header),
        business_scope_present=business_scope_present,
        scopes=scopes,
        payload=payloads[0] if payloads else None,
        payload_count=len(payloads),
    )


def payload_bytes(payload: etree._Element) -> bytes:
    """The payload as a standalone UTF-8 document.

    lxml serialises a sub-element with every namespace in scope (also those declared on the SBD
    root), so prefixes used only inside attribute values or text (QNames) keep resolving.
    """
    return etree.tostring(payload, encoding="UTF-8", xml_declaration=True, with_tail=False)


def unwrap(data: bytes, *, limits: XMLLimits = DEFAULT_LIMITS) -> tuple[Envelope, bytes]:
    """Read an SBD and return it with its payload serialised for validation and delivery."""
    envelope = read_envelope(data, limits=limits)
    if envelope.payload is None:
        raise EnvelopeReadError("the Standard Business Document carries no payload element")
    return envelope, payload_bytes(envelope.payload)
