"""The invoice PDF: page 1 head (seller, buyer in the envelope window, invoice facts), the lines,
totals, VAT breakdown, payment block, terms, notes and attachments, with "Side x av y" on every page.

Output follows the print providers' printability rules: A4 portrait, PDF 1.4, not encrypted, every
font embedded, and nothing drawn in the 15 mm left-edge zone kept free for the enveloping barcode.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from distribution.invoice import AllowanceCharge, Invoice, Line, Party
from distribution.render.design import Design, DesignError, Language, hex_to_rgb, tint
from distribution.render.fonts import FontPair, fonts_for
from distribution.render.formatting import (
    format_amount,
    format_date,
    format_percent,
    format_period,
    format_quantity,
)
from distribution.render.labels import LABELS, PAYMENT_MEANS, UNITS, VAT_CATEGORIES, Labels
from distribution.render.layout import (
    CONTENT_WIDTH,
    GREY,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RGB,
    RULE,
    WHITE,
    Block,
    Group,
    Image,
    Op,
    Rect,
    Text,
    draw,
    fit,
    flow,
    wrap,
)

MAX_FIELD_CHARS = 4000  # a single free-text field; keeps one hostile note from filling 100 pages

BODY = 8.5
SMALL = 7.2
LEADING = 10.5
SMALL_LEADING = 9.0
RIGHT_COLUMN = 95 * mm  # relative to the left margin: the right half of page 1's head
CONTINUATION_TOP = MARGIN_TOP + 12 * mm
CONTENT_BOTTOM = PAGE_HEIGHT - MARGIN_BOTTOM


@dataclass(frozen=True, slots=True)
class _Style:
    """Everything the block builders need, resolved once per render."""

    fonts: FontPair
    labels: Labels
    language: Language
    primary: RGB
    accent: RGB
    light: RGB

    @property
    def regular(self) -> str:
        return self.fonts.regular

    @property
    def bold(self) -> str:
        return self.fonts.bold

    def amount(self, value: Decimal | None) -> str:
        return format_amount(value, self.language)

    def date(self, value: Any) -> str:
        return format_date(value, self.language)


def render_pdf(invoice: Invoice, design: Design) -> bytes:
    """The invoice as PDF bytes, in the tenant's design and language."""
    style = _Style(
        fonts=fonts_for(design.font),
        labels=LABELS[design.language],
        language=design.language,
        primary=hex_to_rgb(design.primary_colour),
        accent=hex_to_rgb(design.accent_colour),
        light=tint(hex_to_rgb(design.accent_colour), 0.88),
    )
    logo = _logo(design.logo) if design.logo is not None else None
    blocks = [*_lines_table(invoice, style), *_summary(invoice, style)]
    head = _head(invoice, style, logo)
    pages = flow(blocks, MARGIN_TOP + head.height, CONTINUATION_TOP, CONTENT_BOTTOM)

    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=1,
        pageCompression=1,
        pdfVersion=(1, 4),
        initialFontName=style.regular,
        initialFontSize=BODY,
        lang="nb-NO" if design.language == "nb" else "en",
    )
    title = _title(invoice, style.labels)
    canvas.setTitle(f"{title} {invoice.number or ''}".strip())
    canvas.setAuthor(_seller_name(invoice))
    canvas.setCreator("ehfgate")
    footer = design.footer_text or _default_footer(invoice, style)

    def decorate(number: int, count: int) -> tuple[Group, Group]:
        top = head.ops if number == 1 else _continuation_head(invoice, style, title)
        bottom = _footer(footer, style, number, count)
        return (MARGIN_LEFT, MARGIN_TOP, top), (MARGIN_LEFT, CONTENT_BOTTOM + 4 * mm, bottom)

    draw(canvas, pages, decorate)
    canvas.save()
    return buffer.getvalue()


@functools.lru_cache(maxsize=16)
def _logo(data: bytes) -> Any:
    """Decoded once per distinct logo: tenants send many invoices with the same one."""
    try:
        reader = ImageReader(io.BytesIO(data))
        width, height = reader.getSize()
    except Exception as exc:  # Pillow raises many types for a corrupt image
        raise DesignError(f"logo is not a readable PNG or JPEG image: {exc}") from None
    if width <= 0 or height <= 0 or width * height > 40_000_000:
        raise DesignError("logo dimensions are not usable")
    return reader


# -- small helpers ---------------------------------------------------------------------------------


def _clip(text: str | None) -> str:
    if not text:
        return ""
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + "…"


def _title(invoice: Invoice, labels: Labels) -> str:
    return labels.credit_note if invoice.is_credit_note else labels.invoice


def _seller_name(invoice: Invoice) -> str:
    return (invoice.seller.display_name if invoice.seller else None) or ""


def _org_lines(party: Party, style: _Style) -> list[str]:
    """ "Org.nr. 123456785 MVA" when the VAT id is the Norwegian one, else the two ids apart."""
    labels = style.labels
    lines: list[str] = []
    org = party.organisation_number
    vat = party.vat_number
    norwegian_vat = bool(vat and org and vat.replace(" ", "").upper() == f"NO{org}MVA")
    if org:
        lines.append(f"{labels.org_number} {org}" + (f" {labels.vat_suffix}" if norwegian_vat else ""))
    if vat and not norwegian_vat:
        lines.append(f"{labels.vat_number} {vat}")
    if party.foretaksregisteret:
        lines.append(labels.foretaksregisteret)
    return lines


def _text_lines(
    ops: list[Op],
    lines: Iterable[str],
    x: float,
    y: float,
    font: str,
    size: float,
    leading: float,
    colour: RGB = (0.0, 0.0, 0.0),
) -> float:
    """Append one Text per line from baseline ``y``; returns the baseline after the last line."""
    for line in lines:
        ops.append(Text(x, y, line, font, size, colour))
        y += leading
    return y


# -- page 1 head -----------------------------------------------------------------------------------


def _head(invoice: Invoice, style: _Style, logo: Any) -> Block:
    labels = style.labels
    ops: list[Op] = []
    right_width = CONTENT_WIDTH - RIGHT_COLUMN
    seller = invoice.seller
    top_left_bottom = 0.0
    if logo is not None:
        width, height = logo.getSize()
        scale = min(60 * mm / width, 20 * mm / height)
        ops.append(Image(0, 0, width * scale, height * scale, logo))
        top_left_bottom = height * scale
    elif seller is not None and seller.display_name:
        ops.append(
            Text(
                0,
                16,
                fit(seller.display_name, style.bold, 14, RIGHT_COLUMN - 10),
                style.bold,
                14,
                style.primary,
            )
        )
        top_left_bottom = 20
    ops.append(Text(CONTENT_WIDTH, 18, _title(invoice, labels), style.bold, 20, style.primary, "right"))

    # Seller, right column under the title.
    y = 36.0
    if seller is not None:
        name = seller.display_name or ""
        for line in wrap(_clip(name), style.bold, 9, right_width)[:2]:
            ops.append(Text(RIGHT_COLUMN, y, line, style.bold, 9))
            y += LEADING
        details = [*(seller.address.lines if seller.address else ()), *_org_lines(seller, style)]
        if seller.contact and seller.contact.telephone:
            details.append(f"{labels.phone} {seller.contact.telephone}")
        if seller.contact and seller.contact.email:
            details.append(f"{labels.email} {seller.contact.email}")
        details = [fit(line, style.regular, SMALL + 0.5, right_width) for line in details]
        y = _text_lines(ops, details, RIGHT_COLUMN, y, style.regular, SMALL + 0.5, SMALL_LEADING + 0.5)
    seller_bottom = y

    # Buyer, placed for a left-window envelope (window from about 45 mm below the page top).
    buyer_top = max(30 * mm, top_left_bottom + 6 * mm)
    ops.append(Text(0, buyer_top, labels.bill_to, style.regular, SMALL, GREY))
    y = buyer_top + 13
    buyer = invoice.buyer
    if buyer is not None:
        width = RIGHT_COLUMN - 10 * mm
        for line in wrap(_clip(buyer.display_name or ""), style.bold, 10, width)[:2]:
            ops.append(Text(0, y, line, style.bold, 10))
            y += 12
        address = buyer.address
        lines = list(address.lines) if address else []
        seller_country = seller.address.country_code if seller and seller.address else None
        if address and address.country_code and address.country_code != seller_country:
            lines.append(address.country_code)
        y = _text_lines(
            ops, [fit(line, style.regular, 10, width) for line in lines], 0, y, style.regular, 10, 12
        )
        y += 2
        y = _text_lines(ops, _org_lines(buyer, style), 0, y, style.regular, SMALL, SMALL_LEADING, GREY)
    buyer_bottom = y

    # Invoice facts, right column below the seller.
    y = max(seller_bottom + 4 * mm, buyer_top + 13)
    for label, value in _facts(invoice, style):
        ops.append(Text(RIGHT_COLUMN, y, label, style.regular, BODY, GREY))
        ops.append(
            Text(
                RIGHT_COLUMN + 32 * mm,
                y,
                fit(value, style.bold, BODY, right_width - 32 * mm),
                style.bold,
                BODY,
            )
        )
        y += LEADING + 1
    return Block(height=max(buyer_bottom, y) + 6 * mm, ops=ops)


def _facts(invoice: Invoice, style: _Style) -> list[tuple[str, str]]:
    labels = style.labels
    number_label = labels.credit_note_number if invoice.is_credit_note else labels.invoice_number
    date_label = labels.credit_note_date if invoice.is_credit_note else labels.invoice_date
    facts: list[tuple[str, str | None]] = [
        (number_label, invoice.number),
        (date_label, style.date(invoice.issue_date)),
        (labels.due_date, style.date(invoice.due_date)),
        (labels.buyer_reference, invoice.buyer_reference),
        (labels.order_reference, invoice.order_reference),
        (labels.contract_reference, invoice.contract_reference),
        (labels.credited_invoice, ", ".join(invoice.preceding_invoices)),
    ]
    if invoice.period is not None:
        facts.append((labels.period, format_period(invoice.period.start, invoice.period.end, style.language)))
    if invoice.delivery is not None:
        facts.append((labels.delivery_date, style.date(invoice.delivery.date)))
    facts.append((labels.currency, invoice.currency))
    return [(label, value) for label, value in facts if value]


def _continuation_head(invoice: Invoice, style: _Style, title: str) -> list[Op]:
    text = f"{title} {invoice.number or ''} ({style.labels.continued})"
    return [
        Text(0, 10, fit(text, style.bold, 9, CONTENT_WIDTH / 2), style.bold, 9, style.primary),
        Text(
            CONTENT_WIDTH,
            10,
            fit(_seller_name(invoice), style.regular, 8, CONTENT_WIDTH / 2),
            style.regular,
            8,
            GREY,
            "right",
        ),
        Rect(0, 15, CONTENT_WIDTH, 0.6, fill=RULE),
    ]


def _default_footer(invoice: Invoice, style: _Style) -> str:
    seller = invoice.seller
    if seller is None:
        return ""
    parts = [seller.display_name or ""]
    if seller.address is not None:
        parts.append(", ".join(seller.address.lines))
    parts.extend(_org_lines(seller, style))
    return " · ".join(part for part in parts if part)


def _footer(text: str, style: _Style, number: int, count: int) -> list[Op]:
    page = f"{style.labels.page} {number} {style.labels.of} {count}"
    ops: list[Op] = [
        Rect(0, 0, CONTENT_WIDTH, 0.6, fill=RULE),
        Text(CONTENT_WIDTH, 10, page, style.regular, SMALL + 0.5, GREY, "right"),
    ]
    lines = wrap(text, style.regular, SMALL, CONTENT_WIDTH - 30 * mm)[:3]
    _text_lines(ops, lines, 0, 10, style.regular, SMALL, SMALL_LEADING, GREY)
    return ops


# -- the lines -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Columns:
    number: float = 0.0
    description: float = 30.0
    quantity_right: float = CONTENT_WIDTH - 252.0 + 50.0
    unit: float = CONTENT_WIDTH - 252.0 + 54.0
    price_right: float = CONTENT_WIDTH - 106.0
    vat_right: float = CONTENT_WIDTH - 74.0
    amount_right: float = CONTENT_WIDTH - 2.0

    @property
    def description_width(self) -> float:
        return self.quantity_right - 50.0 - self.description - 6.0


COLUMNS = _Columns()


def _lines_table(invoice: Invoice, style: _Style) -> list[Block]:
    if not invoice.lines:
        return []
    header = _table_header(style)
    rows = [_line_row(line, style, header) for line in invoice.lines]
    return [Block(height=header.height, ops=header.ops, keep_with_next=True), *rows]


def _table_header(style: _Style) -> Block:
    labels = style.labels
    c = COLUMNS
    y = 10.0
    ops: list[Op] = [Rect(0, 0, CONTENT_WIDTH, 14, fill=style.primary)]
    font, size = style.bold, SMALL + 0.3
    ops += [
        Text(c.number + 2, y, labels.line_no, font, size, WHITE),
        Text(c.description, y, labels.description, font, size, WHITE),
        Text(c.quantity_right, y, labels.quantity, font, size, WHITE, "right"),
        Text(c.unit, y, labels.unit, font, size, WHITE),
        Text(c.price_right, y, labels.price, font, size, WHITE, "right"),
        Text(c.vat_right, y, labels.vat, font, size, WHITE, "right"),
        Text(c.amount_right, y, labels.amount, font, size, WHITE, "right"),
    ]
    return Block(height=17, ops=ops)


def _allowance_text(item: AllowanceCharge, style: _Style) -> str:
    label = style.labels.charge if item.is_charge else style.labels.allowance
    reason = item.reason or item.reason_code or ""
    sign = Decimal(1) if item.is_charge else Decimal(-1)
    amount = style.amount(item.amount * sign) if item.amount is not None else ""
    return " ".join(part for part in (f"{label}:", reason, amount) if part)


def _line_row(line: Line, style: _Style, header: Block) -> Block:
    c = COLUMNS
    width = c.description_width
    first = 9.0
    unit = UNITS[style.language].get(line.unit_code or "", line.unit_code or "")
    price = style.amount(line.price)
    if line.base_quantity is not None and line.base_quantity not in (Decimal(0), Decimal(1)):
        price += f" / {format_quantity(line.base_quantity, style.language)}"
    name_lines = wrap(_clip(line.name or line.description or ""), style.regular, BODY, width)
    # Number, first name line, then the figures: extracted text reads like the printed row.
    ops: list[Op] = [
        Text(
            c.number + 2,
            first,
            fit(line.id or "", style.regular, BODY, c.description - 4),
            style.regular,
            BODY,
        ),
        Text(c.description, first, name_lines[0], style.regular, BODY),
        Text(
            c.quantity_right,
            first,
            format_quantity(line.quantity, style.language),
            style.regular,
            BODY,
            align="right",
        ),
        Text(c.unit, first, fit(unit, style.regular, SMALL, 34), style.regular, SMALL),
        Text(c.price_right, first, price, style.regular, BODY, align="right"),
        Text(
            c.vat_right,
            first,
            format_percent(line.vat_percent, style.language),
            style.regular,
            BODY,
            align="right",
        ),
        Text(c.amount_right, first, style.amount(line.line_amount), style.regular, BODY, align="right"),
    ]
    y = _text_lines(ops, name_lines[1:], c.description, first + LEADING, style.regular, BODY, LEADING)
    details: list[str] = []
    if line.description and line.name:
        details.append(_clip(line.description))
    if line.period is not None:
        details.append(
            f"{style.labels.period}: {format_period(line.period.start, line.period.end, style.language)}"
        )
    details.extend(_clip(note) for note in line.notes)
    details.extend(_allowance_text(item, style) for item in line.allowances_charges)
    for detail in details:
        lines = wrap(detail, style.regular, SMALL, width)
        y = _text_lines(ops, lines, c.description, y - 1, style.regular, SMALL, SMALL_LEADING, GREY) + 1
    height = y - LEADING + 5
    ops.append(Rect(0, height - 0.5, CONTENT_WIDTH, 0.4, fill=RULE))
    return Block(height=height, ops=ops, header=header)


# -- totals, VAT, payment and texts ----------------------------------------------------------------


def _summary(invoice: Invoice, style: _Style) -> list[Block]:
    blocks: list[Block] = [Block(height=4 * mm)]
    blocks += _allowances_charges(invoice, style)
    blocks.append(_totals(invoice, style))
    blocks.append(_payment(invoice, style))
    blocks += _vat_breakdown(invoice, style)
    labels = style.labels
    blocks += _paragraph(labels.payment_terms, invoice.payment_terms, style)
    blocks += _paragraph(labels.notes, "\n".join(_clip(note) for note in invoice.notes), style)
    attachments = [
        " – ".join(
            part
            for part in (
                attachment.id,
                attachment.description,
                ", ".join(p for p in (attachment.filename, attachment.mime_code) if p),
            )
            if part
        )
        for attachment in invoice.attachments
    ]
    blocks += _paragraph(labels.attachments, "\n".join(attachments), style)
    return blocks


def _heading(text: str, style: _Style) -> Block:
    return Block(height=18, ops=[Text(0, 14, text, style.bold, 9.5, style.primary)], keep_with_next=True)


def _paragraph(title: str, text: str | None, style: _Style) -> list[Block]:
    """A heading and its text as one block per line, so a long text breaks across pages."""
    if not text:
        return []
    lines = wrap(_clip(text) if len(text) > MAX_FIELD_CHARS * 4 else text, style.regular, BODY, CONTENT_WIDTH)
    blocks = [_heading(title, style)]
    blocks += [Block(height=LEADING, ops=[Text(0, 8, line, style.regular, BODY)]) for line in lines]
    return blocks


def _key_values(
    rows: list[tuple[str, str, bool]], style: _Style, left: float, right: float
) -> tuple[list[Op], float]:
    """Label/value rows (value right-aligned); a ``True`` flag marks the emphasised last row."""
    ops: list[Op] = []
    y = 10.0
    for label, value, strong in rows:
        if strong:
            ops.append(Rect(left, y - 8, right - left, 0.8, fill=style.primary))
            y += 6
            font, size, colour = style.bold, 10.0, style.primary
        else:
            font, size, colour = style.regular, BODY, (0.0, 0.0, 0.0)
        ops.append(Text(left, y, label, font, size, colour))
        ops.append(Text(right, y, value, font, size, colour, "right"))
        y += LEADING + (2 if strong else 0)
    return ops, y


def _totals(invoice: Invoice, style: _Style) -> Block:
    labels, totals = style.labels, invoice.totals
    rows: list[tuple[str, Decimal | None, bool]] = [
        (labels.total_lines, totals.line_extension, False),
        (labels.total_allowances, _nonzero(totals.allowance_total, negate=True), False),
        (labels.total_charges, _nonzero(totals.charge_total), False),
        (labels.total_excl_vat, totals.tax_exclusive, False),
        (labels.total_vat, totals.vat_total, False),
        (labels.total_incl_vat, totals.tax_inclusive, False),
        (labels.prepaid, _nonzero(totals.prepaid, negate=True), False),
        (labels.rounding, _nonzero(totals.rounding), False),
    ]
    shown = [(label, style.amount(value), False) for label, value, _ in rows if value is not None]
    due_label = labels.amount_credited if invoice.is_credit_note else labels.amount_due
    payable = style.amount(totals.payable)
    if totals.payable is not None and invoice.currency:
        payable = f"{payable} {invoice.currency}"
    shown.append((due_label, payable, True))
    ops, height = _key_values(shown, style, CONTENT_WIDTH - 80 * mm, CONTENT_WIDTH)
    return Block(height=height + 2 * mm, ops=ops)


def _nonzero(value: Decimal | None, *, negate: bool = False) -> Decimal | None:
    if value is None or value == 0:
        return None
    return -value if negate else value


def _allowances_charges(invoice: Invoice, style: _Style) -> list[Block]:
    if not invoice.allowances_charges:
        return []
    blocks = [_heading(style.labels.allowances_charges, style)]
    for item in invoice.allowances_charges:
        label = style.labels.charge if item.is_charge else style.labels.allowance
        reason = item.reason or item.reason_code or ""
        text = fit(f"{label}: {reason}".rstrip(": "), style.regular, BODY, CONTENT_WIDTH - 150)
        amount = item.amount if item.is_charge or item.amount is None else -item.amount
        ops: list[Op] = [
            Text(0, 8, text, style.regular, BODY),
            Text(
                COLUMNS.vat_right,
                8,
                format_percent(item.vat_percent, style.language),
                style.regular,
                BODY,
                align="right",
            ),
            Text(COLUMNS.amount_right, 8, style.amount(amount), style.regular, BODY, align="right"),
        ]
        blocks.append(Block(height=LEADING + 1, ops=ops))
    blocks.append(Block(height=3 * mm))
    return blocks


def _vat_breakdown(invoice: Invoice, style: _Style) -> list[Block]:
    if not invoice.vat_breakdown:
        return []
    labels = style.labels
    blocks = [_heading(labels.vat_breakdown, style)]
    right_taxable, right_vat = CONTENT_WIDTH - 90, CONTENT_WIDTH - 2
    head: list[Op] = [
        Rect(0, 0, CONTENT_WIDTH, 13, fill=style.light),
        Text(2, 9, labels.vat_category, style.bold, SMALL),
        Text(230, 9, labels.vat_rate, style.bold, SMALL, align="right"),
        Text(right_taxable, 9, labels.taxable_amount, style.bold, SMALL, align="right"),
        Text(right_vat, 9, labels.vat_amount, style.bold, SMALL, align="right"),
    ]
    blocks.append(Block(height=15, ops=head, keep_with_next=True))
    names = VAT_CATEGORIES[style.language]
    for item in invoice.vat_breakdown:
        category = item.category or ""
        name = f"{category} – {names[category]}" if category in names else category
        ops: list[Op] = [
            Text(2, 8, fit(name, style.regular, BODY, 170), style.regular, BODY),
            Text(230, 8, format_percent(item.percent, style.language), style.regular, BODY, align="right"),
            Text(right_taxable, 8, style.amount(item.taxable_amount), style.regular, BODY, align="right"),
            Text(right_vat, 8, style.amount(item.tax_amount), style.regular, BODY, align="right"),
        ]
        height = LEADING + 1
        reason = item.exemption_reason or item.exemption_reason_code
        if reason:
            for line in wrap(_clip(reason), style.regular, SMALL, 300)[:4]:
                ops.append(Text(10, height + 6, line, style.regular, SMALL, GREY))
                height += SMALL_LEADING
        blocks.append(Block(height=height, ops=ops))
    blocks.append(Block(height=4 * mm))
    return blocks


def _payment(invoice: Invoice, style: _Style) -> Block:
    """The box a payer copies from: amount, due date, account and KID."""
    labels = style.labels
    rows: list[tuple[str, str]] = []
    due_label = labels.amount_credited if invoice.is_credit_note else labels.amount_due
    payable = style.amount(invoice.totals.payable)
    if invoice.totals.payable is not None:
        rows.append((due_label, f"{payable} {invoice.currency or ''}".strip()))
    if invoice.due_date is not None:
        rows.append((labels.due_date, style.date(invoice.due_date)))
    for means in invoice.payment_means:
        if means.account_id:
            account = means.account_id.replace(" ", "")
            label = labels.iban if len(account) > 11 and account[:2].isalpha() else labels.account
            rows.append((label, means.account_id))
        if means.bic:
            rows.append((labels.bic, means.bic))
    if invoice.kid:
        rows.append((labels.kid, invoice.kid))
    codes = [means.code for means in invoice.payment_means if means.code]
    if codes:
        names = PAYMENT_MEANS[style.language]
        rows.append((labels.payment_means, ", ".join(names.get(code, code) for code in dict.fromkeys(codes))))
    ops: list[Op] = [Text(8, 14, labels.payment, style.bold, 9.5, style.primary)]
    y = 28.0
    for index, (label, value) in enumerate(rows[:12]):
        strong = index == 0 and label == due_label
        font, size = (style.bold, 10.0) if strong else (style.regular, BODY)
        ops.append(Text(8, y, label, style.regular, size, GREY))
        ops.append(Text(8 + 38 * mm, y, fit(value, font, size, CONTENT_WIDTH - 50 * mm), font, size))
        y += LEADING + (3 if strong else 1)
    height = y + 2
    box: list[Op] = [Rect(0, 0, CONTENT_WIDTH, height, fill=style.light, stroke=style.accent)]
    return Block(height=height + 5 * mm, ops=box + ops)
