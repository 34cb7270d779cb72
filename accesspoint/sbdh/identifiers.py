"""Peppol identifier syntax used by the envelope (Peppol Policy for use of Identifiers 4.x).

Why here and not in a shared module: the envelope only needs the syntactic checks (scheme names,
``NNNN:value`` participant values, length limits); code-list membership of the ICD belongs to
discovery/SMP, which will own the full identifier model.
"""

from __future__ import annotations

import re

from accesspoint.sbdh.model import DOCTYPE_SCHEME, PARTICIPANT_SCHEME, PROCESS_SCHEME

# PFUOI 4.4: value is ICD (4 digits) ':' identifier, at most 4+1+130 characters.
PARTICIPANT_VALUE_MAX = 135
DOCTYPE_VALUE_MAX = 500
PROCESS_VALUE_MAX = 200
_PARTICIPANT_VALUE = re.compile(r"[0-9]{4}:\S(?:.*\S)?", re.DOTALL)
_COUNTRY = re.compile(r"[A-Z0-9]{2}")


def participant_problem(value: str | None) -> str | None:
    """Why ``value`` is not a Peppol participant identifier value, or None when it is."""
    if value is None or not value:
        return "is empty"
    if len(value) > PARTICIPANT_VALUE_MAX:
        return f"is {len(value)} characters long; the limit is {PARTICIPANT_VALUE_MAX}"
    if not _PARTICIPANT_VALUE.fullmatch(value):
        return "must be an ICD of 4 digits, a colon and the identifier (e.g. 0192:123456785)"
    return None


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
