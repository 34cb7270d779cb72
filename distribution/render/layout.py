"""A tiny page-layout engine: measured blocks of drawing operations, flowed onto A4 pages.

Why not ReportLab's Platypus: laying out first and drawing second gives the total page count
("Side x av y") in one pass, repeated table headers are a two-line rule here, and a 1000-line
invoice lays out several times faster than through Platypus tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.pdfbase.pdfmetrics import stringWidth as _string_width
from reportlab.pdfbase.ttfonts import TTFont

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_LEFT = 20 * mm  # clear of the 15 mm print "silent zone" on the left edge
MARGIN_RIGHT = 15 * mm
MARGIN_TOP = 15 * mm
MARGIN_BOTTOM = 22 * mm
CONTENT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

RGB = tuple[float, float, float]
BLACK: RGB = (0.0, 0.0, 0.0)
GREY: RGB = (0.38, 0.38, 0.38)
RULE: RGB = (0.8, 0.8, 0.8)
WHITE: RGB = (1.0, 1.0, 1.0)


# The drawing operations are NamedTuples rather than frozen dataclasses: just as immutable, but
# three times cheaper to create (a frozen dataclass sets each field through object.__setattr__),
# and a long invoice creates ten of them a line.


class Text(NamedTuple):
    """One line of text; ``y`` is the baseline, measured downward from the block's top."""

    x: float
    y: float
    text: str
    font: str
    size: float
    colour: RGB = BLACK
    align: Literal["left", "right"] = "left"


class Rect(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    fill: RGB | None = None
    stroke: RGB | None = None


class Image(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    reader: Any


Op = Text | Rect | Image


@dataclass(slots=True)
class Block:
    """Operations relative to the block's top-left; ``height`` is what it takes on the page.

    ``header`` is a table head to draw first whenever this block starts a page (rows of a table
    carry their table's head); ``keep_with_next`` keeps a heading on the page of what follows.
    """

    height: float
    ops: list[Op] = field(default_factory=list)
    header: Block | None = None
    keep_with_next: bool = False


@dataclass(slots=True)
class Page:
    placed: list[tuple[float, Block]] = field(default_factory=list)  # (top y from page top, block)


MEMO_CHARS = 64  # longer strings are rare repeats, and would make the memo's memory unbounded


@functools.lru_cache(maxsize=16384)
def _memo_width(text: str, font: str, size: float) -> float:
    width: float = _string_width(text, font, size)
    return width


def stringWidth(text: str, font: str, size: float) -> float:
    """ReportLab's ``stringWidth``, memoised per process for short strings.

    Why: wrapping, fitting and right-aligning measure the same words, labels and amounts over and
    over, within an invoice and across a tenant's invoices. A registered font name never changes
    its metrics (fonts.py names tenant fonts by a digest of their bytes), so entries never go stale.
    """
    if len(text) > MEMO_CHARS:
        width: float = _string_width(text, font, size)
        return width
    return _memo_width(text, font, size)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap with ReportLab metrics; words wider than the column are cut by character."""
    lines: list[str] = []
    space = stringWidth(" ", font, size)
    for paragraph in text.split("\n"):
        current: list[str] = []
        current_width = 0.0
        for word in paragraph.split(" "):
            if not word:
                continue
            word_width = stringWidth(word, font, size)
            if word_width > width:
                if current:
                    lines.append(" ".join(current))
                    current, current_width = [], 0.0
                pieces = _cut(word, font, size, width)
                lines.extend(pieces[:-1])
                word = pieces[-1]
                word_width = stringWidth(word, font, size)
            needed = word_width if not current else current_width + space + word_width
            if current and needed > width:
                lines.append(" ".join(current))
                current, current_width = [word], word_width
            else:
                current.append(word)
                current_width = needed
        lines.append(" ".join(current))
    return lines


def _cut(word: str, font: str, size: float, width: float) -> list[str]:
    pieces: list[str] = []
    start = 0
    while start < len(word):
        end = start + 1
        # Unmemoised: these one-off prefixes would only push useful entries out of the memo.
        while end < len(word) and _string_width(word[start : end + 1], font, size) <= width:
            end += 1
        pieces.append(word[start:end])
        start = end
    return pieces


def fit(text: str, font: str, size: float, width: float) -> str:
    """One line that fits ``width``, shortened with an ellipsis when needed.

    The longest prefix that fits with the ellipsis is found by bisection: a prefix is never wider
    than a longer one (advance widths are not negative), so this is the prefix that trimming one
    character at a time finds, without measuring every prefix of a long text.
    """
    if stringWidth(text, font, size) <= width:
        return text
    fits, too_long = 0, len(text)  # text[:fits] + "…" fits, or fits == 0; text[:too_long] + "…" does not
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if _string_width(text[:middle] + "…", font, size) <= width:
            fits = middle
        else:
            too_long = middle
    return text[:fits] + "…"


def flow(blocks: Sequence[Block], first_top: float, next_top: float, bottom: float) -> list[Page]:
    """Place blocks top to bottom; a block that does not fit starts a new page (with its header)."""
    pages = [Page()]
    y = first_top
    for index, block in enumerate(blocks):
        if y + _height_with_followers(blocks, index) > bottom and pages[-1].placed:
            pages.append(Page())
            y = next_top
            if block.header is not None:
                pages[-1].placed.append((y, block.header))
                y += block.header.height
        pages[-1].placed.append((y, block))
        y += block.height
    return pages


def _height_with_followers(blocks: Sequence[Block], index: int) -> float:
    """A heading is kept with the next block; a table row needs room for its head on a new page."""
    height = 0.0
    while True:
        block = blocks[index]
        height += block.height
        if not block.keep_with_next or index + 1 >= len(blocks):
            return height
        index += 1


Group = tuple[float, float, Sequence[Op]]  # (left, top, operations relative to them)


def draw(canvas: Any, pages: Sequence[Page], decorate: Callable[[int, int], tuple[Group, Group]]) -> None:
    """Draw every page; ``decorate(page_number, page_count)`` gives its head and its foot.

    The head goes first and the foot last so extracted text reads in page order.
    """
    writer = TextWriter(canvas)
    for number, page in enumerate(pages, start=1):
        head, foot = decorate(number, len(pages))
        groups = [head, *((MARGIN_LEFT, top, block.ops) for top, block in page.placed), foot]
        draw_ops(canvas, groups, writer)
        canvas.showPage()


def draw_ops(canvas: Any, groups: Sequence[Group], writer: TextWriter | None = None) -> None:
    """Draw groups of operations, each relative to its (left, top) with y growing downward.

    Shapes go first and all text after, in one text object per call: ReportLab's per-string
    overhead dominates on long invoices, and no text here is meant to sit under a shape.
    ``writer`` is the document's (one per canvas); a fresh one is made when not given.
    """
    for left, top, ops in groups:
        for op in ops:
            if isinstance(op, Rect):
                x, y = left + op.x, PAGE_HEIGHT - (top + op.y + op.height)
                if op.fill is not None:
                    canvas.setFillColorRGB(*op.fill)
                if op.stroke is not None:
                    canvas.setStrokeColorRGB(*op.stroke)
                    canvas.setLineWidth(0.5)
                fill, stroke = int(op.fill is not None), int(op.stroke is not None)
                canvas.rect(x, y, op.width, op.height, stroke=stroke, fill=fill)
            elif isinstance(op, Image):
                x, y = left + op.x, PAGE_HEIGHT - (top + op.y + op.height)
                canvas.drawImage(op.reader, x, y, op.width, op.height, mask="auto")
    canvas.addLiteral((writer or TextWriter(canvas)).text_object(groups))


class TextWriter:
    """Writes a page's text object with the operators ReportLab's ``PDFTextObject`` writes.

    Why not ``PDFTextObject`` itself: per string it also measures the text (for a cursor we never
    use), looks the font up again and encodes a repeated string anew; with hundreds of strings a
    page that was most of the drawing time. The output is byte for byte the same (a test draws
    both ways): ``BT``, then per string its colour and font when they change, ``1 0 0 1 x y Tm``
    and ``(...) Tj`` in the font subset ReportLab assigns (``TTFont.splitString``), ``ET``.

    One writer per document: ReportLab assigns subset codes per document, so the encoded strings
    remembered here are only valid for the canvas the writer was made for.
    """

    def __init__(self, canvas: Any) -> None:
        # The document is where TTFont keeps its subset assignments; ReportLab's own text object
        # passes canvas._doc to the same public TTFont methods.
        self._doc = canvas._doc
        self._fonts: dict[tuple[str, float], tuple[TTFont, str, dict[str, list[tuple[str, str]]]]] = {}
        self._encoded: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self._numbers: dict[float, str] = {}

    def _font(self, name: str, size: float) -> tuple[TTFont, str, dict[str, list[tuple[str, str]]]]:
        """The font, its ``Tf``/``TL`` operands at ``size`` (leading 1.2 × size, as ReportLab's
        default) and the font's encoded strings."""
        key = (name, size)
        entry = self._fonts.get(key)
        if entry is None:
            font = getFont(name)
            if not isinstance(font, TTFont):
                raise TypeError(f"{name} is not an embedded TrueType font")
            operands = f"{fp_str(size)} Tf {fp_str(size * 1.2)} TL"
            entry = self._fonts[key] = (font, operands, self._encoded.setdefault(name, {}))
        return entry

    def _encode(self, font: TTFont, text: str) -> list[tuple[str, str]]:
        """``text`` as runs of (subset font resource name, escaped string)."""
        doc = self._doc
        return [
            (font.getSubsetInternalName(subset, doc), escapePDF(data))
            for subset, data in font.splitString(text, doc)
        ]

    def text_object(self, groups: Sequence[Group]) -> str:
        """The ``BT … ET`` operators for every Text of ``groups``."""
        out = ["BT 1 0 0 1 0 0 Tm"]
        append = out.append
        numbers = self._numbers  # fp_str per coordinate: columns and rows repeat
        font_key: tuple[str, float] | None = None
        colour: RGB | None = None
        current = ""  # the subset font selected since the last font change
        for left, top, ops in groups:
            for op in ops:
                if not isinstance(op, Text) or not op.text:
                    continue
                if font_key != (op.font, op.size):
                    font_key = (op.font, op.size)
                    font, operands, encoded = self._font(op.font, op.size)
                    current = ""
                if colour != op.colour:
                    colour = op.colour
                    append(f"{fp_str(colour)} rg")
                x = left + op.x
                if op.align == "right":
                    x -= stringWidth(op.text, op.font, op.size)
                y = PAGE_HEIGHT - (top + op.y)
                fx = numbers.get(x)
                if fx is None:
                    fx = numbers[x] = fp_str(x)
                fy = numbers.get(y)
                if fy is None:
                    fy = numbers[y] = fp_str(y)
                append(f"1 0 0 1 {fx} {fy} Tm")
                runs = encoded.get(op.text)
                if runs is None:
                    runs = encoded[op.text] = self._encode(font, op.text)
                for name, data in runs:
                    if name != current:
                        append(f"{name} {operands}")
                        current = name
                    append(f"({data}) Tj")
        append("ET")
        return " ".join(out)
