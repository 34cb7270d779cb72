"""A receipt proves delivery only if it is signed by the party we sent to and echoes what we signed."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from accesspoint.as4 import (
    AnchorTrust,
    EbmsError,
    OutboundMessage,
    Receipt,
    ReceivedMessage,
    SignedReference,
    build_receipt,
    build_user_message,
    read_response,
    read_user_message,
)
from accesspoint.as4 import constants as c
from accesspoint.as4.receipt import build_signal_envelope, finish_signal
from accesspoint.pki import Credentials, DevPki
from tests.as4.conftest import OTHER, RECEIVER, submission
from tests.as4.helpers import NS


@pytest.fixture(scope="module")
def received(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> ReceivedMessage:
    return read_user_message(message.content_type, message.body, keys=[receiver], trust=trust)


def _refuse(answer_ct: str, answer: bytes, sent: OutboundMessage, trust: AnchorTrust) -> EbmsError:
    with pytest.raises(EbmsError) as info:
        read_response(answer_ct, answer, sent, trust=trust)
    return info.value


def test_receipt_for_another_message(
    received: ReceivedMessage, sender: Credentials, receiver: Credentials, trust: AnchorTrust
) -> None:
    other = build_user_message(
        submission(), b"<x/>", signer=sender, receiver_certificate=receiver.certificate
    )
    answer = build_receipt(received, signer=receiver)
    err = _refuse(answer.content_type, answer.body, other, trust)
    assert (err.code, err.reason) == ("EBMS:0302", "receipt-ref")


def test_receipt_with_other_digests(
    received: ReceivedMessage, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust
) -> None:
    """Validly signed, right MessageId, but it acknowledges different content."""
    first = received.signed_references[0]
    changed = SignedReference(first.uri, first.digest_method, bytes(32), first.transforms)
    forged = dataclasses.replace(received, signed_references=(changed, *received.signed_references[1:]))
    answer = build_receipt(forged, signer=receiver)
    err = _refuse(answer.content_type, answer.body, message, trust)
    assert (err.code, err.reason) == ("EBMS:0302", "receipt-digest")


def test_receipt_missing_a_reference(
    received: ReceivedMessage, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust
) -> None:
    partial = dataclasses.replace(received, signed_references=received.signed_references[:2])
    answer = build_receipt(partial, signer=receiver)
    err = _refuse(answer.content_type, answer.body, message, trust)
    assert (err.code, err.reason) == ("EBMS:0302", "receipt-nri")


def test_receipt_without_nri(
    received: ReceivedMessage, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust
) -> None:
    answer = build_receipt(dataclasses.replace(received, signed_references=()), signer=receiver)
    err = _refuse(answer.content_type, answer.body, message, trust)
    assert (err.code, err.reason) == ("EBMS:0302", "receipt-nri")


def test_unsigned_receipt(received: ReceivedMessage, message: OutboundMessage, trust: AnchorTrust) -> None:
    envelope, signal = build_signal_envelope(message.message_id, message.timestamp, "r@x", signed=False)
    etree.SubElement(signal, f"{{{c.EB}}}Receipt")
    answer = finish_signal(envelope, None, "r@x")
    err = _refuse(answer.content_type, answer.body, message, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "unsigned")


def test_receipt_from_another_ap(
    received: ReceivedMessage, message: OutboundMessage, pki: DevPki, trust: AnchorTrust
) -> None:
    answer = build_receipt(received, signer=pki.ap(OTHER))
    err = _refuse(answer.content_type, answer.body, message, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "certificate-party")


def test_receipt_from_untrusted_ca(
    received: ReceivedMessage, message: OutboundMessage, foreign_pki: DevPki, pki: DevPki
) -> None:
    impostor = foreign_pki.issue(RECEIVER)
    answer = build_receipt(received, signer=impostor)
    err = _refuse(answer.content_type, answer.body, message, AnchorTrust(pki.anchors, pki.intermediates))
    assert (err.code, err.reason) == ("EBMS:0101", "certificate-untrusted")


def test_tampered_receipt(
    received: ReceivedMessage, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust
) -> None:
    answer = build_receipt(received, signer=receiver)
    root = etree.fromstring(answer.body)
    ref = root.find(".//eb:Receipt//ds:Reference/ds:DigestValue", NS)
    assert ref is not None
    ref.text = "A" * 43 + "="
    err = _refuse(answer.content_type, etree.tostring(root), message, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "digest")


def test_valid_receipt_is_evidence(
    received: ReceivedMessage, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust
) -> None:
    answer = build_receipt(received, signer=receiver)
    receipt = read_response(answer.content_type, answer.body, message, trust=trust)
    assert isinstance(receipt, Receipt)
    assert receipt.envelope == answer.body
    # The evidence re-verifies later from the stored bytes alone.
    again = read_response("application/soap+xml", receipt.envelope, message, trust=trust)
    assert isinstance(again, Receipt) and again.message_id == receipt.message_id
