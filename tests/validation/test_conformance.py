"""Conformance: our findings equal what the official rules report (the corpus oracle), document by document.

Rule ids are compared per rule set and per flag as multisets (the same rule can fire at several
locations). Findings the engine adds itself (ids starting EHFGATE-) are compared separately.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from accesspoint.validation.engine import Validator
from accesspoint.validation.report import Report


def _load(corpus: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    cases = json.loads((corpus / "cases.json").read_text())
    oracle = json.loads((corpus / "oracle.json").read_text())["results"]
    return cases, oracle


def disagreements(report: Report, expected: dict[str, Any]) -> list[str]:
    """What differs between our report and the oracle's record of one document."""
    problems = []
    ran = {run.name for run in report.rulesets}
    if ran != set(expected["findings"]):
        problems.append(f"rule sets {sorted(ran)} != {sorted(expected['findings'])}")
    errored = {run.name for run in report.rulesets if run.error}
    if errored != set(expected.get("errors", {})):
        problems.append(f"rule set errors {sorted(errored)} != {sorted(expected.get('errors', {}))}")
    official = [f for f in (*report.findings, *report.suppressed) if not f.rule.startswith("EHFGATE-")]
    for ruleset, findings in expected["findings"].items():
        for flag in ("fatal", "warning"):
            ours = Counter(f.rule for f in official if f.ruleset == ruleset and f.flag == flag)
            theirs = Counter(f["rule"] for f in findings if f["flag"] == flag)
            if ours != theirs:
                problems.append(
                    f"{ruleset}/{flag}: missing {dict(theirs - ours)}, extra {dict(ours - theirs)}"
                )
    return problems


def test_main_corpus_agrees_with_official_rules(validator: Validator, corpus: Path) -> None:
    cases, oracle = _load(corpus)
    failures = {}
    for case in cases:
        report = validator.validate((corpus / case["file"]).read_bytes(), name=case["file"])
        problems = disagreements(report, oracle[case["file"]])
        if problems:
            failures[case["file"]] = problems
    agreed = len(cases) - len(failures)
    print(f"\nconformance: {agreed}/{len(cases)} documents agree with the official rules")
    assert not failures, json.dumps(dict(list(failures.items())[:10]), indent=1)
    assert len(cases) > 1000


def test_supplement_corpus_agrees_with_official_rules(validator: Validator, corpus: Path) -> None:
    supplement = corpus / "supplement"
    cases, oracle = _load(supplement)
    failures = {}
    checked = 0
    for case in cases:
        expected = oracle[case["file"]]
        if "not_xml" in expected or "unidentified_root" in expected:
            continue
        report = validator.validate((supplement / case["file"]).read_bytes(), name=case["file"])
        checked += 1
        problems = disagreements(report, expected)
        if problems:
            failures[case["file"]] = problems
    print(f"\nsupplement conformance: {checked - len(failures)}/{checked} documents agree")
    assert not failures, json.dumps(failures, indent=1)


def test_complete_documents_get_the_verdict_the_oracle_gives(validator: Validator, corpus: Path) -> None:
    """Examples: valid iff schema ok and no fatal finding. The oracle wins over the sources, except where
    libxml2 (the oracle's XSD engine) wrongly rejects whitespace that xs:time collapses."""
    cases, oracle = _load(corpus)
    for case in cases:
        if "expect_valid" not in case:
            continue
        expected = oracle[case["file"]]
        report = validator.validate((corpus / case["file"]).read_bytes(), name=case["file"])
        official_fatal = any(f["flag"] == "fatal" for fs in expected["findings"].values() for f in fs)
        if case["file"].endswith("MessageLevelStatus_Example_RE3.xml"):
            assert expected["xsd"] != "ok" and report.xsd_valid is True
            assert report.valid is case["expect_valid"] is True
            continue
        assert report.xsd_valid is (expected["xsd"] == "ok"), case["file"]
        assert report.valid is (expected["xsd"] == "ok" and not official_fatal), case["file"]


def test_forward_billing_profile_excludes_its_three_rules(validator: Validator, corpus: Path) -> None:
    supplement = corpus / "supplement"
    cases, oracle = _load(supplement)
    forward = [c for c in cases if c["kind"] == "example-ehf-forward-billing"]
    assert forward
    for case in forward:
        report = validator.validate((supplement / case["file"]).read_bytes())
        assert report.document.profile == "ehf-forward-billing-3"
        assert {f.rule for f in report.suppressed} <= set(case["excluded_rules"])
        assert not {f.rule for f in report.findings} & set(case["excluded_rules"])
        remaining = [
            f["rule"]
            for fs in oracle[case["file"]]["findings"].values()
            for f in fs
            if f["flag"] == "fatal" and f["rule"] not in case["excluded_rules"]
        ]
        assert report.valid is (not remaining), case["file"]


@pytest.mark.parametrize(
    ("kind", "rule"),
    [("legacy-ehf2", "EHFGATE-DOC-WITHDRAWN"), ("unknown-document", "EHFGATE-DOC-CUSTOMIZATION")],
)
def test_unsupported_documents_are_identified(
    validator: Validator, corpus: Path, kind: str, rule: str
) -> None:
    supplement = corpus / "supplement"
    cases, _ = _load(supplement)
    case = next(c for c in cases if c["kind"] == kind)
    report = validator.validate((supplement / case["file"]).read_bytes())
    assert not report.valid
    ours = [f for f in report.findings if f.rule == rule]
    assert len(ours) == 1 and ours[0].flag == "fatal"
