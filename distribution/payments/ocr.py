"""OCR giro files (Nets "OCR" transmissions, ISO-8859-1, 80-character records) read into payments.

Parsing is ``netsgiro``'s; this module decides what a record means for us. Each payment's reference
is ``transmission/assignment/transaction``: the numbers Nets gives a transaction once, so the same
payment in a re-delivered or overlapping file has the same reference and never books twice.
Reversals (transaction types 18 and 20, or a ``-`` sign) carry a negative amount: money leaving,
which a person decides about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import netsgiro

ENCODING = "iso-8859-1"
REVERSAL_TYPES = frozenset({18, 20})
CENT = Decimal("0.01")


class OcrFormatError(ValueError):
    """The bytes are not an OCR giro payments file; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class OcrPayment:
    """One incoming transaction (amount in kroner, KID as the payer wrote it)."""

    transmission: str
    assignment: str
    transaction: int
    type: int
    type_name: str
    amount: Decimal
    kid: str | None
    paid_on: dt.date  # Nets' settlement date
    bank_date: dt.date | None  # when the payer's bank took it
    payer_account: str | None
    account: str  # the payee account the money went to
    archive_reference: str | None
    form_number: str | None
    text: str | None  # free text of transaction types 20/21

    @property
    def reference(self) -> str:
        return f"{self.transmission}/{self.assignment}/{self.transaction}"

    @property
    def reversal(self) -> bool:
        return self.amount < 0

    def detail(self) -> dict[str, Any]:
        """What is kept with the stored payment (JSON)."""
        return {
            "transmission": self.transmission,
            "assignment": self.assignment,
            "transaction": self.transaction,
            "type": self.type,
            "type_name": self.type_name,
            "bank_date": self.bank_date.isoformat() if self.bank_date else None,
            "payer_account": self.payer_account,
            "account": self.account,
            "archive_reference": self.archive_reference,
            "form_number": self.form_number,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class OcrFile:
    transmission: str
    data_transmitter: str
    date: dt.date | None
    payments: tuple[OcrPayment, ...]


def decode(data: bytes) -> str:
    """Bank files are ISO-8859-1: every byte is a character, so decoding itself never fails."""
    return data.decode(ENCODING)


def parse_ocr(data: bytes | str) -> OcrFile:
    """The payments of an OCR giro file; :class:`OcrFormatError` for anything else (garbage, a
    claims or agreement file, a file whose records do not add up)."""
    text = decode(data) if isinstance(data, bytes) else data
    if not text.strip():
        raise OcrFormatError("the file is empty")
    if not text.lstrip().startswith("NY"):
        raise OcrFormatError("not an OCR giro file: records start with 'NY'")
    try:
        transmission = netsgiro.parse(text)
    except Exception as exc:  # netsgiro raises ValueError, KeyError, AssertionError... on bad input
        raise OcrFormatError(f"not a valid OCR giro file: {_reason(exc)}") from None
    payments: list[OcrPayment] = []
    for assignment in transmission.assignments:
        if assignment.service_code != netsgiro.ServiceCode.OCR_GIRO:
            raise OcrFormatError(
                f"assignment {assignment.number} is {assignment.service_code.name}, not OCR giro payments"
            )
        for item in assignment.transactions:
            if not isinstance(item, netsgiro.Transaction):
                raise OcrFormatError(f"assignment {assignment.number} holds no payment transactions")
            payments.append(_payment(transmission.number, assignment, item))
    return OcrFile(transmission.number, transmission.data_transmitter, transmission.date, tuple(payments))


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _payment(transmission: str, assignment: Any, item: Any) -> OcrPayment:
    kind = int(item.type)
    amount = Decimal(item.amount).quantize(CENT)  # netsgiro divides øre by 100: 1250, not 1250.00
    if kind in REVERSAL_TYPES or item.sign == "-":
        amount = -abs(amount)
    return OcrPayment(
        transmission=transmission,
        assignment=assignment.number,
        transaction=item.number,
        type=kind,
        type_name=item.type.name.lower(),
        amount=amount,
        kid=item.kid.strip() if item.kid else None,
        paid_on=item.date,
        bank_date=item.bank_date,
        payer_account=_account(item.debit_account),
        account=assignment.account,
        archive_reference=item.reference,
        form_number=item.form_number,
        text=item.text,
    )


def _account(value: str | None) -> str | None:
    """Nets writes zeros where the payer's account is not known."""
    return value if value and value.strip("0") else None
