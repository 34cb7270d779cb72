"""Per-tenant look of the rendered invoice: logo, colours, footer text, language and font.

Validated on construction so a bad tenant setting fails when it is saved, not when an invoice is
sent at night.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Language = Literal["nb", "en"]
LANGUAGES: tuple[Language, ...] = ("nb", "en")

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_FONT_BYTES = 20 * 1024 * 1024
MAX_FOOTER_CHARS = 400

_HEX_COLOUR = re.compile(r"#?[0-9a-fA-F]{6}")
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_TRUETYPE = (b"\x00\x01\x00\x00", b"true")


class DesignError(ValueError):
    """A design setting that cannot be used (bad colour, unknown language, not a PNG/JPEG logo)."""


@dataclass(frozen=True, slots=True)
class FontFamily:
    """A TrueType family supplied by the tenant (bytes, never a path: fonts are always embedded)."""

    name: str
    regular: bytes
    bold: bytes

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", self.name):
            raise DesignError("font name: 1-40 letters, digits, '-' or '_'")
        for face in (self.regular, self.bold):
            if len(face) > MAX_FONT_BYTES or not face.startswith(_TRUETYPE):
                raise DesignError("font faces must be TrueType (.ttf) files of at most 20 MiB")


@dataclass(frozen=True, slots=True)
class Design:
    """How one tenant's invoices look. ``font=None`` uses Bitstream Vera, shipped with ReportLab."""

    logo: bytes | None = None
    primary_colour: str = "#1f3a5f"
    accent_colour: str = "#d9822b"
    footer_text: str = ""
    language: Language = "nb"
    font: FontFamily | None = None

    def __post_init__(self) -> None:
        for label, colour in (("primary", self.primary_colour), ("accent", self.accent_colour)):
            if not _HEX_COLOUR.fullmatch(colour):
                raise DesignError(f"{label} colour must be a hex colour like #1f3a5f, got {colour!r}")
        if self.language not in LANGUAGES:
            raise DesignError(f"language must be one of {', '.join(LANGUAGES)}, got {self.language!r}")
        if len(self.footer_text) > MAX_FOOTER_CHARS:
            raise DesignError(f"footer text is longer than {MAX_FOOTER_CHARS} characters")
        if self.logo is not None:
            if len(self.logo) > MAX_LOGO_BYTES:
                raise DesignError("logo is larger than 2 MiB")
            if not self.logo.startswith((_PNG, _JPEG)):
                raise DesignError("logo must be a PNG or JPEG image")


def hex_to_rgb(colour: str) -> tuple[float, float, float]:
    """``#rrggbb`` as ReportLab's 0..1 floats."""
    value = colour.lstrip("#")
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


def tint(rgb: tuple[float, float, float], amount: float) -> tuple[float, float, float]:
    """Mix a colour with white (``amount`` 0..1 of white): light backgrounds from brand colours."""
    r, g, b = rgb
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)
