"""Peppol identifiers: ``scheme::value`` for participants, document types and processes.

Case rules (Peppol Policy for use of Identifiers 4.4, POLICY 2): participant values compare
case-insensitively, document type and process values case-sensitively. Participants are therefore
normalised to lower case when parsed: ``str(participant(x))`` is the key other modules store and compare,
and lower case is also what the SML hashes. Document type and process values are kept exactly as given.
Schemes are defined in lower case and are normalised to it. A bare value takes the default scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from accesspoint.peppol import icd
from accesspoint.peppol.icd import Icd

PARTICIPANT_SCHEME = "iso6523-actorid-upis"
DOCUMENT_SCHEME = "busdox-docid-qns"
WILDCARD_DOCUMENT_SCHEME = "peppol-doctype-wildcard"
DOCUMENT_SCHEMES = frozenset({DOCUMENT_SCHEME, WILDCARD_DOCUMENT_SCHEME})
PROCESS_SCHEME = "cenbii-procid-ubl"

# PFUOI 4.4: a participant value is an ICD (4 digits), ':' and the identifier, at most 4+1+130 characters.
PARTICIPANT_VALUE_MAX = 135
DOCUMENT_TYPE_VALUE_MAX = 500
PROCESS_VALUE_MAX = 200
SCHEME_MAX = 25

# PFUOI 4.2+: in peppol-doctype-wildcard, a trailing '*' on the customization id means "this one and
# every specialisation of it", a specialisation adding '@'-separated parts (billing-1 -> billing-1@jp-1).
WILDCARD = "*"
SPECIALISATION_SEPARATOR = "@"

_SCHEME = re.compile(r"^[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$", re.IGNORECASE)
_ISO6523_VALUE = re.compile(r"[0-9]{4}:\S(?:.*\S)?", re.DOTALL)


class IdentifierError(ValueError):
    """A malformed identifier; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Identifier:
    scheme: str
    value: str

    def __str__(self) -> str:
        return f"{self.scheme}::{self.value}"


def _split(text: str, default_scheme: str, kind: str, *, bare_has_separator: bool = False) -> Identifier:
    """Scheme and value; with ``bare_has_separator`` a text whose head is no scheme is a bare value
    (document type values contain ``::`` themselves)."""
    text = text.strip()
    if not text:
        raise IdentifierError(f"empty {kind} identifier")
    scheme, sep, value = text.partition("::")
    if not sep or (bare_has_separator and not _SCHEME.match(scheme)):
        scheme, value = default_scheme, text
    if not _SCHEME.match(scheme) or len(scheme) > SCHEME_MAX:
        raise IdentifierError(
            f"{kind} identifier {text!r}: scheme {scheme!r} is not a Peppol identifier scheme"
        )
    if not value:
        raise IdentifierError(f"{kind} identifier {text!r} has no value")
    return Identifier(scheme, value)


def _encodable(value: str, charset: str) -> bool:
    try:
        value.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


# --- participants -----------------------------------------------------------------------------------


def participant_value_problem(value: str | None) -> str | None:
    """Why ``value`` is not an ``iso6523-actorid-upis`` participant value, or None when it is."""
    if not value:
        return "is empty"
    if len(value) > PARTICIPANT_VALUE_MAX:
        return f"is {len(value)} characters long; the limit is {PARTICIPANT_VALUE_MAX}"
    if not _ISO6523_VALUE.fullmatch(value):
        return "must be an ICD of 4 digits, a colon and the identifier (e.g. 0192:123456785)"
    return None


def participant(text: str) -> Identifier:
    """A participant id (``0192:810418052`` or ``iso6523-actorid-upis::0192:810418052``), lower-cased.

    Syntax only; :func:`check_participant` adds the code list and check digit tests.
    """
    ident = _split(text, PARTICIPANT_SCHEME, "participant")
    scheme, value = ident.scheme.lower(), ident.value.lower()
    if scheme == PARTICIPANT_SCHEME and not _ISO6523_VALUE.match(value):
        raise IdentifierError(
            f"participant identifier {text!r}: the value must be NNNN:id (an ISO 6523 ICD and id)"
        )
    if len(value) > PARTICIPANT_VALUE_MAX:
        raise IdentifierError(
            f"participant identifier {text!r}: the value is longer than {PARTICIPANT_VALUE_MAX} characters"
        )
    if not value.isascii():
        raise IdentifierError(f"participant identifier {text!r}: the value must be US-ASCII")
    return Identifier(scheme, value)


@dataclass(frozen=True, slots=True)
class ParticipantCheck:
    """A participant id that passed the ICD checks, with what is still worth telling the user."""

    identifier: Identifier
    icd: Icd
    warnings: tuple[str, ...] = ()

    @property
    def deprecated(self) -> bool:
        return self.icd.deprecated


def check_participant(ident: Identifier | str) -> ParticipantCheck:
    """The participant id checked against the ICD code list and the ICD's check digit rule.

    Raises :class:`IdentifierError` saying exactly what is wrong (``0192:123456789: check digit should
    be 5``); a deprecated or removed ICD passes with a warning.
    """
    parsed = ident if isinstance(ident, Identifier) else participant(ident)
    if parsed.scheme != PARTICIPANT_SCHEME:
        raise IdentifierError(f"{parsed}: the participant scheme must be {PARTICIPANT_SCHEME}")
    problem = participant_value_problem(parsed.value)
    if problem:
        raise IdentifierError(f"{parsed.value}: {problem}")
    code, _, number = parsed.value.partition(":")
    entry = icd.find(code)
    if entry is None:
        raise IdentifierError(
            f"{parsed.value}: ICD {code} is not in the Peppol participant identifier code list "
            f"v{icd.CODE_LIST_VERSION}"
        )
    problem = icd.value_problem(code, number)
    if problem:
        raise IdentifierError(f"{parsed.value}: {problem}")
    warning = entry.warning()
    return ParticipantCheck(parsed, entry, (warning,) if warning else ())


def same_participant(a: Identifier | str, b: Identifier | str) -> bool:
    """Participant ids are equal regardless of case (POLICY 2)."""
    left = a if isinstance(a, Identifier) else participant(a)
    right = b if isinstance(b, Identifier) else participant(b)
    return (left.scheme.lower(), left.value.lower()) == (right.scheme.lower(), right.value.lower())


# --- document types ---------------------------------------------------------------------------------


def document_type(text: str) -> Identifier:
    """A document type id; the value is case-sensitive and kept as given.

    A bare value (it contains ``::`` itself) is recognised by its head not being a scheme.
    """
    ident = _split(text, DOCUMENT_SCHEME, "document type", bare_has_separator=True)
    if len(ident.value) > DOCUMENT_TYPE_VALUE_MAX:
        raise IdentifierError(f"document type identifier longer than {DOCUMENT_TYPE_VALUE_MAX} characters")
    if not _encodable(ident.value, "iso-8859-1"):
        raise IdentifierError(f"document type identifier {text!r}: the value must be ISO-8859-1")
    scheme = ident.scheme.lower()
    if scheme == WILDCARD_DOCUMENT_SCHEME and WILDCARD in ident.value:
        _wildcard_parts(ident.value)  # only a trailing '*' on the customization id is allowed
    return Identifier(scheme, ident.value)


@dataclass(frozen=True, slots=True)
class DocumentTypeParts:
    """``syntax-id##customization-id::version`` taken apart.

    For XML syntaxes the syntax id is ``root-namespace::local-name``; other syntaxes (EDIFACT, X12,
    PDF+XML: ``urn:peppol:doctype:edifact:ORDERS``) have no local name.
    """

    root_namespace: str
    local_name: str | None
    customization_id: str
    version: str

    def __str__(self) -> str:
        return f"{self.syntax_id}##{self.customization_id}::{self.version}"

    @property
    def syntax_id(self) -> str:
        if self.local_name is None:
            return self.root_namespace
        return f"{self.root_namespace}::{self.local_name}"

    @property
    def is_wildcard(self) -> bool:
        return self.customization_id.endswith(WILDCARD)

    def with_customization(self, customization_id: str) -> DocumentTypeParts:
        return DocumentTypeParts(self.root_namespace, self.local_name, customization_id, self.version)


def document_type_parts(ident: Identifier | str) -> DocumentTypeParts:
    """The parts of a ``busdox-docid-qns`` or ``peppol-doctype-wildcard`` document type value."""
    parsed = ident if isinstance(ident, Identifier) else document_type(ident)
    if parsed.scheme not in DOCUMENT_SCHEMES:
        raise IdentifierError(
            f"{parsed}: not a Peppol document type scheme ({', '.join(sorted(DOCUMENT_SCHEMES))})"
        )
    return _parts(parsed.value)


def _parts(value: str) -> DocumentTypeParts:
    syntax, sep, rest = value.partition("##")
    if not sep:
        raise IdentifierError(f"document type {value!r} has no '##' before the customization id")
    root, xml_syntax, local = syntax.rpartition("::")
    if not xml_syntax:
        root = syntax
    if not root or (xml_syntax and not local):
        raise IdentifierError(
            f"document type {value!r}: expected the syntax id (namespace::name) before '##'"
        )
    customization, sep, version = rest.rpartition("::")
    if not sep or not customization or not version:
        raise IdentifierError(f"document type {value!r}: expected customization-id::version after '##'")
    return DocumentTypeParts(root, local if xml_syntax else None, customization, version)


def _wildcard_parts(value: str) -> DocumentTypeParts:
    parts = _parts(value)
    if WILDCARD in parts.customization_id.removesuffix(WILDCARD) or WILDCARD in str(
        parts.with_customization("")
    ):
        raise IdentifierError(f"document type {value!r}: '*' may only end the customization id")
    return parts


def is_wildcard(ident: Identifier) -> bool:
    """A registration pattern (``peppol-doctype-wildcard`` with a trailing ``*``), not a concrete type."""
    if ident.scheme != WILDCARD_DOCUMENT_SCHEME:
        return False
    try:
        return _parts(ident.value).is_wildcard
    except IdentifierError:
        return False


def wildcard_covers(registered: Identifier, concrete: Identifier) -> bool:
    """Whether an SMP registration ``registered`` accepts documents of type ``concrete``.

    Identical ids always match. Otherwise both must be ``peppol-doctype-wildcard`` with the same root
    namespace, local name and version, and the registered customization id ``C*`` covers ``C`` itself
    and every specialisation ``C@...`` (never ``C2`` or ``C-x``). ``busdox-docid-qns`` matches only exactly.
    """
    if registered == concrete:
        return True
    if registered.scheme != WILDCARD_DOCUMENT_SCHEME or concrete.scheme != WILDCARD_DOCUMENT_SCHEME:
        return False
    try:
        pattern, target = _wildcard_parts(registered.value), _wildcard_parts(concrete.value)
    except IdentifierError:
        return False
    if not pattern.is_wildcard or target.is_wildcard:
        return False
    if pattern.with_customization("") != target.with_customization(""):
        return False
    base = pattern.customization_id.removesuffix(WILDCARD)
    return target.customization_id == base or target.customization_id.startswith(
        base + SPECIALISATION_SEPARATOR
    )


def wildcard_candidates(concrete: Identifier) -> tuple[Identifier, ...]:
    """The registrations that would accept ``concrete``, best match first.

    The exact id, then for ``peppol-doctype-wildcard``: ``C*``, and ``*`` on each shorter '@' prefix of C
    (billing-1@jp-1 -> billing-1@jp-1*, billing-1*). An SMP client asks for them in this order.
    """
    if concrete.scheme != WILDCARD_DOCUMENT_SCHEME:
        return (concrete,)
    parts = _wildcard_parts(concrete.value)
    if parts.is_wildcard:
        raise IdentifierError(f"{concrete}: a wildcard pattern is not a concrete document type")
    found = [concrete]
    customization = parts.customization_id
    while True:
        found.append(Identifier(concrete.scheme, str(parts.with_customization(customization + WILDCARD))))
        cut = customization.rfind(SPECIALISATION_SEPARATOR)
        if cut <= 0:
            return tuple(found)
        customization = customization[:cut]


# --- processes --------------------------------------------------------------------------------------


def process(text: str) -> Identifier:
    """A process id; the value is case-sensitive (POLICY 2) and kept as given."""
    ident = _split(text, PROCESS_SCHEME, "process")
    if len(ident.value) > PROCESS_VALUE_MAX:
        raise IdentifierError(f"process identifier longer than {PROCESS_VALUE_MAX} characters")
    if not _encodable(ident.value, "iso-8859-1"):
        raise IdentifierError(f"process identifier {text!r}: the value must be ISO-8859-1")
    return Identifier(ident.scheme.lower(), ident.value)


# --- transport --------------------------------------------------------------------------------------


def url_segment(ident: Identifier) -> str:
    """``scheme::value`` percent-encoded as one URL path segment, as SMP URLs carry it (':' -> %3A)."""
    return quote(str(ident), safe="")
