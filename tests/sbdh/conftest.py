"""Fixtures for the envelope tests: the SBDH XSD and the SBDH cases of the supplement corpus."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from accesspoint.sbdh import load_schema
from tests.conftest import shared_dir

SUPPLEMENT = shared_dir() / "corpus" / "supplement"
SBDH_XSD = shared_dir() / "artifacts" / "sbdh-1.3" / "xsd" / "StandardBusinessDocumentHeader.xsd"


def sbdh_cases() -> list[dict[str, Any]]:
    """The ``sbdh`` entries of the supplement's cases.json (read at collection time)."""
    cases_file = SUPPLEMENT / "cases.json"
    if not cases_file.is_file():
        return []
    cases: list[dict[str, Any]] = json.loads(cases_file.read_text(encoding="utf-8"))
    return [case for case in cases if case["kind"] == "sbdh"]


def case_name(case: dict[str, Any]) -> str:
    return str(case["file"]).rsplit("_", 1)[-1]


def supplement_doc(name_suffix: str) -> bytes:
    matches = sorted((SUPPLEMENT / "docs").glob(f"*{name_suffix}"))
    assert len(matches) == 1, f"{name_suffix}: {matches}"
    return matches[0].read_bytes()


@pytest.fixture(scope="session")
def sbdh_schema() -> etree.XMLSchema:
    if not SBDH_XSD.is_file():
        pytest.fail(f"SBDH XSD not found at {SBDH_XSD}; set EHFGATE_SHARED_DIR")
    return load_schema(SBDH_XSD)


@pytest.fixture(scope="session")
def oracle() -> dict[str, Any]:
    results: dict[str, Any] = json.loads((SUPPLEMENT / "oracle.json").read_text(encoding="utf-8"))["results"]
    return results


@pytest.fixture(scope="session")
def ehf_invoice() -> bytes:
    return supplement_doc("ehf-3-faktura-1.xml")


def fatal_codes(problems: list[Any]) -> set[str]:
    return {problem.code for problem in problems if problem.is_fatal}
