"""The address sheet: one A4 page with the recipient's name and address alone, where the envelope
window shows it. Printed on the back of the invoice's page 1, so the tenant's layout is never
covered; drawn with the renderer's embedded fonts and clear of the left-margin silent zone."""

from __future__ import annotations

import io

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from distribution.print.address import Recipient
from distribution.print.rules import A4_HEIGHT, A4_WIDTH, PrintRules
from distribution.render.fonts import fonts_for
from distribution.render.layout import fit

SIZE = 10.0
LEADING = 1.2  # line height as a multiple of the font size
MIN_SIZE = 7.0


def address_sheet(recipient: Recipient, rules: PrintRules) -> bytes:
    """A one-page PDF (A4, PDF 1.4, fonts embedded) with the address block in the window."""
    fonts = fonts_for(None)
    lines = recipient.window_lines()
    height = rules.address_height_mm * mm
    size = max(MIN_SIZE, min(SIZE, height / (len(lines) * LEADING)))
    width = rules.address_width_mm * mm
    x = rules.address_left_mm * mm
    baseline = A4_HEIGHT - rules.address_top_mm * mm - size
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(A4_WIDTH, A4_HEIGHT),
        invariant=1,
        pageCompression=1,
        pdfVersion=(1, 4),
        initialFontName=fonts.regular,  # else ReportLab lists Helvetica, unembedded, on the page
        initialFontSize=size,
    )
    canvas.setTitle(recipient.name)
    for index, line in enumerate(lines):
        font = fonts.bold if index == 0 else fonts.regular
        canvas.setFont(font, size)
        canvas.drawString(x, baseline - index * size * LEADING, fit(line, font, size, width))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
