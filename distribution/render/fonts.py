"""Embedded TrueType fonts for the renderer.

Why Bitstream Vera by default: it ships inside the ReportLab wheel (no system font paths, so the
output is the same on every machine), covers Latin-1 plus € and the Norwegian letters, and a
TrueType font is always embedded (subset) by ReportLab, which print providers require.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from distribution.render.design import DesignError, FontFamily

_VERA_DIR = Path(reportlab.__file__).resolve().parent / "fonts"
_lock = threading.Lock()
_registered: dict[str, FontPair] = {}


@dataclass(frozen=True, slots=True)
class FontPair:
    """The registered ReportLab names of a family's regular and bold faces."""

    regular: str
    bold: str


def _register(name: str, source: str | io.BytesIO) -> None:
    try:
        pdfmetrics.registerFont(TTFont(name, source))
    except Exception as exc:  # ReportLab raises bare TTFError/struct errors on a broken file
        raise DesignError(f"font {name} is not a usable TrueType font: {exc}") from None


def fonts_for(family: FontFamily | None) -> FontPair:
    """Register (once per process) and return the font names to draw with."""
    if family is None:
        key = "vera"
    else:
        digest = hashlib.sha256(family.regular + b"\0" + family.bold).hexdigest()[:12]
        key = f"{family.name}-{digest}"
    with _lock:
        pair = _registered.get(key)
        if pair is not None:
            return pair
        pair = FontPair(regular=f"ehf-{key}", bold=f"ehf-{key}-bold")
        if family is None:
            _register(pair.regular, str(_VERA_DIR / "Vera.ttf"))
            _register(pair.bold, str(_VERA_DIR / "VeraBd.ttf"))
        else:
            _register(pair.regular, io.BytesIO(family.regular))
            _register(pair.bold, io.BytesIO(family.bold))
        _registered[key] = pair
        return pair
