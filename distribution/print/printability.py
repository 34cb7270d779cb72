"""Checks a print provider makes before it prints a page: A4, fonts embedded.

Fonts: a font that is not one of the PDF standard 14 must be embedded (Digipost's printability
rule), or the printer substitutes another and the layout moves. Form XObjects are searched too,
since a page often draws its text inside one.
"""

from __future__ import annotations

from typing import Any

from pypdf import PageObject
from pypdf.generic import DictionaryObject

STANDARD_FONTS = frozenset(
    {
        "Courier",
        "Courier-Bold",
        "Courier-BoldOblique",
        "Courier-Oblique",
        "Helvetica",
        "Helvetica-Bold",
        "Helvetica-BoldOblique",
        "Helvetica-Oblique",
        "Symbol",
        "Times-Roman",
        "Times-Bold",
        "Times-BoldItalic",
        "Times-Italic",
        "ZapfDingbats",
    }
)
FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
MAX_DEPTH = 8  # nested form XObjects searched for fonts


def page_size(page: PageObject) -> tuple[float, float]:
    """Width and height in points as the page is shown (after its /Rotate)."""
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    if (page.rotation or 0) % 180:
        width, height = height, width
    return width, height


def _resolved(value: Any) -> Any:
    return value.get_object() if hasattr(value, "get_object") else value


def _is_embedded(font: DictionaryObject) -> bool:
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return True  # glyphs are content streams in the file itself
    if subtype == "/Type0":
        descendants = _resolved(font.get("/DescendantFonts"))
        if not descendants:
            return False
        font = _resolved(descendants[0])
    descriptor = _resolved(font.get("/FontDescriptor"))
    return descriptor is not None and any(key in descriptor for key in FONT_FILES)


def _base_name(font: DictionaryObject) -> str:
    name = str(font.get("/BaseFont", "")).lstrip("/")
    prefix, plus, rest = name.partition("+")
    return rest if plus and len(prefix) == 6 else name


def unembedded_fonts(page: PageObject) -> set[str]:
    """Names of the fonts this page uses that are neither embedded nor standard."""
    found: set[str] = set()
    seen: set[int] = set()

    def visit(resources: Any, depth: int) -> None:
        resources = _resolved(resources)
        if not isinstance(resources, DictionaryObject) or depth > MAX_DEPTH or id(resources) in seen:
            return
        seen.add(id(resources))
        fonts = _resolved(resources.get("/Font"))
        if isinstance(fonts, DictionaryObject):
            for value in fonts.values():
                font = _resolved(value)
                if not isinstance(font, DictionaryObject) or _is_embedded(font):
                    continue
                name = _base_name(font)
                if name not in STANDARD_FONTS:
                    found.add(name or "(unnamed font)")
        xobjects = _resolved(resources.get("/XObject"))
        if isinstance(xobjects, DictionaryObject):
            for value in xobjects.values():
                xobject = _resolved(value)
                if isinstance(xobject, DictionaryObject) and xobject.get("/Subtype") == "/Form":
                    visit(xobject.get("/Resources"), depth + 1)

    visit(page.get("/Resources"), 0)
    return found
