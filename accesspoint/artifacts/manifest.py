"""The pinned manifest (``schemas/artifacts.json``): which official files, where from, and their sha256.

Everything release-specific lives in the manifest, so moving to a newer Peppol release is a change of
that file and never of code. Parsing checks the shape strictly, because the manifest decides which paths
are written into the cache: every ``file`` must be a plain relative path that cannot leave it.

``artifacts`` is the required set (validation cannot run without it). ``optional_artifacts`` are sets
grouped by ``kind`` (e.g. the Peppol CA certificates) that a mirror may lack: each group is installed as
its own set, so a missing group never blocks the required one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

from accesspoint.artifacts.errors import ManifestError

MANIFEST_ENV = "EHFGATE_MANIFEST"
SUPPORTED_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_URL_SCHEMES = frozenset({"https", "http"})
_UNSAFE_SET_CHARS = re.compile(r"[^A-Za-z0-9._-]")

_Fail = Callable[[str, str], ManifestError]


def default_manifest_path() -> Path:
    """The project's manifest: ``$EHFGATE_MANIFEST`` if set, else ``schemas/artifacts.json`` of this checkout.

    The one place that knows where the manifest lives, so installs (Docker sets the variable) and
    checkouts agree.
    """
    override = os.environ.get(MANIFEST_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "schemas" / "artifacts.json"


@dataclass(frozen=True, slots=True)
class Artifact:
    """One pinned file. ``file`` is its POSIX path both in a mirror and in an installed set."""

    name: str
    version: str
    kind: str
    file: str
    sha256: str
    url: str
    licence: str
    # Further string fields of the entry (e.g. mode, generation, role): how code finds a file by meaning.
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    release: str
    artifacts: tuple[Artifact, ...]
    validation: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = "<manifest>"
    optional: tuple[Artifact, ...] = ()

    @property
    def digest(self) -> str:
        """sha256 over the (file, sha256) pairs: equal digests mean byte-identical installed sets.

        Descriptions and the validation section are left out on purpose, so editing them never
        forces a re-fetch.
        """
        pairs = sorted((a.file, a.sha256) for a in self.artifacts)
        return hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode()).hexdigest()

    @property
    def set_id(self) -> str:
        """Directory name of this manifest's set in the cache: readable release plus the digest."""
        release = _UNSAFE_SET_CHARS.sub("_", self.release).strip("._") or "release"
        return f"{release}-{self.digest[:16]}"

    def optional_groups(self) -> dict[str, Manifest]:
        """Each optional group (by ``kind``) as a manifest of its own, installed as its own set.

        The group's "release" is its kind, so its set id does not change with the validation release:
        an unchanged group stays installed across releases.
        """
        kinds: dict[str, list[Artifact]] = {}
        for artifact in self.optional:
            kinds.setdefault(artifact.kind, []).append(artifact)
        return {
            kind: Manifest(self.format, kind, tuple(artifacts), source=self.source)
            for kind, artifacts in kinds.items()
        }


def load_manifest(path: Path | None = None) -> Manifest:
    """Read and check a manifest (default: :func:`default_manifest_path`)."""
    path = path if path is not None else default_manifest_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: manifest not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path}: not JSON: {exc}") from None
    return parse_manifest(data, source=str(path))


def parse_manifest(data: Any, source: str = "<manifest>") -> Manifest:
    """Build a :class:`Manifest` from decoded JSON; every error names the offending field."""

    def fail(where: str, message: str) -> ManifestError:
        return ManifestError(f"{source}: {where}: {message}")

    if not isinstance(data, dict):
        raise fail("top level", "expected a JSON object")
    fmt = data.get("format")
    if fmt != SUPPORTED_FORMAT or isinstance(fmt, bool):
        raise fail("format", f"expected {SUPPORTED_FORMAT}, got {fmt!r}")
    release = data.get("release")
    if not isinstance(release, str) or not release.strip():
        raise fail("release", "expected a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail("description", "expected a string")
    validation = data.get("validation", {})
    if not isinstance(validation, dict):
        raise fail("validation", "expected an object")
    entries = data.get("artifacts")
    if not isinstance(entries, list) or not entries:
        raise fail("artifacts", "expected a non-empty list")

    artifacts = tuple(_parse_artifact(entry, f"artifacts[{i}]", fail) for i, entry in enumerate(entries))
    _check_unique_paths(artifacts, fail)
    optional_entries = data.get("optional_artifacts", [])
    if not isinstance(optional_entries, list):
        raise fail("optional_artifacts", "expected a list")
    optional = tuple(
        _parse_artifact(entry, f"optional_artifacts[{i}]", fail) for i, entry in enumerate(optional_entries)
    )
    _check_unique_paths(optional, fail, "optional_artifacts")
    return Manifest(
        format=SUPPORTED_FORMAT,
        release=release,
        artifacts=artifacts,
        validation=validation,
        description=description,
        source=source,
        optional=optional,
    )


_TEXT_FIELDS = ("name", "version", "kind", "licence")
_KNOWN_FIELDS = frozenset({*_TEXT_FIELDS, "file", "sha256", "url"})


def _parse_artifact(entry: Any, where: str, fail: _Fail) -> Artifact:
    if not isinstance(entry, dict):
        raise fail(where, "expected an object")
    values: dict[str, str] = {}
    for key in (*_TEXT_FIELDS, "file", "sha256", "url"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where}.{key}", f"expected a non-empty string, got {value!r}")
        values[key] = value
    problem = path_problem(values["file"])
    if problem:
        raise fail(f"{where}.file", f"{problem}: {values['file']!r}")
    if not _SHA256.fullmatch(values["sha256"]):
        raise fail(f"{where}.sha256", f"expected 64 hex digits, got {values['sha256']!r}")
    url = urlsplit(values["url"])
    if url.scheme not in _URL_SCHEMES or not url.netloc:
        raise fail(f"{where}.url", f"expected an http(s) URL, got {values['url']!r}")
    labels: dict[str, str] = {}
    for key, value in entry.items():
        if key in _KNOWN_FIELDS:
            continue
        if not isinstance(value, str):
            raise fail(f"{where}.{key}", f"expected a string, got {value!r}")
        labels[key] = value
    return Artifact(
        name=values["name"],
        version=values["version"],
        kind=values["kind"],
        file=values["file"],
        sha256=values["sha256"].lower(),
        url=values["url"],
        licence=values["licence"],
        labels=labels,
    )


def path_problem(file: str) -> str | None:
    """Why ``file`` is not a safe relative path inside the cache, or None when it is.

    Checked lexically (never against the file system) so that the same rules hold on every
    platform: no absolute or drive paths, no backslashes, no ``.``/``..`` or empty segments.
    """
    if "\x00" in file:
        return "contains a NUL character"
    if "\\" in file:
        return "must use '/' as separator"
    if PurePosixPath(file).is_absolute() or PureWindowsPath(file).anchor:
        return "must be a relative path"
    segments = file.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return "must not contain empty, '.' or '..' segments (it would escape or alias the cache)"
    return None


def _check_unique_paths(artifacts: tuple[Artifact, ...], fail: _Fail, section: str = "artifacts") -> None:
    """Two entries may not land on the same path, nor may one entry be a directory of another."""
    seen: dict[str, int] = {}
    for i, artifact in enumerate(artifacts):
        key = artifact.file.casefold()  # case-insensitive file systems would merge them
        if key in seen:
            raise fail(f"{section}[{i}].file", f"duplicates {section}[{seen[key]}]: {artifact.file!r}")
        seen[key] = i
    for i, artifact in enumerate(artifacts):
        parts = artifact.file.casefold().split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in seen:
                raise fail(
                    f"{section}[{i}].file",
                    f"lies inside {section}[{seen[parent]}].file, which is a file: {artifact.file!r}",
                )
