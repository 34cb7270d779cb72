"""Wire layer: exact strings kept, lenient reading, payload unwrapping with its namespaces."""

from __future__ import annotations

from lxml import etree

from accesspoint.sbdh import check_envelope, check_payload_agreement, read_envelope, unwrap
from accesspoint.xml import parse_xml
from tests.sbdh.conftest import supplement_doc

UBL_INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"


def test_v11_keeps_wire_strings() -> None:
    envelope = read_envelope(supplement_doc("good-v11.xml"))
    assert envelope.header_version == "1.0"
    assert envelope.sender is not None
    assert (envelope.sender.authority, envelope.sender.value) == (
        "iso6523-actorid-upis",
        "0088:7315458756324",
    )
    assert envelope.process_scheme == "ptype"
    assert envelope.document_type_scheme == "busdox-docid-qns"
    extra = {
        s.type: s.instance_identifier for s in envelope.scopes if s.type and s.type.startswith("AddAttr")
    }
    assert extra == {"AddAttr1": "Value1", "AddAttr2": "", "AddAttr3": ""}
    di = envelope.document_identification
    assert di is not None
    assert di.creation_date_and_time == "2013-02-19T05:10:10Z"
    assert envelope.created is not None and envelope.created.utcoffset() is not None
    problems = check_envelope(envelope)
    assert [p.code for p in problems] == ["SBDH-PROCESSID-SCHEME"]
    assert "ptype" in problems[0].message
    assert problems[0].location.endswith("/BusinessScope/Scope[2]/Identifier")


def test_absent_and_empty_differ() -> None:
    envelope = read_envelope(supplement_doc("bad-mls-to-no-value.xml"))
    (mls_to,) = envelope.scopes_of("MLS_TO")
    assert mls_to.instance_identifier is None and mls_to.identifier == "iso6523-actorid-upis"
    envelope = read_envelope(supplement_doc("bad-invalid-process-identifier.xml"))
    assert envelope.process_id == ""


def test_counts_kept() -> None:
    envelope = read_envelope(supplement_doc("bad-too-many-senders.xml"))
    assert [s.value for s in envelope.senders] == ["0088:7315458756324", "0088:8315458756324"]
    assert envelope.sender is not None and envelope.sender.value == "0088:7315458756324"


def test_non_xml_payload() -> None:
    envelope = read_envelope(supplement_doc("good-hybrid-invoice.xml"))
    assert envelope.payload is not None
    assert etree.QName(envelope.payload).localname == "BinaryContent"
    assert not envelope.payload_is_xml
    assert check_envelope(envelope) == []
    # Nothing in a base64 PDF to compare the header with: only the participants are checked.
    assert check_payload_agreement(envelope, envelope.payload) == []


def test_unwrap_is_standalone_with_namespaces() -> None:
    # good-bis3 declares the payload's ubl/cbc/cac prefixes on the SBD root only.
    envelope, payload = unwrap(supplement_doc("good-bis3.xml"))
    assert payload.startswith(b"<?xml")
    root = parse_xml(payload).getroot()
    assert root.tag == UBL_INVOICE
    assert root.nsmap["cbc"] == "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    assert envelope.payload is not None and envelope.payload.tag == root.tag


def test_comment_in_value_is_not_value() -> None:
    data = supplement_doc("good-bis3.xml").replace(b">AT<", b">A<!-- c -->T<")
    assert read_envelope(data).country_c1 == "AT"


def test_reads_parsed_tree() -> None:
    tree = parse_xml(supplement_doc("good-bis3.xml"))
    assert (
        read_envelope(tree) == read_envelope(tree.getroot()) == read_envelope(supplement_doc("good-bis3.xml"))
    )


def test_payload_agreement_finds_dummy_payload_mismatch() -> None:
    """good-type-version-20: TypeVersion 2.1 over a UBL 2.0 payload. Valid envelope, mismatched pair."""
    envelope = read_envelope(supplement_doc("good-type-version-20.xml"))
    assert envelope.payload is not None
    codes = {p.code for p in check_payload_agreement(envelope, envelope.payload)}
    assert {"SBDH-AGREE-TYPE-VERSION", "SBDH-AGREE-DOCUMENTID"} <= codes
    assert "SBDH-AGREE-PROCESSID" not in codes
