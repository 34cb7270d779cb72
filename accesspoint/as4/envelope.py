"""SOAP 1.2 envelope and ebMS header: strict structural reading, and element builders.

Reading finds each element by its exact position (Envelope/Header/eb:Messaging, Envelope/Body) and
requires exactly one. The signature check later proves that *these* element objects were signed,
which is what defeats signature wrapping: nothing is searched for again by name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from types import MappingProxyType

from lxml import etree

from accesspoint.as4 import constants as c
from accesspoint.as4.errors import INVALID_HEADER, EbmsError
from accesspoint.as4.model import PartInfo, PartyId, Property, UserMessageHeader
from accesspoint.xml import XMLError, XMLLimits, parse_xml

Element = etree._Element
_MUST_UNDERSTAND = f"{{{c.SOAP12}}}mustUnderstand"
_UNDERSTOOD_HEADERS = (f"{{{c.WSSE}}}Security", f"{{{c.EB}}}Messaging")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,12}))?(Z|[+-]\d{2}:\d{2})?")
_MAX_VALUE_CHARS = 4096


def eb(local: str) -> str:
    return f"{{{c.EB}}}{local}"


def soap(local: str) -> str:
    return f"{{{c.SOAP12}}}{local}"


def invalid(text: str, reason: str = "header") -> EbmsError:
    return EbmsError(INVALID_HEADER, text, reason=reason)


def children(element: Element, tag: str | None = None) -> list[Element]:
    """Element children (no comments or PIs), optionally only those with ``tag``."""
    return list(element.iterchildren(tag if tag is not None else etree.Element))


def one(parent: Element, tag: str, what: str) -> Element:
    found = children(parent, tag)
    if len(found) != 1:
        raise invalid(f"expected exactly one {what}, found {len(found)}")
    return found[0]


def optional(parent: Element, tag: str, what: str) -> Element | None:
    found = children(parent, tag)
    if len(found) > 1:
        raise invalid(f"{what} appears {len(found)} times")
    return found[0] if found else None


def value(element: Element, what: str, *, allow_empty: bool = False) -> str:
    """The text of a simple-content element, trimmed; child elements are refused."""
    if len(element):  # any child node (element, comment or PI) breaks a simple value
        raise invalid(f"{what} must hold text only")
    text = (element.text or "").strip()
    if not text and not allow_empty:
        raise invalid(f"{what} is empty")
    if len(text) > _MAX_VALUE_CHARS:
        raise invalid(f"{what} is too long")
    return text


def parse_timestamp(text: str) -> dt.datetime:
    """xsd:dateTime -> aware UTC datetime; a missing zone is taken as UTC (some peers omit it)."""
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise invalid(f"timestamp {text[:40]!r} is not an xsd:dateTime")
    base, fraction, zone = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    zone = "+00:00" if zone in (None, "Z") else zone
    try:
        return dt.datetime.fromisoformat(f"{base}.{micro}{zone}").astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise invalid(f"timestamp {text[:40]!r} is out of range") from None


def format_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Envelope:
    """The structural elements of a received SOAP 1.2 message."""

    root: Element
    header: Element
    body: Element
    messaging: Element
    security: Element | None


def parse_envelope(data: bytes, max_bytes: int) -> Envelope:
    """Parse and check SOAP 1.2 structure with exactly one eb:Messaging header (EBMS:0009)."""
    try:
        tree = parse_xml(data, limits=XMLLimits(max_bytes=max_bytes))
    except XMLError as exc:
        raise invalid(f"SOAP part is not acceptable XML: {exc.message}", "xml") from None
    root = tree.getroot()
    if root.tag == f"{{{c.SOAP11}}}Envelope":
        raise invalid("SOAP 1.1 is not supported; AS4 uses SOAP 1.2", "soap-version")
    if root.tag != soap("Envelope"):
        raise invalid("the root element is not a SOAP 1.2 Envelope", "soap")
    parts = children(root)
    if [p.tag for p in parts] != [soap("Header"), soap("Body")]:
        raise invalid("the Envelope must hold exactly a Header and a Body", "soap")
    header, body = parts
    for block in children(header):
        understood = block.tag in _UNDERSTOOD_HEADERS
        if not understood and block.get(_MUST_UNDERSTAND) in ("true", "1"):
            raise invalid(f"header block {block.tag} must be understood but is not supported", "soap")
    messaging = one(header, eb("Messaging"), "eb:Messaging header")
    security = optional(header, f"{{{c.WSSE}}}Security", "wsse:Security header")
    return Envelope(root, header, body, messaging, security)


def _party(parent: Element, tag: str, what: str) -> tuple[PartyId, str]:
    holder = one(parent, eb(tag), f"eb:{tag}")
    ids = children(holder, eb("PartyId"))
    if len(ids) != 1:
        raise invalid(f"{what} must have exactly one PartyId, found {len(ids)}")
    party = PartyId(value(ids[0], f"{what} PartyId"), ids[0].get("type"))
    role = value(one(holder, eb("Role"), f"{what} Role"), f"{what} Role")
    return party, role


def _properties(holder: Element | None, what: str) -> tuple[Property, ...]:
    if holder is None:
        return ()
    props = []
    for prop in children(holder):
        if prop.tag != eb("Property") or prop.get("name") is None:
            raise invalid(f"{what} holds an invalid property")
        props.append(
            Property(prop.get("name", ""), value(prop, f"property {prop.get('name')}"), prop.get("type"))
        )
    names = [p.name for p in props]
    if len(set(names)) != len(names):
        raise invalid(f"{what} repeats a property name")
    return tuple(props)


def _parts(user: Element) -> tuple[PartInfo, ...]:
    payload_info = optional(user, eb("PayloadInfo"), "eb:PayloadInfo")
    if payload_info is None:
        return ()
    result = []
    for part in children(payload_info):
        if part.tag != eb("PartInfo"):
            raise invalid("eb:PayloadInfo holds something other than eb:PartInfo")
        href = part.get("href") or None
        props = _properties(optional(part, eb("PartProperties"), "eb:PartProperties"), "eb:PartProperties")
        result.append(PartInfo(href, MappingProxyType({p.name: p.value for p in props})))
    hrefs = [p.href for p in result]
    if len(set(hrefs)) != len(hrefs):
        raise invalid("two eb:PartInfo elements name the same part")
    return tuple(result)


def message_info(holder: Element) -> tuple[str, dt.datetime | None, str | None]:
    """MessageId, Timestamp and RefToMessageId of an eb:MessageInfo."""
    info = one(holder, eb("MessageInfo"), "eb:MessageInfo")
    message_id = value(one(info, eb("MessageId"), "eb:MessageId"), "eb:MessageId")
    stamp_el = optional(info, eb("Timestamp"), "eb:Timestamp")
    stamp = parse_timestamp(value(stamp_el, "eb:Timestamp")) if stamp_el is not None else None
    ref_el = optional(info, eb("RefToMessageId"), "eb:RefToMessageId")
    ref = None
    if ref_el is not None:
        ref = value(ref_el, "eb:RefToMessageId", allow_empty=True) or None
    return message_id, stamp, ref


def unverified_message_id(messaging: Element) -> str | None:
    """Best-effort MessageId for refToMessageInError; never used for anything but error reports."""
    for element in messaging.iter(eb("MessageId")):
        text = (element.text or "").strip()
        return text[:_MAX_VALUE_CHARS] or None
    return None


def parse_user_message(messaging: Element) -> tuple[Element, UserMessageHeader]:
    """Exactly one eb:UserMessage (no bundled signals) -> its element and header values."""
    users = children(messaging, eb("UserMessage"))
    others = [ch for ch in children(messaging) if ch.tag != eb("UserMessage")]
    if len(users) != 1:
        raise invalid(
            f"eb:Messaging must hold exactly one eb:UserMessage, found {len(users)}", "user-message"
        )
    if others:
        raise invalid("eb:Messaging holds other elements beside the eb:UserMessage", "user-message")
    user = users[0]
    message_id, stamp, ref = message_info(user)
    if stamp is None:
        raise invalid("eb:Timestamp is missing")
    party_info = one(user, eb("PartyInfo"), "eb:PartyInfo")
    from_party, from_role = _party(party_info, "From", "From")
    to_party, to_role = _party(party_info, "To", "To")
    collab = one(user, eb("CollaborationInfo"), "eb:CollaborationInfo")
    agreement = optional(collab, eb("AgreementRef"), "eb:AgreementRef")
    service = one(collab, eb("Service"), "eb:Service")
    header = UserMessageHeader(
        message_id=message_id,
        timestamp=stamp,
        from_party=from_party,
        from_role=from_role,
        to_party=to_party,
        to_role=to_role,
        service=value(service, "eb:Service"),
        service_type=service.get("type"),
        action=value(one(collab, eb("Action"), "eb:Action"), "eb:Action"),
        conversation_id=value(one(collab, eb("ConversationId"), "eb:ConversationId"), "eb:ConversationId"),
        agreement=value(agreement, "eb:AgreementRef") if agreement is not None else None,
        agreement_type=agreement.get("type") if agreement is not None else None,
        mpc=user.get("mpc"),
        ref_to_message_id=ref,
        properties=_properties(optional(user, eb("MessageProperties"), "eb:MessageProperties"), "properties"),
        parts=_parts(user),
    )
    return user, header


# -- building ----------------------------------------------------------------------------------------


def new_envelope() -> tuple[Element, Element, Element]:
    """An empty SOAP 1.2 Envelope; returns (envelope, header, body)."""
    root = etree.Element(soap("Envelope"), nsmap={"S12": c.SOAP12})
    header = etree.SubElement(root, soap("Header"))
    body = etree.SubElement(root, soap("Body"), nsmap={"wsu": c.WSU})
    return root, header, body


def new_messaging(header: Element, messaging_id: str) -> Element:
    nsmap = {"eb": c.EB, "wsu": c.WSU}
    messaging = etree.SubElement(header, eb("Messaging"), nsmap=nsmap)
    messaging.set(_MUST_UNDERSTAND, "true")
    messaging.set(c.WSU_ID, messaging_id)
    return messaging


def new_security(header: Element) -> Element:
    nsmap = {"wsse": c.WSSE, "wsu": c.WSU}
    security = etree.Element(f"{{{c.WSSE}}}Security", nsmap=nsmap)
    security.set(_MUST_UNDERSTAND, "true")
    header.insert(0, security)
    return security


def text_child(parent: Element, tag: str, text: str, **attrs: str) -> Element:
    element = etree.SubElement(parent, tag, attrib=attrs)
    element.text = text
    return element


def add_message_info(parent: Element, message_id: str, moment: dt.datetime, ref: str | None = None) -> None:
    info = etree.SubElement(parent, eb("MessageInfo"))
    text_child(info, eb("Timestamp"), format_timestamp(moment))
    text_child(info, eb("MessageId"), message_id)
    if ref:
        text_child(info, eb("RefToMessageId"), ref)


def serialize(root: Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
