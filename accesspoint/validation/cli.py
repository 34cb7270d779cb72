"""``ehfgate validate FILE... [--format text|json] [--jobs N]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from accesspoint.config import Config
from accesspoint.validation.report import format_text

if TYPE_CHECKING:
    from accesspoint.validation.pool import Outcome

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "validate",
        help="validate EHF / Peppol BIS documents against the official rules",
        description="Validate UBL or SBDH-wrapped documents. Exit 0: all valid (warnings allowed); "
        "1: some invalid; 2: unreadable input or usage error.",
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="documents to validate ('-' for standard input)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--jobs", type=_positive, default=None, metavar="N", help="worker processes")
    parser.set_defaults(func=run)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def run(args: argparse.Namespace, config: Config) -> int:
    from accesspoint.validation.pool import ValidationPool
    from accesspoint.validation.setup import ValidationUnavailable, locate
    from accesspoint.xml import XMLLimits

    try:
        root, catalogue = locate(config)
    except ValidationUnavailable as exc:
        print(f"ehfgate validate: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    jobs = args.jobs or config.validation.jobs
    limits = XMLLimits(max_bytes=config.validation.max_document_bytes)
    jobs = min(jobs, len(args.files))
    with ValidationPool(root, catalogue, jobs=jobs, limits=limits) as pool:
        return _emit(pool.map(args.files), args.format)


def _emit(outcomes: Iterable[Outcome], output: str) -> int:
    code = EXIT_VALID
    reports: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for outcome in outcomes:
        if outcome.report is None:
            code = EXIT_UNREADABLE
            errors.append({"name": outcome.name, "code": outcome.error_code, "error": outcome.error})
            if output == "text":
                print(f"{outcome.name}: ERROR ({outcome.error_code}) {outcome.error}", file=sys.stderr)
            continue
        if not outcome.report["valid"] and code == EXIT_VALID:
            code = EXIT_INVALID
        if output == "text":
            print(format_text(outcome.report), flush=True)
        else:
            reports.append(outcome.report)
    if output == "json":
        json.dump({"valid": code == EXIT_VALID, "reports": reports, "errors": errors}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return code
