"""Fixtures for the artifact tests: the shared mirror, the project's manifest, an isolated environment."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from accesspoint.artifacts import Manifest, default_manifest_path, load_manifest
from tests.conftest import shared_dir


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI exports a mirror and Docker a manifest path; these tests choose their own."""
    for name in ("EHFGATE_MANIFEST", "EHFGATE_ARTIFACTS_MIRROR", "EHFGATE_ARTIFACTS_DIR", "EHFGATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The shared mirror, laid out by each manifest entry's ``file``."""
    path = shared_dir() / "artifacts"
    if not path.is_dir():
        pytest.fail(f"shared artifact mirror not found at {path}; set EHFGATE_SHARED_DIR")
    return path


@pytest.fixture
def project_data() -> dict[str, Any]:
    """The project's manifest as decoded JSON: a fresh copy to derive test manifests from."""
    data: dict[str, Any] = json.loads(default_manifest_path().read_text(encoding="utf-8"))
    return copy.deepcopy(data)


@pytest.fixture
def manifest() -> Manifest:
    return load_manifest()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"
