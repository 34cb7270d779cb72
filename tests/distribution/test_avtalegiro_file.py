"""Claims and cancellation files written with netsgiro read back to exactly what went in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import netsgiro
import pytest

from distribution.avtalegiro.claims_file import (
    ClaimLine,
    ClaimsFileError,
    FileHeader,
    build_cancellations_file,
    build_claims_file,
    read_claims_file,
)
from distribution.payments.kid import make_kid

HEADER = FileHeader(
    data_transmitter="01234567",
    agreement_id="000123456",
    account="99998877777",
    transmission_number="0000042",
    assignment_number="0000042",
)


def requests_of(transmission: netsgiro.Transmission) -> list[netsgiro.PaymentRequest]:
    """The payment requests (or cancellations) of a one-assignment transmission."""
    (assignment,) = transmission.assignments
    found = [t for t in assignment.transactions if isinstance(t, netsgiro.PaymentRequest)]
    assert len(found) == len(assignment.transactions)
    return found


def batch() -> list[ClaimLine]:
    return [
        ClaimLine(
            kid=make_kid(f"{1000 + n}", algorithm="mod10"),
            due_date=dt.date(2030, 1, 10) + dt.timedelta(days=n),
            amount=Decimal("100.00") * n + Decimal("0.55"),
            reference=f"Faktura {1000 + n}",
            payer_name="Kari Nordmann",
            notice=f"Faktura {1000 + n}\nForfall 10.01.2030" if n % 2 else None,
        )
        for n in range(1, 8)
    ]


def test_claims_file_parses_back_with_netsgiro() -> None:
    lines = batch()
    data, numbers = build_claims_file(HEADER, lines)
    assert numbers == list(range(1, 8))
    text = data.decode("iso-8859-1")
    assert all(len(record) == 80 for record in text.splitlines())
    transmission = netsgiro.parse(text)
    assert (transmission.number, transmission.data_transmitter, transmission.data_recipient) == (
        "0000042",
        "01234567",
        netsgiro.NETS_ID,
    )
    (assignment,) = transmission.assignments
    assert assignment.service_code is netsgiro.ServiceCode.AVTALEGIRO
    assert assignment.type is netsgiro.AssignmentType.TRANSACTIONS
    assert (assignment.account, assignment.agreement_id) == ("99998877777", "000123456")
    requests = requests_of(transmission)
    got = [(t.kid, t.amount, t.date) for t in requests]
    assert got == [(line.kid, line.amount, line.due_date) for line in lines]
    types = [t.type for t in requests]
    assert types[0] is netsgiro.TransactionType.AVTALEGIRO_WITH_BANK_NOTIFICATION  # the payer is notified
    assert types[1] is netsgiro.TransactionType.AVTALEGIRO_WITH_PAYEE_NOTIFICATION
    assert (requests[0].text or "").splitlines()[0].strip() == "Faktura 1001"
    assert transmission.get_total_amount() == sum((line.amount for line in lines), Decimal(0))
    back = read_claims_file(data)
    assert back.transaction_numbers == tuple(numbers)
    assert [(b.kid, b.amount, b.due_date, b.reference, b.notice) for b in back.lines] == [
        (line.kid, line.amount, line.due_date, line.reference, line.notice) for line in lines
    ]
    assert {b.payer_name for b in back.lines} == {"Kari Nordm"}  # the field holds 10 characters


def test_cancellations_file_repeats_the_requests() -> None:
    sent, _ = build_claims_file(HEADER, batch())
    original = read_claims_file(sent)
    cancel = [original.lines[1], original.lines[4]]
    data, _ = build_cancellations_file(
        FileHeader("01234567", "000123456", "99998877777", "0000043", "0000043"), cancel
    )
    transmission = netsgiro.parse(data.decode("iso-8859-1"))
    (assignment,) = transmission.assignments
    assert assignment.type is netsgiro.AssignmentType.AVTALEGIRO_CANCELLATIONS
    assert {t.type for t in requests_of(transmission)} == {netsgiro.TransactionType.AVTALEGIRO_CANCELLATION}
    assert [(t.kid, t.amount, t.date, t.reference, t.payer_name) for t in requests_of(transmission)] == [
        (line.kid, line.amount, line.due_date, line.reference, line.payer_name) for line in cancel
    ]


def test_free_text_is_cut_to_the_record_and_latin_1() -> None:
    line = ClaimLine(
        kid=make_kid("77", algorithm="mod10"),
        due_date=dt.date(2030, 5, 1),
        amount=Decimal("10.00"),
        reference="Faktura ☕123 for Ærlig Øl & Å-café, levering i mai 2030",
        payer_name="Åse Ødegård-Ås",
    )
    data, _ = build_claims_file(HEADER, [line])
    assert all(len(record) == 80 for record in data.decode("iso-8859-1").splitlines())
    (back,) = read_claims_file(data).lines
    assert back.reference == "Faktura ?123 for Ærlig Øl" and len(back.reference) == 25
    assert back.payer_name == "Åse Ødegår"


@pytest.mark.parametrize(
    ("kid", "amount", "message"),
    [
        ("12a4", Decimal(1), "KID"),
        ("1" * 26, Decimal(1), "KID"),
        ("1234567", Decimal(0), "amount"),
        ("1234567", Decimal("1.005"), "amount"),
    ],
)
def test_unwritable_claims_are_refused(kid: str, amount: Decimal, message: str) -> None:
    with pytest.raises(ClaimsFileError, match=message):
        build_claims_file(HEADER, [ClaimLine(kid, dt.date(2030, 1, 1), amount)])
    with pytest.raises(ClaimsFileError):
        build_claims_file(HEADER, [])
    with pytest.raises(ClaimsFileError):
        read_claims_file(b"not a file\n")
