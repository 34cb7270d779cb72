"""SBDH input: the Peppol envelope rules, agreement of the envelope with its payload, and the payload.

The envelope's problems become findings of the ``sbdh`` rule set; the payload is then validated as a
document of its own, so the official rules' locations start at the payload root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from accesspoint import sbdh
from accesspoint.validation.catalogue import Catalogue
from accesspoint.validation.report import RULE_NO_PAYLOAD, Finding
from accesspoint.validation.xsd import SchemaSet

SBD_ROOT = "StandardBusinessDocument"


@dataclass(frozen=True, slots=True)
class CheckedEnvelope:
    payload: etree._Element | None
    findings: list[Finding]
    info: dict[str, Any]


def check_envelope(
    document: etree._Element, root: Path, catalogue: Catalogue, schemas: SchemaSet
) -> CheckedEnvelope:
    envelope = sbdh.read_envelope(document)
    schema_file = catalogue.schemas.get(SBD_ROOT)
    xsd = schemas.fast(root / schema_file) if schema_file else None
    problems = sbdh.check_envelope(envelope, xsd=xsd)
    payload = envelope.payload if envelope.payload_is_xml else None
    if payload is not None:
        problems += sbdh.check_payload_agreement(envelope, payload)
    findings = [
        Finding(
            problem.code,
            "fatal" if problem.is_fatal else "warning",
            problem.message,
            problem.location,
            "sbdh",
        )
        for problem in problems
    ]
    if envelope.payload is not None and payload is None:
        payload = envelope.payload  # a BinaryContent/TextContent wrapper: reported as an unsupported document
    if payload is None:
        findings.append(
            Finding(RULE_NO_PAYLOAD, "fatal", "the envelope carries no business document", ruleset="sbdh")
        )
    identification = envelope.document_identification
    info = {
        "sender": envelope.sender.value if envelope.sender else None,
        "receiver": envelope.receiver.value if envelope.receiver else None,
        "document_type": envelope.document_type_id,
        "process": envelope.process_id,
        "instance_id": identification.instance_identifier if identification else None,
        "country_c1": envelope.country_c1,
        "valid": not sbdh.has_fatal(problems),
    }
    return CheckedEnvelope(payload, findings, info)
