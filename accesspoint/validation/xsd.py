"""UBL 2.1 (and SBDH) schema validation.

libxml2 (through lxml) validates fast and is what most validators run, but it wrongly rejects some
values that XSD whitespace collapsing allows (e.g. an ``xs:time`` padded with spaces). So a libxml2
failure is confirmed with ``xmlschema``, a conformant XSD 1.0 implementation whose errors also carry
a precise path; the verdict and the messages are xmlschema's. Valid documents never pay for it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import xmlschema
from lxml import etree

from accesspoint.validation.report import RULE_XSD, Finding

MAX_XSD_FINDINGS = 50
_SCHEMA_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class SchemaSet:
    """Compiled schemas per file, built on first use and kept for the process."""

    def __init__(self) -> None:
        self._fast: dict[Path, etree.XMLSchema] = {}
        self._exact: dict[Path, xmlschema.XMLSchema10] = {}
        self._lock = threading.Lock()

    def fast(self, path: Path) -> etree.XMLSchema:
        with self._lock:
            schema = self._fast.get(path)
            if schema is None:
                schema = etree.XMLSchema(etree.parse(str(path), parser=_SCHEMA_PARSER))
                self._fast[path] = schema
            return schema

    def exact(self, path: Path) -> xmlschema.XMLSchema10:
        with self._lock:
            schema = self._exact.get(path)
            if schema is None:
                schema = xmlschema.XMLSchema10(str(path))
                self._exact[path] = schema
            return schema

    def validate(self, path: Path, element: etree._Element, ruleset: str = "xsd") -> list[Finding]:
        """Schema findings for ``element`` against the schema at ``path`` (empty when valid)."""
        if self.fast(path).validate(element):
            return []
        findings = []
        for error in self.exact(path).iter_errors(element):
            findings.append(
                Finding(
                    rule=RULE_XSD,
                    flag="fatal",
                    message=" ".join(str(error.reason or error.message).split()),
                    location=error.path,
                    ruleset=ruleset,
                )
            )
            if len(findings) >= MAX_XSD_FINDINGS:
                break
        return findings
