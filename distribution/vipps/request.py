"""The ePayment payment request for one invoice: reference, phone number, description, receipt.

Amounts are øre (integers). The receipt's order lines are the invoice's lines; whatever the lines do
not explain (document-level allowances and charges, prepaid amounts, rounding) is one more line, so
the receipt always adds up to the amount asked for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from distribution.invoice import Invoice

REFERENCE = re.compile(r"[a-zA-Z0-9-]{8,50}")
MAX_DESCRIPTION = 100
MAX_ORDER_LINES = 100
MIN_EXPIRY = dt.timedelta(minutes=10)
MAX_EXPIRY = dt.timedelta(days=28)  # the ePayment API's bound on expiresAt
OSLO = ZoneInfo("Europe/Oslo")


def ore(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def payment_reference(invoice_id: str, attempt_key: str) -> str:
    """The invoice id in Vipps' alphabet plus a tag of the attempt: one payment per attempt, and a
    later attempt (after an expired request) does not collide with the reference of the first."""
    base = re.sub(r"[^a-zA-Z0-9-]", "-", invoice_id)[:41]
    tag = hashlib.sha256(attempt_key.encode()).hexdigest()[:8]
    reference = f"{base}-{tag}"
    return reference if len(reference) >= 8 else reference.rjust(8, "0")


def msisdn(mobile: str | None) -> str | None:
    """``+47 912 34 567``, ``0047…`` or an 8-digit Norwegian number → ``4791234567``; else None."""
    if not mobile:
        return None
    text = re.sub(r"[\s().-]", "", mobile)
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    elif re.fullmatch(r"[49]\d{7}", text):
        digits = "47" + text  # a Norwegian mobile number without country code
    else:
        digits = text
    return digits if re.fullmatch(r"[1-9]\d{9,14}", digits) else None


def description(invoice: Invoice) -> str:
    parts = [f"Faktura {invoice.number}" if invoice.number else "Faktura"]
    if invoice.kid:
        parts.append(f"KID {invoice.kid}")
    text = ", ".join(parts)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _line(name: str, line_id: str, excluding: int, tax: int, rate: Decimal | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "name": name[:100] or "-",
        "id": line_id[:100] or "-",
        "totalAmount": abs(excluding + tax),
        "totalAmountExcludingTax": abs(excluding),
        "totalTaxAmount": abs(tax),
        "taxRate": int((rate or Decimal(0)) * 100),
        "isReturn": excluding + tax < 0,
    }
    return line


def receipt(invoice: Invoice, total: int) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    covered = 0
    for index, item in enumerate(invoice.lines[:MAX_ORDER_LINES], start=1):
        if item.line_amount is None:
            continue
        excluding = ore(item.line_amount)
        tax = ore(item.line_amount * (item.vat_percent or Decimal(0)) / 100)
        lines.append(
            _line(item.name or f"Linje {index}", item.id or str(index), excluding, tax, item.vat_percent)
        )
        covered += excluding + tax
    rest = total - covered
    if rest or not lines:
        name = "Øvrige beløp" if len(invoice.lines) <= MAX_ORDER_LINES else "Øvrige linjer og beløp"
        lines.append(_line(name, "adjustment", rest, 0, None))
    bottom: dict[str, Any] = {"currency": "NOK"}
    if invoice.number:
        bottom["receiptNumber"] = invoice.number[:100]
    return {"orderLines": lines, "bottomLine": bottom}


def expires_at(due: dt.date | None, now: dt.datetime) -> str | None:
    """The end of the due date in Oslo, within the API's window; None when it falls outside."""
    if due is None:
        return None
    end = dt.datetime.combine(due, dt.time(23, 59, 59), tzinfo=OSLO).astimezone(dt.UTC)
    end = min(end, now + MAX_EXPIRY - dt.timedelta(minutes=1))
    if end - now <= MIN_EXPIRY:
        return None
    return end.strftime("%Y-%m-%dT%H:%M:%SZ")


def payment_request(
    invoice: Invoice,
    *,
    reference: str,
    phone: str,
    amount: int,
    long_living: bool,
    now: dt.datetime,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": {"currency": "NOK", "value": amount},
        "paymentMethod": {"type": "WALLET"},
        "customer": {"phoneNumber": phone},
        "customerInteraction": "CUSTOMER_NOT_PRESENT",
        "userFlow": "PUSH_MESSAGE",
        "reference": reference,
        "paymentDescription": description(invoice),
        "receipt": receipt(invoice, amount),
    }
    if long_living:
        expiry = expires_at(invoice.due_date, now)
        if expiry is not None:
            body["expiresAt"] = expiry  # the API wants a receipt with it: always sent above
    return body
