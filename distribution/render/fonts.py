"""Embedded TrueType fonts for the renderer.

Why Bitstream Vera by default: it ships inside the ReportLab wheel (no system font paths, so the
output is the same on every machine), covers Latin-1 plus € and the Norwegian letters, and a
TrueType font is always embedded (subset) by ReportLab, which print providers require.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import reportlab
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace

from distribution.render.design import DesignError, FontFamily

_VERA_DIR = Path(reportlab.__file__).resolve().parent / "fonts"
_lock = threading.Lock()
_registered: dict[str, FontPair] = {}
_cache_lock = threading.Lock()
SUBSET_CACHE_SIZE = 32  # distinct subsets kept per font; one takes about 50 kB


@dataclass(frozen=True, slots=True)
class FontPair:
    """The registered ReportLab names of a family's regular and bold faces."""

    regular: str
    bold: str


_Key = tuple[bytes, str, tuple[int, ...]]  # font file, ToUnicode CMap, widths: as ReportLab made them
_Cached = tuple[bytes, bytes, bytes]  # the compressed font file, the compressed CMap, the /Widths array


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    with _cache_lock:
        cache[key] = value
        while len(cache) > SUBSET_CACHE_SIZE:
            cache.popitem(last=False)


def _recall(cache: OrderedDict[Any, Any], key: Any) -> Any:
    with _cache_lock:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
        return value


class _SubsetCachingFace(TTFontFace):  # type: ignore[misc]  # ReportLab has no type hints
    """A face that builds each distinct subset font file once per process (see ``EmbeddedFont``)."""

    _subsets: OrderedDict[tuple[int, ...], bytes]

    def makeSubset(self, subset: list[int]) -> bytes:
        key = tuple(subset)
        data: bytes | None = _recall(self._subsets, key)
        if data is None:
            data = super().makeSubset(subset)
            _remember(self._subsets, key, data)
        return data


class EmbeddedFont(TTFont):  # type: ignore[misc]  # ReportLab has no type hints
    """A TrueType font, embedded as a subset like any TTFont, whose subset objects are cached.

    Why: building the subset font file, compressing it and the ToUnicode map, and formatting the
    widths were half of a small invoice's render time, yet all of it only depends on which
    characters the document used, in which order, and invoices share almost all of them (ASCII,
    the labels' æøå, the seller's own name). ReportLab still creates its objects as always; this
    class then swaps in cached bytes, keyed by exactly what ReportLab made, and equal to what it
    would have written. Should a ReportLab version lay its objects out differently, the swap is
    skipped, not forced.
    """

    def __init__(self, name: str, source: str | io.BytesIO) -> None:
        super().__init__(name, source)
        # TTFont constructs its face itself and offers no factory: adopt the parsed face into the
        # subclass, which only adds a method and a cache, instead of parsing the file twice.
        self.face.__class__ = _SubsetCachingFace
        self.face._subsets = OrderedDict()
        self._objects: OrderedDict[_Key, _Cached] = OrderedDict()

    def addObjects(self, doc: Any) -> None:
        state = self.state.get(doc)
        if state is None or not doc.compression:
            super().addObjects(doc)
            return
        names = [self.getSubsetInternalName(n, doc)[1:] for n in range(len(state.subsets))]
        super().addObjects(doc)
        fonts = doc.idToObject["BasicFonts"].dict
        for name in names:
            self._use_cached(doc, fonts.get(name))

    def _use_cached(self, doc: Any, font: Any) -> bool:
        """Give ``font`` (ReportLab's PDFTrueTypeFont for one subset) the cached bytes, if it is
        laid out as this class expects; returns whether it was."""
        try:
            widths = font.Widths
            to_unicode = doc.idToObject[font.ToUnicode.name]
            descriptor = doc.idToObject[font.FontDescriptor.name]
            font_file = doc.idToObject[descriptor["FontFile2"].name]
        except (AttributeError, KeyError, TypeError):
            return False
        streams = (font_file, to_unicode)
        if not isinstance(widths, pdfdoc.PDFArray) or not all(_plain_flate(stream) for stream in streams):
            return False
        key: _Key = (font_file.content, to_unicode.content, tuple(widths.sequence))
        cached: _Cached | None = _recall(self._objects, key)
        if cached is None:
            encode = pdfdoc.PDFZCompress.encode
            cached = (encode(font_file.content), encode(to_unicode.content), widths.format(doc))
            _remember(self._objects, key, cached)
        font_file.content, to_unicode.content, formatted = cached
        font.Widths = formatted  # bytes: ReportLab's format() writes them as they are
        for stream in streams:
            # PDFStream.format applies no filter of its own when the dictionary names one.
            stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName(pdfdoc.PDFZCompress.pdfname)])
        return True


def _plain_flate(stream: Any) -> bool:
    """A stream ReportLab will Flate-compress and nothing else: the case the cache reproduces."""
    return (
        isinstance(stream, pdfdoc.PDFStream)
        and stream.filters == [pdfdoc.PDFZCompress]
        and "Filter" not in stream.dictionary
    )


def _register(name: str, source: str | io.BytesIO) -> None:
    try:
        pdfmetrics.registerFont(EmbeddedFont(name, source))
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
