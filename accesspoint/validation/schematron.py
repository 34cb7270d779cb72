"""Run the official Schematron rule sets (compiled to XSLT 2) with saxonche and read their SVRL.

Each stylesheet is compiled once per process and reused; the document is loaded into Saxon once
and every rule set runs on that one tree. A valid document's SVRL holds no ``failed-assert`` and
no ``successful-report``, so the common case skips parsing the SVRL altogether.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor

from accesspoint.validation.report import Finding

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_FINDING_TAGS = (f"{SVRL}failed-assert", f"{SVRL}successful-report")
_SVRL_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False)


class RulesetError(Exception):
    """A rule set raised a dynamic error on this document (the document, not the process, is at fault)."""


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A document parsed once into Saxon's tree, shared by every rule set run on it."""

    node: Any


class SchematronRunner:
    """Compiled stylesheets for one process. Saxon is not used from several threads at once."""

    def __init__(self) -> None:
        self._processor = PySaxonProcessor(license=False)
        self._xslt = self._processor.new_xslt30_processor()
        self._compiled: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def compile(self, stylesheet: Path) -> None:
        """Compile ahead of use (start-up, readiness) so the first document pays nothing."""
        with self._lock:
            self._executable(stylesheet)

    def _executable(self, stylesheet: Path) -> Any:
        executable = self._compiled.get(stylesheet)
        if executable is None:
            try:
                executable = self._xslt.compile_stylesheet(stylesheet_file=str(stylesheet))
            except PySaxonApiError as exc:
                raise RuntimeError(f"cannot compile {stylesheet.name}: {exc}") from exc
            self._compiled[stylesheet] = executable
        return executable

    def load(self, text: str) -> LoadedDocument:
        """Parse the (already hardened-parsed, DTD-free) document text into Saxon once."""
        with self._lock:
            return LoadedDocument(self._processor.parse_xml(xml_text=text))

    def run(self, stylesheet: Path, document: LoadedDocument, ruleset: str) -> list[Finding]:
        """Apply one rule set; dynamic XPath errors become :class:`RulesetError`."""
        with self._lock:
            executable = self._executable(stylesheet)
            try:
                svrl = executable.transform_to_string(xdm_node=document.node)
            except PySaxonApiError as exc:
                raise RulesetError(" ".join(str(exc).split())) from None
        if svrl is None:
            raise RulesetError("the rule set produced no output")
        return parse_svrl(svrl, ruleset)


def parse_svrl(svrl: str, ruleset: str) -> list[Finding]:
    """Findings of an SVRL report, in document order."""
    if "failed-assert" not in svrl and "successful-report" not in svrl:
        return []
    root = etree.fromstring(svrl.encode("utf-8"), parser=_SVRL_PARSER)
    findings = []
    for element in root.iterchildren(*_FINDING_TAGS):
        text = element.find(f"{SVRL}text")
        message = " ".join("".join(str(t) for t in text.itertext()).split()) if text is not None else ""
        flag = element.get("flag") or "fatal"
        findings.append(
            Finding(
                rule=element.get("id") or "",
                flag=flag if flag in ("fatal", "warning", "information") else "fatal",  # type: ignore[arg-type]
                message=message,
                location=element.get("location"),
                ruleset=ruleset,
                test=element.get("test"),
            )
        )
    return findings
