"""``ehfgate artifacts fetch [--mirror DIR]`` and ``ehfgate artifacts status [--format text|json]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from accesspoint.artifacts.errors import ArtifactsError, ManifestError
from accesspoint.artifacts.fetch import FetchProgress, GroupOutcome, fetch, fetch_optional
from accesspoint.artifacts.manifest import Manifest, load_manifest
from accesspoint.artifacts.status import StatusRow, optional_status, status
from accesspoint.config import Config

EXIT_OK, EXIT_MISSING, EXIT_FAILED = 0, 1, 2


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "artifacts",
        help="official validation artifacts: fetch, verify, install; status",
        description="The official validation artifacts pinned by the manifest (schemas/artifacts.json, "
        "or $EHFGATE_MANIFEST).",
    )
    commands = parser.add_subparsers(dest="artifacts_command", metavar="COMMAND", required=True)

    fetch_parser = commands.add_parser(
        "fetch",
        help="fetch, verify (sha256) and atomically install the pinned artifacts",
        description="Fetch every pinned file, verify its sha256 and install the set atomically into "
        "artifacts.dir, then the optional groups the source has. Exit 0: installed (or already "
        "installed; an optional group the source lacks is reported, not an error); 2: failed, nothing "
        "installed, or an optional group was refused (sha256 mismatch).",
    )
    fetch_parser.add_argument(
        "--mirror",
        type=Path,
        metavar="DIR",
        help="take the files from this directory instead of their URLs (default: artifacts.mirror)",
    )
    fetch_parser.set_defaults(func=run_fetch)

    status_parser = commands.add_parser(
        "status",
        help="name, version and whether each artifact is installed",
        description="Exit 0: all required artifacts installed (optional groups are reported on "
        "standard error); 1: some missing; 2: unreadable manifest.",
    )
    status_parser.add_argument("--format", choices=("text", "json"), default="text")
    status_parser.set_defaults(func=run_status)


def run_fetch(args: argparse.Namespace, config: Config) -> int:
    manifest = _manifest("fetch")
    if manifest is None:
        return EXIT_FAILED
    mirror: Path | None = args.mirror or config.artifacts.mirror
    if mirror is not None and not mirror.is_dir():
        _error("fetch", f"mirror {mirror} is not a directory")
        return EXIT_FAILED
    cache_dir = config.artifacts.dir
    origin = f"mirror {mirror}" if mirror is not None else "their URLs"
    started = False

    def report(event: FetchProgress) -> None:
        nonlocal started
        if not started:
            started = True
            print(f"fetching {manifest.release}: {event.total} files from {origin}", file=sys.stderr)
        print(format_progress(event), file=sys.stderr, flush=True)

    try:
        root = fetch(manifest, cache_dir, mirror=mirror, progress=report)
    except ArtifactsError as exc:
        _error("fetch", f"{exc}; nothing installed")
        return EXIT_FAILED
    except OSError as exc:
        _error("fetch", f"cannot write the artifact cache {cache_dir}: {exc}; nothing installed")
        return EXIT_FAILED
    verb = "installed" if started else "already installed"
    print(f"{manifest.release}: {len(manifest.artifacts)} files {verb} in {root}")
    return _fetch_optional(manifest, config, mirror, origin)


def _fetch_optional(manifest: Manifest, config: Config, mirror: Path | None, origin: str) -> int:
    """Optional groups after the required set: a lacking source is a note, a bad sha256 an error."""
    announced: set[str] = set()

    def report(kind: str, event: FetchProgress) -> None:
        if kind not in announced:
            announced.add(kind)
            print(f"fetching optional {kind}: {event.total} files from {origin}", file=sys.stderr)
        print(format_progress(event), file=sys.stderr, flush=True)

    try:
        outcomes = fetch_optional(manifest, config.artifacts.dir, mirror=mirror, progress=report)
    except OSError as exc:
        _error("fetch", f"cannot write the optional sets to {config.artifacts.dir}: {exc}")
        return EXIT_FAILED
    code = EXIT_OK
    for outcome in outcomes:
        if outcome.state == "refused":
            _error("fetch", f"optional {outcome.kind} refused, not installed: {outcome.detail}")
            code = EXIT_FAILED
        else:
            print(format_group(outcome))
    return code


def format_group(outcome: GroupOutcome) -> str:
    """One line per optional group, e.g. ``optional peppol-ca: not installed (...)``."""
    if outcome.state == "unavailable":
        return f"optional {outcome.kind}: not installed ({outcome.detail}); it is optional, continuing"
    verb = "installed" if outcome.state == "installed" else "already installed"
    return f"optional {outcome.kind}: {outcome.files} files {verb} in {outcome.root}"


def run_status(args: argparse.Namespace, config: Config) -> int:
    manifest = _manifest("status")
    if manifest is None:
        return EXIT_FAILED
    cache_dir = config.artifacts.dir
    rows = status(manifest, cache_dir)
    optional = optional_status(manifest, cache_dir)
    complete = all(row.installed for row in rows)
    if args.format == "json":
        document = {
            "release": manifest.release,
            "cache": str(cache_dir),
            "installed": complete,
            "artifacts": [row.as_json() for row in rows],
            "optional": [row.as_json() for row in optional],
        }
        json.dump(document, sys.stdout, indent=2)
        print()
    else:
        print(f"release {manifest.release}, cache {cache_dir}")
        table = [("NAME", "VERSION", "FILES", "STATUS")]
        table += [
            (r.name, r.version, f"{r.installed_files}/{r.files}", "installed" if r.installed else "missing")
            for r in rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(3)]
        for name, version, files, state in table:
            print(f"{name:<{widths[0]}}  {version:<{widths[1]}}  {files:>{widths[2]}}  {state}")
        if not complete:
            print("some artifacts are missing: run 'ehfgate artifacts fetch'", file=sys.stderr)
        _print_optional(optional)
    return EXIT_OK if complete else EXIT_MISSING


def _print_optional(rows: list[StatusRow]) -> None:
    """Optional groups on standard error: they never change the exit code or the table above."""
    for row in rows:
        state = "installed" if row.installed else "missing"
        line = f"optional {row.name} {row.version} ({row.kind}): {row.installed_files}/{row.files} {state}"
        print(line, file=sys.stderr)
    if any(not row.installed for row in rows):
        print(
            "optional artifacts are missing (the mirror or network did not provide them): run "
            "'ehfgate artifacts fetch' with network access or a mirror that holds them; until then "
            "whatever needs them falls back (the Peppol CA certificates: only trust.anchors are trusted)",
            file=sys.stderr,
        )


def format_progress(event: FetchProgress) -> str:
    """``[ 3/27] ubl-2.1/xsd/common/X.xsd 123 KB ok`` — one line per file."""
    width = len(str(event.total))
    prefix = f"[{event.index:>{width}}/{event.total}] {event.file}"
    if event.outcome == "failed":
        return f"{prefix} FAILED"
    note = " (reused)" if event.outcome == "reused" else ""
    return f"{prefix} {_size(event.size)} ok{note}"


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024)) if size else 0} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _manifest(command: str) -> Manifest | None:
    try:
        return load_manifest()
    except ManifestError as exc:
        _error(command, str(exc))
        return None


def _error(command: str, message: str) -> None:
    print(f"ehfgate artifacts {command}: {message}", file=sys.stderr)
