"""Manifest parsing: the project's manifest loads, its shape is checked, paths cannot escape the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accesspoint.artifacts import (
    MANIFEST_ENV,
    ManifestError,
    default_manifest_path,
    load_manifest,
)
from tests.artifacts.helpers import make_manifest
from tests.conftest import REPO_ROOT


def test_default_path_is_the_repository_manifest() -> None:
    assert default_manifest_path() == REPO_ROOT / "schemas" / "artifacts.json"


def test_project_manifest_loads(project_data: dict[str, Any]) -> None:
    manifest = load_manifest()
    assert manifest.release == project_data["release"]
    assert [a.file for a in manifest.artifacts] == [e["file"] for e in project_data["artifacts"]]
    assert manifest.validation == project_data["validation"]  # passed through untouched
    assert manifest.set_id.startswith(manifest.release + "-")


def test_env_overrides_manifest_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, project_data: dict[str, Any]
) -> None:
    project_data["release"] = "peppol-test-override"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(project_data))
    monkeypatch.setenv(MANIFEST_ENV, str(path))
    assert default_manifest_path() == path
    assert load_manifest().release == "peppol-test-override"


@pytest.mark.parametrize(
    "file",
    [
        "../evil.xsd",
        "ubl-2.1/../../evil.xsd",
        "ubl-2.1/xsd/..",
        "/etc/passwd",
        "C:/evil.xsd",
        "C:evil.xsd",
        "ubl-2.1\\..\\..\\evil.xsd",
        "ubl-2.1//evil.xsd",
        "./evil.xsd",
        "ubl-2.1/./evil.xsd",
        "ubl-2.1/",
        "evil\x00.xsd",
    ],
)
def test_paths_escaping_the_cache_are_rejected(project_data: dict[str, Any], file: str) -> None:
    project_data["artifacts"][0]["file"] = file
    with pytest.raises(ManifestError, match=r"artifacts\[0\]\.file"):
        make_manifest(project_data)


def _set(path: str, value: Any) -> Any:
    """An edit of the manifest: ``path`` like ``artifacts.0.sha256``; value None deletes the key."""

    def edit(data: dict[str, Any]) -> None:
        *parents, name = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last: Any = int(name) if isinstance(node, list) else name
        if value is None:
            del node[last]
        else:
            node[last] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (_set("format", 2), "format"),
        (_set("format", True), "format"),
        (_set("release", None), "release"),
        (_set("release", ""), "release"),
        (_set("artifacts", {}), "artifacts"),
        (_set("artifacts", []), "artifacts"),
        (_set("validation", []), "validation"),
        (_set("artifacts.1", "ubl.xsd"), r"artifacts\[1\]"),
        (_set("artifacts.1.name", None), r"artifacts\[1\]\.name"),
        (_set("artifacts.1.version", 3), r"artifacts\[1\]\.version"),
        (_set("artifacts.1.sha256", "abc"), r"artifacts\[1\]\.sha256"),
        (_set("artifacts.1.sha256", "g" * 64), r"artifacts\[1\]\.sha256"),
        (_set("artifacts.1.url", "file:///etc/passwd"), r"artifacts\[1\]\.url"),
        (_set("artifacts.1.url", "https:///no-host"), r"artifacts\[1\]\.url"),
    ],
)
def test_shape_errors_name_the_field(project_data: dict[str, Any], edit: Any, where: str) -> None:
    edit(project_data)
    with pytest.raises(ManifestError, match=rf"^test manifest: {where}: "):
        make_manifest(project_data)


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(ManifestError, match="top level"):
        make_manifest([])  # type: ignore[arg-type]


def test_duplicate_paths_are_rejected(project_data: dict[str, Any]) -> None:
    project_data["artifacts"][1]["file"] = project_data["artifacts"][0]["file"].upper()
    with pytest.raises(ManifestError, match=r"artifacts\[1\]\.file: duplicates artifacts\[0\]"):
        make_manifest(project_data)


def test_a_file_cannot_also_be_a_directory(project_data: dict[str, Any]) -> None:
    project_data["artifacts"][1]["file"] = project_data["artifacts"][0]["file"] + "/inner.xsd"
    with pytest.raises(ManifestError, match=r"artifacts\[1\]\.file: lies inside artifacts\[0\]"):
        make_manifest(project_data)


def test_unreadable_manifests(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not found"):
        load_manifest(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ManifestError, match=r"broken\.json: not JSON"):
        load_manifest(broken)


def test_digest_covers_files_and_hashes_only(project_data: dict[str, Any]) -> None:
    base = make_manifest(project_data)
    project_data["description"] = "edited"
    project_data["validation"] = {}
    project_data["artifacts"].reverse()
    assert make_manifest(project_data).digest == base.digest  # no re-fetch for a cosmetic edit
    project_data["artifacts"][0]["sha256"] = "0" * 64
    assert make_manifest(project_data).digest != base.digest


def test_set_id_is_a_safe_directory_name(project_data: dict[str, Any]) -> None:
    project_data["release"] = "../../x y"
    set_id = make_manifest(project_data).set_id
    assert "/" not in set_id and not set_id.startswith(".")


def test_code_names_no_artifact_file(project_data: dict[str, Any]) -> None:
    """A new Peppol release must be a manifest change: no pinned file is named in the package."""
    package = REPO_ROOT / "accesspoint" / "artifacts"
    source = "\n".join(p.read_text(encoding="utf-8") for p in package.glob("*.py"))
    for entry in project_data["artifacts"]:
        assert Path(entry["file"]).name not in source
        assert entry["sha256"] not in source
    assert project_data["release"] not in source
