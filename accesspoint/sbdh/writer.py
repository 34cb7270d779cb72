"""Domain layer: the Peppol facts of an envelope, and how they are written as an SBD.

:class:`EnvelopeData` is what senders and receivers work with (no element names, no wire quirks);
:func:`render` turns it plus a payload into bytes and :meth:`EnvelopeData.from_envelope` reads
it back from the wire model, so the two layers round-trip.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from accesspoint.sbdh.identifiers import (
    document_type_value,
    is_country_code,
    participant_value,
    process_value,
)
from accesspoint.sbdh.model import (
    DOCTYPE_SCHEME,
    HEADER_VERSION,
    MLS_TYPES,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    SBDH_NS,
    SCOPE_COUNTRY_C1,
    SCOPE_DOCUMENTID,
    SCOPE_MLS_TO,
    SCOPE_MLS_TYPE,
    SCOPE_PROCESSID,
    Envelope,
)
from accesspoint.sbdh.ubl import is_ubl, ubl_endpoints, ubl_facts, ubl_sender_country
from accesspoint.xml import DEFAULT_LIMITS, XMLLimits, parse_xml

Payload = bytes | etree._Element


@dataclass(frozen=True, slots=True)
class EnvelopeData:
    """The Peppol envelope as a sender means it: values without schemes, an aware datetime."""

    sender: str
    receiver: str
    document_type_id: str
    process_id: str
    country_c1: str
    instance_id: str
    created: datetime
    standard: str
    type: str
    type_version: str
    document_type_scheme: str = DOCTYPE_SCHEME
    process_scheme: str = PROCESS_SCHEME
    mls_to: str | None = None
    mls_type: str | None = None

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> EnvelopeData:
        """The domain view of a read envelope; raises ValueError when a required part is absent."""
        di = envelope.document_identification
        created = envelope.created
        fields = {
            "sender": envelope.sender.value if envelope.sender else None,
            "receiver": envelope.receiver.value if envelope.receiver else None,
            "document_type_id": envelope.document_type_id,
            "process_id": envelope.process_id,
            "country_c1": envelope.country_c1,
            "instance_id": di.instance_identifier if di else None,
            "standard": di.standard if di else None,
            "type": di.type if di else None,
            "type_version": di.type_version if di else None,
        }
        missing = sorted(name for name, value in fields.items() if not value)
        if missing or created is None or created.tzinfo is None:
            raise ValueError(f"envelope lacks {', '.join(missing) or 'a timezone-aware creation time'}")
        mls_to = envelope.scopes_of(SCOPE_MLS_TO)
        mls_type = envelope.scopes_of(SCOPE_MLS_TYPE)
        return cls(
            **{name: str(value) for name, value in fields.items()},
            created=created,
            document_type_scheme=envelope.document_type_scheme,
            process_scheme=envelope.process_scheme,
            mls_to=mls_to[0].instance_identifier if mls_to else None,
            mls_type=mls_type[0].instance_identifier if mls_type else None,
        )


def _xs_datetime(value: datetime) -> str:
    """xs:dateTime with an offset in whole minutes within ±14:00 (else normalised to UTC)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("created must be timezone-aware")
    offset = value.utcoffset() or timedelta(0)
    if offset.seconds % 60 or offset.microseconds or abs(offset) > timedelta(hours=14):
        value = value.astimezone(UTC)
        offset = timedelta(0)
    text = value.isoformat()
    return text[:-6] + "Z" if offset == timedelta(0) else text


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{SBDH_NS}}}{name}", attrib)
    if text is not None:
        element.text = text
    return element


def _scope(parent: etree._Element, scope_type: str, value: str, scheme: str | None) -> None:
    scope = _sub(parent, "Scope")
    _sub(scope, "Type", scope_type)
    _sub(scope, "InstanceIdentifier", value)
    if scheme is not None:
        _sub(scope, "Identifier", scheme)


def render(data: EnvelopeData, payload: etree._Element) -> bytes:
    """Write ``data`` and a copy of ``payload`` as a UTF-8 Standard Business Document."""
    root = etree.Element(f"{{{SBDH_NS}}}StandardBusinessDocument", nsmap={"sh": SBDH_NS})
    header = _sub(root, "StandardBusinessDocumentHeader")
    _sub(header, "HeaderVersion", HEADER_VERSION)
    _sub(_sub(header, "Sender"), "Identifier", data.sender, Authority=PARTICIPANT_SCHEME)
    _sub(_sub(header, "Receiver"), "Identifier", data.receiver, Authority=PARTICIPANT_SCHEME)
    di = _sub(header, "DocumentIdentification")
    _sub(di, "Standard", data.standard)
    _sub(di, "TypeVersion", data.type_version)
    _sub(di, "InstanceIdentifier", data.instance_id)
    _sub(di, "Type", data.type)
    _sub(di, "CreationDateAndTime", _xs_datetime(data.created))
    scopes = _sub(header, "BusinessScope")
    _scope(scopes, SCOPE_DOCUMENTID, data.document_type_id, data.document_type_scheme)
    _scope(scopes, SCOPE_PROCESSID, data.process_id, data.process_scheme)
    _scope(scopes, SCOPE_COUNTRY_C1, data.country_c1, None)
    if data.mls_to is not None:
        _scope(scopes, SCOPE_MLS_TO, data.mls_to, PARTICIPANT_SCHEME)
    if data.mls_type is not None:
        _scope(scopes, SCOPE_MLS_TYPE, data.mls_type, None)
    # A serialise/parse copy keeps every namespace in scope of the payload (a deepcopy drops
    # declarations that only QName-valued text uses) and never moves the caller's element.
    root.append(_standalone(payload))
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _standalone(payload: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(payload, with_tail=False))


def _payload_root(payload: Payload, limits: XMLLimits) -> etree._Element:
    if isinstance(payload, bytes | bytearray | memoryview):
        return parse_xml(bytes(payload), limits=limits).getroot()
    return payload


def build_envelope(
    payload: Payload,
    sender: str,
    receiver: str,
    document_type_id: str,
    process_id: str,
    country_c1: str,
    instance_id: str | None = None,
    created: datetime | None = None,
    *,
    mls_to: str | None = None,
    mls_type: str | None = None,
    standard: str | None = None,
    doc_type: str | None = None,
    limits: XMLLimits = DEFAULT_LIMITS,
) -> bytes:
    """A Peppol-conformant SBD around ``payload``; refuses ids the envelope rules would reject.

    Identifiers may carry their scheme (``iso6523-actorid-upis::0192:...``) or not. Standard and
    Type come from the payload root unless given (a BinaryContent/TextContent wrapper must name the
    wrapped document, e.g. ``urn:peppol:doctype:pdf+xml``); TypeVersion is the version that ends the
    document type id (UBL ``2.1``, CII ``D16B``...), which is what receivers check it against.
    """
    root = _payload_root(payload, limits)
    docid = document_type_value(document_type_id)
    if not is_country_code(country_c1):
        raise ValueError(f"COUNTRY_C1 {country_c1!r} is not a two-letter country code")
    if mls_type is not None and mls_type not in MLS_TYPES:
        raise ValueError(f"MLS_TYPE {mls_type!r} is not one of {', '.join(MLS_TYPES)}")
    if instance_id is not None and (not instance_id or instance_id != instance_id.strip()):
        raise ValueError(f"instance_id {instance_id!r} is empty or padded")
    qname = etree.QName(root)
    type_version = docid.rsplit("::", 1)[1] if "::" in docid else ubl_facts(root).version
    data = EnvelopeData(
        sender=participant_value(sender),
        receiver=participant_value(receiver),
        document_type_id=docid,
        process_id=process_value(process_id),
        country_c1=country_c1,
        instance_id=instance_id or str(uuid.uuid4()),
        created=created or datetime.now(UTC),
        standard=standard or qname.namespace or "",
        type=doc_type or qname.localname,
        type_version=type_version,
        mls_to=participant_value(mls_to) if mls_to is not None else None,
        mls_type=mls_type,
    )
    return render(data, root)


def envelope_for_ubl(
    ubl: Payload,
    country_c1: str | None = None,
    *,
    instance_id: str | None = None,
    created: datetime | None = None,
    limits: XMLLimits = DEFAULT_LIMITS,
) -> bytes:
    """Wrap a bare UBL document, taking ids, end points and (by default) the C1 country from it."""
    root = _payload_root(ubl, limits)
    if not is_ubl(root):
        raise ValueError(f"{root.tag} is not a UBL document")
    facts = ubl_facts(root)
    sender, receiver = ubl_endpoints(root)
    if sender is None or receiver is None:
        raise ValueError(f"{facts.local_name}: no sender/receiver cbc:EndpointID with a schemeID")
    if facts.profile_id is None:
        raise ValueError(f"{facts.local_name} has no cbc:ProfileID; cannot derive PROCESSID")
    country = country_c1 or ubl_sender_country(root)
    if country is None:
        raise ValueError("no COUNTRY_C1 given and the sending party has no postal country")
    return build_envelope(
        root,
        sender,
        receiver,
        facts.document_type_id,
        facts.profile_id,
        country,
        instance_id=instance_id,
        created=created,
        limits=limits,
    )
