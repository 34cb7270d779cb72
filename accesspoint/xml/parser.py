"""The single lxml parser configuration used across ehfgate.

Why a pre-scan for ``<!DOCTYPE``: libxml2 would parse a DTD's declarations even with entity
expansion off; refusing the declaration before parsing closes billion-laughs, external entities
and parameter-entity tricks in one place. Depth is bounded by libxml2 itself (it refuses nesting
beyond 256 without ``huge_tree``) and, below that, by our own limit checked on the parsed tree.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from lxml import etree

from accesspoint.xml.errors import XMLDepthError, XMLDTDForbidden, XMLSizeError, XMLSyntaxError


@dataclass(frozen=True, slots=True)
class XMLLimits:
    """Bounds for one parse. libxml2 itself refuses nesting beyond 256 (without ``huge_tree``), so a
    ``max_depth`` of 256 costs nothing; a lower one is checked with a walk over the parsed tree."""

    max_bytes: int = 100 * 1024 * 1024
    max_depth: int = 256


DEFAULT_LIMITS = XMLLimits()

# A DOCTYPE may only appear in the prolog, i.e. before the first element. In UTF-16/32 the ASCII
# markup is interleaved with NULs, so the scan strips them first (prolog only, so it is cheap).
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_LIBXML_DEPTH = "Excessive depth"
LIBXML_MAX_DEPTH = 256


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


# lxml parsers are not thread-safe to share while parsing; each thread gets its own lazily.
_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _make_parser()
        _local.parser = parser
    return parser


def _prolog(data: bytes) -> bytes:
    head = data[:4096]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]:
        head = data[:65536].replace(b"\x00", b"")
    match = _FIRST_ELEMENT.search(head)
    if match is None:
        return head
    return head[: match.start()]


def _check_depth(root: etree._Element, limit: int) -> None:
    # Iterative walk: cheap compared to parsing, and never recursive on hostile input.
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > limit:
            raise XMLDepthError(f"elements nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in element)


def parse_xml(data: bytes, *, limits: XMLLimits = DEFAULT_LIMITS) -> etree._ElementTree:
    """Parse untrusted bytes into a tree, or raise a precise :class:`XMLError`."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_xml takes bytes")
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise XMLSizeError(f"document is {len(data)} bytes; the limit is {limits.max_bytes}")
    if not data.strip():
        raise XMLSyntaxError("document is empty")
    if _DOCTYPE.search(_prolog(data)):
        raise XMLDTDForbidden("a DOCTYPE declaration is not allowed (DTDs and entities are refused)")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc)
        if _LIBXML_DEPTH in message:
            raise XMLDepthError("elements nested too deeply", line=exc.lineno) from None
        if "DOCTYPE" in message:
            raise XMLDTDForbidden(message, line=exc.lineno) from None
        raise XMLSyntaxError(message, line=exc.lineno) from None
    tree = root.getroottree()
    docinfo: Any = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XMLDTDForbidden("a DOCTYPE declaration is not allowed (DTDs and entities are refused)")
    if limits.max_depth < LIBXML_MAX_DEPTH:
        _check_depth(root, limits.max_depth)
    return tree


def serialize_c14n(element: etree._Element, *, exclusive: bool = True) -> bytes:
    """Canonical bytes of an element (exclusive C14N by default), for digests and comparisons."""
    return etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=False)
