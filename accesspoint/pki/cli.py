"""``ehfgate dev-pki --out DIR``: a fresh development PKI (wire with ``cli.register`` like other modules)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from accesspoint.pki.devpki import DEFAULT_SEATS, generate_dev_pki


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "dev-pki", help="create a test PKI (root, AP CA, AP certificates) for development"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the PEM files")
    parser.add_argument(
        "--seat",
        action="append",
        metavar="SEAT_ID",
        help=f"AP seat id (certificate CN); repeat for several (default: {', '.join(DEFAULT_SEATS)})",
    )
    parser.add_argument("--organisation", default="ehfgate development", help="O= of the certificates")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument("--smp", action="store_true", help="also write the SMP CA certificate (smp-ca.pem)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: object = None) -> int:
    """Exit 0 with the written paths listed; 2 when files exist (without --force) or cannot be written."""
    try:
        files = generate_dev_pki(
            args.out,
            args.seat or DEFAULT_SEATS,
            organisation=args.organisation,
            overwrite=args.force,
            smp=getattr(args, "smp", False),
        )
    except FileExistsError as exc:
        print(f"ehfgate: {exc.filename} exists; use --force to replace the dev PKI", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ehfgate: cannot write the dev PKI: {exc}", file=sys.stderr)
        return 2
    print(f"trust.anchors = {files.root_certificate}")
    print(f"ap.chain      = {files.ap_ca_certificate}")
    if files.smp_ca_certificate is not None:
        print(
            f"SMP CA        = {files.smp_ca_certificate} (add to trust.anchors to trust its SMP certificates)"
        )
    for seat in files.keys:
        print(f"{seat}: ap.key = {files.keys[seat]}  ap.cert = {files.certificates[seat]}")
    print("development only: these private keys are unencrypted (mode 0600) and must never be committed")
    return 0
