"""Hardened XML parsing shared by every module that reads XML from outside.

One parser configuration: no DTDs, no entity expansion, no network access, bounded input
size and nesting depth. Every failure is an :class:`XMLError` subclass that says which limit
or rule was broken, so callers can map it to an HTTP status or an ebMS error without string
matching.
"""

from accesspoint.xml.errors import (
    XMLDepthError,
    XMLDTDForbidden,
    XMLError,
    XMLSizeError,
    XMLSyntaxError,
)
from accesspoint.xml.parser import DEFAULT_LIMITS, XMLLimits, parse_xml, serialize_c14n

__all__ = [
    "DEFAULT_LIMITS",
    "XMLDTDForbidden",
    "XMLDepthError",
    "XMLError",
    "XMLLimits",
    "XMLSizeError",
    "XMLSyntaxError",
    "parse_xml",
    "serialize_c14n",
]
