"""``ehfgate lookup PARTICIPANT``: SML + SMP resolution shown step by step, for operators.

Exit 0 when the document can go somewhere; 1 for a definite no (not registered, document type not
supported, expired service, refused SMP answer, untrusted certificate); 2 for usage errors; 3 when
DNS or the SMP could not be asked (try again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from accesspoint.config import Config
from accesspoint.discovery.lookup import Discovery, DiscoveryUnavailable, Lookup
from accesspoint.discovery.sml import SmpFound
from accesspoint.identity import IdentityError, load_identity
from accesspoint.peppol.identifiers import IdentifierError

BIS_BILLING_INVOICE = (
    "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BIS_BILLING_PROCESS = "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
EXIT_UNAVAILABLE = 3


def register(sub: Any) -> None:
    parser = sub.add_parser("lookup", help="find a participant's access point through SML and SMP")
    parser.add_argument("participant", metavar="PARTICIPANT", help="e.g. 0192:810418052")
    parser.add_argument("--document-type", default=BIS_BILLING_INVOICE, metavar="ID",
                        help="document type id (default: Peppol BIS Billing 3.0 invoice)")  # fmt: skip
    parser.add_argument("--process", default=BIS_BILLING_PROCESS, metavar="ID",
                        help="process id (default: Peppol BIS Billing 3.0)")  # fmt: skip
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


async def _lookup(config: Config, args: argparse.Namespace) -> Lookup:
    identity = load_identity(config)
    assert identity.checker is not None
    discovery = Discovery.from_config(config, identity.checker)
    try:
        return await discovery.lookup(args.participant, args.document_type, args.process)
    finally:
        await discovery.aclose()
        await identity.checker.aclose()


def _text(found: Lookup) -> list[str]:
    lines = [
        f"participant    {found.participant}",
        f"document type  {found.document_type}",
        f"process        {found.process}",
    ]
    if isinstance(found.sml, SmpFound):
        cached = " (cached)" if found.sml.from_cache else ""
        lines.append(f"SML ({found.sml.form}) {found.sml.dns_name}{cached}")
        lines.append(f"  answer: {found.sml.record} (TTL {found.sml.ttl} s)")
        lines.append(f"SMP URL        {found.sml.smp_url}")
    elif found.sml is not None:
        for miss in found.sml.misses:
            lines.append(f"SML ({miss.form}) {miss.dns_name}: {miss.reason}")
    steps = [str(step) for step in found.smp.steps] if found.smp else list(found.steps)
    lines.extend(f"  {step}" for step in steps)
    if found.smp is not None and found.smp.signature is not None:
        sig = found.smp.signature
        verdict = "valid and trusted" if sig.signed and sig.trusted else "NOT trusted"
        lines.append(f"SMP signature  {verdict} ({sig.algorithm}; signer {sig.signer_subject})")
    if found.endpoint is not None:
        cert = found.endpoint.certificate
        lines.append(f"endpoint       {found.endpoint.url} ({found.endpoint.transport_profile})")
        lines.append(f"certificate    {cert.subject.rfc4514_string()}")
        lines.append(f"  issuer       {cert.issuer.rfc4514_string()}")
        lines.append(f"  expires      {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if found.certificate is not None:
        lines.append(f"  trust        {found.certificate.explain()}")
    lines.append(f"result         {found.outcome}: {found.detail}")
    return lines


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        found = asyncio.run(_lookup(config, args))
    except (IdentifierError, IdentityError) as exc:
        print(f"ehfgate lookup: {exc}", file=sys.stderr)
        return 2
    except DiscoveryUnavailable as exc:
        print(f"ehfgate lookup: {exc} (try again later)", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if args.format == "json":
        print(json.dumps(found.as_json(), indent=2, default=str))
    else:
        print("\n".join(_text(found)))
    return 0 if found.found else 1
