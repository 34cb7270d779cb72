"""Optional groups (the Peppol CA certificates): installed when the source has them, skipped when a
mirror lacks them, refused when tampered; the required set never depends on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accesspoint.artifacts import (
    Manifest,
    ManifestError,
    fetch,
    fetch_optional,
    installed_group,
    installed_root,
    load_manifest,
)
from accesspoint.cli import main
from tests.artifacts.ca_mirror import GROUP, build_ca_mirror
from tests.artifacts.helpers import copy_mirror, installed_sets, make_manifest, tamper


@pytest.fixture
def ca_mirror(tmp_path: Path, manifest: Manifest, corpus: Path) -> Path:
    return build_ca_mirror(tmp_path / "ca-mirror", manifest, corpus)


def test_manifest_pins_twelve_peppol_cas(manifest: Manifest) -> None:
    group = manifest.optional_groups()[GROUP]
    labels = {(a.labels["mode"], a.labels["generation"], a.labels["role"]) for a in group.artifacts}
    assert labels == {
        (mode, generation, role)
        for mode in ("test", "production")
        for generation in ("G2", "G3")
        for role in ("root", "ap", "smp")
    }
    assert all(
        a.url.startswith("https://raw.githubusercontent.com/phax/peppol-commons/") for a in group.artifacts
    )
    assert not {a.file for a in group.artifacts} & {a.file for a in manifest.artifacts}
    assert group.set_id.startswith(f"{GROUP}-")


def test_optional_entries_do_not_change_the_required_set(project_data: dict[str, Any]) -> None:
    with_ca = make_manifest(project_data)
    del project_data["optional_artifacts"]
    assert make_manifest(project_data).set_id == with_ca.set_id  # no re-fetch of the validation set


def test_optional_labels_must_be_strings(project_data: dict[str, Any]) -> None:
    project_data["optional_artifacts"][0]["mode"] = 3
    with pytest.raises(ManifestError, match=r"optional_artifacts\[0\]\.mode"):
        make_manifest(project_data)


def test_corpus_ca_files_install_and_verify(manifest: Manifest, ca_mirror: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    outcomes = fetch_optional(manifest, cache, mirror=ca_mirror)
    assert [(o.kind, o.state, o.files) for o in outcomes] == [(GROUP, "installed", 12)]
    found = installed_group(cache, GROUP, manifest)
    assert found is not None and found[1] == outcomes[0].root
    assert [o.state for o in fetch_optional(manifest, cache, mirror=ca_mirror)] == ["present"]
    assert installed_root(cache, manifest) is None  # the required set is separate


def test_tampered_ca_file_is_refused(manifest: Manifest, ca_mirror: Path, tmp_path: Path) -> None:
    victim = manifest.optional_groups()[GROUP].artifacts[4].file
    tamper(ca_mirror / victim)
    cache = tmp_path / "cache"
    [outcome] = fetch_optional(manifest, cache, mirror=ca_mirror)
    assert outcome.state == "refused" and f"{victim}: sha256 mismatch" in outcome.detail
    assert installed_group(cache, GROUP, manifest) is None and installed_sets(cache) == []


def test_mirror_without_the_group_is_skipped(manifest: Manifest, mirror: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = fetch(manifest, cache, mirror=mirror)
    [outcome] = fetch_optional(manifest, cache, mirror=mirror)
    assert outcome.state == "unavailable" and "12 of 12 files not in mirror" in outcome.detail
    assert installed_root(cache, manifest) == root and installed_sets(cache) == [manifest.set_id]


def test_a_new_required_release_keeps_the_installed_group(
    manifest: Manifest, mirror: Path, ca_mirror: Path, tmp_path: Path, project_data: dict[str, Any]
) -> None:
    cache = tmp_path / "cache"
    fetch(manifest, cache, mirror=mirror)
    fetch_optional(manifest, cache, mirror=ca_mirror)
    project_data["release"] = "peppol-next"
    project_data["artifacts"] = project_data["artifacts"][:-1]
    newer = make_manifest(project_data)
    fetch(newer, cache, mirror=mirror)
    assert installed_group(cache, GROUP, newer) is not None


@pytest.fixture
def cli_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli-cache"
    monkeypatch.setenv("EHFGATE_ARTIFACTS_DIR", str(path))
    return path


def test_cli_with_the_ci_mirror_exits_0_and_reports_the_group_missing(
    cli_cache: Path, mirror: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["artifacts", "fetch", "--mirror", str(mirror)]) == 0
    out, _ = capsys.readouterr()
    assert f"optional {GROUP}: not installed" in out and "continuing" in out
    assert main(["artifacts", "status"]) == 0
    _, err = capsys.readouterr()
    assert f"optional peppol-ca-g3 2025 ({GROUP}): 0/6 missing" in err and "trust.anchors" in err
    assert main(["artifacts", "status", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["installed"] is True
    assert {row["name"] for row in document["optional"]} == {"peppol-ca-g2", "peppol-ca-g3"}
    assert not any(row["installed"] for row in document["optional"])


def test_cli_installs_the_group_from_a_mirror_that_has_it(
    cli_cache: Path, mirror: Path, ca_mirror: Path, manifest: Manifest, capsys: pytest.CaptureFixture[str]
) -> None:
    combined = copy_mirror(mirror, ca_mirror, manifest)  # the CA files plus the validation set
    assert main(["artifacts", "fetch", "--mirror", str(combined)]) == 0
    out, err = capsys.readouterr()
    assert f"optional {GROUP}: 12 files installed" in out
    assert f"fetching optional {GROUP}: 12 files from mirror" in err
    assert main(["artifacts", "status", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert all(row["installed"] for row in document["optional"])


def test_cli_refuses_a_tampered_group_with_exit_2(
    cli_cache: Path, mirror: Path, ca_mirror: Path, manifest: Manifest, capsys: pytest.CaptureFixture[str]
) -> None:
    combined = copy_mirror(mirror, ca_mirror, manifest)
    tamper(combined / manifest.optional_groups()[GROUP].artifacts[0].file)
    assert main(["artifacts", "fetch", "--mirror", str(combined)]) == 2
    _, err = capsys.readouterr()
    assert f"optional {GROUP} refused, not installed" in err and "sha256 mismatch" in err
    assert installed_root(cli_cache, load_manifest()) is not None  # validation still works
