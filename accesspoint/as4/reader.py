"""Read an incoming user message: bytes in, a verified :class:`ReceivedMessage` out, or an EbmsError.

Checks run cheapest and least trusting first, so each refusal names the first thing wrong:

1. MIME framing (EBMS:0007); 2. SOAP and ebMS structure, compression type (0009, 0303);
3. PayloadInfo against the MIME parts (0007); 4. security policy and algorithm allow-list (0103);
5. Peppol profile values (0010); 6. key unwrap (0102), signature and digests (0101), signer trust
(0101), then each attachment: decrypt (0102), signed digest (0101), bounded gunzip (0303).

Every EbmsError leaving :func:`read_user_message` carries the (unverified) MessageId as
``ref_to_message_id`` when one could be read, for the error signal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from urllib.parse import unquote

from accesspoint.as4 import constants as c
from accesspoint.as4 import payloadcrypto
from accesspoint.as4.envelope import Envelope, parse_envelope, parse_user_message, unverified_message_id
from accesspoint.as4.errors import (
    DECOMPRESSION_FAILURE,
    INVALID_HEADER,
    MIME_INCONSISTENCY,
    PROCESSING_MODE_MISMATCH,
    EbmsError,
)
from accesspoint.as4.mime import MimePart, parse_content_type, parse_multipart
from accesspoint.as4.model import Payload, ReceivedMessage, UserMessageHeader
from accesspoint.as4.profile import PEPPOL, Profile, split_identifier
from accesspoint.as4.trust import TrustPolicy
from accesspoint.as4.wssec import read_security, unwrap_session_key, verify_signature
from accesspoint.as4.xmldsig import index_ids
from accesspoint.pki.credentials import Credentials


def _mime(text: str, reason: str = "mime") -> EbmsError:
    return EbmsError(MIME_INCONSISTENCY, text, reason=reason)


def _mismatch(text: str) -> EbmsError:
    return EbmsError(PROCESSING_MODE_MISMATCH, text, reason="profile")


def split_message(content_type: str, body: bytes, profile: Profile) -> tuple[bytes, dict[str, MimePart]]:
    """The SOAP part and the attachments by Content-ID, from a multipart or a bare SOAP body."""
    limits = profile.limits
    if not body:
        raise _mime("the message body is empty", "empty")
    parsed = parse_content_type(content_type or "")
    if parsed.mime_type == c.SOAP_CONTENT_TYPE:
        if len(body) > limits.max_soap_bytes:
            raise _mime("the SOAP message is too large", "size")
        return bytes(body), {}
    if parsed.mime_type != "multipart/related":
        raise _mime(
            f"Content-Type {parsed.mime_type!r} is neither multipart/related nor SOAP", "content-type"
        )
    if parsed.params.get("type", c.SOAP_CONTENT_TYPE).lower() != c.SOAP_CONTENT_TYPE:
        raise _mime("multipart/related must have type=application/soap+xml", "content-type")
    parts = parse_multipart(parsed, body, limits)
    root, attachments = parts[0], parts[1:]
    if root.content_type.mime_type != c.SOAP_CONTENT_TYPE:
        raise _mime("the root MIME part is not application/soap+xml", "content-type")
    if len(root.content) > limits.max_soap_bytes:
        raise _mime("the SOAP part is too large", "size")
    by_cid: dict[str, MimePart] = {}
    for part in attachments:
        cid = part.content_id
        if not cid:
            raise _mime("an attachment has no Content-ID")
        if cid in by_cid:
            raise _mime(f"two attachments share Content-ID {cid!r}")
        by_cid[cid] = part
    return bytes(root.content), by_cid


def _check_compression(header: UserMessageHeader, profile: Profile) -> None:
    for part in header.parts:
        compression = part.compression_type
        if compression is not None and compression != profile.compression:
            raise EbmsError(
                DECOMPRESSION_FAILURE,
                f"compression {compression!r} is not supported",
                reason="compression-type",
            )


def _cid(href: str) -> str:
    return unquote(href[4:])


def _match_parts(header: UserMessageHeader, attachments: Mapping[str, MimePart]) -> None:
    """Every ``cid:`` PartInfo has its MIME part and every MIME part is a declared payload."""
    declared = set()
    for part in header.parts:
        if part.href and part.href.startswith("cid:"):
            cid = _cid(part.href)
            if cid not in attachments:
                raise _mime(f"payload {part.href!r} is missing from the MIME message", "missing-part")
            declared.add(cid)
    extra = set(attachments) - declared
    if extra:
        raise _mime(f"MIME part {sorted(extra)[0]!r} is not declared in eb:PayloadInfo", "extra-part")


def check_profile(header: UserMessageHeader, profile: Profile, receiver_party: str | None = None) -> None:
    """The Peppol profile values (EBMS:0010), on the header as parsed."""
    for name, party in (("From", header.from_party), ("To", header.to_party)):
        if party.type != profile.party_id_type:
            raise _mismatch(f"{name} PartyId type must be {profile.party_id_type!r}")
        if profile.party_id_pattern and not profile.party_id_pattern.fullmatch(party.value):
            raise _mismatch(f"{name} PartyId {party.value!r} is not a seat id")
    if header.from_role != profile.initiator_role or header.to_role != profile.responder_role:
        raise _mismatch("From/To roles are not the profile's initiator/responder")
    if header.agreement != profile.agreement or header.agreement_type is not None:
        raise _mismatch(f"AgreementRef must be {profile.agreement!r} without a type")
    if header.mpc not in (None, profile.mpc):
        raise _mismatch(f"MPC {header.mpc!r} is not used by the profile")
    if receiver_party is not None and header.to_party.value != receiver_party:
        raise _mismatch(f"the message is for {header.to_party.value!r}, not this access point")
    if not header.is_ping:
        if header.service_type != profile.service_type:
            raise _mismatch(f"Service type must be {profile.service_type!r}")
        scheme, _ = split_identifier(header.action, profile.action_scheme)
        if scheme != profile.action_scheme:
            raise _mismatch(f"Action scheme {scheme!r} is not {profile.action_scheme!r}")
        for name in profile.required_properties:
            prop = header.get_property(name)
            if prop is None:
                raise _mismatch(f"the message property {name!r} is missing")
            if prop.type not in (None, profile.participant_scheme):
                raise _mismatch(f"the message property {name!r} has type {prop.type!r}")
        if len(header.parts) != 1:
            raise _mismatch(f"a Peppol message carries exactly one payload, not {len(header.parts)}")
    for part in header.parts:
        if not part.href or not part.href.startswith("cid:"):
            raise EbmsError(
                INVALID_HEADER, f"payload {part.href!r} is not a MIME attachment", reason="payload"
            )
        if not part.mime_type:
            raise EbmsError(
                INVALID_HEADER, f"payload {part.href!r} has no MimeType property", reason="payload"
            )


def _read(
    content_type: str,
    body: bytes,
    keys: Sequence[Credentials],
    trust: TrustPolicy,
    profile: Profile,
    receiver_party: str | None,
    state: dict[str, str],
) -> ReceivedMessage:
    soap_bytes, attachments = split_message(content_type, body, profile)
    envelope: Envelope = parse_envelope(soap_bytes, profile.limits.max_soap_bytes)
    state["message_id"] = unverified_message_id(envelope.messaging) or ""
    _, header = parse_user_message(envelope.messaging)
    _check_compression(header, profile)
    _match_parts(header, attachments)
    ids = index_ids(envelope.root)
    security = read_security(
        envelope,
        ids,
        profile.algorithms,
        profile.limits,
        attachment_ids=attachments.keys(),
        require_encryption=True,
    )
    check_profile(header, profile, receiver_party)
    session_key = unwrap_session_key(security, keys) if attachments else b""
    references = verify_signature(security, envelope, ids, attachments.keys())
    trust(security.signer, (), header.from_party.value)
    payloads = []
    for part in header.parts:
        cid = _cid(part.href or "")
        data = payloadcrypto.open_attachment(
            session_key,
            attachments[cid].content,
            expected_digest=references[cid].digest_value,
            gzipped=part.compression_type == profile.compression,
            limits=profile.limits,
        )
        payloads.append(Payload(cid, part.mime_type, data, MappingProxyType(dict(part.properties))))
    return ReceivedMessage(
        header=header,
        payloads=tuple(payloads),
        signer=security.signer,
        signed_references=tuple(ref.as_signed() for ref in security.signature.references),
        envelope=soap_bytes,
    )


def read_user_message(
    content_type: str,
    body: bytes,
    *,
    keys: Sequence[Credentials],
    trust: TrustPolicy,
    profile: Profile = PEPPOL,
    receiver_party: str | None = None,
) -> ReceivedMessage:
    """Verify and open one AS4 user message, or raise :class:`EbmsError`.

    ``keys`` are our decryption credentials (several during certificate rollover); ``trust`` decides
    on the signer; ``receiver_party`` (our seat id), if given, must be the To PartyId.
    """
    state: dict[str, str] = {}
    try:
        return _read(content_type, body, keys, trust, profile, receiver_party, state)
    except EbmsError as exc:
        exc.referring_to(state.get("message_id"))
        raise
