"""MIME ``multipart/related`` (SOAP with Attachments): build, and parse with bounds.

Parsing never copies a binary part: each part's content is a ``memoryview`` into the body, so a
100 MB attachment costs no extra memory here. Every framing problem raises EBMS:0007.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from accesspoint.as4.errors import MIME_INCONSISTENCY, EbmsError
from accesspoint.as4.profile import Limits

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_BOUNDARY_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
_MAX_PREAMBLE = 64 * 1024


def _mime_error(text: str) -> EbmsError:
    return EbmsError(MIME_INCONSISTENCY, text, reason="mime")


@dataclass(frozen=True, slots=True)
class ContentType:
    """A parsed Content-Type: lower-case ``mime_type`` and parameters (lower-case names)."""

    mime_type: str
    params: Mapping[str, str]


def parse_content_type(value: str) -> ContentType:
    """Parse ``type/subtype; name=value; name="quoted value"`` (header folding tolerated)."""
    text = value.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()
    if len(text) > 4096:
        raise _mime_error("Content-Type header too long")
    head, _, rest = text.partition(";")
    mime_type = head.strip().lower()
    kind, slash, sub = mime_type.partition("/")
    if not slash or not kind or not sub or not set(kind + sub) <= _TOKEN_CHARS:
        raise _mime_error(f"malformed Content-Type {value[:80]!r}")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " ;":
            i += 1
        if i >= n:
            break
        eq = rest.find("=", i)
        if eq < 0:
            raise _mime_error("Content-Type parameter without a value")
        name = rest[i:eq].strip().lower()
        if not name or not set(name) <= _TOKEN_CHARS:
            raise _mime_error("malformed Content-Type parameter name")
        i = eq + 1
        while i < n and rest[i] == " ":
            i += 1
        if i < n and rest[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(rest[i])
                i += 1
            if i >= n:
                raise _mime_error("unterminated quoted string in Content-Type")
            i += 1
            param = "".join(chars)
        else:
            end = rest.find(";", i)
            end = n if end < 0 else end
            param = rest[i:end].strip()
            i = end
        if name in params:
            raise _mime_error(f"Content-Type parameter {name!r} repeated")
        params[name] = param
    return ContentType(mime_type, MappingProxyType(params))


@dataclass(frozen=True, slots=True)
class MimePart:
    """One body part. ``headers`` has lower-case names; ``content`` is transfer-decoded."""

    headers: Mapping[str, str]
    content: memoryview

    @property
    def content_type(self) -> ContentType:
        return parse_content_type(self.headers.get("content-type", "text/plain"))

    @property
    def content_id(self) -> str | None:
        raw = self.headers.get("content-id")
        if raw is None:
            return None
        raw = raw.strip()
        if raw.startswith("<") and raw.endswith(">"):
            raw = raw[1:-1]
        return raw


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    last: str | None = None
    for raw_line in block.split(b"\n"):
        line = raw_line.rstrip(b"\r").decode("latin-1")
        if not line:
            continue
        if line[0] in " \t":
            if last is None:
                raise _mime_error("MIME header continuation without a header")
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name or not set(name) <= _TOKEN_CHARS:
            raise _mime_error(f"malformed MIME part header {line[:60]!r}")
        if name in headers:
            raise _mime_error(f"MIME part header {name!r} repeated")
        headers[name] = value.strip()
        last = name
    return headers


def _line_end(body: bytes, pos: int) -> int:
    """Skip transport padding after a delimiter; return the index after its line break."""
    while pos < len(body) and body[pos] in b" \t":
        pos += 1
    if body.startswith(b"\r\n", pos):
        return pos + 2
    if body.startswith(b"\n", pos):
        return pos + 1
    raise _mime_error("MIME boundary line not terminated")


def _decode(headers: Mapping[str, str], content: memoryview) -> memoryview:
    encoding = headers.get("content-transfer-encoding", "binary").strip().lower()
    if encoding in ("binary", "8bit", "7bit"):
        return content
    if encoding == "base64":
        try:  # strict: only line breaks may interrupt the alphabet (rare in AS4, so a copy is fine)
            compact = bytes(content).translate(None, b" \t\r\n")
            return memoryview(base64.b64decode(compact, validate=True))
        except (binascii.Error, ValueError):
            raise _mime_error("invalid base64 content in MIME part") from None
    raise _mime_error(f"unsupported Content-Transfer-Encoding {encoding!r}")


def parse_multipart(content_type: ContentType, body: bytes, limits: Limits) -> list[MimePart]:
    """Split a multipart body into parts, root first (the ``start`` part, else the first one)."""
    boundary = content_type.params.get("boundary", "")
    if not 1 <= len(boundary) <= 70 or not set(boundary) <= _BOUNDARY_CHARS or boundary.endswith(" "):
        raise _mime_error("missing or invalid multipart boundary")
    if len(body) > limits.max_message_bytes:
        raise _mime_error(f"message of {len(body)} bytes exceeds the limit of {limits.max_message_bytes}")
    delimiter = b"--" + boundary.encode("ascii")
    # The first delimiter may open the body; later ones start a line.
    if body.startswith(delimiter):
        pos = len(delimiter)
    else:
        opening = body.find(b"\n" + delimiter, 0, _MAX_PREAMBLE + len(delimiter) + 1)
        if opening < 0:
            raise _mime_error("multipart body has no opening boundary")
        pos = opening + 1 + len(delimiter)
    if body.startswith(b"--", pos):
        raise _mime_error("multipart body has no parts")
    pos = _line_end(body, pos)
    view = memoryview(body)
    parts: list[MimePart] = []
    closed = False
    while not closed:
        nxt = body.find(b"\n" + delimiter, pos)
        if nxt < 0:
            raise _mime_error("multipart body truncated (no closing boundary)")
        end = nxt - 1 if nxt > pos and body[nxt - 1] == 0x0D else nxt
        after = nxt + 1 + len(delimiter)
        if body.startswith(b"--", after):
            closed = True
        else:
            after = _line_end(body, after)
        parts.append(_make_part(view, pos, end, limits))
        if len(parts) > limits.max_parts:
            raise _mime_error(f"more than {limits.max_parts} MIME parts")
        pos = after
    return _root_first(parts, content_type.params.get("start"))


def _make_part(view: memoryview, start: int, end: int, limits: Limits) -> MimePart:
    raw = view[start:end]
    lead = bytes(raw[:2])
    if lead == b"\r\n" or lead[:1] == b"\n":  # no headers at all
        return MimePart(MappingProxyType({}), raw[len(lead) if lead == b"\r\n" else 1 :])
    window = bytes(raw[: limits.max_part_header_bytes + 4])
    crlf, lf = window.find(b"\r\n\r\n"), window.find(b"\n\n")
    candidates = [(crlf, 4), (lf, 2)]
    found = [(idx, size) for idx, size in candidates if idx >= 0]
    if not found:
        raise _mime_error("MIME part headers too long or not terminated")
    idx, size = min(found)
    headers = _parse_headers(window[:idx])
    return MimePart(MappingProxyType(headers), _decode(headers, raw[idx + size :]))


def _root_first(parts: list[MimePart], start: str | None) -> list[MimePart]:
    if not start:
        return parts
    wanted = start.strip().strip("<>")
    matches = [i for i, part in enumerate(parts) if part.content_id == wanted]
    if len(matches) != 1:
        raise _mime_error("the multipart 'start' parameter names no single part")
    root = parts.pop(matches[0])
    return [root, *parts]


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment to write: Content-ID without brackets, its Content-Type and bytes."""

    content_id: str
    content_type: str
    data: bytes


def build_multipart(
    root: bytes, root_content_type: str, attachments: Sequence[Attachment]
) -> tuple[str, bytes]:
    """Serialise root + attachments; returns (the HTTP Content-Type, the body)."""
    boundary = f"----=_Part_{uuid.uuid4().hex}"
    delimiter = b"--" + boundary.encode("ascii")
    if delimiter in root or any(delimiter in att.data for att in attachments):
        return build_multipart(root, root_content_type, attachments)  # 2**-122 chance: draw again
    pieces: list[bytes] = [
        delimiter,
        b"\r\nContent-Type: ",
        root_content_type.encode("ascii"),
        b"\r\nContent-Transfer-Encoding: binary\r\n\r\n",
        root,
    ]
    for att in attachments:
        head = (
            f"\r\n--{boundary}\r\nContent-Type: {att.content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{att.content_id}>\r\n\r\n"
        )
        pieces.append(head.encode("ascii"))
        pieces.append(att.data)
    pieces.append(b"\r\n" + delimiter + b"--\r\n")
    content_type = f'multipart/related; boundary="{boundary}"; type="application/soap+xml"'
    return content_type, b"".join(pieces)
