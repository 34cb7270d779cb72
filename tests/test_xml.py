"""The hardened parser: limits, DTD refusal, and only XMLError for any input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accesspoint.xml import (
    XMLDepthError,
    XMLDTDForbidden,
    XMLError,
    XMLLimits,
    XMLSizeError,
    XMLSyntaxError,
    parse_xml,
)


def test_plain_document() -> None:
    tree = parse_xml(b'<?xml version="1.0"?><a xmlns="urn:x"><b>1</b></a>')
    assert tree.getroot().tag == "{urn:x}a"


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE a SYSTEM "http://127.0.0.1:1/x.dtd"><a/>',
        b'<?xml version="1.0"?>\n<!-- c --><!doctype a><a/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode("utf-16"),
        b'<!DOCTYPE a [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><a/>',
    ],
)
def test_any_doctype_is_refused(data: bytes) -> None:
    with pytest.raises(XMLDTDForbidden):
        parse_xml(data)


def test_limits() -> None:
    with pytest.raises(XMLSizeError):
        parse_xml(b"<a>" + b"x" * 100 + b"</a>", limits=XMLLimits(max_bytes=50))
    with pytest.raises(XMLDepthError):
        parse_xml(b"<a>" * 30 + b"</a>" * 30, limits=XMLLimits(max_depth=20))
    assert parse_xml(b"<a>" * 20 + b"</a>" * 20, limits=XMLLimits(max_depth=20)) is not None


def test_undefined_entity_is_a_syntax_error() -> None:
    with pytest.raises(XMLSyntaxError):
        parse_xml(b"<a>&undefined;</a>")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_xml_errors(data: bytes) -> None:
    with contextlib.suppress(XMLError):
        parse_xml(data)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="<>/a!&;=\"' ?xml[]DOCTYPE-", max_size=200))
def test_markup_soup_only_ever_raises_xml_errors(text: str) -> None:
    with contextlib.suppress(XMLError):
        parse_xml(text.encode())
