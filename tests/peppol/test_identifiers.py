"""Peppol identifiers: parsing, printing, case rules, ICD checks and the doc type wildcard rule."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accesspoint.peppol import icd
from accesspoint.peppol.icd import IcdState
from accesspoint.peppol.identifiers import (
    DOCUMENT_SCHEME,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    WILDCARD_DOCUMENT_SCHEME,
    DocumentTypeParts,
    Identifier,
    IdentifierError,
    check_participant,
    document_type,
    document_type_parts,
    is_wildcard,
    participant,
    participant_value_problem,
    process,
    same_participant,
    url_segment,
    wildcard_candidates,
    wildcard_covers,
)

BIS_INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BILLING_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
PINT = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##{}::2.1"


def wildcard(customization: str) -> Identifier:
    return Identifier(WILDCARD_DOCUMENT_SCHEME, PINT.format(customization))


# --- participants -----------------------------------------------------------------------------------


def test_bare_participant_takes_the_default_scheme_and_is_lower_cased() -> None:
    ident = participant(" 9909:NO810418052MVA ")
    assert ident == Identifier(PARTICIPANT_SCHEME, "9909:no810418052mva")
    assert str(ident) == "iso6523-actorid-upis::9909:no810418052mva"
    assert participant("ISO6523-ACTORID-UPIS::0192:810418052") == participant("0192:810418052")


def test_participant_compares_case_insensitively() -> None:
    assert same_participant("0088:123ABC", "iso6523-actorid-upis::0088:123abc")
    assert same_participant(Identifier(PARTICIPANT_SCHEME, "0088:123ABC"), "0088:123abc")
    assert not same_participant("0088:123abc", "0088:123abd")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("iso6523-actorid-upis::", "no value"),
        ("bad scheme::0192:1", "not a Peppol identifier scheme"),
        ("192:810418052", "NNNN:id"),
        ("0192:" + "1" * 131, "longer than 135"),
        ("0192:ørsta", "US-ASCII"),
    ],
)
def test_malformed_participants(text: str, message: str) -> None:
    with pytest.raises(IdentifierError, match=message):
        participant(text)


def test_participant_parsing_is_syntax_only() -> None:
    """Stored routes and envelopes with a wrong check digit still parse; check_participant says why."""
    assert str(participant("0192:123456789")) == "iso6523-actorid-upis::0192:123456789"
    assert participant_value_problem("0192:123456789") is None
    with pytest.raises(IdentifierError) as caught:
        check_participant("0192:123456789")
    assert str(caught.value) == "0192:123456789: check digit should be 5"


@pytest.mark.parametrize(
    ("pid", "message"),
    [
        ("0192:12345678", "0192:12345678: a Norwegian organisation number is 9 digits"),
        ("0192:123456700", "0192:123456700: no organisation number can start with 12345670"),
        ("0088:7315458756324", "0088:7315458756324: check digit should be 8"),
        ("0088:731545875632", "0088:731545875632: a GLN is 13 digits"),
        ("0007:2120000788", "0007:2120000788: check digit should be 7"),
        ("0208:0308357158", "0208:0308357158: check digits should be 59"),
        ("9909:no810418053mva", "9909:no810418053mva: check digit should be 2"),
        ("1234:5", "1234:5: ICD 1234 is not in the Peppol participant identifier code list v9.7"),
        ("example-actorid-upis::0192:810418052", "the participant scheme must be iso6523-actorid-upis"),
    ],
)
def test_icd_check_errors_say_exactly_what_is_wrong(pid: str, message: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        check_participant(pid)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "pid",
    [
        "0192:810418052",
        "0192:123456785",
        "0192:991825827",
        "0088:4006381333931",
        "0007:2120000787",
        "0208:0308357159",
        "0060:123456789",  # no check digit rule: only the code list is consulted
    ],
)
def test_valid_participants_pass_without_warnings(pid: str) -> None:
    checked = check_participant(pid)
    assert checked.identifier == participant(pid)
    assert checked.warnings == ()
    assert not checked.deprecated


@pytest.mark.parametrize(
    ("pid", "state", "text"),
    [
        ("9908:810418052", IcdState.REMOVED, "ICD 9908 (NO:ORGNR) is removed"),
        ("9909:NO810418052MVA", IcdState.DEPRECATED, "ICD 9909 (NO:VAT) is deprecated"),
        ("0193:abcd1234", IcdState.DEPRECATED, "removal date 2026-07-07"),
    ],
)
def test_deprecated_icds_pass_flagged(pid: str, state: IcdState, text: str) -> None:
    checked = check_participant(pid)
    assert checked.deprecated
    assert checked.icd.state is state
    assert len(checked.warnings) == 1 and text in checked.warnings[0]


def test_9908_still_gets_the_mod11_check() -> None:
    with pytest.raises(IdentifierError, match="9908:810418053: check digit should be 2"):
        check_participant("9908:810418053")


def test_icd_table_matches_the_code_list(corpus: Path) -> None:
    path = corpus / "as4" / "codelists" / "peppol-codelist-v9.7-participant-identifier-schemes.xml"
    root = ET.parse(path).getroot()  # noqa: S314 - the shipped code list, not untrusted input
    listed = {e.get("iso6523"): (e.get("schemeid"), e.get("state")) for e in root}
    assert root.get("version") == icd.CODE_LIST_VERSION
    assert {code: (i.scheme_id, i.state.value) for code, i in icd.ICDS.items()} == listed


# --- check digits (properties) ----------------------------------------------------------------------


def _other_digit(number: str, position: int, shift: int) -> str:
    changed = str((int(number[position]) + shift) % 10)
    return number[:position] + changed + number[position + 1 :]


@given(st.text("0123456789", min_size=8, max_size=8), st.integers(0, 8), st.integers(1, 9))
def test_mod11_valid_number_passes_and_any_one_digit_change_fails(
    first8: str, position: int, shift: int
) -> None:
    digit = icd.mod11_check_digit(first8)
    if digit is None:
        with pytest.raises(IdentifierError, match="MOD11 leaves no check digit"):
            check_participant(f"0192:{first8}0")
        return
    number = first8 + str(digit)
    assert check_participant(f"0192:{number}").identifier.value == f"0192:{number}"
    with pytest.raises(IdentifierError):
        check_participant(f"0192:{_other_digit(number, position, shift)}")


@given(st.text("0123456789", min_size=12, max_size=12), st.integers(0, 12), st.integers(1, 9))
def test_gln_valid_number_passes_and_any_one_digit_change_fails(body: str, position: int, shift: int) -> None:
    number = body + str(icd.gs1_check_digit(body))
    check_participant(f"0088:{number}")
    with pytest.raises(IdentifierError, match="check digit should be"):
        check_participant(f"0088:{_other_digit(number, position, shift)}")


@given(st.text("0123456789", min_size=9, max_size=9), st.integers(0, 9), st.integers(1, 9))
def test_luhn_valid_number_passes_and_any_one_digit_change_fails(
    body: str, position: int, shift: int
) -> None:
    number = body + str(icd.luhn_check_digit(body))
    check_participant(f"0007:{number}")
    with pytest.raises(IdentifierError, match="check digit should be"):
        check_participant(f"0007:{_other_digit(number, position, shift)}")


# --- round trips ------------------------------------------------------------------------------------

_id_chars = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-._:")


@given(st.from_regex(r"[0-9]{4}", fullmatch=True), st.text(_id_chars, min_size=1, max_size=130))
def test_participant_round_trip(code: str, body: str) -> None:
    text = f"{PARTICIPANT_SCHEME}::{code}:{body}"
    assert str(participant(text)) == text
    assert participant(str(participant(text))) == participant(text)


_part = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:#@"), min_size=1
)


@given(
    st.from_regex(r"urn:[a-z][a-zA-Z0-9:.-]{0,40}[a-zA-Z0-9]", fullmatch=True),
    st.from_regex(r"[A-Z][A-Za-z]{0,20}", fullmatch=True),
    _part.filter(lambda s: "##" not in s and "::" not in s and not s.endswith(":") and not s.startswith(":")),
    st.from_regex(r"[0-9A-Z][0-9A-Za-z.]{0,5}", fullmatch=True),
)
def test_document_type_round_trip(root: str, local: str, customization: str, version: str) -> None:
    parts = DocumentTypeParts(root, local, customization, version)
    text = f"{DOCUMENT_SCHEME}::{parts}"
    ident = document_type(text)
    assert str(ident) == text
    assert document_type_parts(ident) == parts


def test_document_and_process_ids_are_case_sensitive_and_kept_as_given() -> None:
    ident = document_type(BIS_INVOICE)
    assert str(ident) == f"busdox-docid-qns::{BIS_INVOICE}"
    assert document_type(BIS_INVOICE.replace("Invoice-2", "invoice-2")) != ident
    proc = process(BILLING_PROCESS)
    assert str(proc) == f"{PROCESS_SCHEME}::{BILLING_PROCESS}"
    assert process(f"CENBII-PROCID-UBL::{BILLING_PROCESS}") == proc  # the scheme is normalised
    assert process(BILLING_PROCESS.upper()) != proc


def test_document_type_parts() -> None:
    parts = document_type_parts(BIS_INVOICE)
    assert parts.root_namespace == "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    assert parts.local_name == "Invoice"
    assert parts.customization_id == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert parts.version == "2.1"
    assert str(parts) == BIS_INVOICE
    with pytest.raises(IdentifierError, match="no '##'"):
        document_type_parts("urn:x::Invoice")
    with pytest.raises(IdentifierError, match="not a Peppol document type scheme"):
        document_type_parts(f"bdx-docid-qns::{BIS_INVOICE}")


def test_every_code_list_document_type_round_trips(corpus: Path) -> None:
    root = ET.parse(corpus / "as4" / "codelists" / "peppol-codelist-v9.7-document-types.xml").getroot()  # noqa: S314
    seen = 0
    for entry in root:
        text = f"{entry.get('scheme')}::{entry.get('value')}"
        ident = document_type(text)
        assert str(ident) == text
        assert str(document_type_parts(ident)) == entry.get("value")
        seen += 1
    assert seen > 300


def test_charsets() -> None:
    assert document_type("urn:x::Invoice##urn:é::2.1").value == "urn:x::Invoice##urn:é::2.1"
    with pytest.raises(IdentifierError, match="ISO-8859-1"):
        document_type("urn:x::Invoice##urn:€::2.1")
    with pytest.raises(IdentifierError, match="ISO-8859-1"):
        process("urn:proc:€")


# --- wildcard document types ------------------------------------------------------------------------


def test_wildcard_star_only_at_the_end_of_the_customization() -> None:
    assert is_wildcard(
        document_type(f"{WILDCARD_DOCUMENT_SCHEME}::{PINT.format('urn:peppol:pint:billing-1*')}")
    )
    assert not is_wildcard(wildcard("urn:peppol:pint:billing-1"))
    with pytest.raises(IdentifierError, match="may only end the customization"):
        document_type(f"{WILDCARD_DOCUMENT_SCHEME}::{PINT.format('urn:peppol:*:billing-1')}")


@pytest.mark.parametrize(
    ("registered", "concrete", "covered"),
    [
        ("urn:peppol:pint:billing-1*", "urn:peppol:pint:billing-1", True),
        ("urn:peppol:pint:billing-1*", "urn:peppol:pint:billing-1@jp-1", True),
        ("urn:peppol:pint:billing-1*", "urn:peppol:pint:billing-1@jp-1@extra", True),
        ("urn:peppol:pint:billing-1@jp-1*", "urn:peppol:pint:billing-1@jp-1", True),
        ("urn:peppol:pint:billing-1@jp-1*", "urn:peppol:pint:billing-1", False),
        ("urn:peppol:pint:billing-1@jp-1*", "urn:peppol:pint:billing-1@aunz-1", False),
        ("urn:peppol:pint:billing-1*", "urn:peppol:pint:billing-10", False),
        ("urn:peppol:pint:billing-1*", "urn:peppol:pint:billing-1-x", False),
        ("urn:peppol:pint:billing-1", "urn:peppol:pint:billing-1@jp-1", False),
        ("urn:peppol:pint:billing-1", "urn:peppol:pint:billing-1", True),
    ],
)
def test_wildcard_covers(registered: str, concrete: str, covered: bool) -> None:
    assert wildcard_covers(wildcard(registered), wildcard(concrete)) is covered


def test_wildcard_needs_same_syntax_version_and_scheme() -> None:
    pattern = wildcard("urn:peppol:pint:billing-1*")
    credit_note = Identifier(
        WILDCARD_DOCUMENT_SCHEME,
        "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##urn:peppol:pint:billing-1::2.1",
    )
    assert not wildcard_covers(pattern, credit_note)
    assert not wildcard_covers(
        pattern, Identifier(WILDCARD_DOCUMENT_SCHEME, PINT.format("urn:peppol:pint:billing-1")[:-3] + "::2.2")
    )
    busdox = Identifier(DOCUMENT_SCHEME, PINT.format("urn:peppol:pint:billing-1"))
    assert not wildcard_covers(pattern, busdox)
    assert wildcard_covers(busdox, busdox)


def test_wildcard_candidates_best_first() -> None:
    concrete = wildcard("urn:peppol:pint:billing-1@jp-1")
    assert wildcard_candidates(concrete) == (
        concrete,
        wildcard("urn:peppol:pint:billing-1@jp-1*"),
        wildcard("urn:peppol:pint:billing-1*"),
    )
    assert all(wildcard_covers(c, concrete) for c in wildcard_candidates(concrete))
    busdox = document_type(BIS_INVOICE)
    assert wildcard_candidates(busdox) == (busdox,)
    with pytest.raises(IdentifierError, match="not a concrete"):
        wildcard_candidates(wildcard("urn:peppol:pint:billing-1*"))


# --- URL path segments ------------------------------------------------------------------------------


def test_url_segment_encodes_like_smp_paths() -> None:
    assert url_segment(participant("0192:810418052")) == "iso6523-actorid-upis%3A%3A0192%3A810418052"
    segment = url_segment(document_type(BIS_INVOICE))
    assert "%23%23" in segment and "/" not in segment and ":" not in segment and "#" not in segment
    assert url_segment(wildcard("urn:peppol:pint:billing-1@jp-1*")).endswith("billing-1%40jp-1%2A%3A%3A2.1")


def test_non_xml_syntax_has_no_local_name() -> None:
    parts = document_type_parts("urn:peppol:doctype:edifact:ORDERS##eb2b::0")
    assert parts.root_namespace == "urn:peppol:doctype:edifact:ORDERS"
    assert parts.local_name is None
    assert (parts.customization_id, parts.version) == ("eb2b", "0")
    assert str(parts) == "urn:peppol:doctype:edifact:ORDERS##eb2b::0"
