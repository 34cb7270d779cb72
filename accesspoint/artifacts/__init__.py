"""Pinned official validation artifacts: manifest, fetch with sha256 verification, atomic cache, status.

The rest of the code needs only :func:`load_manifest` and :func:`installed_root`; when the latter
returns None, raise :class:`ArtifactsNotInstalled`, whose message names the command that fixes it.
"""

from accesspoint.artifacts.cache import ArtifactCache, installed_root
from accesspoint.artifacts.errors import (
    ArtifactFetchError,
    ArtifactIntegrityError,
    ArtifactsError,
    ArtifactsNotInstalled,
    ManifestError,
)
from accesspoint.artifacts.fetch import FetchProgress, ProgressCallback, fetch
from accesspoint.artifacts.manifest import (
    MANIFEST_ENV,
    Artifact,
    Manifest,
    default_manifest_path,
    load_manifest,
    parse_manifest,
)
from accesspoint.artifacts.status import StatusRow, status

__all__ = [
    "MANIFEST_ENV",
    "Artifact",
    "ArtifactCache",
    "ArtifactFetchError",
    "ArtifactIntegrityError",
    "ArtifactsError",
    "ArtifactsNotInstalled",
    "FetchProgress",
    "Manifest",
    "ManifestError",
    "ProgressCallback",
    "StatusRow",
    "default_manifest_path",
    "fetch",
    "installed_root",
    "load_manifest",
    "parse_manifest",
    "status",
]
