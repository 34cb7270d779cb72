"""Peppol envelope rules (Business Message Envelope 2.0.1), plus the SBDH 1.3 XSD when given.

The XSD only checks structure; the Peppol rules (identifier schemes and syntax, one sender and one
receiver, the DOCUMENTID/PROCESSID/COUNTRY_C1 scopes, MLS scopes, agreement of Standard/Type/
TypeVersion with the payload) are checked here, one function per area, each yielding
:class:`EnvelopeProblem` objects. The rule profile is data (:class:`EnvelopeRules`), not branches
at call sites. Problem codes are listed in :mod:`accesspoint.sbdh`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import cast

from lxml import etree

from accesspoint.sbdh.identifiers import (
    DOCTYPE_VALUE_MAX,
    PROCESS_VALUE_MAX,
    is_country_code,
    participant_problem,
)
from accesspoint.sbdh.model import (
    DOCTYPE_SCHEME,
    DOCTYPE_WILDCARD_SCHEME,
    HEADER_VERSION,
    MLS_TYPES,
    NON_XML_PAYLOAD_NAMES,
    NON_XML_PAYLOAD_NS,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    SCOPE_COUNTRY_C1,
    SCOPE_DOCUMENTID,
    SCOPE_MLS_TO,
    SCOPE_MLS_TYPE,
    SCOPE_PROCESSID,
    Envelope,
    EnvelopeProblem,
    PartnerIdentification,
    Severity,
    parse_xs_datetime,
)
from accesspoint.sbdh.ubl import is_ubl, ubl_facts

_H = "/StandardBusinessDocument/StandardBusinessDocumentHeader"
_DI = f"{_H}/DocumentIdentification"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SCHEMA_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_VALIDATE_LOCK = threading.Lock()
MAX_XSD_PROBLEMS = 50

Problems = Iterator[EnvelopeProblem]
SchemaSource = etree.XMLSchema | str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class EnvelopeRules:
    """The rule profile. Defaults follow BME 2.0.1 as a receiving access point applies it.

    - ``require_country_c1``: COUNTRY_C1 is mandatory since BME 2.0 (in force 2024-01-01); False
      reports a missing one as a warning (for archives of older messages).
    - ``require_timezone``: xs:dateTime allows a local time; by default that is only a warning.
    - ``invalid_mls_to_fatal``: peppol-commons rejected a malformed MLS_TO until v11 and the test
      files still do; the MLS spec says to fall back to C2's SPID instead, so False downgrades it.
    """

    require_country_c1: bool = True
    require_timezone: bool = False
    invalid_mls_to_fatal: bool = True


PEPPOL_RULES = EnvelopeRules()


def _p(code: str, severity: Severity, message: str, location: str) -> EnvelopeProblem:
    return EnvelopeProblem(code=code, severity=severity, message=message, location=location)


@lru_cache(maxsize=8)
def _compiled(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, parser=_SCHEMA_PARSER))


def load_schema(xsd: SchemaSource) -> etree.XMLSchema:
    """A compiled SBDH schema from a path to StandardBusinessDocumentHeader.xsd (cached) or as is."""
    if isinstance(xsd, etree.XMLSchema):
        return xsd
    return _compiled(str(Path(xsd).resolve()))


def check_xsd(envelope: Envelope, xsd: SchemaSource) -> list[EnvelopeProblem]:
    """SBDH 1.3 schema errors (the payload is ``xs:any`` lax, so it is not validated here)."""
    schema = load_schema(xsd)
    with _VALIDATE_LOCK:  # one XMLSchema object is not safe to run from several threads at once
        valid = schema.validate(envelope.root)
        errors = list(cast("Iterable[etree._LogEntry]", schema.error_log))
    if valid:
        return []
    return [
        _p("SBDH-XSD", "fatal", error.message, error.path or f"line {error.line}")
        for error in errors[:MAX_XSD_PROBLEMS]
    ]


def _partners(kind: str, partners: tuple[PartnerIdentification, ...]) -> Problems:
    if len(partners) != 1:
        yield _p(
            f"SBDH-{kind.upper()}-COUNT",
            "fatal",
            f"the envelope has {len(partners)} {kind} elements; exactly one is required",
            f"{_H}/{kind}",
        )
    for index, partner in enumerate(partners, start=1):
        where = f"{_H}/{kind}[{index}]/Identifier"
        if partner.authority != PARTICIPANT_SCHEME:
            yield _p(
                "SBDH-AUTHORITY",
                "fatal",
                f"{kind} Authority is {partner.authority!r}; it must be {PARTICIPANT_SCHEME!r}",
                f"{where}/@Authority",
            )
        problem = participant_problem(partner.value)
        if problem:
            yield _p("SBDH-PARTICIPANT", "fatal", f"{kind} identifier {partner.value!r} {problem}", where)


def _document_identification(envelope: Envelope, rules: EnvelopeRules) -> Problems:
    di = envelope.document_identification
    if di is None:
        yield _p("SBDH-DOCUMENT-IDENTIFICATION", "fatal", "DocumentIdentification is missing", _DI)
        return
    if not di.instance_identifier:
        yield _p(
            "SBDH-INSTANCE-ID",
            "fatal",
            f"InstanceIdentifier {di.instance_identifier!r} is empty",
            f"{_DI}/InstanceIdentifier",
        )
    elif not _UUID.fullmatch(di.instance_identifier):
        yield _p(
            "SBDH-INSTANCE-ID-UUID",
            "warning",
            f"InstanceIdentifier {di.instance_identifier!r} is not a UUID; it must be unique per message",
            f"{_DI}/InstanceIdentifier",
        )
    created = parse_xs_datetime(di.creation_date_and_time)
    where = f"{_DI}/CreationDateAndTime"
    if created is None:
        yield _p(
            "SBDH-CREATION-DATE",
            "fatal",
            f"CreationDateAndTime {di.creation_date_and_time!r} is not an xs:dateTime",
            where,
        )
    elif created.tzinfo is None:
        yield _p(
            "SBDH-CREATION-DATE-TZ",
            "fatal" if rules.require_timezone else "warning",
            f"CreationDateAndTime {di.creation_date_and_time!r} has no timezone, so the instant is unknown",
            where,
        )


def _single_scope(envelope: Envelope, scope_type: str, code: str) -> Problems:
    found = envelope.scopes_of(scope_type)
    if not found:
        yield _p(code, "fatal", f"no BusinessScope/Scope with Type {scope_type}", f"{_H}/BusinessScope")
    elif len(found) > 1:
        yield _p(
            code,
            "fatal",
            f"{len(found)} scopes of Type {scope_type}; exactly one is allowed",
            f"{_H}/BusinessScope",
        )


def _scope_location(envelope: Envelope, scope_type: str, leaf: str = "InstanceIdentifier") -> str:
    index = next(i for i, s in enumerate(envelope.scopes, start=1) if s.type == scope_type)
    return f"{_H}/BusinessScope/Scope[{index}]/{leaf}"


def _identifier_scope(
    envelope: Envelope, scope_type: str, code: str, schemes: tuple[str, ...], limit: int
) -> Problems:
    yield from _single_scope(envelope, scope_type, code)
    found = envelope.scopes_of(scope_type)
    if not found:
        return
    value, scheme = found[0].instance_identifier, found[0].identifier
    where = _scope_location(envelope, scope_type)
    if not value or value != value.strip():
        yield _p(code, "fatal", f"{scope_type} value {value!r} is empty or padded with whitespace", where)
    elif len(value) > limit:
        yield _p(code, "fatal", f"{scope_type} value is {len(value)} characters; the limit is {limit}", where)
    if scheme is not None and scheme not in schemes:
        # Warning only: the BME lets the scheme vary and peppol-commons accepts e.g. "ptype".
        yield _p(
            f"{code}-SCHEME",
            "warning",
            f"{scope_type} scheme {scheme!r} is not a Peppol scheme ({', '.join(schemes)})",
            _scope_location(envelope, scope_type, "Identifier"),
        )


def _country(envelope: Envelope, rules: EnvelopeRules) -> Problems:
    found = envelope.scopes_of(SCOPE_COUNTRY_C1)
    if not found:
        yield _p(
            "SBDH-COUNTRY-C1",
            "fatal" if rules.require_country_c1 else "warning",
            "no COUNTRY_C1 scope; it is mandatory since BME 2.0 (2024-01-01)",
            f"{_H}/BusinessScope",
        )
        return
    yield from _single_scope(envelope, SCOPE_COUNTRY_C1, "SBDH-COUNTRY-C1")
    value = found[0].instance_identifier
    if not is_country_code(value):
        yield _p(
            "SBDH-COUNTRY-C1",
            "fatal",
            f"COUNTRY_C1 {value!r} is not a two-letter country code",
            _scope_location(envelope, SCOPE_COUNTRY_C1),
        )


def _mls(envelope: Envelope, rules: EnvelopeRules) -> Problems:
    severity: Severity = "fatal" if rules.invalid_mls_to_fatal else "warning"
    for index, scope in enumerate(envelope.scopes, start=1):
        where = f"{_H}/BusinessScope/Scope[{index}]/InstanceIdentifier"
        if scope.type == SCOPE_MLS_TO:
            if scope.identifier != PARTICIPANT_SCHEME:
                yield _p(
                    "SBDH-MLS-TO",
                    severity,
                    f"MLS_TO scheme (Identifier) is {scope.identifier!r}; it must be {PARTICIPANT_SCHEME!r}",
                    where,
                )
            problem = participant_problem(scope.instance_identifier)
            if problem:
                yield _p("SBDH-MLS-TO", severity, f"MLS_TO {scope.instance_identifier!r} {problem}", where)
        elif scope.type == SCOPE_MLS_TYPE and scope.instance_identifier not in MLS_TYPES:
            yield _p(
                "SBDH-MLS-TYPE",
                "fatal",
                f"MLS_TYPE {scope.instance_identifier!r} must be {' or '.join(MLS_TYPES)} (exact case)",
                where,
            )


def _business_scope(envelope: Envelope, rules: EnvelopeRules) -> Problems:
    if not envelope.business_scope_present:
        yield _p("SBDH-BUSINESS-SCOPE", "fatal", "BusinessScope is missing", f"{_H}/BusinessScope")
        return
    yield from _identifier_scope(
        envelope,
        SCOPE_DOCUMENTID,
        "SBDH-DOCUMENTID",
        (DOCTYPE_SCHEME, DOCTYPE_WILDCARD_SCHEME),
        DOCTYPE_VALUE_MAX,
    )
    yield from _identifier_scope(
        envelope, SCOPE_PROCESSID, "SBDH-PROCESSID", (PROCESS_SCHEME,), PROCESS_VALUE_MAX
    )
    yield from _country(envelope, rules)
    yield from _mls(envelope, rules)


def _payload(envelope: Envelope) -> Problems:
    if envelope.payload is None:
        yield _p("SBDH-PAYLOAD", "fatal", "no business message after the header", "/StandardBusinessDocument")
        return
    if envelope.payload_count > 1:
        yield _p(
            "SBDH-PAYLOAD",
            "fatal",
            f"{envelope.payload_count} elements after the header; exactly one is allowed",
            "/StandardBusinessDocument",
        )
    di = envelope.document_identification
    if di is None or not envelope.payload_is_xml:
        return  # BME: for BinaryContent/TextContent the header describes the wrapped document
    qname = etree.QName(envelope.payload)
    docid = envelope.document_type_id
    if di.standard != qname.namespace or (docid and not docid.startswith(di.standard or "")):
        yield _p(
            "SBDH-STANDARD",
            "fatal",
            f"Standard {di.standard!r} must equal the payload namespace {qname.namespace!r}"
            " and begin the DOCUMENTID",
            f"{_DI}/Standard",
        )
    if di.type != qname.localname:
        yield _p(
            "SBDH-TYPE",
            "fatal",
            f"Type {di.type!r} must equal the payload element name {qname.localname!r}",
            f"{_DI}/Type",
        )
    version = di.type_version
    if not version or ":" in version or (docid and not docid.endswith(f":{version}")):
        yield _p(
            "SBDH-TYPE-VERSION",
            "fatal",
            f"TypeVersion {version!r} must be the version that ends the DOCUMENTID {docid!r}",
            f"{_DI}/TypeVersion",
        )


def check_envelope(
    envelope: Envelope, *, xsd: SchemaSource | None = None, rules: EnvelopeRules = PEPPOL_RULES
) -> list[EnvelopeProblem]:
    """All envelope problems; the envelope is acceptable when none of them is fatal."""
    problems = check_xsd(envelope, xsd) if xsd is not None else []
    if not envelope.header_present:
        problems.append(
            _p(
                "SBDH-HEADER",
                "fatal",
                "StandardBusinessDocumentHeader is missing",
                "/StandardBusinessDocument",
            )
        )
        problems.extend(_payload(envelope))
        return problems
    if envelope.header_version != HEADER_VERSION:
        problems.append(
            _p(
                "SBDH-HEADER-VERSION",
                "fatal",
                f"HeaderVersion {envelope.header_version!r} must be {HEADER_VERSION!r}",
                f"{_H}/HeaderVersion",
            )
        )
    problems.extend(_partners("Sender", envelope.senders))
    problems.extend(_partners("Receiver", envelope.receivers))
    problems.extend(_document_identification(envelope, rules))
    problems.extend(_business_scope(envelope, rules))
    problems.extend(_payload(envelope))
    return problems


def check_payload_agreement(envelope: Envelope, payload_root: etree._Element) -> list[EnvelopeProblem]:
    """Does the header describe this payload? Full checks for UBL; see the module docs for others.

    UBL: DOCUMENTID must equal the id derived from the payload (case-sensitive), PROCESSID the
    ProfileID, Standard/Type the root namespace/name, TypeVersion the UBLVersionID (default 2.1).
    Other XML (e.g. CII): only Standard and Type, which the BME defines for every XML payload.
    Non-XML wrappers (BinaryContent/TextContent): nothing to compare, so no problems.
    """
    problems: list[EnvelopeProblem] = []
    for kind, partner in (("Sender", envelope.sender), ("Receiver", envelope.receiver)):
        problem = participant_problem(partner.value if partner else None)
        if problem:
            value = partner.value if partner else None
            problems.append(_p("SBDH-PARTICIPANT", "fatal", f"{kind} {value!r} {problem}", f"{_H}/{kind}[1]"))
    qname = etree.QName(payload_root)
    if qname.namespace == NON_XML_PAYLOAD_NS and qname.localname in NON_XML_PAYLOAD_NAMES:
        return problems
    di = envelope.document_identification
    standard, doc_type = (di.standard, di.type) if di else (None, None)
    if standard != qname.namespace:
        problems.append(
            _p(
                "SBDH-AGREE-STANDARD",
                "fatal",
                f"Standard {standard!r} differs from the payload namespace {qname.namespace!r}",
                f"{_DI}/Standard",
            )
        )
    if doc_type != qname.localname:
        problems.append(
            _p(
                "SBDH-AGREE-TYPE",
                "fatal",
                f"Type {doc_type!r} differs from the payload element {qname.localname!r}",
                f"{_DI}/Type",
            )
        )
    if is_ubl(payload_root):
        problems.extend(_ubl_agreement(envelope, payload_root))
    return problems


def _ubl_agreement(envelope: Envelope, payload_root: etree._Element) -> Problems:
    facts = ubl_facts(payload_root)
    di = envelope.document_identification
    type_version = di.type_version if di else None
    if type_version != facts.version:
        yield _p(
            "SBDH-AGREE-TYPE-VERSION",
            "fatal",
            f"TypeVersion {type_version!r} differs from the payload's UBL version {facts.version!r}",
            f"{_DI}/TypeVersion",
        )
    where = f"{_H}/BusinessScope/Scope"
    if facts.customization_id is None:
        yield _p("SBDH-AGREE-DOCUMENTID", "fatal", "the payload has no cbc:CustomizationID", where)
    elif envelope.document_type_id != facts.document_type_id:
        yield _p(
            "SBDH-AGREE-DOCUMENTID",
            "fatal",
            f"DOCUMENTID {envelope.document_type_id!r} differs from the payload's {facts.document_type_id!r}",
            where,
        )
    if facts.profile_id is None:
        yield _p("SBDH-AGREE-PROCESSID", "fatal", "the payload has no cbc:ProfileID", where)
    elif envelope.process_id != facts.profile_id:
        yield _p(
            "SBDH-AGREE-PROCESSID",
            "fatal",
            f"PROCESSID {envelope.process_id!r} differs from the payload ProfileID {facts.profile_id!r}",
            where,
        )
