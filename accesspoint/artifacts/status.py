"""What is installed: one row per artifact (name, version) with its file counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accesspoint.artifacts.cache import ArtifactCache
from accesspoint.artifacts.manifest import Manifest


@dataclass(frozen=True, slots=True)
class StatusRow:
    name: str
    version: str
    kind: str
    files: int
    installed_files: int

    @property
    def installed(self) -> bool:
        return self.installed_files == self.files

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "files": self.files,
            "installed_files": self.installed_files,
            "installed": self.installed,
        }


def status(manifest: Manifest, cache_dir: Path) -> list[StatusRow]:
    """Rows in manifest order. Files count as installed only inside this manifest's own set.

    Files of an older set do not count even when identical: the validator needs the complete set,
    and ``fetch`` would reuse them without downloading anyway.
    """
    root = ArtifactCache(cache_dir).set_dir(manifest)
    groups: dict[tuple[str, str], list[str]] = {}
    kinds: dict[tuple[str, str], list[str]] = {}
    for artifact in manifest.artifacts:
        key = (artifact.name, artifact.version)
        groups.setdefault(key, []).append(artifact.file)
        if artifact.kind not in kinds.setdefault(key, []):
            kinds[key].append(artifact.kind)
    return [
        StatusRow(
            name=name,
            version=version,
            kind=",".join(kinds[(name, version)]),
            files=len(files),
            installed_files=sum((root / file).is_file() for file in files),
        )
        for (name, version), files in groups.items()
    ]


def optional_status(manifest: Manifest, cache_dir: Path) -> list[StatusRow]:
    """Rows for the optional groups, each counted inside its own set (see ``fetch_optional``)."""
    return [row for group in manifest.optional_groups().values() for row in status(group, cache_dir)]
