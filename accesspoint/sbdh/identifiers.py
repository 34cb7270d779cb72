"""Identifier values as the envelope carries them (bare values; the scheme goes in attributes).

The identifier syntax itself (Peppol Policy for use of Identifiers) lives in
:mod:`accesspoint.peppol.identifiers`; this module only adapts it to the envelope's fields.
"""

from __future__ import annotations

import re

from accesspoint.peppol.identifiers import DOCUMENT_TYPE_VALUE_MAX as DOCTYPE_VALUE_MAX
from accesspoint.peppol.identifiers import PARTICIPANT_VALUE_MAX, PROCESS_VALUE_MAX
from accesspoint.peppol.identifiers import participant_value_problem as participant_problem
from accesspoint.sbdh.model import DOCTYPE_SCHEME, PARTICIPANT_SCHEME, PROCESS_SCHEME

__all__ = [
    "DOCTYPE_VALUE_MAX",
    "PARTICIPANT_VALUE_MAX",
    "PROCESS_VALUE_MAX",
    "document_type_value",
    "is_country_code",
    "participant_problem",
    "participant_value",
    "process_value",
    "strip_scheme",
]

_COUNTRY = re.compile(r"[A-Z0-9]{2}")


def is_country_code(value: str | None) -> bool:
    """Two upper-case letters or digits, as the BME 2.0 country rule (and peppol-commons) check it."""
    return value is not None and _COUNTRY.fullmatch(value) is not None


def strip_scheme(identifier: str, scheme: str) -> str:
    """Accept both ``scheme::value`` and bare ``value`` from callers; the envelope carries the value."""
    prefix = f"{scheme}::"
    return identifier[len(prefix) :] if identifier.startswith(prefix) else identifier


def participant_value(identifier: str) -> str:
    """A caller's participant id (with or without the scheme) as a checked envelope value."""
    value = strip_scheme(identifier, PARTICIPANT_SCHEME)
    problem = participant_problem(value)
    if problem:
        raise ValueError(f"participant identifier {identifier!r} {problem}")
    return value


def document_type_value(identifier: str) -> str:
    value = strip_scheme(identifier, DOCTYPE_SCHEME)
    if not value or value != value.strip() or len(value) > DOCTYPE_VALUE_MAX:
        raise ValueError(f"document type identifier {identifier!r} is empty, padded or too long")
    return value


def process_value(identifier: str) -> str:
    value = strip_scheme(identifier, PROCESS_SCHEME)
    if not value or value != value.strip() or len(value) > PROCESS_VALUE_MAX:
        raise ValueError(f"process identifier {identifier!r} is empty, padded or too long")
    return value
