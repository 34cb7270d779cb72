"""Exceptions of the artifact cache, each precise enough for a caller to act on its message alone."""

from __future__ import annotations

from pathlib import Path

FETCH_COMMAND = "ehfgate artifacts fetch"


class ArtifactsError(Exception):
    """Base class: anything that keeps the official artifacts from being used."""


class ManifestError(ArtifactsError, ValueError):
    """The manifest cannot be read or does not have the expected shape; the message names the field."""


class ArtifactsNotInstalled(ArtifactsError):
    """The manifest's artifact set is not in the cache. The message names the command that fixes it."""

    def __init__(self, cache_dir: Path, release: str | None = None) -> None:
        self.cache_dir = cache_dir
        self.release = release
        what = f"official validation artifacts ({release})" if release else "official validation artifacts"
        super().__init__(f"{what} are not installed in {cache_dir}: run '{FETCH_COMMAND}'")


class ArtifactFetchError(ArtifactsError):
    """One file could not be obtained from the mirror or its URL."""

    def __init__(self, file: str, reason: str) -> None:
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}")


class ArtifactIntegrityError(ArtifactsError):
    """A file's content does not match the sha256 the manifest pins: it must never be installed."""

    def __init__(self, file: str, expected: str, actual: str) -> None:
        self.file = file
        self.expected = expected
        self.actual = actual
        super().__init__(f"{file}: sha256 mismatch: expected {expected}, got {actual}")
