"""KID check digits (spec values and properties), the tenant's KID scheme, and the KID written into
the UBL PaymentID with the document still valid under the official rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from accesspoint.config import load_config
from accesspoint.store.engine import Store
from accesspoint.store.tenants import create_tenant
from accesspoint.validation.engine import Validator
from accesspoint.validation.setup import ValidationUnavailable, locate
from distribution.payments.kid import (
    NS,
    KidError,
    KidSettings,
    assign_kid,
    is_valid_kid,
    kid_for,
    kid_settings_from_json,
    load_kid_settings,
    make_kid,
    mod10,
    mod11,
    save_kid_settings,
)
from tests.distribution.corpus import CREDIT_NOTE_EXAMPLE, NORWEGIAN_EXAMPLE

bases = st.text(alphabet="0123456789", min_size=1, max_size=24)


def test_spec_values() -> None:
    assert mod10("12345678") == "2"
    assert mod11("12345678") == "5"
    assert make_kid("12345678", algorithm="mod10") == "123456782"
    assert make_kid("12345678", algorithm="mod11") == "123456785"
    assert is_valid_kid("123456782", algorithm="mod10") and is_valid_kid("123456785", algorithm="mod11")
    assert not is_valid_kid("123456785", algorithm="mod10")
    assert mod10("0") == "0" and mod11("0") == "0"


def test_mod11_without_a_digit_is_a_dash() -> None:
    # 1*2 = 2 -> remainder 2 -> check 9; find a base whose remainder is 1: "6" -> 6*2 = 12 -> 1.
    assert mod11("6") is None
    assert make_kid("6", algorithm="mod11") == "6-"
    assert is_valid_kid("6-") and is_valid_kid("6-", algorithm="mod11")
    assert not is_valid_kid("6-", algorithm="mod10")
    assert not is_valid_kid("7-")  # "7" has a digit (7*2 = 14 -> 3 -> 8), so "-" is wrong


@given(bases)
def test_generated_kids_validate(base: str) -> None:
    for algorithm in ("mod10", "mod11"):
        kid = make_kid(base, algorithm=algorithm)
        assert kid.startswith(base) and len(kid) == len(base) + 1
        assert is_valid_kid(kid, algorithm=algorithm) and is_valid_kid(kid)


@given(bases, st.data())
def test_any_single_digit_change_fails_mod10(base: str, data: st.DataObject) -> None:
    kid = make_kid(base, algorithm="mod10")
    position = data.draw(st.integers(0, len(kid) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != kid[position]]))
    changed = kid[:position] + digit + kid[position + 1 :]
    assert not is_valid_kid(changed, algorithm="mod10")


@given(bases, st.data())
def test_any_single_digit_change_fails_mod11(base: str, data: st.DataObject) -> None:
    kid = make_kid(base, algorithm="mod11")
    position = data.draw(st.integers(0, len(kid) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != kid[position]]))
    changed = kid[:position] + digit + kid[position + 1 :]
    assert not is_valid_kid(changed, algorithm="mod11")


@given(bases, st.integers(2, 25))
def test_fixed_length_pads_on_the_left(base: str, length: int) -> None:
    if len(base) > length - 1:
        with pytest.raises(KidError):
            make_kid(base, algorithm="mod10", length=length)
        return
    kid = make_kid(base, algorithm="mod10", length=length)
    assert len(kid) == length and kid[:-1].lstrip("0") == base.lstrip("0")
    assert is_valid_kid(kid, algorithm="mod10")


@pytest.mark.parametrize(
    "kid", ["", "1", "12345678901234567890123456", "12a4", "1234-5", "-1", "１２３", None, "123456783"]
)
def test_invalid_kids(kid: str) -> None:
    assert not is_valid_kid(kid)


@pytest.mark.parametrize(
    ("base", "algorithm", "length"),
    [
        ("", "mod10", None),
        ("12a", "mod10", None),
        ("1" * 25, "mod10", None),
        ("123", "mod10", 3),
        ("1", "mod10", 26),
        ("1", "luhn", None),
    ],
)
def test_make_kid_refuses(base: str, algorithm: Any, length: int | None) -> None:
    with pytest.raises(KidError):
        make_kid(base, algorithm=algorithm, length=length)


def test_tenant_scheme() -> None:
    plain = kid_settings_from_json({"algorithm": "mod11", "length": 10, "source": "invoice"})
    assert kid_for(plain, invoice_number="INV-2024-17") == make_kid("000202417", algorithm="mod11")
    scheme = kid_settings_from_json(
        {
            "algorithm": "mod10",
            "length": 12,
            "source": "customer+invoice",
            "prefix": "9",
            "customer_length": 4,
        }
    )
    kid = kid_for(scheme, invoice_number="17", customer_number="K-42")
    assert kid == make_kid("9" + "0042" + "000017", algorithm="mod10") and len(kid) == 12
    with pytest.raises(KidError, match="customer number"):
        kid_for(scheme, invoice_number="17")
    with pytest.raises(KidError, match="no digits"):
        kid_for(plain, invoice_number="ABC")
    with pytest.raises(KidError, match="does not fit"):
        kid_for(plain, invoice_number="1234567890")
    for bad, field in [
        ({"algorithm": "luhn"}, "algorithm"),
        ({"length": 1}, "length"),
        ({"length": True}, "length"),
        ({"source": "order"}, "source"),
        ({"prefix": "A1"}, "prefix"),
        ({"colour": "red"}, "unknown"),
        ({"length": 5, "source": "customer+invoice", "customer_length": 4}, "no room"),
    ]:
        with pytest.raises(KidError, match=field):
            kid_settings_from_json(bad)


async def test_scheme_is_stored_per_tenant(store: Store) -> None:
    async with store.begin() as conn:
        acme = await create_tenant(conn, "acme")
        globex = await create_tenant(conn, "globex")
        settings = KidSettings(algorithm="mod11", length=8, prefix="7")
        await save_kid_settings(conn, acme.id, settings)
        await save_kid_settings(conn, acme.id, settings)  # a second save replaces
    async with store.connect() as conn:
        assert await load_kid_settings(conn, acme.id) == settings
        assert await load_kid_settings(conn, globex.id) is None


@pytest.fixture(scope="module")
def validator() -> Validator:
    try:
        root, catalogue = locate(load_config())
    except ValidationUnavailable as exc:
        pytest.fail(str(exc))
    return Validator(root, catalogue)


def _payment_ids(document: bytes) -> list[str]:
    root = etree.fromstring(document)
    return [element.text or "" for element in root.findall("cac:PaymentMeans/cbc:PaymentID", NS)]


def test_assign_kid_replaces_the_payment_id_and_stays_valid(corpus: Path, validator: Validator) -> None:
    original = (corpus / NORWEGIAN_EXAMPLE).read_bytes()
    assert _payment_ids(original) == ["0003434323213231"]
    kid = make_kid("2024000017", algorithm="mod10")
    document = assign_kid(original, kid)
    assert _payment_ids(document) == [kid]
    report = validator.validate(document)
    assert report.valid, [f.message for f in report.fatal]


def test_assign_kid_adds_a_payment_id_in_schema_order(corpus: Path, validator: Validator) -> None:
    original = (corpus / NORWEGIAN_EXAMPLE).read_bytes()
    root = etree.fromstring(original)
    for element in root.findall("cac:PaymentMeans/cbc:PaymentID", NS):
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)
    without = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert _payment_ids(without) == []
    kid = make_kid("55501", algorithm="mod11", length=9)
    document = assign_kid(without, kid)
    assert _payment_ids(document) == [kid]
    means = etree.fromstring(document).find("cac:PaymentMeans", NS)
    assert means is not None
    names = [etree.QName(child).localname for child in means if isinstance(child.tag, str)]
    assert names.index("PaymentID") == names.index("PaymentMeansCode") + 1
    assert (
        b'xmlns:cbc="urn:oasis' not in document.split(b"<cac:PaymentMeans>")[1][:500]
    )  # no stray declaration
    report = validator.validate(document)
    assert report.valid, [f.message for f in report.fatal]


def test_assign_kid_on_a_credit_note(corpus: Path, validator: Validator) -> None:
    original = (corpus / CREDIT_NOTE_EXAMPLE).read_bytes()
    assert validator.validate(original).valid
    document = assign_kid(original, "123456782")
    assert _payment_ids(document) == ["123456782"]
    report = validator.validate(document)
    assert report.valid, [f.message for f in report.fatal]


def test_assign_kid_refuses(corpus: Path) -> None:
    original = (corpus / NORWEGIAN_EXAMPLE).read_bytes()
    root = etree.fromstring(original)
    for element in root.findall("cac:PaymentMeans/cac:PayeeFinancialAccount", NS):
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)
    no_account = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    with pytest.raises(KidError, match="PayeeFinancialAccount"):
        assign_kid(no_account, "123456782")
    with pytest.raises(KidError, match="not a valid KID"):
        assign_kid(original, "123456783")
    with pytest.raises(KidError, match="not readable XML"):
        assign_kid(b"<Invoice", "123456782")
    with pytest.raises(KidError, match="not readable XML"):
        assign_kid(b'<!DOCTYPE x [<!ENTITY a "b">]><Invoice/>', "123456782")
