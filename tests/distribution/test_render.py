"""Rendering: what a reader (pypdf's text extraction) and a print provider's checks see in the PDF."""

from __future__ import annotations

import collections
import dataclasses
import io
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
import reportlab
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFontFace
from reportlab.pdfgen.canvas import Canvas

from distribution.invoice import Invoice, InvoiceReadError, read_invoice
from distribution.render import Design, DesignError, FontFamily, render_pdf
from distribution.render.fonts import EmbeddedFont, _SubsetCachingFace, fonts_for
from distribution.render.formatting import format_amount, format_percent, format_quantity
from distribution.render.layout import (
    MARGIN_BOTTOM,
    MARGIN_TOP,
    PAGE_HEIGHT,
    Group,
    Text,
    TextWriter,
    draw_ops,
    fit,
)
from tests.distribution.corpus import (
    CREDIT_NOTE_EXAMPLE,
    NORWEGIAN_CREDIT_NOTE,
    NORWEGIAN_EXAMPLE,
    THOUSAND_LINES,
    corpus_files,
)

A4 = (595.0, 842.0)


def pdf_pages(pdf: bytes) -> list[str]:
    """Extracted text per page, no-break spaces folded to spaces (pypdf is not consistent there)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [(page.extract_text() or "").replace("\u00a0", " ") for page in reader.pages]


def spaced(text: str) -> str:
    return text.replace("\u00a0", " ")


def load(corpus: Path, name: str) -> Invoice:
    return read_invoice((corpus / name).read_bytes())


def png(width: int = 40, height: int = 20) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def images_on_first_page(pdf: bytes) -> int:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    resources = page["/Resources"]
    xobjects = resources.get("/XObject") if "/XObject" in resources else None
    if xobjects is None:
        return 0
    return sum(1 for ref in xobjects.get_object().values() if ref.get_object()["/Subtype"] == "/Image")


def test_norwegian_invoice_in_bokmal(corpus: Path) -> None:
    invoice = load(corpus, NORWEGIAN_EXAMPLE)
    assert invoice.number and invoice.kid and invoice.totals.payable is not None and invoice.seller
    pages = pdf_pages(render_pdf(invoice, Design(language="nb")))
    text = "\n".join(pages)
    first = pages[0]
    assert first.startswith(invoice.seller.display_name or "")
    assert "Faktura" in first and "Kreditnota" not in text
    assert f"Fakturanr. {invoice.number}" in first
    assert "Fakturadato 30.06.2013" in first and "Forfallsdato 20.07.2013" in first
    payable = spaced(format_amount(invoice.totals.payable, "nb"))
    assert payable == "802,00"
    assert f"Beløp å betale {payable} NOK" in text
    assert f"KID {invoice.kid}" in text
    assert f"Kontonr. {invoice.account_id}" in text
    assert f"Org.nr. {invoice.seller.organisation_number} MVA" in first
    assert "Foretaksregisteret" in first
    assert "Sum inkl. MVA 1 801,78" in text
    assert "MVA-spesifikasjon" in text and "Exempt New Means of Transport" in text
    assert invoice.payment_terms and invoice.payment_terms in text
    assert "Hours-spent.csv" in text
    count = len(pages)
    for number, page in enumerate(pages, start=1):
        assert f"Side {number} av {count}" in page


def test_norwegian_invoice_in_english(corpus: Path) -> None:
    invoice = load(corpus, NORWEGIAN_EXAMPLE)
    pages = pdf_pages(render_pdf(invoice, Design(language="en")))
    text = "\n".join(pages)
    assert "Invoice" in pages[0] and f"Invoice no. {invoice.number}" in pages[0]
    assert "Due date 20 Jul 2013" in pages[0]
    assert "Amount due 802.00 NOK" in text and "Total incl. VAT 1,801.78" in text
    assert "Fakturanr." not in text and "Beløp å betale" not in text
    # The statutory word stays Norwegian in an English invoice.
    assert "Foretaksregisteret" in pages[0]
    assert f"Page 1 of {len(pages)}" in pages[0]


@pytest.mark.parametrize("name", [CREDIT_NOTE_EXAMPLE, NORWEGIAN_CREDIT_NOTE])
def test_credit_notes_are_titled_as_such(corpus: Path, name: str) -> None:
    invoice = load(corpus, name)
    nb = pdf_pages(render_pdf(invoice, Design(language="nb")))
    en = pdf_pages(render_pdf(invoice, Design(language="en")))
    assert "Kreditnota" in nb[0] and "Faktura\n" not in nb[0] and "Fakturanr." not in nb[0]
    assert f"Kreditnotanr. {invoice.number}" in nb[0] and "Kreditnotadato" in nb[0]
    assert "Beløp til gode" in "\n".join(nb)
    assert "Credit note" in en[0] and f"Credit note no. {invoice.number}" in en[0]
    for preceding in invoice.preceding_invoices:
        assert preceding in nb[0]


def test_design_logo_colours_and_footer(corpus: Path) -> None:
    invoice = load(corpus, NORWEGIAN_EXAMPLE)
    plain = render_pdf(invoice, Design())
    branded = render_pdf(
        invoice, Design(logo=png(), primary_colour="#ff0000", footer_text="Takk for handelen!")
    )
    assert images_on_first_page(plain) == 0
    assert images_on_first_page(branded) == 1
    content = PdfReader(io.BytesIO(branded)).pages[0].get_contents()
    assert content is not None and b"1 0 0 rg" in content.get_data()
    assert "Takk for handelen!" in pdf_pages(branded)[0]
    # Without footer text the seller's name and organisation number fill the footer.
    assert invoice.seller is not None
    footer = " ".join(pdf_pages(plain)[0].splitlines()[-2:])
    assert f"Org.nr. {invoice.seller.organisation_number} MVA" in footer
    assert "Takk for handelen!" not in footer


def test_jpeg_logo_is_embedded(corpus: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), (0, 90, 200)).save(buffer, format="JPEG")
    pdf = render_pdf(load(corpus, NORWEGIAN_EXAMPLE), Design(logo=buffer.getvalue()))
    assert images_on_first_page(pdf) == 1


def test_norwegian_letters_and_euro_render(corpus: Path) -> None:
    invoice = dataclasses.replace(
        load(corpus, NORWEGIAN_EXAMPLE), notes=("Blåbærsyltetøy fra Ærøy, ØRRET og Åker koster 10 €",)
    )
    text = "\n".join(pdf_pages(render_pdf(invoice, Design())))
    assert "Blåbærsyltetøy fra Ærøy, ØRRET og Åker koster 10 €" in text


def test_printability_rules(corpus: Path) -> None:
    """A4 portrait, PDF ≤ 1.7, not encrypted, every font embedded (Digipost's printability checks)."""
    pdf = render_pdf(load(corpus, THOUSAND_LINES), Design(logo=png()))
    version = re.match(rb"%PDF-1\.(\d)", pdf)
    assert version is not None and int(version.group(1)) <= 7
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.is_encrypted
    fonts = set()
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, font["/BaseFont"]
            fonts.add(str(font["/BaseFont"]))
    assert fonts and all("Helvetica" not in name for name in fonts)


def test_thousand_line_invoice_paginates_with_repeated_header(corpus: Path) -> None:
    invoice = load(corpus, THOUSAND_LINES)
    assert len(invoice.lines) == 1000
    pdf = render_pdf(invoice, Design(language="nb"))
    pages = pdf_pages(pdf)
    count = len(pages)
    usable = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    # Each row takes at least one line of 8.5 pt body text.
    assert count >= math.ceil(1000 * 8.5 / usable)
    assert count == len(PdfReader(io.BytesIO(pdf)).pages)
    header = "Nr. Beskrivelse Antall Enhet Pris MVA Beløp"
    for number, page in enumerate(pages, start=1):
        assert f"Side {number} av {count}" in page
        if number > 1:
            assert f"Faktura {invoice.number} (forts.)" in page
    table_pages = [number for number, page in enumerate(pages, start=1) if header in page]
    assert table_pages == list(range(1, len(table_pages) + 1)) and len(table_pages) >= count - 1
    payable = spaced(format_amount(invoice.totals.payable, "nb"))
    assert f"Beløp å betale {payable}" in "\n".join(pages[-2:])
    # Every line appears, in order: its number starts a row.
    row_numbers = [int(m) for m in re.findall(r"^(\d{1,4}) \S", "\n".join(pages), re.MULTILINE)]
    ids = [int(line.id or 0) for line in invoice.lines]
    position = 0
    for line_id in ids:
        position = row_numbers.index(line_id, position) + 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"primary_colour": "red"},
        {"accent_colour": "#12345"},
        {"language": "sv"},
        {"logo": b"GIF89a...."},
        {"footer_text": "x" * 1000},
    ],
)
def test_bad_design_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(DesignError):
        Design(**kwargs)  # type: ignore[arg-type]


def test_corrupt_logo_and_font_are_refused(corpus: Path) -> None:
    invoice = load(corpus, NORWEGIAN_EXAMPLE)
    with pytest.raises(DesignError):
        render_pdf(invoice, Design(logo=b"\x89PNG\r\n\x1a\n" + b"garbage" * 10))
    with pytest.raises(DesignError):
        FontFamily(name="bad", regular=b"not a font", bold=b"not a font")
    with pytest.raises(DesignError):
        render_pdf(
            invoice,
            Design(font=FontFamily(name="broken", regular=b"true" + bytes(64), bold=b"true" + bytes(64))),
        )


def test_tenant_font_is_embedded(corpus: Path) -> None:
    fonts = Path(reportlab.__file__).parent / "fonts"
    family = FontFamily(
        name="vera-copy",
        regular=(fonts / "VeraIt.ttf").read_bytes(),
        bold=(fonts / "VeraBI.ttf").read_bytes(),
    )
    pdf = render_pdf(load(corpus, NORWEGIAN_EXAMPLE), Design(font=family))
    names = {
        str(ref.get_object()["/BaseFont"])
        for ref in PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()
    }
    assert any("Oblique" in name or "Italic" in name for name in names), names


def render_corpus(corpus: Path, files: list[Path]) -> tuple[int, collections.Counter[str]]:
    """Render each file in alternating languages; returns the count rendered and skip reasons."""
    rendered = 0
    skipped: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    for index, path in enumerate(files):
        try:
            invoice = read_invoice(path.read_bytes())
        except InvoiceReadError as exc:
            skipped[str(exc).split(":")[0]] += 1
            continue
        language = "nb" if index % 2 else "en"
        try:
            pdf = render_pdf(invoice, Design(language=language))
        except Exception as exc:
            failures.append(f"{path.name}: {exc!r}")
            continue
        assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
        if index % 10 == 0:  # extraction is the slow part: read one rendering in ten back
            first = pdf_pages(pdf)[0]
            assert ("Side 1 av " if language == "nb" else "Page 1 of ") in first, path.name
            if invoice.number and len(invoice.number) <= 12:
                assert invoice.number in first, path.name
        rendered += 1
    assert not failures, failures[:10]
    return rendered, skipped


def test_every_corpus_invoice_renders(corpus: Path) -> None:
    rendered, skipped = render_corpus(corpus, corpus_files(corpus))
    assert rendered >= 1390, (rendered, skipped)
    assert sum(skipped.values()) <= 30, skipped


def test_pdf_streams_are_compressed(corpus: Path) -> None:
    pdf = render_pdf(load(corpus, NORWEGIAN_EXAMPLE), Design())
    assert b"/FlateDecode" in pdf
    assert len(pdf) < 200_000


# -- the fast paths write what ReportLab's own would -----------------------------------------------


def blank_canvas(buffer: io.BytesIO, *, compression: int = 1) -> Canvas:
    fonts = fonts_for(None)
    return Canvas(
        buffer, invariant=1, pageCompression=compression, pdfVersion=(1, 4), initialFontName=fonts.regular
    )


def draw_with_text_object(canvas: Canvas, groups: Sequence[Group]) -> None:
    """The reference: the same ops through ReportLab's PDFTextObject, as the renderer used to."""
    text = canvas.beginText()
    colour, font = None, None
    for left, top, ops in groups:
        for op in ops:
            if not isinstance(op, Text) or not op.text:
                continue
            if font != (op.font, op.size):
                text.setFont(op.font, op.size)
                font = (op.font, op.size)
            if colour != op.colour:
                text.setFillColorRGB(*op.colour)
                colour = op.colour
            x = left + op.x
            if op.align == "right":
                x -= pdfmetrics.stringWidth(op.text, op.font, op.size)
            text.setTextOrigin(x, PAGE_HEIGHT - (top + op.y))
            text.textOut(op.text)
    canvas.drawText(text)


def test_text_writer_writes_what_reportlab_text_object_writes() -> None:
    fonts = fonts_for(None)
    every_glyph = "".join(map(chr, sorted(pdfmetrics.getFont(fonts.bold).face.charToGlyph)))
    assert len(every_glyph) > 256  # so the text needs a second font subset
    lines = [
        "Faktura (kopi) \\ 100 %",
        "Blåbær\u00a0syltetøy € 1\u00a0234,50 – Æ Ø Å",
        "",
        "中文 has no glyphs in Vera",
        every_glyph[:150],
        every_glyph,
        "Faktura (kopi) \\ 100 %",
    ]
    ops: list[Text] = []
    for index, line in enumerate(lines * 2):
        font = fonts.bold if index % 3 == 0 else fonts.regular
        size = (7.2, 8.5, 10.0)[index % 3]
        colour = ((0.0, 0.0, 0.0), (0.38, 0.38, 0.38))[index % 2]
        ops.append(Text(200.0 + index, 12.0 * index, line, font, size, colour, ("left", "right")[index % 2]))
    pages: list[list[Group]] = [[(56.7, 42.5, ops)], [(56.7, 100.0, ops[::-1])]]

    fast, slow = io.BytesIO(), io.BytesIO()
    fast_canvas, slow_canvas = blank_canvas(fast), blank_canvas(slow)
    writer = TextWriter(fast_canvas)  # one per document, as draw() uses it
    for groups in pages:
        draw_ops(fast_canvas, groups, writer)
        draw_with_text_object(slow_canvas, groups)
        fast_canvas.showPage()
        slow_canvas.showPage()
    fast_canvas.save()
    slow_canvas.save()
    assert fast.getvalue() == slow.getvalue()


def test_cached_font_subsets_are_the_bytes_reportlab_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    fonts = fonts_for(None)
    font = pdfmetrics.getFont(fonts.regular)
    assert isinstance(font, EmbeddedFont)
    every_glyph = "".join(map(chr, sorted(font.face.charToGlyph)))
    swapped: list[bool] = []
    use_cached = EmbeddedFont._use_cached

    def spy(self: EmbeddedFont, doc: object, pdf_font: object) -> bool:
        swapped.append(use_cached(self, doc, pdf_font))
        return swapped[-1]

    def page(compression: int = 1) -> bytes:
        buffer = io.BytesIO()
        canvas = blank_canvas(buffer, compression=compression)
        canvas.setFont(fonts.regular, 10)
        canvas.drawString(100, 700, "∑ ≈ ∞ – a subset no other test makes: Beløp å betale 1 234,50 €")
        canvas.drawString(100, 690, every_glyph)  # and a second subset
        canvas.setFont(fonts.bold, 10)
        canvas.drawString(100, 680, "Å Ø Æ ∂ √")
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    with monkeypatch.context() as plain:  # ReportLab's own objects, built afresh
        plain.setattr(EmbeddedFont, "_use_cached", lambda self, doc, pdf_font: False)
        plain.setattr(_SubsetCachingFace, "makeSubset", TTFontFace.makeSubset)
        reference = page()
        uncompressed = page(compression=0)
    monkeypatch.setattr(EmbeddedFont, "_use_cached", spy)
    assert page() == reference  # built and remembered
    assert page() == reference  # from the cache
    assert swapped == [True] * 6, "the cache was not used: does ReportLab lay its font objects out anew?"
    assert page(compression=0) == uncompressed


def test_fit_matches_trimming_one_character_at_a_time() -> None:
    def trimmed(text: str, font: str, size: float, width: float) -> str:
        if pdfmetrics.stringWidth(text, font, size) <= width:
            return text
        while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
            text = text[:-1]
        return text + "…"

    font = fonts_for(None).regular
    for text in ("Konsulenttimer for prosjekt Blåbær", "WWW iii", "æ", "", "x" * 500):
        widths = {pdfmetrics.stringWidth(text[:n] + "…", font, 8.5) for n in range(min(len(text), 40) + 1)}
        for width in sorted(widths | {0.0, 1.0, 50.0, 10_000.0}):
            for nudge in (-1e-9, 0.0, 1e-9):
                assert fit(text, font, 8.5, width + nudge) == trimmed(text, font, 8.5, width + nudge)


def test_memoised_number_formatting_tells_equal_decimals_apart_where_they_print_differently() -> None:
    assert format_amount(Decimal("-0"), "nb") == "-0,00"
    assert format_amount(Decimal("0"), "nb") == "0,00"
    assert format_amount(Decimal("-0.00"), "en") == "-0.00"
    assert format_amount(Decimal("2.5"), "nb") == format_amount(Decimal("2.500"), "nb") == "2,50"
    assert format_amount(Decimal("1.125"), "en") == "1.125"
    assert format_quantity(Decimal("1E+3"), "nb") == format_quantity(Decimal("1000.0"), "nb") == "1\u00a0000"
    assert format_percent(Decimal("25.0"), "nb") == format_percent(Decimal("25"), "nb") == "25\u00a0%"
    assert format_percent(Decimal("12.50"), "en") == "12.5%"
