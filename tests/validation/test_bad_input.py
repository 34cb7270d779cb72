"""Hostile and broken input: each gets its specific error, quickly, and never a crash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from accesspoint.validation.engine import Validator
from accesspoint.xml import XMLDepthError, XMLDTDForbidden, XMLError, XMLSizeError, XMLSyntaxError

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&secret;</Invoice>"""


@pytest.fixture(scope="module")
def invoice(corpus: Path) -> bytes:
    return (corpus / "perf" / "invoice-501-lines.xml").read_bytes()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"this is not XML at all", XMLSyntaxError),
        (b"", XMLSyntaxError),
        (BILLION_LAUGHS, XMLDTDForbidden),
        (EXTERNAL_ENTITY, XMLDTDForbidden),
        (b"<a>" * 100_000 + b"</a>" * 100_000, XMLDepthError),
    ],
    ids=["not-xml", "empty", "billion-laughs", "external-entity", "nesting-100000"],
)
def test_rejected_with_specific_error(validator: Validator, data: bytes, error: type[XMLError]) -> None:
    started = time.perf_counter()
    with pytest.raises(error) as caught:
        validator.validate(data)
    assert caught.value.code.startswith("xml-")
    assert time.perf_counter() - started < 5


def test_external_entity_content_never_appears(validator: Validator) -> None:
    with pytest.raises(XMLDTDForbidden) as caught:
        validator.validate(EXTERNAL_ENTITY)
    assert "root:" not in str(caught.value)


def test_200_mb_document_is_refused_before_parsing(validator: Validator, invoice: bytes) -> None:
    filler = b"<!--" + b"x" * (200 * 1024 * 1024) + b"-->"
    huge = invoice + filler
    assert len(huge) > 200 * 1024 * 1024
    started = time.perf_counter()
    with pytest.raises(XMLSizeError):
        validator.validate(huge)
    assert time.perf_counter() - started < 2


def test_truncated_document(validator: Validator, invoice: bytes) -> None:
    with pytest.raises(XMLSyntaxError) as caught:
        validator.validate(invoice[: len(invoice) // 2])
    assert caught.value.line is not None


def test_unknown_root_element_is_a_finding(validator: Validator) -> None:
    report = validator.validate(b'<Order xmlns="urn:example:not-ubl"><ID>1</ID></Order>')
    assert not report.valid
    assert [f.rule for f in report.findings] == ["EHFGATE-DOC-UNKNOWN-ROOT"]
    assert report.rulesets == ()


def test_unknown_customization_id_is_a_finding_and_rules_still_run(
    validator: Validator, invoice: bytes
) -> None:
    changed = invoice.replace(
        b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
        b"urn:example:made-up:1.0",
        1,
    )
    assert changed != invoice
    report = validator.validate(changed)
    rules = [f.rule for f in report.findings]
    assert "EHFGATE-DOC-CUSTOMIZATION" in rules
    assert "urn:example:made-up:1.0" in next(
        f.message for f in report.findings if f.rule == "EHFGATE-DOC-CUSTOMIZATION"
    )
    assert "PEPPOL-EN16931-R004" in rules  # the official rule says the same
    assert not report.valid


def test_valid_invoice_in_another_encoding(validator: Validator, invoice: bytes) -> None:
    text = invoice.decode("utf-8").replace("encoding='UTF-8'", "encoding='UTF-16'", 1)
    assert "encoding='UTF-16'" in text
    report = validator.validate(text.encode("utf-16"))
    assert report.valid, report.to_dict()["findings"]
    assert report.document.profile == "peppol-bis-billing-3"


def test_ruleset_dynamic_error_is_a_fatal_finding(validator: Validator, corpus: Path) -> None:
    """A document that makes the Peppol rules raise a dynamic XPath error (empty decimal)."""
    import json

    oracle = json.loads((corpus / "oracle.json").read_text())["results"]
    name = next(name for name, result in oracle.items() if result.get("errors"))
    report = validator.validate((corpus / name).read_bytes())
    errored = [run for run in report.rulesets if run.error]
    assert [run.name for run in errored] == list(oracle[name]["errors"])
    assert any(f.rule == "EHFGATE-RULESET-ERROR" and f.flag == "fatal" for f in report.findings)
    assert not report.valid


def test_sbdh_wrapped_invoice_is_valid_and_checked_against_its_payload(
    validator: Validator, invoice: bytes
) -> None:
    from accesspoint.sbdh import envelope_for_ubl

    wrapped = envelope_for_ubl(invoice)
    report = validator.validate(wrapped)
    assert report.valid, report.to_dict()["findings"]
    envelope = report.document.envelope
    assert envelope is not None and envelope["valid"] is True
    assert envelope["document_type"].endswith("::Invoice##" + report.document.customization_id + "::2.1")


def test_sbdh_whose_documentid_does_not_match_its_payload(validator: Validator, invoice: bytes) -> None:
    from accesspoint.sbdh import envelope_for_ubl

    wrapped = envelope_for_ubl(invoice)
    forged = wrapped.replace(b"Invoice-2::Invoice##", b"CreditNote-2::CreditNote##", 1)
    assert forged != wrapped
    report = validator.validate(forged)
    assert not report.valid
    sbdh_rules = {f.rule for f in report.findings if f.ruleset == "sbdh" and f.flag == "fatal"}
    assert "SBDH-AGREE-DOCUMENTID" in sbdh_rules
    # the payload itself is still validated and is fine
    assert report.xsd_valid is True
    assert not [f for f in report.findings if f.ruleset in ("en16931", "peppol") and f.flag == "fatal"]
