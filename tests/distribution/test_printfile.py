"""The AutoPost print file, read back with pypdf: address sheet, page order, attachments, printability."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject
from reportlab.lib.pagesizes import A4, LETTER, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from distribution.invoice import read_invoice
from distribution.methods.base import AttachmentFile
from distribution.print.address import Recipient
from distribution.print.printfile import PrintFileError, build_print_file
from distribution.print.rules import PrintRules
from distribution.render import Design, render_pdf
from distribution.render.fonts import fonts_for
from tests.distribution.corpus import NORWEGIAN_EXAMPLE

RULES = PrintRules()
KARI = Recipient("Kari Nordmann", ("Storgata 1", "Leilighet H0102"), "0155", "Oslo", None)


def pdf_pages(*texts: str, size: tuple[float, float] = A4, font: str | None = None) -> bytes:
    """A small PDF with one page per text, drawn with the embedded Vera font unless ``font`` is given."""
    buffer = io.BytesIO()
    name = font or fonts_for(None).regular
    canvas = Canvas(buffer, pagesize=size, initialFontName=name)
    for text in texts:
        canvas.setFont(name, 12)
        canvas.drawString(30 * mm, size[1] - 40 * mm, text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def pdf(name: str, content: bytes) -> AttachmentFile:
    return AttachmentFile(name, "application/pdf", content)


@pytest.fixture(scope="module")
def invoice_pdf(corpus: Path) -> bytes:
    data = render_pdf(read_invoice((corpus / NORWEGIAN_EXAMPLE).read_bytes()), Design())
    assert len(PdfReader(io.BytesIO(data)).pages) == 2  # the tests below rely on a second page
    return data


def texts(data: bytes) -> list[str]:
    return [page.extract_text().strip() for page in PdfReader(io.BytesIO(data)).pages]


def fonts_embedded(data: bytes) -> list[str]:
    """Names of every font on every page; fails unless each carries its font file."""
    names = []
    for page in PdfReader(io.BytesIO(data)).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources.get("/Font")
        for ref in (fonts.get_object() if fonts else {}).values():
            font = ref.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font[
                "/BaseFont"
            ]
            names.append(str(font["/BaseFont"]))
    return names


def test_address_alone_on_page_two_then_invoice_then_attachments(invoice_pdf: bytes) -> None:
    attachments = (
        pdf("timeliste.pdf", pdf_pages("Vedlegg A side 1", "Vedlegg A side 2")),
        AttachmentFile("bilde.png", "image/png", b"\x89PNG\r\n\x1a\nnot really"),
        pdf("kontrakt.pdf", pdf_pages("Vedlegg B")),
        AttachmentFile("regneark.xlsx", "application/vnd.ms-excel", b"PK\x03\x04"),
    )
    printed = build_print_file(invoice_pdf, KARI, attachments, RULES)
    pages = texts(printed.pdf)
    invoice_pages = texts(invoice_pdf)
    assert printed.pages == len(pages) == 6
    assert pages[0] == invoice_pages[0]
    assert pages[1].splitlines() == ["Kari Nordmann", "Storgata 1", "Leilighet H0102", "0155 Oslo"]
    assert pages[2] == invoice_pages[1]
    assert pages[3:] == ["Vedlegg A side 1", "Vedlegg A side 2", "Vedlegg B"]
    assert printed.address_page == 2
    assert printed.printed == ("timeliste.pdf", "kontrakt.pdf")
    assert [s.filename for s in printed.skipped] == ["bilde.png", "regneark.xlsx"]
    assert "not a PDF (image/png)" in printed.skipped[0].reason
    assert printed.scaled == ()


def test_same_documents_make_the_same_bytes(invoice_pdf: bytes) -> None:
    """A resumed delivery resubmits with the same idempotency key: the provider must see the same body."""
    attachments = (pdf("a.pdf", pdf_pages("A")),)
    first = build_print_file(invoice_pdf, KARI, attachments, RULES).pdf
    assert build_print_file(invoice_pdf, KARI, attachments, RULES).pdf == first


def test_every_page_is_a4_and_every_font_embedded(invoice_pdf: bytes) -> None:
    attachments = (pdf("letter.pdf", pdf_pages("US Letter", size=LETTER)),)
    printed = build_print_file(invoice_pdf, KARI, attachments, RULES)
    reader = PdfReader(io.BytesIO(printed.pdf))
    assert not reader.is_encrypted
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert printed.scaled == ("letter.pdf",)
    assert texts(printed.pdf)[-1] == "US Letter"  # scaled, not lost
    assert len(fonts_embedded(printed.pdf)) >= 3  # invoice regular + bold, sheet's faces


def test_landscape_a4_is_kept_as_it_is(invoice_pdf: bytes) -> None:
    wide = pdf("wide.pdf", pdf_pages("Landscape", size=landscape(A4)))
    printed = build_print_file(invoice_pdf, KARI, (wide,), RULES)
    last = PdfReader(io.BytesIO(printed.pdf)).pages[-1]
    assert round(float(last.mediabox.width)) == 842 and printed.scaled == ()


def test_address_sheet_keeps_out_of_the_silent_zone(invoice_pdf: bytes) -> None:
    printed = build_print_file(invoice_pdf, KARI, (), RULES)
    sheet = PdfReader(io.BytesIO(printed.pdf)).pages[1]
    positions: list[tuple[float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            positions.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    sheet.extract_text(visitor_text=visit)
    assert len(positions) == 4
    for x, y in positions:
        assert x >= (RULES.silent_zone_width_mm + 2) * mm
        from_top = (A4[1] - y) / mm
        assert RULES.address_top_mm <= from_top <= RULES.address_top_mm + RULES.address_height_mm


def test_foreign_address_ends_with_the_country(invoice_pdf: bytes) -> None:
    sven = Recipient("Sven Svensson", ("Hovedgatan 32",), "456 34", "Stockholm", "SE")
    lines = texts(build_print_file(invoice_pdf, sven, (), RULES).pdf)[1].splitlines()
    assert lines == ["Sven Svensson", "Hovedgatan 32", "456 34 Stockholm", "SE"]


def test_simplex_puts_the_address_sheet_first(invoice_pdf: bytes) -> None:
    printed = build_print_file(invoice_pdf, KARI, (), RULES, duplex=False)
    assert printed.address_page == 1
    assert texts(printed.pdf)[0].splitlines()[0] == "Kari Nordmann"


def test_encrypted_attachment_is_refused(invoice_pdf: bytes) -> None:
    writer = PdfWriter(clone_from=io.BytesIO(pdf_pages("Hemmelig")))
    writer.encrypt("passord")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(PrintFileError, match=r"'locked\.pdf' is encrypted"):
        build_print_file(invoice_pdf, KARI, (pdf("locked.pdf", locked.getvalue()),), RULES)


def test_unreadable_pdf_attachment_is_refused(invoice_pdf: bytes) -> None:
    with pytest.raises(PrintFileError, match=r"'broken\.pdf' is not a readable PDF"):
        build_print_file(invoice_pdf, KARI, (pdf("broken.pdf", b"%PDF-1.4 garbage"),), RULES)


def test_font_not_embedded_is_refused(invoice_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf_pages("Arial?", font="Helvetica")))
    writer = PdfWriter(clone_from=reader)
    resources = writer.pages[0]["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    for font in fonts.values():
        font_dict = font.get_object()
        assert isinstance(font_dict, DictionaryObject)
        font_dict[NameObject("/BaseFont")] = NameObject("/Arial")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(PrintFileError, match="fonts that are not embedded: Arial"):
        build_print_file(invoice_pdf, KARI, (pdf("arial.pdf", out.getvalue()),), RULES)


def test_standard_fonts_need_not_be_embedded(invoice_pdf: bytes) -> None:
    printed = build_print_file(
        invoice_pdf, KARI, (pdf("helv.pdf", pdf_pages("Helvetica", font="Helvetica")),), RULES
    )
    assert printed.printed == ("helv.pdf",)


def test_off_size_page_refused_when_scaling_is_off(invoice_pdf: bytes) -> None:
    rules = PrintRules(scale_attachments=False)
    with pytest.raises(PrintFileError, match=r"page 1 of attachment 'letter\.pdf' is not A4"):
        build_print_file(invoice_pdf, KARI, (pdf("letter.pdf", pdf_pages("x", size=LETTER)),), rules)


def test_page_limit(invoice_pdf: bytes) -> None:
    attachment = pdf("two.pdf", pdf_pages("1", "2"))
    assert build_print_file(invoice_pdf, KARI, (attachment,), PrintRules(max_pages=5)).pages == 5
    with pytest.raises(PrintFileError, match="more than 4 pages"):
        build_print_file(invoice_pdf, KARI, (attachment,), PrintRules(max_pages=4))


def test_rules_refuse_a_window_in_the_silent_zone() -> None:
    with pytest.raises(ValueError, match="silent zone"):
        PrintRules(address_left_mm=10, address_top_mm=100)
