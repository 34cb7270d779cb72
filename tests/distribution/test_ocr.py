"""OCR giro files read into payments: files built with netsgiro (the wheel ships the specifications as
PDFs, no sample files), a file written record by record to the published layout, and garbage refused.

``ocr_file`` is shared with the booking and API tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import netsgiro
import pytest

from distribution.payments.ocr import OcrFormatError, parse_ocr

SETTLED = dt.date(2024, 3, 15)
PAYEE_ACCOUNT = "86011117947"
NO_KID = "9" * 25


@dataclass(frozen=True)
class Giro:
    """One incoming payment as a test writes it."""

    amount: Decimal
    kid: str | None = None
    text: str | None = None
    reversal: bool = False
    payer_account: str = "12345678903"


def ocr_file(
    payments: Sequence[Giro], *, transmission: str = "1703231", assignment: str = "4000086", start: int = 1
) -> bytes:
    """An OCR giro transmission as Nets delivers it (ISO-8859-1), built with netsgiro."""
    sent = netsgiro.Transmission(
        number=transmission, data_transmitter=netsgiro.NETS_ID, data_recipient="00012345", date=SETTLED
    )
    target = sent.add_assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id="000000000",
        number=assignment,
        account=PAYEE_ACCOUNT,
        date=SETTLED,
    )
    for number, giro in enumerate(payments, start=start):
        if giro.text is not None:
            kind = (
                netsgiro.TransactionType.REVERSING_WITH_TEXT
                if giro.reversal
                else netsgiro.TransactionType.PURCHASE_WITH_TEXT
            )
        elif giro.reversal:
            kind = netsgiro.TransactionType.REVERSING_WITH_KID
        else:
            kind = netsgiro.TransactionType.FROM_GIRO_DEBITED_ACCOUNT
        target.transactions.append(
            netsgiro.Transaction(
                service_code=netsgiro.ServiceCode.OCR_GIRO,
                type=kind,
                number=number,
                date=SETTLED,
                amount=giro.amount,
                kid=giro.kid or NO_KID,
                reference=f"{number:09d}",
                text=giro.text,
                centre_id="13",
                day_code=15,
                partial_settlement_number=1,
                partial_settlement_serial_number="01234",
                sign="0",
                form_number="9636827194",
                bank_date=SETTLED - dt.timedelta(days=1),
                debit_account=giro.payer_account,
                filler=None,
            )
        )
    # netsgiro writes no blank KID; a bank does (text transactions), so blank the placeholder.
    lines = [
        line[:49] + " " * 25 + line[74:] if line[6:8] == "30" and line[49:74] == NO_KID else line
        for line in sent.to_ocr().splitlines()
    ]
    return "\n".join(lines).encode("iso-8859-1")


def test_a_built_file_reads_back() -> None:
    data = ocr_file(
        [
            Giro(Decimal("1250.00"), kid="123456782"),
            Giro(Decimal("99.50"), text="Faktura 2024-17 Ærlig"),
            Giro(Decimal("10.00"), kid="55556", reversal=True),
        ]
    )
    parsed = parse_ocr(data)
    assert parsed.transmission == "1703231" and parsed.data_transmitter == netsgiro.NETS_ID
    first, second, third = parsed.payments
    assert first.reference == "1703231/4000086/1"
    assert (first.amount, first.kid, first.paid_on, first.type, first.type_name) == (
        Decimal("1250.00"),
        "123456782",
        SETTLED,
        10,
        "from_giro_debited_account",
    )
    assert first.bank_date == SETTLED - dt.timedelta(days=1)
    assert (first.payer_account, first.account, first.archive_reference) == (
        "12345678903",
        PAYEE_ACCOUNT,
        "000000001",
    )
    assert (second.kid, second.text, second.amount) == (None, "Faktura 2024-17 Ærlig", Decimal("99.50"))
    assert third.reversal and third.amount == Decimal("-10.00")
    assert not first.reversal
    assert first.detail()["bank_date"] == "2024-03-14"


def test_references_are_stable_across_files() -> None:
    one = parse_ocr(ocr_file([Giro(Decimal(1), kid="18"), Giro(Decimal(2), kid="26")]))
    again = parse_ocr(ocr_file([Giro(Decimal(2), kid="26")], start=2))
    assert one.payments[1].reference == again.payments[0].reference == "1703231/4000086/2"


def test_a_file_written_to_the_published_layout() -> None:
    """Records typed column by column from the OCR giro system manual (not through netsgiro's writer)."""
    lines = [
        "NY000010" + "00008080" + "1703231" + "00012345" + "0" * 49,
        "NY090020" + "000000000" + "4000086" + PAYEE_ACCOUNT + "0" * 45,
        "NY091030"
        + "0000001"
        + "150324"
        + "13"
        + "15"
        + "1"
        + "01234"
        + "0"
        + f"{123450:017d}"
        + f"{'123456782':>25}"
        + "0" * 6,
        "NY091031" + "0000001" + "9636827194" + "000000001" + "0" * 7 + "140324" + "12345678903" + "0" * 22,
        "NY090088" + "00000001" + "00000004" + f"{123450:017d}" + "150324" * 3 + "0" * 21,
        "NY000089" + "00000001" + "00000006" + f"{123450:017d}" + "150324" + "0" * 33,
    ]
    assert all(len(line) == 80 for line in lines)
    parsed = parse_ocr("\r\n".join(lines).encode("iso-8859-1"))
    (payment,) = parsed.payments
    assert (payment.reference, payment.amount, payment.kid, payment.paid_on) == (
        "1703231/4000086/1",
        Decimal("1234.50"),
        "123456782",
        SETTLED,
    )


def test_an_empty_transmission_has_no_payments() -> None:
    assert parse_ocr(ocr_file([])).payments == ()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"%PDF-1.7\n...", "records start with 'NY'"),
        (b"NY000010 not eighty characters", "not a valid OCR giro file"),
        (("NY" + "9" * 78).encode(), "not a valid OCR giro file"),
        (bytes(range(256)), "records start"),
    ],
)
def test_garbage_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(OcrFormatError, match=reason):
        parse_ocr(data)


def test_a_truncated_file_is_refused() -> None:
    lines = ocr_file([Giro(Decimal(5), kid="18")]).decode("iso-8859-1").splitlines()
    with pytest.raises(OcrFormatError):
        parse_ocr("\n".join(lines[:-1]).encode("iso-8859-1"))


def test_a_claims_file_is_not_payments() -> None:
    claims = netsgiro.Transmission(
        number="1703231", data_transmitter="01234567", data_recipient=netsgiro.NETS_ID
    )
    assignment = claims.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        number="0323001",
        account="99998877777",
    )
    assignment.add_payment_request(
        kid="123456782",
        due_date=SETTLED,
        amount=Decimal(100),
        reference="x",
        payer_name="Kari",
        bank_notification=False,
    )
    with pytest.raises(OcrFormatError, match="AVTALEGIRO"):
        parse_ocr(claims.to_ocr().encode("iso-8859-1"))
