"""Wire model of the Peppol Business Message Envelope (UN/CEFACT SBDH 1.3 as Peppol profiles it).

Every field keeps the exact wire string so problems can quote what was sent: ``None`` means the
element or attribute is absent, ``""`` that it is present but empty. Nothing here judges validity;
that is :mod:`accesspoint.sbdh.rules`' job, so a broken envelope can still be read and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from lxml import etree

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
SBD_TAG = f"{{{SBDH_NS}}}StandardBusinessDocument"
SBDH_TAG = f"{{{SBDH_NS}}}StandardBusinessDocumentHeader"

HEADER_VERSION = "1.0"
PARTICIPANT_SCHEME = "iso6523-actorid-upis"
DOCTYPE_SCHEME = "busdox-docid-qns"
DOCTYPE_WILDCARD_SCHEME = "peppol-doctype-wildcard"
PROCESS_SCHEME = "cenbii-procid-ubl"

SCOPE_DOCUMENTID = "DOCUMENTID"
SCOPE_PROCESSID = "PROCESSID"
SCOPE_COUNTRY_C1 = "COUNTRY_C1"
SCOPE_MLS_TO = "MLS_TO"
SCOPE_MLS_TYPE = "MLS_TYPE"
MLS_TYPES = ("ALWAYS_SEND", "FAILURE_ONLY")

# Non-XML payloads (BME 1.2+): base64 or text wrapped in one of these elements.
NON_XML_PAYLOAD_NS = "http://peppol.eu/xsd/ticc/envelope/1.0"
NON_XML_PAYLOAD_NAMES = ("BinaryContent", "TextContent")

Severity = Literal["fatal", "warning"]


class EnvelopeReadError(ValueError):
    """Well-formed XML that is not a Standard Business Document at all (or has nothing to unwrap)."""

    code = "SBDH-NOT-SBD"


@dataclass(frozen=True, slots=True)
class EnvelopeProblem:
    """One broken envelope rule: a stable ``code``, a message quoting the value, and where it is."""

    code: str
    severity: Severity
    message: str
    location: str

    @property
    def is_fatal(self) -> bool:
        return self.severity == "fatal"


def has_fatal(problems: list[EnvelopeProblem]) -> bool:
    """True when the envelope must be rejected (no fatal problem means valid)."""
    return any(problem.is_fatal for problem in problems)


@dataclass(frozen=True, slots=True)
class PartnerIdentification:
    """``Sender/Identifier`` or ``Receiver/Identifier``: text and ``@Authority`` as sent."""

    value: str | None
    authority: str | None


@dataclass(frozen=True, slots=True)
class DocumentIdentification:
    """``DocumentIdentification`` as sent; ``multiple_type`` is rarely present."""

    standard: str | None
    type_version: str | None
    instance_identifier: str | None
    type: str | None
    creation_date_and_time: str | None
    multiple_type: str | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """One ``BusinessScope/Scope``; ``identifier`` carries the identifier scheme for Peppol scopes."""

    type: str | None
    instance_identifier: str | None
    identifier: str | None


@dataclass(frozen=True)
class Envelope:
    """A Standard Business Document as read. ``root`` and ``payload`` are the live lxml elements."""

    root: etree._Element = field(compare=False, repr=False)
    header_present: bool
    header_version: str | None
    senders: tuple[PartnerIdentification, ...]
    receivers: tuple[PartnerIdentification, ...]
    document_identification: DocumentIdentification | None
    business_scope_present: bool
    scopes: tuple[Scope, ...]
    payload: etree._Element | None = field(compare=False, repr=False)
    payload_count: int = 0

    @property
    def sender(self) -> PartnerIdentification | None:
        return self.senders[0] if self.senders else None

    @property
    def receiver(self) -> PartnerIdentification | None:
        return self.receivers[0] if self.receivers else None

    def scopes_of(self, scope_type: str) -> tuple[Scope, ...]:
        """All scopes of one type (Peppol scope types are case-sensitive)."""
        return tuple(scope for scope in self.scopes if scope.type == scope_type)

    def _first_value(self, scope_type: str) -> str | None:
        found = self.scopes_of(scope_type)
        return found[0].instance_identifier if found else None

    @property
    def document_type_id(self) -> str | None:
        return self._first_value(SCOPE_DOCUMENTID)

    @property
    def document_type_scheme(self) -> str:
        """The DOCUMENTID scheme; BME 1.1 made it explicit, so absence means the default."""
        found = self.scopes_of(SCOPE_DOCUMENTID)
        return (found[0].identifier if found else None) or DOCTYPE_SCHEME

    @property
    def process_id(self) -> str | None:
        return self._first_value(SCOPE_PROCESSID)

    @property
    def process_scheme(self) -> str:
        found = self.scopes_of(SCOPE_PROCESSID)
        return (found[0].identifier if found else None) or PROCESS_SCHEME

    @property
    def country_c1(self) -> str | None:
        return self._first_value(SCOPE_COUNTRY_C1)

    @property
    def created(self) -> datetime | None:
        """CreationDateAndTime parsed (None when missing or not an xs:dateTime)."""
        di = self.document_identification
        return parse_xs_datetime(di.creation_date_and_time) if di else None

    @property
    def payload_is_xml(self) -> bool:
        """False for the BME non-XML wrappers (BinaryContent/TextContent), whose tag says nothing."""
        if self.payload is None:
            return False
        qname = etree.QName(self.payload)
        return not (qname.namespace == NON_XML_PAYLOAD_NS and qname.localname in NON_XML_PAYLOAD_NAMES)


def direct_text(element: etree._Element) -> str:
    """The text nodes directly inside ``element``: a comment in a value is not part of the value."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


_XS_DATETIME = re.compile(
    r"(?P<y>-?\d{4,})-(?P<mo>\d{2})-(?P<d>\d{2})T(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<f>\d+))?(?P<tz>Z|[+-]\d{2}:\d{2})?"
)


def parse_xs_datetime(text: str | None) -> datetime | None:
    """An ``xs:dateTime`` (whitespace collapsed) as a datetime; naive when it has no timezone."""
    if text is None:
        return None
    match = _XS_DATETIME.fullmatch(text.strip())
    if match is None:
        return None
    tz: timezone | None = None
    offset = match["tz"]
    if offset == "Z":
        tz = UTC
    elif offset:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if minutes > 59 or hours * 60 + minutes > 14 * 60:
            return None
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micro = int((match["f"] or "0")[:6].ljust(6, "0"))
    hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"])
    end_of_day = hour == 24 and minute == 0 and second == 0 and micro == 0
    try:
        value = datetime(
            int(match["y"]),
            int(match["mo"]),
            int(match["d"]),
            0 if end_of_day else hour,
            minute,
            second,
            micro,
            tzinfo=tz,
        )
    except ValueError:
        return None
    return value + timedelta(days=1) if end_of_day else value
