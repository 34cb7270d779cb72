"""MIME multipart/related framing: what real peers send, and the bounds."""

from __future__ import annotations

import base64

import pytest

from accesspoint.as4 import EbmsError, Limits
from accesspoint.as4.mime import Attachment, build_multipart, parse_content_type, parse_multipart
from accesspoint.as4.profile import PEPPOL

CT = parse_content_type('multipart/related; boundary="=_b"; type="application/soap+xml"')


def test_content_type_parameters() -> None:
    parsed = parse_content_type(
        'Multipart/Related;\r\n\tboundary="----=_Part_0_58.14"; \r\n\ttype="application/soap+xml";'
        ' start="<r@x>"'
    )
    assert parsed.mime_type == "multipart/related"
    assert dict(parsed.params) == {
        "boundary": "----=_Part_0_58.14",
        "type": "application/soap+xml",
        "start": "<r@x>",
    }
    assert parse_content_type('a/b; x="q\\"uote"').params["x"] == 'q"uote'
    for bad in ("", "nonsense", "a/b; x", 'a/b; x="open', "a/b; x=1; x=2", "a /"):
        with pytest.raises(EbmsError):
            parse_content_type(bad)


def test_round_trip_and_views() -> None:
    tricky = Attachment("p1@x", "application/octet-stream", b"\r\n--=_b\r\nA")
    content_type, body = build_multipart(b"<soap/>", "application/soap+xml", [tricky])
    parts = parse_multipart(parse_content_type(content_type), body, PEPPOL.limits)
    assert [bytes(p.content) for p in parts] == [b"<soap/>", b"\r\n--=_b\r\nA"]
    assert parts[1].content_id == "p1@x"
    assert isinstance(parts[1].content, memoryview)


def test_lf_only_preamble_epilogue_base64_and_start() -> None:
    body = (
        b"preamble\n--=_b\nContent-Type: application/xml\nContent-ID: <a@x>\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(b"payload") + b"\n"
        b"--=_b  \nContent-Type: application/soap+xml\nContent-ID: <root@x>\n\n<s/>\n--=_b--\nepilogue"
    )
    ct = parse_content_type('multipart/related; boundary="=_b"; start="<root@x>"')
    root, att = parse_multipart(ct, body, PEPPOL.limits)
    assert bytes(root.content) == b"<s/>" and root.content_id == "root@x"
    assert bytes(att.content) == b"payload"


@pytest.mark.parametrize(
    "body",
    [
        b"--=_b\r\n\r\nx",  # never closed
        b"no boundary at all",
        b"--=_b--\r\n",  # no parts
        b"--=_b\r\nBad Header\r\n\r\nx\r\n--=_b--",
        b"--=_b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx\r\n--=_b--",
        b"--=_b\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--=_b--",
        b"--=_b\r\nA: 1\r\nA: 2\r\n\r\nx\r\n--=_b--",
        b"--=_bX\r\n\r\nx\r\n--=_b--",
    ],
)
def test_malformed(body: bytes) -> None:
    with pytest.raises(EbmsError) as info:
        parse_multipart(CT, body, PEPPOL.limits)
    assert info.value.code == "EBMS:0007"


def test_limits() -> None:
    many = b"".join(b"--=_b\r\n\r\nx\r\n" for _ in range(20)) + b"--=_b--\r\n"
    with pytest.raises(EbmsError, match="MIME parts"):
        parse_multipart(CT, many, Limits(max_parts=5))
    long_header = b"--=_b\r\nX: " + b"a" * 40_000 + b"\r\n\r\nx\r\n--=_b--"
    with pytest.raises(EbmsError, match="headers too long"):
        parse_multipart(CT, long_header, PEPPOL.limits)
    with pytest.raises(EbmsError, match="exceeds"):
        parse_multipart(CT, b"--=_b\r\n\r\n" + b"x" * 2000 + b"\r\n--=_b--", Limits(max_message_bytes=1000))
