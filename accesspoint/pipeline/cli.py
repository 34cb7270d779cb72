"""``ehfgate send FILE --to-url URL --to-cert PEM [--format json]``: one AS4 message, no SMP."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from pathlib import Path
from typing import Any

from cryptography import x509

from accesspoint import sbdh
from accesspoint.config import Config
from accesspoint.identity import APIdentity, IdentityError, load_identity
from accesspoint.pipeline.delivery import Delivery, deliver
from accesspoint.pki.credentials import load_certificates
from accesspoint.xml import XMLError


def register(sub: Any) -> None:
    parser = sub.add_parser("send", help="send one document straight to an AS4 endpoint (no SMP lookup)")
    parser.add_argument(
        "file", metavar="FILE", help="an SBDH document, or a bare UBL document (wrapped automatically)"
    )
    parser.add_argument("--to-url", required=True, metavar="URL", help="the receiving AP's /as4 endpoint")
    parser.add_argument(
        "--to-cert", required=True, type=Path, metavar="PEM", help="the receiving AP's certificate"
    )
    parser.add_argument("--message-id", help="reuse a MessageId (a retry of an earlier send)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _envelope(data: bytes) -> bytes:
    try:
        sbdh.read_envelope(data)
    except sbdh.EnvelopeReadError:
        return sbdh.envelope_for_ubl(data)
    return data


def _report(delivery: Delivery) -> dict[str, Any]:
    report: dict[str, Any] = {
        "outcome": delivery.outcome,
        "message_id": delivery.message_id,
        "reason": delivery.reason,
        "http_status": delivery.http_status,
    }
    if delivery.receipt is not None:
        receipt = delivery.receipt
        report["receipt"] = {
            "message_id": receipt.message_id,
            "ref_to_message_id": receipt.ref_to_message_id,
            "timestamp": receipt.timestamp.isoformat() if receipt.timestamp else None,
            "signer": receipt.signer.subject.rfc4514_string() if receipt.signer else None,
            "references": [ref.uri for ref in receipt.references],
            "envelope_base64": base64.b64encode(receipt.envelope).decode(),
        }
    if delivery.signal is not None:
        report["errors"] = [
            {
                "code": e.code,
                "short_description": e.short_description,
                "detail": e.detail,
                "description": e.description,
            }
            for e in delivery.signal.errors
        ]
    return report


async def _deliver(
    identity: APIdentity, envelope: bytes, url: str, receiver_cert: x509.Certificate, message_id: str | None
) -> Delivery:
    try:
        return await deliver(identity, envelope, url, receiver_cert, message_id=message_id)
    finally:
        if identity.checker is not None:
            await identity.checker.aclose()


def run(args: argparse.Namespace, config: Config) -> int:
    """Exit 0 only on a verified receipt; 1 when refused or unreachable; 2 for unusable input."""
    try:
        data = Path(args.file).read_bytes()
        envelope = _envelope(data)
        receiver_cert: x509.Certificate = load_certificates(args.to_cert.read_bytes())[0]
        identity = load_identity(config)
    except (OSError, XMLError, sbdh.EnvelopeReadError, ValueError, IdentityError) as exc:
        print(f"ehfgate send: {exc}", file=sys.stderr)
        return 2
    try:
        delivery = asyncio.run(_deliver(identity, envelope, args.to_url, receiver_cert, args.message_id))
    except ValueError as exc:
        print(f"ehfgate send: {exc}", file=sys.stderr)
        return 2
    report = _report(delivery)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print(f"{delivery.outcome}: {delivery.reason} (MessageId {delivery.message_id})")
        if delivery.receipt is not None:
            receipt = report["receipt"]
            print(f"receipt {receipt['message_id']} signed by {receipt['signer']} at {receipt['timestamp']}")
            for uri in receipt["references"]:
                print(f"  covers {uri}")
        for error in report.get("errors", []):
            text = error["detail"] or error["description"] or ""
            print(f"  {error['code']} {error['short_description'] or ''} {text}")
    return 0 if delivery.outcome == "delivered" else 1
