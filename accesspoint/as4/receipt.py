"""Receipts: build a signed receipt for a received message; verify a peer's receipt against what we sent.

The receipt echoes every ds:Reference of the received signature as ebbp:MessagePartNRInformation
(non-repudiation of receipt). The sender accepts it only if it is signed by a trusted certificate for
the party it sent to, refers to its MessageId, and echoes exactly the digests it signed.
"""

from __future__ import annotations

import datetime as dt
import hmac

from lxml import etree

from accesspoint.as4 import constants as c
from accesspoint.as4.envelope import (
    Envelope,
    add_message_info,
    eb,
    new_envelope,
    new_messaging,
    new_security,
    serialize,
)
from accesspoint.as4.errors import INVALID_RECEIPT, EbmsError
from accesspoint.as4.model import OutboundMessage, Receipt, ReceivedMessage, SignalResponse, SignedReference
from accesspoint.as4.profile import PEPPOL, Profile
from accesspoint.as4.writer import SOAP_PART_TYPE, new_message_id
from accesspoint.as4.wssec import new_id, secure
from accesspoint.as4.xmldsig import append_reference_copy
from accesspoint.pki.credentials import Credentials


def build_signal_envelope(
    ref_to_message_id: str | None, moment: dt.datetime, message_id: str, *, signed: bool
) -> tuple[Envelope, etree._Element]:
    """A SOAP envelope with an eb:SignalMessage holding MessageInfo; returns it and the signal."""
    root, header, body = new_envelope()
    body.set(c.WSU_ID, new_id("id"))
    messaging = new_messaging(header, new_id("eb"))
    signal = etree.SubElement(messaging, eb("SignalMessage"))
    add_message_info(signal, message_id, moment, ref_to_message_id)
    security = new_security(header) if signed else None
    return Envelope(root, header, body, messaging, security), signal


def finish_signal(envelope: Envelope, signer: Credentials | None, message_id: str) -> SignalResponse:
    if signer is not None:
        secure(envelope, signer)
    return SignalResponse(message_id, {"Content-Type": SOAP_PART_TYPE}, serialize(envelope.root))


def build_receipt(
    received: ReceivedMessage,
    *,
    signer: Credentials,
    profile: Profile = PEPPOL,
    now: dt.datetime | None = None,
) -> SignalResponse:
    """The signed receipt for ``received``, to return in the HTTP response."""
    message_id = new_message_id(profile)
    envelope, signal = build_signal_envelope(
        received.message_id, now or dt.datetime.now(dt.UTC), message_id, signed=True
    )
    receipt = etree.SubElement(signal, eb("Receipt"))
    nri = etree.SubElement(receipt, f"{{{c.EBBP}}}NonRepudiationInformation", nsmap={"ebbp": c.EBBP})
    for ref in received.signed_references:
        info = etree.SubElement(nri, f"{{{c.EBBP}}}MessagePartNRInformation")
        append_reference_copy(info, ref)
    return finish_signal(envelope, signer, message_id)


def _invalid(text: str, reason: str) -> EbmsError:
    return EbmsError(INVALID_RECEIPT, text, reason=reason)


def check_receipt(receipt: Receipt, message_id: str, references: tuple[SignedReference, ...]) -> None:
    """The receipt acknowledges ``message_id`` and echoes exactly the ``references`` we signed."""
    if receipt.ref_to_message_id != message_id:
        raise _invalid(
            f"the receipt refers to {receipt.ref_to_message_id!r}, not {message_id!r}", "receipt-ref"
        )
    if not receipt.references:
        raise _invalid("the receipt has no NonRepudiationInformation", "receipt-nri")
    echoed = {ref.uri: ref for ref in receipt.references}
    if len(echoed) != len(receipt.references) or set(echoed) != {ref.uri for ref in references}:
        raise _invalid("the receipt does not echo exactly the signed references", "receipt-nri")
    for ours in references:
        theirs = echoed[ours.uri]
        if theirs.digest_method != ours.digest_method or not hmac.compare_digest(
            theirs.digest_value, ours.digest_value
        ):
            raise _invalid(f"the receipt's digest for {ours.uri!r} differs from ours", "receipt-digest")


def verify_receipt(receipt: Receipt, sent: OutboundMessage) -> None:
    """Check a (signature-verified) receipt against the message we sent (EBMS:0302 on mismatch)."""
    check_receipt(receipt, sent.message_id, sent.signed_references)
