"""Pinned official validation artifacts: manifest, fetch with sha256 verification, atomic cache, status.

The rest of the code needs only :func:`load_manifest` and :func:`installed_root`; when the latter
returns None, raise :class:`ArtifactsNotInstalled`, whose message names the command that fixes it.
Optional groups (e.g. the Peppol CA certificates) are found with :func:`installed_group`.
"""

from accesspoint.artifacts.cache import ArtifactCache, installed_group, installed_root
from accesspoint.artifacts.errors import (
    ArtifactFetchError,
    ArtifactIntegrityError,
    ArtifactsError,
    ArtifactsNotInstalled,
    ManifestError,
)
from accesspoint.artifacts.fetch import FetchProgress, GroupOutcome, ProgressCallback, fetch, fetch_optional
from accesspoint.artifacts.manifest import (
    MANIFEST_ENV,
    Artifact,
    Manifest,
    default_manifest_path,
    load_manifest,
    parse_manifest,
)
from accesspoint.artifacts.status import StatusRow, optional_status, status

__all__ = [
    "MANIFEST_ENV",
    "Artifact",
    "ArtifactCache",
    "ArtifactFetchError",
    "ArtifactIntegrityError",
    "ArtifactsError",
    "ArtifactsNotInstalled",
    "FetchProgress",
    "GroupOutcome",
    "Manifest",
    "ManifestError",
    "ProgressCallback",
    "StatusRow",
    "default_manifest_path",
    "fetch",
    "fetch_optional",
    "installed_group",
    "installed_root",
    "load_manifest",
    "optional_status",
    "parse_manifest",
    "status",
]
