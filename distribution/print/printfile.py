"""The print file: the invoice with an address sheet on the back of page 1, then its other pages,
then the pages of every PDF attachment.

Why an address sheet instead of printing the address onto the invoice: the tenant's page 1 stays
exactly as designed, and the sheet is ours to keep inside the window and out of the silent zone.
Printed simplex there is no back of page 1, so the sheet goes first and faces the window.

Non-PDF attachments are not printed; the result names them. A PDF attachment that cannot be printed
(unreadable, encrypted, fonts missing, off-size when scaling is off) refuses the whole print file:
posting the invoice without an appendix the sender meant to include would be worse than letting
the run try its next method with the reason recorded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import NameObject, RectangleObject

from distribution.methods.base import AttachmentFile
from distribution.print.address import Recipient
from distribution.print.address_sheet import address_sheet
from distribution.print.printability import page_size, unembedded_fonts
from distribution.print.rules import A4_HEIGHT, A4_WIDTH, PrintRules

PDF_MIME = "application/pdf"


class PrintFileError(ValueError):
    """The documents cannot be made into a printable file; the message says why."""


@dataclass(frozen=True, slots=True)
class Skipped:
    filename: str
    reason: str


@dataclass(frozen=True, slots=True)
class PrintFile:
    pdf: bytes
    pages: int
    address_page: int  # 1-based: 2 when duplex (back of page 1), 1 when simplex
    printed: tuple[str, ...]  # attachments whose pages follow the invoice
    scaled: tuple[str, ...]  # of those, the ones with pages scaled to A4
    skipped: tuple[Skipped, ...]  # attachments not printed, with the reason


def is_pdf(attachment: AttachmentFile) -> bool:
    return attachment.mime_type.split(";")[0].strip().lower() == PDF_MIME or attachment.content.startswith(
        b"%PDF-"
    )


def _read(content: bytes, what: str) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
    except Exception as exc:  # pypdf raises many kinds on malformed input
        raise PrintFileError(f"{what} is not a readable PDF ({type(exc).__name__})") from None
    if reader.is_encrypted:
        raise PrintFileError(f"{what} is encrypted; a print provider cannot print it")
    return reader


def _pages(reader: PdfReader, what: str) -> list[PageObject]:
    try:
        pages = list(reader.pages)
    except Exception as exc:
        raise PrintFileError(f"{what} is not a readable PDF ({type(exc).__name__})") from None
    if not pages:
        raise PrintFileError(f"{what} has no pages")
    return pages


def _check_fonts(page: PageObject, what: str) -> None:
    missing = unembedded_fonts(page)
    if missing:
        raise PrintFileError(f"{what} uses fonts that are not embedded: {', '.join(sorted(missing))}")


def scale_to_a4(page: PageObject) -> None:
    """Shrink or grow a writer's page to fit A4 (portrait, or landscape for a wide page), centred."""
    page.transfer_rotation_to_content()
    box = page.mediabox
    width, height = float(box.width), float(box.height)
    target_w, target_h = (A4_WIDTH, A4_HEIGHT) if height >= width else (A4_HEIGHT, A4_WIDTH)
    scale = min(target_w / width, target_h / height)
    tx = (target_w - width * scale) / 2 - float(box.left) * scale
    ty = (target_h - height * scale) / 2 - float(box.bottom) * scale
    page.add_transformation(Transformation().scale(scale, scale).translate(tx, ty))
    a4 = RectangleObject((0, 0, target_w, target_h))
    page.mediabox = a4
    for name in ("/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
        if name in page:
            del page[NameObject(name)]


def build_print_file(
    invoice_pdf: bytes,
    recipient: Recipient,
    attachments: Sequence[AttachmentFile],
    rules: PrintRules,
    *,
    duplex: bool = True,
) -> PrintFile:
    """Assemble and check the print file; raises :class:`PrintFileError` when it cannot be printed."""
    invoice_pages = _pages(_read(invoice_pdf, "the invoice PDF"), "the invoice PDF")
    for number, page in enumerate(invoice_pages, 1):
        if not rules.is_a4(*page_size(page)):
            raise PrintFileError(f"page {number} of the invoice PDF is not A4")
        _check_fonts(page, f"page {number} of the invoice PDF")
    sheet = _pages(PdfReader(io.BytesIO(address_sheet(recipient, rules))), "the address sheet")[0]
    pages = [invoice_pages[0], sheet, *invoice_pages[1:]] if duplex else [sheet, *invoice_pages]
    printed: list[str] = []
    scaled: list[str] = []
    skipped: list[Skipped] = []
    off_size: set[int] = set()  # indexes of pages to scale once they belong to the writer
    for attachment in attachments:
        name = attachment.filename
        if not is_pdf(attachment):
            skipped.append(
                Skipped(name, f"not a PDF ({attachment.mime_type}); only PDF attachments are printed")
            )
            continue
        what = f"attachment {name!r}"
        attachment_pages = _pages(_read(attachment.content, what), what)
        if len(pages) + len(attachment_pages) > rules.max_pages:
            raise PrintFileError(f"the print file would have more than {rules.max_pages} pages (with {what})")
        was_scaled = False
        for number, page in enumerate(attachment_pages, 1):
            _check_fonts(page, f"page {number} of {what}")
            a4 = rules.is_a4(*page_size(page))
            if not a4 and not rules.scale_attachments:
                raise PrintFileError(f"page {number} of {what} is not A4 (and scaling is off)")
            pages.append(page)
            if not a4:
                off_size.add(len(pages) - 1)
                was_scaled = True
        printed.append(name)
        if was_scaled:
            scaled.append(name)
    if len(pages) > rules.max_pages:
        raise PrintFileError(
            f"the print file has {len(pages)} pages; the provider prints at most {rules.max_pages}"
        )
    writer = PdfWriter()
    for index, page in enumerate(pages):
        added = writer.add_page(page)
        if index in off_size:
            scale_to_a4(added)
    buffer = io.BytesIO()
    writer.write(buffer)
    return PrintFile(
        pdf=buffer.getvalue(),
        pages=len(pages),
        address_page=2 if duplex else 1,
        printed=tuple(printed),
        scaled=tuple(scaled),
        skipped=tuple(skipped),
    )
