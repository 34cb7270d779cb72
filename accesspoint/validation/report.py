"""The validation report: findings with rule id, flag, location and message, and the verdict.

The JSON form (``Report.to_dict``) is a public format documented in the README; keep it stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Flag = Literal["fatal", "warning", "information"]

# Rule ids the engine itself raises (the official rule sets use their own ids).
RULE_XSD = "XSD"
RULE_UNKNOWN_ROOT = "EHFGATE-DOC-UNKNOWN-ROOT"
RULE_UNKNOWN_CUSTOMIZATION = "EHFGATE-DOC-CUSTOMIZATION"
RULE_WITHDRAWN = "EHFGATE-DOC-WITHDRAWN"
RULE_RULESET_ERROR = "EHFGATE-RULESET-ERROR"
RULE_NO_PAYLOAD = "EHFGATE-SBDH-NO-PAYLOAD"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    flag: Flag
    message: str
    location: str | None = None
    ruleset: str = "document"
    test: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "flag": self.flag,
            "ruleset": self.ruleset,
            "location": self.location,
            "message": self.message,
        }
        if self.test is not None:
            data["test"] = self.test
        return data


@dataclass(frozen=True, slots=True)
class RulesetRun:
    """One rule set applied to the document; ``error`` is set when it raised a dynamic error."""

    name: str
    title: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": "error" if self.error else "ok",
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    root: str | None
    namespace: str | None
    customization_id: str | None
    profile_id: str | None
    ubl_version: str | None
    profile: str | None
    envelope: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "namespace": self.namespace,
            "customization_id": self.customization_id,
            "profile_id": self.profile_id,
            "ubl_version": self.ubl_version,
            "profile": self.profile,
            "sbdh": self.envelope,
        }


@dataclass(frozen=True, slots=True)
class Report:
    document: DocumentInfo
    xsd: str | None
    xsd_valid: bool | None
    rulesets: tuple[RulesetRun, ...]
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...] = ()
    release: str = ""
    name: str | None = None
    duration_ms: float = 0.0

    @property
    def fatal(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag == "fatal")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag == "warning")

    @property
    def valid(self) -> bool:
        """Valid iff the XSD passed and no finding is fatal (warnings allowed)."""
        return self.xsd_valid is not False and not self.fatal

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "valid": self.valid,
            "document": self.document.to_dict(),
            "xsd": {"schema": self.xsd, "valid": self.xsd_valid},
            "rulesets": [r.to_dict() for r in self.rulesets],
            "counts": {"fatal": len(self.fatal), "warning": len(self.warnings)},
            "findings": [f.to_dict() for f in self.findings],
            "suppressed": [f.to_dict() for f in self.suppressed],
            "artifacts": {"release": self.release},
            "duration_ms": round(self.duration_ms, 3),
        }


def format_text(report: dict[str, Any]) -> str:
    """Human output of a report's JSON form: verdict, then findings grouped by severity."""
    doc = report["document"]
    what = doc.get("profile") or doc.get("root") or "document"
    counts = report["counts"]
    lines = [
        f"{report['name'] or '-'}: {'VALID' if report['valid'] else 'INVALID'} "
        f"({what}; {counts['fatal']} fatal, {counts['warning']} warning)"
    ]
    for flag in ("fatal", "warning"):
        chosen = [f for f in report["findings"] if f["flag"] == flag]
        if chosen:
            lines.append(f"  {flag}:")
        for finding in chosen:
            lines.append(f"    [{finding['rule']}] {finding['message']}")
            if finding.get("location"):
                lines.append(f"        at {finding['location']}")
    return "\n".join(lines)
