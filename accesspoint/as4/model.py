"""Immutable message objects: what callers hand to the writer and get back from the reader."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography import x509

from accesspoint.as4 import constants as c


@dataclass(frozen=True, slots=True)
class Transform:
    """A ds:Transform; ``prefixes`` is the exc-c14n InclusiveNamespaces PrefixList, if any."""

    algorithm: str
    prefixes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class SignedReference:
    """One ds:Reference as signed: what a receipt echoes and what we compare it against."""

    uri: str
    digest_method: str
    digest_value: bytes
    transforms: tuple[Transform, ...] = ()


@dataclass(frozen=True, slots=True)
class PartyId:
    value: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    value: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class PartInfo:
    """An eb:PartInfo: the ``cid:`` reference and its PartProperties (MimeType, CompressionType...).

    ``href`` is ``None`` when the payload is the SOAP Body (allowed by ebMS, refused by Peppol).
    """

    href: str | None
    properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def content_id(self) -> str | None:
        return self.href[4:] if self.href and self.href.startswith("cid:") else None

    @property
    def mime_type(self) -> str | None:
        return self.properties.get("MimeType")

    @property
    def compression_type(self) -> str | None:
        return self.properties.get("CompressionType")


@dataclass(frozen=True, slots=True)
class UserMessageHeader:
    """The eb:UserMessage metadata, as parsed (values verbatim, schemes in the ``type`` fields)."""

    message_id: str
    timestamp: dt.datetime | None
    from_party: PartyId
    from_role: str
    to_party: PartyId
    to_role: str
    service: str
    service_type: str | None
    action: str
    conversation_id: str
    agreement: str | None = None
    agreement_type: str | None = None
    mpc: str | None = None
    ref_to_message_id: str | None = None
    properties: tuple[Property, ...] = ()
    parts: tuple[PartInfo, ...] = ()

    def get_property(self, name: str) -> Property | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None

    @property
    def is_ping(self) -> bool:
        """The AS4 test service/action: answered with a receipt, never delivered."""
        return self.service.strip() == c.PING_SERVICE and self.action.strip() == c.PING_ACTION


@dataclass(frozen=True, slots=True)
class Submission:
    """What the sender decides for one user message. Identifiers take ``scheme::value`` or bare values."""

    from_party: str
    to_party: str
    original_sender: str
    final_recipient: str
    document_type: str
    process: str
    conversation_id: str | None = None
    message_id: str | None = None

    @classmethod
    def ping(cls, from_party: str, to_party: str, original_sender: str, final_recipient: str) -> Submission:
        """A connectivity test message (AS4 test service and action)."""
        return cls(from_party, to_party, original_sender, final_recipient, c.PING_ACTION, c.PING_SERVICE)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A built user message: HTTP headers and body to POST, and what the receipt must echo."""

    message_id: str
    conversation_id: str
    timestamp: dt.datetime
    to_party: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    signed_references: tuple[SignedReference, ...]

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]


@dataclass(frozen=True, slots=True)
class Payload:
    """A decrypted, verified, decompressed attachment."""

    content_id: str
    mime_type: str | None
    data: bytes = field(repr=False)
    properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A user message that passed every check. ``envelope`` is the SOAP part as received (evidence)."""

    header: UserMessageHeader
    payloads: tuple[Payload, ...]
    signer: x509.Certificate
    signed_references: tuple[SignedReference, ...]
    envelope: bytes = field(repr=False)

    @property
    def message_id(self) -> str:
        return self.header.message_id

    @property
    def is_ping(self) -> bool:
        return self.header.is_ping

    @property
    def payload(self) -> bytes:
        """The (single, in Peppol) business document: the SBDH bytes."""
        return self.payloads[0].data if self.payloads else b""

    @property
    def original_sender(self) -> str | None:
        prop = self.header.get_property("originalSender")
        return prop.value if prop else None

    @property
    def final_recipient(self) -> str | None:
        prop = self.header.get_property("finalRecipient")
        return prop.value if prop else None


@dataclass(frozen=True, slots=True)
class SignalResponse:
    """A built signal (receipt or error) to return as the HTTP response."""

    message_id: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt signal. ``verified`` receipts had a valid trusted signature (and, from
    ``read_response``, digests equal to what we signed)."""

    message_id: str
    timestamp: dt.datetime | None
    ref_to_message_id: str
    references: tuple[SignedReference, ...]
    signer: x509.Certificate | None
    envelope: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class SignalError:
    """One eb:Error of an error signal."""

    code: str
    severity: str
    category: str | None
    short_description: str | None
    ref_to_message_in_error: str | None
    origin: str | None = None
    description: str | None = None
    detail: str | None = None

    @property
    def is_not_serviced(self) -> bool:
        return self.code == "EBMS:0004" and (self.detail or "").strip() == "PEPPOL:NOT_SERVICED"


@dataclass(frozen=True, slots=True)
class ErrorSignal:
    """An error signal from a peer. ``authenticated`` is true only for a valid trusted signature;
    unsigned error signals are normal (some APs never sign them) and still parse."""

    message_id: str
    timestamp: dt.datetime | None
    ref_to_message_id: str | None
    errors: tuple[SignalError, ...]
    authenticated: bool
    signer: x509.Certificate | None
    envelope: bytes = field(repr=False)
