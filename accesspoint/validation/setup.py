"""Find the installed official artifacts for validation, or say exactly how to install them."""

from __future__ import annotations

from pathlib import Path

from accesspoint.artifacts import ArtifactsNotInstalled, installed_root, load_manifest
from accesspoint.config import Config
from accesspoint.validation.catalogue import Catalogue, parse_catalogue


class ValidationUnavailable(RuntimeError):
    """The official artifacts are not installed; the message names the fetch command."""


def locate(config: Config) -> tuple[Path, Catalogue]:
    """The artifact directory and the validation catalogue of the project's manifest."""
    manifest = load_manifest()
    catalogue = parse_catalogue(manifest.release, manifest.validation)
    root = installed_root(config.artifacts.dir, manifest)
    if root is None:
        raise ValidationUnavailable(str(ArtifactsNotInstalled(config.artifacts.dir)))
    return root, catalogue
