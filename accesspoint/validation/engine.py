"""The validation engine: identify the document, run the XSD and the applicable official rule sets.

The document is parsed once with the hardened parser (for identification and the XSD) and once into
Saxon (shared by every rule set). Schematron rule sets run even when the XSD fails, and a rule set
that raises a dynamic error is a fatal finding of its own, never a crash.
"""

from __future__ import annotations

import time
from pathlib import Path

from lxml import etree

from accesspoint.validation.catalogue import Catalogue, Profile
from accesspoint.validation.envelope import check_envelope
from accesspoint.validation.identify import Identity, identify
from accesspoint.validation.report import (
    RULE_RULESET_ERROR,
    RULE_UNKNOWN_CUSTOMIZATION,
    RULE_UNKNOWN_ROOT,
    RULE_WITHDRAWN,
    DocumentInfo,
    Finding,
    Report,
    RulesetRun,
)
from accesspoint.validation.schematron import RulesetError, SchematronRunner
from accesspoint.validation.xsd import SchemaSet
from accesspoint.xml import DEFAULT_LIMITS, XMLLimits, parse_xml

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"


class Validator:
    """Validates documents against the installed official artifacts. One instance per process."""

    def __init__(
        self, artifacts_root: Path, catalogue: Catalogue, *, limits: XMLLimits = DEFAULT_LIMITS
    ) -> None:
        self.root = artifacts_root
        self.catalogue = catalogue
        self.limits = limits
        self.schemas = SchemaSet()
        self.schematron = SchematronRunner()

    def warm_up(self, rulesets: tuple[str, ...] | None = None) -> None:
        """Compile schemas and stylesheets now rather than on the first document."""
        for name in rulesets or tuple(self.catalogue.rulesets):
            self.schematron.compile(self.root / self.catalogue.rulesets[name].file)
        for root_name, file in self.catalogue.schemas.items():
            if root_name != "StandardBusinessDocument":
                self.schemas.fast(self.root / file)

    def validate(self, data: bytes, *, name: str | None = None) -> Report:
        """Validate one document given as bytes (bare UBL or SBDH-wrapped).

        Raises :class:`accesspoint.xml.XMLError` for input that is not acceptable XML.
        """
        started = time.perf_counter()
        tree = parse_xml(data, limits=self.limits)
        document = tree.getroot()
        findings: list[Finding] = []
        envelope_info = None
        if etree.QName(document).namespace == SBDH_NS:
            checked = check_envelope(document, self.root, self.catalogue, self.schemas)
            findings.extend(checked.findings)
            envelope_info = checked.info
            if checked.payload is None:
                return self._report(None, None, envelope_info, None, None, (), findings, (), name, started)
            document = checked.payload
            text = etree.tostring(document, encoding="unicode")
        else:
            text = _text_for_saxon(data, tree)
        identity = identify(document)
        if not identity.is_ubl or identity.local_name not in self.catalogue.schemas:
            findings.append(
                Finding(
                    RULE_UNKNOWN_ROOT,
                    "fatal",
                    f"unsupported document: root element {{{identity.namespace}}}{identity.local_name} is "
                    f"not one of the UBL documents this release validates ({', '.join(self._ubl_roots())})",
                    location="/*",
                )
            )
            return self._report(identity, None, envelope_info, None, None, (), findings, (), name, started)
        profile, names = self._select(identity, findings)
        schema_file = self.catalogue.schemas[identity.local_name]
        xsd_findings = self.schemas.validate(self.root / schema_file, document)
        findings.extend(xsd_findings)
        runs: list[RulesetRun] = []
        if names:
            loaded = self.schematron.load(text)
            for ruleset_name in names:
                ruleset = self.catalogue.rulesets[ruleset_name]
                try:
                    findings.extend(self.schematron.run(self.root / ruleset.file, loaded, ruleset_name))
                    runs.append(RulesetRun(ruleset_name, ruleset.title))
                except RulesetError as exc:
                    runs.append(RulesetRun(ruleset_name, ruleset.title, error=str(exc)))
                    findings.append(
                        Finding(
                            RULE_RULESET_ERROR,
                            "fatal",
                            f"rule set {ruleset_name} could not evaluate this document: {exc}",
                            ruleset=ruleset_name,
                        )
                    )
        suppressed: tuple[Finding, ...] = ()
        if profile is not None and profile.excluded_rules:
            suppressed = tuple(f for f in findings if f.rule in profile.excluded_rules)
            findings = [f for f in findings if f.rule not in profile.excluded_rules]
        xsd_valid = not xsd_findings
        runs_done = tuple(runs)
        return self._report(
            identity,
            profile,
            envelope_info,
            schema_file,
            xsd_valid,
            runs_done,
            findings,
            suppressed,
            name,
            started,
        )

    def _ubl_roots(self) -> list[str]:
        return [r for r in self.catalogue.schemas if r != "StandardBusinessDocument"]

    def _select(self, identity: Identity, findings: list[Finding]) -> tuple[Profile | None, tuple[str, ...]]:
        """The profile named by the CustomizationID, else a clear finding and the rules for the root."""
        profile = self.catalogue.profile_for(identity.local_name, identity.customization_id)
        if profile is not None:
            return profile, profile.rulesets
        fallback = self.catalogue.fallback.get(identity.local_name, ())
        applied = (
            f"; the {', '.join(fallback)} rules for {identity.local_name} were applied" if fallback else ""
        )
        withdrawn = self.catalogue.withdrawn_for(identity.customization_id)
        if withdrawn is not None:
            message = (
                f"unsupported document type: {withdrawn.title} (CustomizationID {identity.customization_id})"
            )
            findings.append(
                Finding(RULE_WITHDRAWN, "fatal", message + applied, location=_CUSTOMIZATION_XPATH)
            )
        else:
            known = sorted(
                {p.customization for p in self.catalogue.profiles if identity.local_name in p.roots}
            )
            claimed = repr(identity.customization_id) if identity.customization_id else "missing"
            message = (
                f"CustomizationID {claimed} names no specification this release supports for "
                f"{identity.local_name} (supported: {', '.join(known) or 'none'})"
            )
            findings.append(
                Finding(RULE_UNKNOWN_CUSTOMIZATION, "fatal", message + applied, location=_CUSTOMIZATION_XPATH)
            )
        return None, fallback

    def _report(
        self,
        identity: Identity | None,
        profile: Profile | None,
        envelope: dict[str, object] | None,
        schema_file: str | None,
        xsd_valid: bool | None,
        runs: tuple[RulesetRun, ...],
        findings: list[Finding],
        suppressed: tuple[Finding, ...],
        name: str | None,
        started: float,
    ) -> Report:
        info = DocumentInfo(
            root=identity.local_name if identity else None,
            namespace=identity.namespace if identity else None,
            customization_id=identity.customization_id if identity else None,
            profile_id=identity.profile_id if identity else None,
            ubl_version=identity.ubl_version if identity else None,
            profile=profile.name if profile else None,
            envelope=envelope,
        )
        return Report(
            document=info,
            xsd=Path(schema_file).name if schema_file else None,
            xsd_valid=xsd_valid,
            rulesets=runs,
            findings=tuple(findings),
            suppressed=suppressed,
            release=self.catalogue.release,
            name=name,
            duration_ms=(time.perf_counter() - started) * 1000,
        )


_CUSTOMIZATION_XPATH = "/*/*:CustomizationID"


def _text_for_saxon(data: bytes, tree: etree._ElementTree) -> str:
    """The document as text for Saxon: decoded as is when UTF-8, else re-serialised without a declaration
    (a declaration naming another encoding would no longer be true of a Python string)."""
    if (tree.docinfo.encoding or "utf-8").lower() in ("utf-8", "utf8"):
        return data.decode("utf-8-sig")
    return etree.tostring(tree.getroot(), encoding="unicode")
