"""Signal messages: build error signals; read a peer's response (receipt or error) to our message.

Receipts must be signed and trusted. Error signals are accepted unsigned (several production APs
never sign them); ``authenticated`` tells whether a valid trusted signature was present.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from lxml import etree

from accesspoint.as4 import constants as c
from accesspoint.as4.envelope import (
    Envelope,
    children,
    eb,
    invalid,
    message_info,
    parse_envelope,
    text_child,
    unverified_message_id,
)
from accesspoint.as4.errors import MIME_INCONSISTENCY, EbmsError
from accesspoint.as4.model import ErrorSignal, OutboundMessage, Receipt, SignalError, SignalResponse
from accesspoint.as4.profile import PEPPOL, Profile
from accesspoint.as4.reader import split_message
from accesspoint.as4.receipt import build_signal_envelope, finish_signal, verify_receipt
from accesspoint.as4.trust import TrustPolicy
from accesspoint.as4.writer import new_message_id
from accesspoint.as4.wssec import read_security, verify_signature
from accesspoint.as4.xmldsig import ds, index_ids, parse_reference
from accesspoint.pki.credentials import Credentials

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def build_error_signal(
    errors: Sequence[EbmsError],
    *,
    ref_to_message_id: str | None = None,
    signer: Credentials | None = None,
    profile: Profile = PEPPOL,
    now: dt.datetime | None = None,
) -> SignalResponse:
    """An ebMS error signal for ``errors`` (signed when ``signer`` is given)."""
    if not errors:
        raise ValueError("an error signal needs at least one error")
    ref = ref_to_message_id or next((e.ref_to_message_id for e in errors if e.ref_to_message_id), None)
    message_id = new_message_id(profile)
    envelope, signal = build_signal_envelope(
        ref, now or dt.datetime.now(dt.UTC), message_id, signed=signer is not None
    )
    for error in errors:
        attrs = {
            "category": error.category.value,
            "errorCode": error.code,
            "origin": "ebMS",
            "severity": error.severity.value,
            "shortDescription": error.short_description,
        }
        if error.ref_to_message_id or ref:
            attrs["refToMessageInError"] = error.ref_to_message_id or ref or ""
        element = etree.SubElement(signal, eb("Error"), attrib=attrs)
        text_child(element, eb("Description"), error.description, **{_XML_LANG: "en"})
        text_child(element, eb("ErrorDetail"), error.detail or error.description)
    return finish_signal(envelope, signer, message_id)


def _signal_error(element: etree._Element) -> SignalError:
    def text(tag: str) -> str | None:
        found = element.find(eb(tag))
        return None if found is None else (found.text or "").strip()

    code = element.get("errorCode")
    severity = element.get("severity")
    if not code or not severity:
        raise invalid("eb:Error needs errorCode and severity")
    return SignalError(
        code=code.strip(),
        severity=severity.strip().lower(),
        category=element.get("category"),
        short_description=element.get("shortDescription"),
        ref_to_message_in_error=element.get("refToMessageInError") or None,
        origin=element.get("origin"),
        description=text("Description"),
        detail=text("ErrorDetail"),
    )


def _verify(
    envelope: Envelope, trust: TrustPolicy, party_id: str | None, profile: Profile
) -> x509.Certificate:
    """Signature over Messaging and Body, then trust; returns the signer certificate."""
    ids = index_ids(envelope.root)
    header = read_security(
        envelope, ids, profile.algorithms, profile.limits, attachment_ids=(), require_encryption=False
    )
    verify_signature(header, envelope, ids, ())
    trust(header.signer, (), party_id)
    return header.signer


def read_signal(
    content_type: str,
    body: bytes,
    *,
    trust: TrustPolicy,
    party_id: str | None = None,
    profile: Profile = PEPPOL,
) -> Receipt | ErrorSignal:
    """Parse a signal. A receipt must carry a valid signature by a trusted signer (``party_id`` is
    the party we expect, e.g. the To PartyId we sent to); an error signal may be unsigned."""
    soap_bytes, attachments = split_message(content_type, body, profile)
    if attachments:
        raise EbmsError(MIME_INCONSISTENCY, "a signal must not carry attachments", reason="extra-part")
    envelope = parse_envelope(soap_bytes, profile.limits.max_soap_bytes)
    try:
        return _read_signal(envelope, soap_bytes, trust, party_id, profile)
    except EbmsError as exc:
        exc.referring_to(unverified_message_id(envelope.messaging))
        raise


def _read_signal(
    envelope: Envelope, soap_bytes: bytes, trust: TrustPolicy, party_id: str | None, profile: Profile
) -> Receipt | ErrorSignal:
    signals = children(envelope.messaging, eb("SignalMessage"))
    if len(signals) != 1 or len(children(envelope.messaging)) != 1:
        raise invalid("eb:Messaging must hold exactly one eb:SignalMessage", "signal")
    signal = signals[0]
    message_id, stamp, ref = message_info(signal)
    receipts = children(signal, eb("Receipt"))
    errors = children(signal, eb("Error"))
    if (receipts and errors) or len(receipts) > 1:
        raise invalid("a signal is either one receipt or errors", "signal")
    if receipts:
        if ref is None:
            raise invalid("a receipt needs RefToMessageId", "signal")
        signer = _verify(envelope, trust, party_id, profile)
        references = tuple(
            parse_reference(el, profile.algorithms).as_signed()
            for el in receipts[0].iterfind(
                f"{{{c.EBBP}}}NonRepudiationInformation/{{{c.EBBP}}}MessagePartNRInformation/{ds('Reference')}"
            )
        )
        return Receipt(message_id, stamp, ref, references, signer, soap_bytes)
    if not errors:
        raise invalid("the signal is neither a receipt nor an error", "signal")
    parsed_errors = tuple(_signal_error(e) for e in errors)
    error_signer: x509.Certificate | None = None
    if envelope.security is not None:
        try:
            error_signer = _verify(envelope, trust, party_id, profile)
        except EbmsError:
            error_signer = None  # a bad signature on an error changes nothing: it is still an error
    return ErrorSignal(
        message_id, stamp, ref, parsed_errors, error_signer is not None, error_signer, soap_bytes
    )


def read_response(
    content_type: str,
    body: bytes,
    sent: OutboundMessage,
    *,
    trust: TrustPolicy,
    profile: Profile = PEPPOL,
) -> Receipt | ErrorSignal:
    """The peer's synchronous answer to ``sent``: a receipt verified against it, or an error signal.

    Raises EbmsError for anything else (EBMS:0302 for a receipt that does not match, 0101 for a bad or
    untrusted signature). A returned :class:`Receipt` is proof of delivery.
    """
    signal = read_signal(content_type, body, trust=trust, party_id=sent.to_party, profile=profile)
    if isinstance(signal, Receipt):
        verify_receipt(signal, sent)
    return signal
