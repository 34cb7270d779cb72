"""Domain layer: building envelopes, wrapping a real EHF invoice, and build -> read round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from accesspoint.sbdh import (
    EnvelopeData,
    EnvelopeRules,
    build_envelope,
    check_envelope,
    check_payload_agreement,
    envelope_for_ubl,
    read_envelope,
    render,
    unwrap,
)
from accesspoint.xml import parse_xml, serialize_c14n
from tests.sbdh.conftest import supplement_doc

BIS3_INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BIS3_CREDIT_NOTE = (
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=1)))


def test_envelope_for_ehf_invoice(ehf_invoice: bytes, sbdh_schema: etree.XMLSchema) -> None:
    sbd = envelope_for_ubl(ehf_invoice, instance_id="4b7c1e2a-0000-4000-8000-000000000001", created=WHEN)
    envelope = read_envelope(sbd)
    assert check_envelope(envelope, xsd=sbdh_schema) == []
    assert envelope.payload is not None
    assert check_payload_agreement(envelope, envelope.payload) == []
    assert envelope.document_type_id == BIS3_INVOICE
    assert envelope.process_id == BILLING
    assert envelope.sender is not None and envelope.sender.value == "0192:123456785"
    assert envelope.receiver is not None and envelope.receiver.value == "0192:987654325"
    assert envelope.country_c1 == "NO"
    assert envelope.created == WHEN
    _, payload = unwrap(sbd)
    original = parse_xml(ehf_invoice).getroot()
    assert serialize_c14n(parse_xml(payload).getroot()) == serialize_c14n(original)


def test_defaults_are_fresh_uuid_and_aware_time(ehf_invoice: bytes) -> None:
    first, second = (read_envelope(envelope_for_ubl(ehf_invoice)) for _ in range(2))
    assert first.document_identification is not None and second.document_identification is not None
    assert (
        first.document_identification.instance_identifier
        != second.document_identification.instance_identifier
    )
    assert first.created is not None and first.created.tzinfo is not None
    assert check_envelope(first) == []


def test_mismatched_documentid_is_reported(ehf_invoice: bytes) -> None:
    sbd = build_envelope(ehf_invoice, "0192:123456785", "0192:987654325", BIS3_CREDIT_NOTE, BILLING, "NO")
    envelope = read_envelope(sbd)
    assert envelope.payload is not None
    problems = check_payload_agreement(envelope, envelope.payload)
    assert [p.code for p in problems] == ["SBDH-AGREE-DOCUMENTID"]
    assert "CreditNote" in problems[0].message
    # The header itself is also inconsistent with an Invoice payload.
    assert "SBDH-STANDARD" in {p.code for p in check_envelope(envelope)}


def test_payload_element_is_copied_not_moved(ehf_invoice: bytes) -> None:
    tree = parse_xml(b"<wrapper>" + ehf_invoice.split(b"?>", 1)[1] + b"</wrapper>")
    invoice = tree.getroot()[0]
    sbd = build_envelope(invoice, "0192:123456785", "0192:987654325", BIS3_INVOICE, BILLING, "NO")
    assert invoice.getparent() is tree.getroot()
    assert check_envelope(read_envelope(sbd)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sender": "123456785"}, "ICD"),
        ({"receiver": "0192:"}, "ICD"),
        ({"country_c1": "nor"}, "COUNTRY_C1"),
        ({"created": datetime(2026, 1, 1)}, "timezone"),  # naive on purpose
        ({"instance_id": " x"}, "instance_id"),
        ({"document_type_id": ""}, "document type"),
    ],
)
def test_build_refuses_what_receivers_reject(
    ehf_invoice: bytes, change: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "sender": "0192:123456785",
        "receiver": "iso6523-actorid-upis::0192:987654325",
        "document_type_id": BIS3_INVOICE,
        "process_id": f"cenbii-procid-ubl::{BILLING}",
        "country_c1": "NO",
        **change,
    }
    with pytest.raises(ValueError, match=message):
        build_envelope(ehf_invoice, **args)  # type: ignore[arg-type]


_xml_text = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
participants = st.builds(
    lambda icd, ident: f"{icd}:{ident}",
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.text(_xml_text, min_size=1, max_size=60).map(str.strip).filter(bool),
)
instance_ids = st.one_of(
    st.uuids().map(str), st.text(_xml_text, min_size=1, max_size=80).map(str.strip).filter(bool)
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.one_of(st.just(UTC), offsets)
)


@settings(max_examples=60, deadline=None)
@given(sender=participants, receiver=participants, instance_id=instance_ids, created=moments)
def test_build_read_round_trip(
    ehf_invoice: bytes, sender: str, receiver: str, instance_id: str, created: datetime
) -> None:
    sbd = build_envelope(
        ehf_invoice,
        sender,
        receiver,
        BIS3_INVOICE,
        BILLING,
        "NO",
        instance_id=instance_id,
        created=created,
        mls_to=receiver,
        mls_type="FAILURE_ONLY",
    )
    envelope = read_envelope(sbd)
    data = EnvelopeData.from_envelope(envelope)
    assert (data.sender, data.receiver, data.instance_id) == (sender, receiver, instance_id)
    assert data.created == created
    assert (data.mls_to, data.mls_type) == (receiver, "FAILURE_ONLY")
    problems = [p for p in check_envelope(envelope) if p.code != "SBDH-INSTANCE-ID-UUID"]
    assert problems == []
    # ... and the domain object writes back to the same envelope.
    assert envelope.payload is not None
    assert read_envelope(render(data, envelope.payload)) == envelope


def test_non_xml_payload_names_the_wrapped_document() -> None:
    hybrid = read_envelope(_hybrid())
    assert hybrid.payload is not None and hybrid.document_type_id is not None
    sbd = build_envelope(
        hybrid.payload,
        "9915:phase4-test-sender",
        "9915:helger",
        hybrid.document_type_id,
        "urn:peppol:france:billing:regulated",
        "FR",
        standard="urn:peppol:doctype:pdf+xml",
        doc_type="Invoice",
    )
    rebuilt = read_envelope(sbd)
    assert check_envelope(rebuilt) == []
    assert rebuilt.document_identification is not None
    assert rebuilt.document_identification.standard == "urn:peppol:doctype:pdf+xml"
    assert rebuilt.document_identification.type_version == "D22B"


def test_mls_to_profile_switch() -> None:
    envelope = read_envelope(supplement_doc("bad-mls-to-invalid-value.xml"))
    (problem,) = check_envelope(envelope, rules=EnvelopeRules(invalid_mls_to_fatal=False))
    assert (problem.code, problem.severity) == ("SBDH-MLS-TO", "warning")
    assert "'test'" in problem.message


def _hybrid() -> bytes:
    return supplement_doc("good-hybrid-invoice.xml")
