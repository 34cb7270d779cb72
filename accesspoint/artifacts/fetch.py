"""Fetch the pinned files, verify each sha256, and install them as one set atomically.

Sources, in order: an identical file of an already installed set (no download at all), else the
mirror directory when one is given, else the file's URL. With a mirror the network is never used,
so a file missing from the mirror is an error rather than a silent download.

Optional groups (:func:`fetch_optional`) are installed after the required set, each as a set of its
own: a group the source lacks is reported and skipped, a group with a wrong sha256 is refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from accesspoint import __version__
from accesspoint.artifacts.cache import ArtifactCache
from accesspoint.artifacts.errors import ArtifactFetchError, ArtifactIntegrityError
from accesspoint.artifacts.manifest import Artifact, Manifest

DOWNLOAD_TIMEOUT = 60.0
MAX_FILE_BYTES = 256 * 1024 * 1024  # far above any official artifact; stops a runaway download
_CHUNK = 1024 * 1024

Outcome = Literal["downloaded", "copied", "reused", "failed"]
GroupState = Literal["installed", "present", "unavailable", "refused"]


@dataclass(frozen=True, slots=True)
class FetchProgress:
    """One file done (or failed): enough for a progress line such as ``[ 3/27] path 123 KB ok``."""

    index: int
    total: int
    file: str
    size: int
    outcome: Outcome
    error: str | None = None


ProgressCallback = Callable[[FetchProgress], None]


def fetch(
    manifest: Manifest,
    cache_dir: Path,
    mirror: Path | None = None,
    progress: ProgressCallback | None = None,
    *,
    timeout: float = DOWNLOAD_TIMEOUT,
) -> Path:
    """Install ``manifest``'s set into ``cache_dir`` and return its directory.

    All or nothing: a missing file, failed download or sha256 mismatch raises an
    :class:`ArtifactsError` (an unwritable cache: OSError) before anything becomes visible, and the
    previously current set stays current. Fetching an installed manifest again downloads nothing.
    Concurrent fetches serialise on the cache lock; the second then finds the set installed.
    """
    cache = ArtifactCache(cache_dir)
    root = cache.installed_root(manifest)
    if root is not None and cache.current() == manifest.set_id:
        return root
    with cache.locked():
        cache.clear_leftovers()
        root = cache.installed_root(manifest)
        if root is None:
            root = _install(cache, manifest, mirror, progress, timeout)
        previous = cache.current()
        if previous != manifest.set_id:
            cache.set_current(manifest.set_id)
            groups = {group.set_id for group in manifest.optional_groups().values()}
            cache.prune(keep={manifest.set_id, previous or manifest.set_id, *groups})
    return root


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    """What happened to one optional group: ``present`` (already installed), ``installed``,
    ``unavailable`` (the source lacks it: skipped) or ``refused`` (sha256 mismatch: never installed)."""

    kind: str
    files: int
    state: GroupState
    root: Path | None = None
    detail: str = ""


def fetch_optional(
    manifest: Manifest,
    cache_dir: Path,
    mirror: Path | None = None,
    progress: Callable[[str, FetchProgress], None] | None = None,
    *,
    timeout: float = DOWNLOAD_TIMEOUT,
) -> list[GroupOutcome]:
    """Install each optional group that is not installed yet; never raises for a missing group.

    With a mirror, a group is tried only when the mirror holds every one of its files (a partial
    group would be useless). ``progress`` gets the group's kind with each file event.
    """
    cache = ArtifactCache(cache_dir)
    outcomes: list[GroupOutcome] = []
    for kind, group in manifest.optional_groups().items():
        total = len(group.artifacts)
        root = cache.installed_root(group)
        if root is not None:
            outcomes.append(GroupOutcome(kind, total, "present", root))
            continue
        if mirror is not None:
            absent = [a.file for a in group.artifacts if not (mirror / a.file).is_file()]
            if absent:
                detail = f"{len(absent)} of {total} files not in mirror {mirror}"
                outcomes.append(GroupOutcome(kind, total, "unavailable", detail=detail))
                continue
        report = _for_group(progress, kind)
        try:
            with cache.locked():
                cache.clear_leftovers()
                root = cache.installed_root(group) or _install(cache, group, mirror, report, timeout)
        except ArtifactIntegrityError as exc:
            outcomes.append(GroupOutcome(kind, total, "refused", detail=str(exc)))
            continue
        except ArtifactFetchError as exc:
            outcomes.append(GroupOutcome(kind, total, "unavailable", detail=str(exc)))
            continue
        outcomes.append(GroupOutcome(kind, total, "installed", root))
    return outcomes


def _for_group(progress: Callable[[str, FetchProgress], None] | None, kind: str) -> ProgressCallback | None:
    if progress is None:
        return None
    report = progress

    def forward(event: FetchProgress) -> None:
        report(kind, event)

    return forward


def _install(
    cache: ArtifactCache,
    manifest: Manifest,
    mirror: Path | None,
    progress: ProgressCallback | None,
    timeout: float,
) -> Path:
    staging = cache.new_staging()
    try:
        total = len(manifest.artifacts)
        for index, artifact in enumerate(manifest.artifacts, start=1):
            destination = staging / artifact.file
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                outcome, size = _obtain(artifact, destination, cache, mirror, timeout)
            except Exception as exc:
                if progress:
                    progress(FetchProgress(index, total, artifact.file, 0, "failed", str(exc)))
                raise
            if progress:
                progress(FetchProgress(index, total, artifact.file, size, outcome))
        return cache.commit(staging, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful commit


def _obtain(
    artifact: Artifact, destination: Path, cache: ArtifactCache, mirror: Path | None, timeout: float
) -> tuple[Outcome, int]:
    """Write ``artifact`` to ``destination`` with a verified sha256; say where it came from."""
    for installed in cache.installed_sets():
        candidate = installed / artifact.file
        if not candidate.is_file():
            continue
        try:
            with open(candidate, "rb") as source:
                size, actual = _copy(source, destination, artifact.file)
        except OSError:
            continue  # unreadable: fall through to the real source
        if actual == artifact.sha256:
            return "reused", size
    if mirror is not None:
        source_path = mirror / artifact.file
        if not source_path.is_file():
            raise ArtifactFetchError(artifact.file, f"not found in mirror {mirror}")
        try:
            with open(source_path, "rb") as source:
                size, actual = _copy(source, destination, artifact.file)
        except OSError as exc:
            raise ArtifactFetchError(artifact.file, f"cannot read {source_path}: {exc}") from None
        outcome: Outcome = "copied"
    else:
        size, actual = _download(artifact, destination, timeout)
        outcome = "downloaded"
    if actual != artifact.sha256:
        raise ArtifactIntegrityError(artifact.file, artifact.sha256, actual)
    return outcome, size


def _download(artifact: Artifact, destination: Path, timeout: float) -> tuple[int, str]:
    # The manifest parser admits only http(s) URLs, so no file: or custom schemes reach here.
    headers = {"User-Agent": f"ehfgate/{__version__}"}
    request = urllib.request.Request(artifact.url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return _copy(response, destination, artifact.file)
    except urllib.error.HTTPError as exc:
        raise ArtifactFetchError(artifact.file, f"HTTP {exc.code} {exc.reason} from {artifact.url}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ArtifactFetchError(artifact.file, f"cannot download {artifact.url}: {reason}") from None


def _copy(source: BinaryIO, destination: Path, file: str) -> tuple[int, str]:
    """Stream into ``destination`` (fsynced) while hashing; returns (size, sha256 hex)."""
    digest = hashlib.sha256()
    size = 0
    with open(destination, "wb") as target:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise ArtifactFetchError(file, f"larger than {MAX_FILE_BYTES} bytes")
            digest.update(chunk)
            target.write(chunk)
        target.flush()
        os.fsync(target.fileno())
    return size, digest.hexdigest()
