"""The Peppol AS4 profile as data (phase4's PMode idea): values, algorithm allow-list and limits.

The reader and writer consult a :class:`Profile` instead of branching on "Peppol", so a test or a
future profile changes data, not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from accesspoint.as4 import constants as c


@dataclass(frozen=True, slots=True)
class AlgorithmSuite:
    """Exactly one algorithm per slot is allowed; anything else is refused with EBMS:0103."""

    canonicalization: str = c.EXC_C14N
    signature: str = c.RSA_SHA256
    digest: str = c.SHA256
    key_transport: str = c.RSA_OAEP
    key_transport_digest: str = c.SHA256
    key_transport_mgf: str = c.MGF1_SHA256
    data_encryption: str = c.AES128_GCM


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on untrusted input. The ratio bound applies once a payload exceeds ``ratio_floor_bytes``."""

    max_message_bytes: int = 512 * 1024 * 1024
    max_parts: int = 16
    max_part_header_bytes: int = 16 * 1024
    max_soap_bytes: int = 4 * 1024 * 1024
    max_payload_bytes: int = 512 * 1024 * 1024
    max_compression_ratio: int = 200
    ratio_floor_bytes: int = 1024 * 1024
    max_references: int = 32


@dataclass(frozen=True, slots=True)
class Profile:
    """What a conforming message looks like (Peppol AS4 v2.0.3 by default)."""

    name: str
    agreement: str | None
    party_id_type: str
    party_id_pattern: re.Pattern[str] | None
    initiator_role: str
    responder_role: str
    service_type: str | None
    action_scheme: str
    participant_scheme: str
    mpc: str
    required_properties: tuple[str, ...]
    payload_mime_type: str
    compression: str
    algorithms: AlgorithmSuite = field(default_factory=AlgorithmSuite)
    limits: Limits = field(default_factory=Limits)
    id_domain: str = "ehfgate"


PEPPOL: Final = Profile(
    name="peppol-as4-v2",
    agreement="urn:fdc:peppol.eu:2017:agreements:tia:ap_provider",
    party_id_type="urn:fdc:peppol.eu:2017:identifiers:ap",
    party_id_pattern=re.compile(r"P[A-Z]{2}[0-9]{6}"),
    initiator_role=c.ROLE_INITIATOR,
    responder_role=c.ROLE_RESPONDER,
    service_type="cenbii-procid-ubl",
    action_scheme="busdox-docid-qns",
    participant_scheme="iso6523-actorid-upis",
    mpc=c.DEFAULT_MPC,
    required_properties=("originalSender", "finalRecipient"),
    payload_mime_type="application/xml",
    compression=c.GZIP,
)


def split_identifier(value: str, default_scheme: str) -> tuple[str, str]:
    """``scheme::value`` or a bare value -> (scheme, value).

    A scheme never contains ``:`` while values (``urn:...``) do, so only a colon-free prefix before the
    first ``::`` is taken as the scheme; doc type values keep their own inner ``::``.
    """
    head, sep, rest = value.partition("::")
    if sep and head and ":" not in head:
        return head, rest
    return default_scheme, value
