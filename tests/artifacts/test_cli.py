"""``ehfgate artifacts fetch|status`` through the real dispatcher: exit codes and output."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from accesspoint.artifacts import MANIFEST_ENV, Manifest
from accesspoint.cli import main
from tests.artifacts.helpers import copy_mirror, installed_sets, tamper

PROGRESS = re.compile(r"^\[ ?\d+/\d+\] \S+ \d+(\.\d)? [KM]B ok( \(reused\))?$")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache the CLI's configuration points at."""
    path = tmp_path / "cache"
    monkeypatch.setenv("EHFGATE_ARTIFACTS_DIR", str(path))
    return path


def test_status_before_fetch_reports_missing(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["artifacts", "status"]) == 1
    out, err = capsys.readouterr()
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows and all(row[-1] == "missing" and row[-2].startswith("0/") for row in rows)
    assert "run 'ehfgate artifacts fetch'" in err


def test_fetch_then_status(
    cache_dir: Path, mirror: Path, manifest: Manifest, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["artifacts", "fetch", "--mirror", str(mirror)]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[0].startswith(f"fetching {manifest.release}: {len(manifest.artifacts)} files from mirror")
    progress = lines[1:]
    assert len(progress) == len(manifest.artifacts)
    assert all(PROGRESS.match(line) for line in progress), progress
    assert progress[0].startswith(f"[ 1/{len(manifest.artifacts)}] {manifest.artifacts[0].file} ")
    assert f"{len(manifest.artifacts)} files installed in {cache_dir / 'sets' / manifest.set_id}" in out

    assert main(["artifacts", "status"]) == 0
    out, _ = capsys.readouterr()
    names = {(a.name, a.version) for a in manifest.artifacts}
    rows = [line.split() for line in out.splitlines()[2:]]
    assert {(row[0], row[1]) for row in rows} == names
    assert all(row[3] == "installed" for row in rows)

    assert main(["artifacts", "status", "--format", "json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert document["installed"] is True and document["release"] == manifest.release
    assert sum(row["installed_files"] for row in document["artifacts"]) == len(manifest.artifacts)

    assert main(["artifacts", "fetch", "--mirror", str(mirror)]) == 0
    out, err = capsys.readouterr()
    assert "already installed" in out and err == ""


def test_fetch_uses_the_configured_mirror(
    cache_dir: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EHFGATE_ARTIFACTS_MIRROR", str(mirror))
    assert main(["artifacts", "fetch"]) == 0
    assert f"from mirror {mirror}" in capsys.readouterr().err


def test_tampered_mirror_exits_2_and_names_the_file(
    cache_dir: Path, mirror: Path, manifest: Manifest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = copy_mirror(mirror, tmp_path / "mirror", manifest)
    victim = manifest.artifacts[-1].file
    tamper(private / victim)
    assert main(["artifacts", "fetch", "--mirror", str(private)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{victim}: sha256 mismatch" in err and "nothing installed" in err
    assert err.splitlines()[-2].endswith(f"{victim} FAILED")
    assert installed_sets(cache_dir) == []
    assert main(["artifacts", "status", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["installed"] is False


def test_missing_mirror_directory_is_a_usage_error(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["artifacts", "fetch", "--mirror", str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_bad_manifest_exits_2(
    cache_dir: Path,
    tmp_path: Path,
    mirror: Path,
    project_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project_data["artifacts"][0]["file"] = "../../outside.xsd"
    path = tmp_path / "escape.json"
    path.write_text(json.dumps(project_data))
    monkeypatch.setenv(MANIFEST_ENV, str(path))
    assert main(["artifacts", "fetch", "--mirror", str(mirror)]) == 2
    assert r"artifacts[0].file" in capsys.readouterr().err
    assert main(["artifacts", "status"]) == 2
    assert r"artifacts[0].file" in capsys.readouterr().err
    assert not (tmp_path / "outside.xsd").exists()
