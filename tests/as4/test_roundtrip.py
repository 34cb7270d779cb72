"""Build -> parse round trips for user messages, receipts and error signals."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from lxml import etree

from accesspoint.as4 import (
    AnchorTrust,
    EbmsError,
    ErrorSignal,
    OutboundMessage,
    Receipt,
    Submission,
    build_error_signal,
    build_receipt,
    build_user_message,
    not_serviced,
    read_response,
    read_signal,
    read_user_message,
)
from accesspoint.as4 import constants as c
from accesspoint.as4 import errors as E
from accesspoint.pki import Credentials, DevPki
from tests.as4.conftest import OTHER, RECEIVER, SENDER, submission
from tests.as4.helpers import DOC_TYPE, NS, PROCESS, sbdh, take_apart


def test_round_trip_payload_and_metadata(
    message: OutboundMessage, receiver: Credentials, trust: AnchorTrust, payload: bytes, sender: Credentials
) -> None:
    received = read_user_message(message.content_type, message.body, keys=[receiver], trust=trust)
    assert received.payload == payload
    header = received.header
    assert header.message_id == message.message_id
    assert header.message_id.endswith("@ehfgate")
    assert header.conversation_id == message.conversation_id
    assert (header.from_party.value, header.to_party.value) == (SENDER, RECEIVER)
    assert header.from_party.type == header.to_party.type == "urn:fdc:peppol.eu:2017:identifiers:ap"
    assert header.from_role == c.ROLE_INITIATOR
    assert header.to_role == c.ROLE_RESPONDER
    assert header.agreement == "urn:fdc:peppol.eu:2017:agreements:tia:ap_provider"
    assert header.agreement_type is None
    assert (header.service, header.service_type) == (PROCESS, "cenbii-procid-ubl")
    assert header.action == f"busdox-docid-qns::{DOC_TYPE}"
    assert received.original_sender == "0192:810418052"
    assert received.final_recipient == "0192:991825827"
    prop = header.get_property("finalRecipient")
    assert prop is not None and prop.type == "iso6523-actorid-upis"
    assert header.timestamp is not None
    assert abs(header.timestamp - message.timestamp) < dt.timedelta(milliseconds=1)
    (part,) = header.parts
    assert part.mime_type == "application/xml"
    assert part.compression_type == "application/gzip"
    assert not received.is_ping
    assert received.signer == sender.certificate
    assert received.signed_references == message.signed_references


def test_wire_format(message: OutboundMessage, payload: bytes) -> None:
    assert message.headers["MIME-Version"] == "1.0"
    assert message.content_type.startswith("multipart/related;")
    assert 'type="application/soap+xml"' in message.content_type
    parts = take_apart(message.content_type, message.body)
    (headers, data) = parts.attachments[0]
    assert headers["Content-Type"] == "application/octet-stream"
    assert payload[:100] not in data and gzip.compress(payload)[:20] not in data  # encrypted
    security = parts.find("S12:Header/wsse:Security")
    tokens = security.findall("wsse:BinarySecurityToken", NS)
    assert len(tokens) == 2
    method = security.find("xenc:EncryptedKey/xenc:EncryptionMethod", NS)
    assert method is not None and method.get("Algorithm") == c.RSA_OAEP
    data_el = security.find("xenc:EncryptedData", NS)
    assert data_el is not None and data_el.get("Type") == c.ATTACHMENT_CONTENT_ONLY
    uris = [r.get("URI") for r in security.iterfind("ds:Signature/ds:SignedInfo/ds:Reference", NS)]
    messaging = parts.find("S12:Header/eb:Messaging")
    body = parts.find("S12:Body")
    assert uris == [
        f"#{messaging.get(c.WSU_ID)}",
        f"#{body.get(c.WSU_ID)}",
        f"cid:{headers['Content-ID'].strip('<>')}",
    ]
    user = messaging.find("eb:UserMessage", NS)
    assert user is not None and user.get("mpc") is None


def test_identifiers_accept_full_and_bare_forms(
    receiver: Credentials, sender: Credentials, trust: AnchorTrust
) -> None:
    full = submission(
        document_type=f"busdox-docid-qns::{DOC_TYPE}",
        process=f"cenbii-procid-ubl::{PROCESS}",
        original_sender="iso6523-actorid-upis::0192:810418052",
        conversation_id="conv-1",
        message_id="fixed-id@ehfgate",
    )
    out = build_user_message(full, b"<x/>", signer=sender, receiver_certificate=receiver.certificate)
    got = read_user_message(out.content_type, out.body, keys=[receiver], trust=trust)
    assert got.header.action == f"busdox-docid-qns::{DOC_TYPE}"
    assert got.header.service == PROCESS
    assert got.original_sender == "0192:810418052"
    assert (got.message_id, got.header.conversation_id) == ("fixed-id@ehfgate", "conv-1")


def test_ping_is_flagged(sender: Credentials, receiver: Credentials, trust: AnchorTrust) -> None:
    ping = Submission.ping(SENDER, RECEIVER, "0192:810418052", "0192:991825827")
    out = build_user_message(ping, b"<ping/>", signer=sender, receiver_certificate=receiver.certificate)
    got = read_user_message(out.content_type, out.body, keys=[receiver], trust=trust)
    assert got.is_ping
    assert got.header.service == c.PING_SERVICE and got.header.action == c.PING_ACTION


def test_empty_and_large_payloads(sender: Credentials, receiver: Credentials, trust: AnchorTrust) -> None:
    for data in (b"", sbdh(300_000)):
        out = build_user_message(submission(), data, signer=sender, receiver_certificate=receiver.certificate)
        assert read_user_message(out.content_type, out.body, keys=[receiver], trust=trust).payload == data


def test_key_rollover_tries_every_key(
    pki: DevPki, sender: Credentials, receiver: Credentials, trust: AnchorTrust
) -> None:
    renewed = pki.issue(RECEIVER)
    out = build_user_message(submission(), b"<a/>", signer=sender, receiver_certificate=renewed.certificate)
    got = read_user_message(out.content_type, out.body, keys=[receiver, renewed], trust=trust)
    assert got.payload == b"<a/>"
    old = build_user_message(submission(), b"<b/>", signer=sender, receiver_certificate=receiver.certificate)
    assert (
        read_user_message(old.content_type, old.body, keys=[renewed, receiver], trust=trust).payload
        == b"<b/>"
    )


def test_receiver_party_check(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> None:
    read_user_message(
        message.content_type, message.body, keys=[receiver], trust=trust, receiver_party=RECEIVER
    )
    with pytest.raises(EbmsError) as info:
        read_user_message(
            message.content_type, message.body, keys=[receiver], trust=trust, receiver_party=OTHER
        )
    assert info.value.code == "EBMS:0010"
    assert info.value.ref_to_message_id == message.message_id


def test_receipt_round_trip(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> None:
    received = read_user_message(message.content_type, message.body, keys=[receiver], trust=trust)
    answer = build_receipt(received, signer=receiver)
    assert answer.content_type.startswith("application/soap+xml")
    receipt = read_response(answer.content_type, answer.body, message, trust=trust)
    assert isinstance(receipt, Receipt)
    assert receipt.ref_to_message_id == message.message_id
    assert receipt.message_id == answer.message_id
    assert receipt.references == message.signed_references
    assert receipt.signer == receiver.certificate
    root = etree.fromstring(answer.body)
    nri = root.findall(
        ".//eb:Receipt/{http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0}NonRepudiationInformation/*", NS
    )
    assert len(nri) == 3


def test_error_signal_round_trip(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> None:
    error = not_serviced(
        "participant 0192:991825827 is not served here", ref_to_message_id=message.message_id
    )
    answer = build_error_signal([error])
    signal = read_response(answer.content_type, answer.body, message, trust=trust)
    assert isinstance(signal, ErrorSignal)
    assert not signal.authenticated and signal.signer is None
    assert signal.ref_to_message_id == message.message_id
    (err,) = signal.errors
    assert (err.code, err.severity, err.category) == ("EBMS:0004", "failure", "Content")
    assert err.is_not_serviced
    assert err.ref_to_message_in_error == message.message_id
    assert err.description == "participant 0192:991825827 is not served here"


def test_signed_error_signal(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> None:
    error = EbmsError(E.FAILED_DECRYPTION, "no key", ref_to_message_id=message.message_id)
    answer = build_error_signal([error], signer=receiver)
    signal = read_signal(answer.content_type, answer.body, trust=trust, party_id=RECEIVER)
    assert isinstance(signal, ErrorSignal)
    assert signal.authenticated and signal.signer == receiver.certificate
    assert signal.errors[0].code == "EBMS:0102"
    assert signal.errors[0].category == "Processing"
    # A signature by someone else is not "authenticated", but the error still parses.
    signal = read_signal(answer.content_type, answer.body, trust=trust, party_id=SENDER)
    assert isinstance(signal, ErrorSignal) and not signal.authenticated


def test_error_kinds_table() -> None:
    assert len({k.code for k in E.ALL_KINDS}) == len(E.ALL_KINDS) == 19
    assert E.KINDS_BY_CODE["EBMS:0103"].short_description == "PolicyNoncompliance"
    assert E.KINDS_BY_CODE["EBMS:0007"].category == E.Category.UNPACKAGING
    assert E.KINDS_BY_CODE["EBMS:0002"].severity == E.Severity.WARNING
    exc = EbmsError(E.DECOMPRESSION_FAILURE, "bad gzip")
    assert str(exc) == "EBMS:0303 DecompressionFailure: bad gzip"
