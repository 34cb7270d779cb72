"""The ``ehfgate`` command line: a thin dispatcher over each module's own ``cli.register``.

Exit codes: 0 success, 1 a negative result (e.g. an invalid document), 2 usage errors,
unreadable input or bad configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from accesspoint import __version__
from accesspoint.config import Config, ConfigError, load_config

EXIT_OK = 0
EXIT_NEGATIVE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    from accesspoint.artifacts import cli as artifacts_cli
    from accesspoint.discovery import cli as discovery_cli
    from accesspoint.pipeline import cli as pipeline_cli
    from accesspoint.pki import cli as pki_cli
    from accesspoint.server import cli as server_cli
    from accesspoint.store import cli as store_cli
    from accesspoint.validation import cli as validation_cli

    parser = argparse.ArgumentParser(prog="ehfgate", description="Peppol access point and EHF gateway")
    parser.add_argument("--version", action="version", version=f"ehfgate {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration (default: $EHFGATE_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (
        server_cli,
        validation_cli,
        artifacts_cli,
        pki_cli,
        store_cli,
        pipeline_cli,
        discovery_cli,
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config: Config = load_config(args.config)
    except ConfigError as exc:
        print(f"ehfgate: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.func(args, config)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
