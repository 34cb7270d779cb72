"""Precise error types for rejected XML input."""

from __future__ import annotations


class XMLError(ValueError):
    """Input that is not acceptable XML. ``code`` is a stable machine-readable name."""

    code = "xml-invalid"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class XMLSyntaxError(XMLError):
    """Not well-formed XML (including truncated input and empty input)."""

    code = "xml-not-well-formed"


class XMLDTDForbidden(XMLError):
    """A document type declaration: refused outright, which also rules out entity tricks."""

    code = "xml-dtd-forbidden"


class XMLSizeError(XMLError):
    """Input larger than the configured byte limit."""

    code = "xml-too-large"


class XMLDepthError(XMLError):
    """Elements nested deeper than the configured limit."""

    code = "xml-too-deep"
