"""Property tests: hostile bytes only ever produce EbmsError, and a mutated message is never accepted
with different signed content."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accesspoint.as4 import (
    AnchorTrust,
    EbmsError,
    OutboundMessage,
    Receipt,
    SignalResponse,
    build_receipt,
    read_response,
    read_signal,
    read_user_message,
)
from accesspoint.as4.mime import parse_content_type, parse_multipart
from accesspoint.as4.profile import PEPPOL
from accesspoint.pki import Credentials

# AS4_EXAMPLES=5000 explores further (randomly); the default run is small and reproducible.
_EXAMPLES = os.environ.get("AS4_EXAMPLES")
FAST = settings(
    max_examples=int(_EXAMPLES or 150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=_EXAMPLES is None,
)


@FAST
@given(
    content_type=st.sampled_from(
        [
            'multipart/related; boundary="b"; type="application/soap+xml"',
            "multipart/related; boundary=b",
            "application/soap+xml",
            "text/plain",
        ]
    ),
    body=st.binary(max_size=2000),
)
def test_random_bytes_only_raise_ebms_errors(
    content_type: str, body: bytes, receiver: Credentials, trust: AnchorTrust
) -> None:
    try:
        read_user_message(content_type, body, keys=[receiver], trust=trust)
    except EbmsError:
        return
    raise AssertionError("random bytes were accepted")


_PART = st.builds(
    lambda headers, data: headers + b"\r\n\r\n" + data,
    st.sampled_from(
        [
            b"Content-Type: application/soap+xml",
            b"Content-ID: <a>\r\nContent-Transfer-Encoding: base64",
            b"Content-ID: <b>\r\n folded",
            b"",
            b"Bad Header",
        ]
    ),
    st.binary(max_size=200),
)


@FAST
@given(
    parts=st.lists(_PART, max_size=20),
    close=st.booleans(),
    noise=st.binary(max_size=30),
    newline=st.sampled_from([b"\r\n", b"\n"]),
)
def test_mime_parser_only_raises_ebms_errors(
    parts: list[bytes], close: bool, noise: bytes, newline: bytes
) -> None:
    body = noise + b"".join(newline + b"--b" + newline + p for p in parts)
    if close:
        body += newline + b"--b--" + newline
    try:
        parsed = parse_multipart(parse_content_type('multipart/related; boundary="b"'), body, PEPPOL.limits)
    except EbmsError:
        return
    assert 1 <= len(parsed) <= PEPPOL.limits.max_parts


@FAST
@given(data=st.data())
def test_mutated_message_never_accepted_with_other_content(
    data: st.DataObject, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust, payload: bytes
) -> None:
    body = bytearray(message.body)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        pos = data.draw(st.integers(0, len(body) - 1))
        if kind == "flip":
            body[pos] ^= data.draw(st.integers(1, 255))
        elif kind == "delete":
            del body[pos : pos + data.draw(st.integers(1, 64))]
        else:
            body[pos:pos] = data.draw(st.binary(min_size=1, max_size=16))
    try:
        got = read_user_message(message.content_type, bytes(body), keys=[receiver], trust=trust)
    except EbmsError:
        return
    # Accepted only if nothing that was signed changed (e.g. a byte in a MIME header's casing).
    assert got.payload == payload
    assert got.message_id == message.message_id
    assert got.signed_references == message.signed_references
    assert got.header.from_party.value == "POP000001"


@FAST
@given(data=st.data())
def test_mutated_soap_part_only_raises_ebms_errors(
    data: st.DataObject, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust, payload: bytes
) -> None:
    """Mutations aimed at the XML (where the interesting parsing is), printable to keep it well-formed-ish."""
    body = bytearray(message.body)
    soap_end = body.find(b"</S12:Envelope>")
    for _ in range(data.draw(st.integers(1, 2))):
        pos = data.draw(st.integers(0, soap_end))
        body[pos : pos + data.draw(st.integers(0, 3))] = data.draw(
            st.text(alphabet='<>/=": abcdefxyzS12ebwsuId#', max_size=6)
        ).encode()
    try:
        got = read_user_message(message.content_type, bytes(body), keys=[receiver], trust=trust)
    except EbmsError:
        return
    assert got.payload == payload
    assert got.signed_references == message.signed_references


@FAST
@given(body=st.binary(max_size=1500), soap=st.booleans())
def test_signal_reader_only_raises_ebms_errors(body: bytes, soap: bool, trust: AnchorTrust) -> None:
    content_type = "application/soap+xml" if soap else 'multipart/related; boundary="b"'
    try:
        read_signal(content_type, body, trust=trust)
    except EbmsError:
        return
    raise AssertionError("random bytes were accepted as a signal")


@FAST
@given(data=st.data())
def test_mutated_receipt_never_proves_other_content(
    data: st.DataObject, message: OutboundMessage, receiver: Credentials, trust: AnchorTrust
) -> None:
    answer = _receipt(message, receiver, trust)
    body = bytearray(answer.body)
    for _ in range(data.draw(st.integers(1, 2))):
        pos = data.draw(st.integers(0, len(body) - 1))
        body[pos : pos + data.draw(st.integers(0, 2))] = data.draw(st.binary(max_size=3))
    try:
        got = read_response(answer.content_type, bytes(body), message, trust=trust)
    except EbmsError:
        return
    if isinstance(got, Receipt):
        assert got.ref_to_message_id == message.message_id
        assert got.references == message.signed_references
        assert got.signer == receiver.certificate


_RECEIPTS: dict[str, SignalResponse] = {}


def _receipt(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> SignalResponse:
    if message.message_id not in _RECEIPTS:
        received = read_user_message(message.content_type, message.body, keys=[receiver], trust=trust)
        _RECEIPTS[message.message_id] = build_receipt(received, signer=receiver)
    return _RECEIPTS[message.message_id]
