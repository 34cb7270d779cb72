"""Payment-claims files (and cancellation files) for AvtaleGiro, written with ``netsgiro``.

One transmission per file with one assignment: service code AvtaleGiro, assignment type
transactions (claims) or AvtaleGiro cancellations. Records are 80 characters of ISO-8859-1; free
text is cut to the field widths here, because ``netsgiro`` writes a too-long reference as is and the
bank then refuses the whole line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import netsgiro

ENCODING = "iso-8859-1"
REFERENCE_WIDTH = 25  # amount item 2, external reference shown on the payer's statement
PAYER_NAME_WIDTH = 10  # amount item 2, payer's short name (for the payee's own reports)
NOTICE_LINE_WIDTH = 80  # two specification columns of 40 characters
NOTICE_MAX_LINES = 42
MAX_AMOUNT = Decimal("999999999999999.99")  # 17 digits of øre


class ClaimsFileError(ValueError):
    """A claim that cannot be written into a claims file; the message says which and why."""


@dataclass(frozen=True, slots=True)
class FileHeader:
    """Who sends the file and for which agreement and account (from the tenant's settings)."""

    data_transmitter: str  # 8 digits
    agreement_id: str  # 9 digits
    account: str  # 11 digits
    transmission_number: str  # 7 digits, unique per data transmitter
    assignment_number: str  # 7 digits, unique per payee account within 12 months


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One payment request exactly as written; a cancellation repeats these values unchanged."""

    kid: str
    due_date: dt.date
    amount: Decimal
    reference: str | None = None
    payer_name: str | None = None
    notice: str | None = None  # the bank notifies the payer with this text; None: the payee notifies


def fit(text: str | None, width: int) -> str | None:
    """``text`` as the file can carry it: one line, ISO-8859-1 (others become ``?``), cut to width."""
    if text is None:
        return None
    line = " ".join(text.split())
    line = line.encode(ENCODING, errors="replace").decode(ENCODING)[:width].strip()
    return line or None


def fit_notice(text: str | None) -> str | None:
    if text is None:
        return None
    lines = [
        line.encode(ENCODING, errors="replace").decode(ENCODING)[:NOTICE_LINE_WIDTH].rstrip()
        for line in text.splitlines()
    ]
    kept = [line for line in lines if line][:NOTICE_MAX_LINES]
    return "\n".join(kept) or None


def _check(line: ClaimLine, position: int) -> None:
    if not (line.kid.isascii() and line.kid.isdigit() and 2 <= len(line.kid) <= 25):
        raise ClaimsFileError(f"claim {position}: KID {line.kid!r} must be 2-25 digits")
    if not Decimal(0) < line.amount <= MAX_AMOUNT or line.amount != line.amount.quantize(Decimal("0.01")):
        raise ClaimsFileError(
            f"claim {position}: amount {line.amount} must be positive with at most 2 decimals"
        )


def _write(
    header: FileHeader, lines: Sequence[ClaimLine], assignment_type: netsgiro.AssignmentType
) -> tuple[bytes, list[int]]:
    if not lines:
        raise ClaimsFileError("a claims file needs at least one claim")
    transmission = netsgiro.Transmission(
        number=header.transmission_number,
        data_transmitter=header.data_transmitter,
        data_recipient=netsgiro.NETS_ID,
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO,
        assignment_type=assignment_type,
        agreement_id=header.agreement_id if assignment_type is netsgiro.AssignmentType.TRANSACTIONS else None,
        number=header.assignment_number,
        account=header.account,
    )
    add = (
        assignment.add_payment_request
        if assignment_type is netsgiro.AssignmentType.TRANSACTIONS
        else assignment.add_payment_cancellation
    )
    numbers: list[int] = []
    for position, line in enumerate(lines, 1):
        _check(line, position)
        request = add(
            kid=line.kid,
            due_date=line.due_date,
            amount=line.amount,
            reference=fit(line.reference, REFERENCE_WIDTH),
            payer_name=fit(line.payer_name, PAYER_NAME_WIDTH),
            bank_notification=fit_notice(line.notice) or False,
        )
        numbers.append(request.number)
    text = transmission.to_ocr() + "\n"
    return text.encode(ENCODING), numbers


def build_claims_file(header: FileHeader, lines: Sequence[ClaimLine]) -> tuple[bytes, list[int]]:
    """The claims file and each claim's transaction number (1, 2, ... in the order given)."""
    return _write(header, lines, netsgiro.AssignmentType.TRANSACTIONS)


def build_cancellations_file(header: FileHeader, lines: Sequence[ClaimLine]) -> tuple[bytes, list[int]]:
    """Cancellations of claims already sent: each line must equal the original request's values
    (use :func:`read_claims_file` on the sent file to get them back exactly)."""
    return _write(header, lines, netsgiro.AssignmentType.AVTALEGIRO_CANCELLATIONS)


@dataclass(frozen=True, slots=True)
class ParsedClaims:
    transmission_number: str
    data_transmitter: str
    assignment_type: netsgiro.AssignmentType
    assignment_number: str
    account: str
    lines: tuple[ClaimLine, ...]
    transaction_numbers: tuple[int, ...]


def _line(request: netsgiro.PaymentRequest) -> ClaimLine:
    return ClaimLine(
        kid=request.kid or "",
        due_date=request.date,
        amount=request.amount.quantize(Decimal("0.01")),
        reference=request.reference,
        payer_name=request.payer_name,
        notice=fit_notice(request.text),
    )


def read_claims_file(data: bytes) -> ParsedClaims:
    """A claims or cancellations file we wrote, read back (for cancelling exactly what was sent)."""
    try:
        transmission = netsgiro.parse(data.decode(ENCODING))
    except (ValueError, AssertionError, TypeError) as exc:
        raise ClaimsFileError(f"not an AvtaleGiro claims file: {exc}") from exc
    if len(transmission.assignments) != 1:
        raise ClaimsFileError("a claims file has exactly one assignment")
    (assignment,) = transmission.assignments
    requests: Iterable[netsgiro.PaymentRequest] = [
        item for item in assignment.transactions if isinstance(item, netsgiro.PaymentRequest)
    ]
    requests = list(requests)
    return ParsedClaims(
        transmission_number=transmission.number,
        data_transmitter=transmission.data_transmitter,
        assignment_type=assignment.type,
        assignment_number=assignment.number,
        account=assignment.account,
        lines=tuple(_line(request) for request in requests),
        transaction_numbers=tuple(request.number for request in requests),
    )
