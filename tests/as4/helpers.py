"""Test helpers: build messages, take them apart and put them back together like an attacker would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from accesspoint.as4 import constants as c
from accesspoint.as4.mime import parse_content_type, parse_multipart
from accesspoint.as4.profile import PEPPOL
from accesspoint.as4.xmldsig import canonicalize, encode_base64, sha256
from tests.conftest import shared_dir

DOC_TYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS = {"S12": c.SOAP12, "eb": c.EB, "wsse": c.WSSE, "ds": c.DS, "xenc": c.XENC, "wsu": c.WSU}


def as4_corpus() -> Path:
    return shared_dir() / "corpus" / "as4"


def sbdh(size: int = 2000) -> bytes:
    """A payload that looks like an SBDH document (compressible, like real invoices)."""
    line = b"<cac:InvoiceLine><cbc:ID>%d</cbc:ID><cbc:Note>item</cbc:Note></cac:InvoiceLine>\n"
    body = bytearray(b'<?xml version="1.0"?><StandardBusinessDocument>')
    n = 0
    while len(body) < size:
        body += line % n
        n += 1
    body += b"</StandardBusinessDocument>"
    return bytes(body)


@dataclass
class Parts:
    """A MIME message taken apart: the SOAP tree and the attachments as (headers, bytes)."""

    boundary: str
    root: etree._Element
    attachments: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def find(self, path: str) -> etree._Element:
        found = self.root.find(path, NS)
        assert found is not None, path
        return found

    @property
    def content_type(self) -> str:
        return f'multipart/related; boundary="{self.boundary}"; type="application/soap+xml"'

    def body(self, soap: bytes | None = None) -> bytes:
        delim = f"--{self.boundary}".encode()
        out = [delim, b"\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n\r\n"]
        out.append(soap if soap is not None else etree.tostring(self.root))
        for headers, data in self.attachments:
            out.append(b"\r\n" + delim + b"\r\n")
            out.extend(f"{k}: {v}\r\n".encode() for k, v in headers.items())
            out.append(b"\r\n" + data)
        out.append(b"\r\n" + delim + b"--\r\n")
        return b"".join(out)


def take_apart(content_type: str, body: bytes) -> Parts:
    parsed = parse_content_type(content_type)
    parts = parse_multipart(parsed, body, PEPPOL.limits)
    root = etree.fromstring(bytes(parts[0].content))
    attachments = [(_titled(p.headers), bytes(p.content)) for p in parts[1:]]
    return Parts(parsed.params["boundary"], root, attachments)


def _titled(headers: Mapping[str, str]) -> dict[str, str]:
    names = {"content-type": "Content-Type", "content-id": "Content-ID"}
    return {names.get(k, k.title()): v for k, v in headers.items()}


def resign(root: etree._Element, key: rsa.RSAPrivateKey) -> None:
    """Recompute SignatureValue over the (edited) SignedInfo: a peer holding a trusted key signing
    something malicious, so tests reach the checks behind the signature value."""
    signed_info = root.find(".//ds:SignedInfo", NS)
    value = root.find(".//ds:SignatureValue", NS)
    assert signed_info is not None and value is not None
    value.text = encode_base64(key.sign(canonicalize(signed_info), padding.PKCS1v15(), hashes.SHA256()))


def redigest_and_resign(root: etree._Element, key: rsa.RSAPrivateKey) -> None:
    """After editing signed XML: recompute every element digest, then the signature value."""
    for ref in root.iterfind(".//ds:SignedInfo/ds:Reference", NS):
        uri = ref.get("URI", "")
        if not uri.startswith("#"):
            continue
        target = root.find(f".//*[@{{{c.WSU}}}Id='{uri[1:]}']")
        digest = ref.find("ds:DigestValue", NS)
        assert digest is not None and target is not None
        digest.text = encode_base64(sha256(canonicalize(target)))
    resign(root, key)


def past(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


def split_http(raw: bytes) -> tuple[str, bytes]:
    """A captured HTTP response or MIME file: (Content-Type, body)."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    cut, size = (crlf, 4) if crlf >= 0 and (lf < 0 or crlf < lf) else (lf, 2)
    head, body = raw[:cut].decode("latin-1"), raw[cut + size :]
    unfolded = head.replace("\r\n", "\n").replace("\n\t", " ").replace("\n ", " ")
    for line in unfolded.split("\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            return value.strip(), body
    raise AssertionError("no Content-Type")
