"""Peppol identifiers: ``scheme::value`` for participants, document types and processes.

Per the Peppol Policy for use of Identifiers: participant schemes and values compare
case-insensitively; document type ids are case-sensitive. A bare value takes the default scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTICIPANT_SCHEME = "iso6523-actorid-upis"
DOCUMENT_SCHEME = "busdox-docid-qns"
PROCESS_SCHEME = "cenbii-procid-ubl"

# PFUOI 4.4: a participant value is an ICD (4 digits), ':' and the identifier, at most 4+1+130 characters.
PARTICIPANT_VALUE_MAX = 135
DOCUMENT_TYPE_VALUE_MAX = 500
PROCESS_VALUE_MAX = 200

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


def _split(text: str, default_scheme: str, kind: str) -> Identifier:
    text = text.strip()
    if not text:
        raise IdentifierError(f"empty {kind} identifier")
    scheme, sep, value = text.partition("::")
    if not sep:
        scheme, value = default_scheme, text
    if not _SCHEME.match(scheme) or len(scheme) > 25:
        raise IdentifierError(
            f"{kind} identifier {text!r}: scheme {scheme!r} is not a Peppol identifier scheme"
        )
    if not value:
        raise IdentifierError(f"{kind} identifier {text!r} has no value")
    return Identifier(scheme, value)


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
    """A participant id (``0192:810418052`` or ``iso6523-actorid-upis::0192:810418052``), lower-cased."""
    ident = _split(text, PARTICIPANT_SCHEME, "participant")
    scheme, value = ident.scheme.lower(), ident.value.lower()
    if scheme == PARTICIPANT_SCHEME and not _ISO6523_VALUE.match(value):
        raise IdentifierError(
            f"participant identifier {text!r}: the value must be NNNN:id (an ISO 6523 ICD and id)"
        )
    return Identifier(scheme, value)


def document_type(text: str) -> Identifier:
    ident = _split(text, DOCUMENT_SCHEME, "document type")
    if len(ident.value) > DOCUMENT_TYPE_VALUE_MAX:
        raise IdentifierError(f"document type identifier longer than {DOCUMENT_TYPE_VALUE_MAX} characters")
    return Identifier(ident.scheme.lower(), ident.value)


def process(text: str) -> Identifier:
    ident = _split(text, PROCESS_SCHEME, "process")
    if len(ident.value) > PROCESS_VALUE_MAX:
        raise IdentifierError(f"process identifier longer than {PROCESS_VALUE_MAX} characters")
    return Identifier(ident.scheme.lower(), ident.value)
