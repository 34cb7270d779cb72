"""fetch(): verified, atomic installs from a mirror or over HTTP; failures install nothing."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from accesspoint.artifacts import (
    ArtifactCache,
    ArtifactFetchError,
    ArtifactIntegrityError,
    ArtifactsNotInstalled,
    FetchProgress,
    Manifest,
    fetch,
    installed_root,
    status,
)
from accesspoint.config import ArtifactsConfig, Config
from tests.artifacts.helpers import (
    copy_mirror,
    installed_sets,
    leftovers,
    make_manifest,
    serve,
    sha256,
    tamper,
)
from tests.conftest import REPO_ROOT


def _assert_installed(root: Path, manifest: Manifest) -> None:
    for artifact in manifest.artifacts:
        assert hashlib.sha256((root / artifact.file).read_bytes()).hexdigest() == artifact.sha256


def _with_new_file(data: dict[str, Any], mirror: Path, release: str, content: bytes) -> Manifest:
    """A 'next release': the project's files plus one new file, written into ``mirror``."""
    data["release"] = release
    file = f"{release}/rules.xslt"
    (mirror / release).mkdir(parents=True, exist_ok=True)
    (mirror / file).write_bytes(content)
    entry = dict(data["artifacts"][0], name="next-rules", version=release, file=file, sha256=sha256(content))
    data["artifacts"].append(entry)
    return make_manifest(data)


def test_fetch_from_mirror_installs_every_file(manifest: Manifest, mirror: Path, cache_dir: Path) -> None:
    events: list[FetchProgress] = []
    root = fetch(manifest, cache_dir, mirror=mirror, progress=events.append)

    assert root == installed_root(cache_dir, manifest) == cache_dir / "sets" / manifest.set_id
    _assert_installed(root, manifest)
    assert [e.index for e in events] == list(range(1, len(manifest.artifacts) + 1))
    assert {e.outcome for e in events} == {"copied"}
    assert all(e.total == len(manifest.artifacts) and e.size > 0 for e in events)
    rows = status(manifest, cache_dir)
    assert all(row.installed for row in rows)
    assert sum(row.files for row in rows) == len(manifest.artifacts)
    assert ArtifactCache(cache_dir).current() == manifest.set_id
    assert leftovers(cache_dir) == []


def test_installed_root_accepts_config(manifest: Manifest, mirror: Path, cache_dir: Path) -> None:
    config = Config(artifacts=ArtifactsConfig(dir=cache_dir))
    assert installed_root(config, manifest) is None
    root = fetch(manifest, cache_dir, mirror=mirror)
    assert installed_root(config, manifest) == root
    assert installed_root(config) == root  # default: the project's manifest


def test_refetch_of_unchanged_manifest_is_a_no_op(manifest: Manifest, mirror: Path, cache_dir: Path) -> None:
    root = fetch(manifest, cache_dir, mirror=mirror)
    before = {a.file: os.stat(root / a.file).st_ino for a in manifest.artifacts}
    events: list[FetchProgress] = []
    assert fetch(manifest, cache_dir, mirror=mirror, progress=events.append) == root
    assert events == []
    assert {a.file: os.stat(root / a.file).st_ino for a in manifest.artifacts} == before


def test_tampered_file_installs_nothing(
    manifest: Manifest, mirror: Path, cache_dir: Path, tmp_path: Path
) -> None:
    private = copy_mirror(mirror, tmp_path / "mirror", manifest)
    victim = manifest.artifacts[len(manifest.artifacts) // 2]
    tamper(private / victim.file)
    events: list[FetchProgress] = []

    with pytest.raises(ArtifactIntegrityError) as caught:
        fetch(manifest, cache_dir, mirror=private, progress=events.append)

    assert caught.value.file == victim.file
    assert caught.value.expected == victim.sha256
    assert caught.value.actual == sha256((private / victim.file).read_bytes())
    assert victim.file in str(caught.value)
    assert events[-1].outcome == "failed" and events[-1].file == victim.file
    assert installed_root(cache_dir, manifest) is None
    assert not any(row.installed for row in status(manifest, cache_dir))
    assert installed_sets(cache_dir) == [] and leftovers(cache_dir) == []
    assert ArtifactCache(cache_dir).current() is None


def test_failed_update_keeps_the_earlier_set_current(
    manifest: Manifest, mirror: Path, cache_dir: Path, tmp_path: Path, project_data: dict[str, Any]
) -> None:
    old_root = fetch(manifest, cache_dir, mirror=mirror)
    private = copy_mirror(mirror, tmp_path / "mirror", manifest)
    newer = _with_new_file(project_data, private, "peppol-next", b"<xsl:stylesheet/>")
    tamper(private / newer.artifacts[-1].file)

    with pytest.raises(ArtifactIntegrityError, match=re.escape("peppol-next/rules.xslt")):
        fetch(newer, cache_dir, mirror=private)

    assert ArtifactCache(cache_dir).current() == manifest.set_id
    assert installed_root(cache_dir, manifest) == old_root
    _assert_installed(old_root, manifest)
    assert installed_root(cache_dir, newer) is None
    assert [row.installed for row in status(newer, cache_dir)][-1] is False
    assert installed_sets(cache_dir) == [manifest.set_id] and leftovers(cache_dir) == []


def test_update_reuses_unchanged_files_and_prunes_old_sets(
    manifest: Manifest, mirror: Path, cache_dir: Path, tmp_path: Path, project_data: dict[str, Any]
) -> None:
    fetch(manifest, cache_dir, mirror=mirror)
    only_new = tmp_path / "only-new"  # holds nothing but the new file: the rest must come from the cache
    newer = _with_new_file(project_data, only_new, "peppol-next", b"<xsl:stylesheet version='3.0'/>")
    events: list[FetchProgress] = []

    root = fetch(newer, cache_dir, mirror=only_new, progress=events.append)

    assert [e.outcome for e in events] == ["reused"] * len(manifest.artifacts) + ["copied"]
    _assert_installed(root, newer)
    assert ArtifactCache(cache_dir).current() == newer.set_id
    assert installed_sets(cache_dir) == sorted([manifest.set_id, newer.set_id])  # previous set kept

    newest = _with_new_file(project_data, only_new, "peppol-newest", b"<xsl:stylesheet version='2.0'/>")
    fetch(newest, cache_dir, mirror=only_new)
    assert installed_sets(cache_dir) == sorted([newer.set_id, newest.set_id])  # oldest pruned
    assert leftovers(cache_dir) == []


def test_file_missing_from_mirror_fails_without_network(
    manifest: Manifest, mirror: Path, cache_dir: Path, tmp_path: Path
) -> None:
    private = copy_mirror(mirror, tmp_path / "mirror", manifest)
    missing = manifest.artifacts[-1]
    (private / missing.file).unlink()
    with pytest.raises(ArtifactFetchError, match=re.escape(f"{missing.file}: not found in mirror")):
        fetch(manifest, cache_dir, mirror=private)
    assert installed_sets(cache_dir) == [] and leftovers(cache_dir) == []


def test_damaged_set_reads_as_missing_and_fetch_repairs_it(
    manifest: Manifest, mirror: Path, cache_dir: Path
) -> None:
    root = fetch(manifest, cache_dir, mirror=mirror)
    (root / manifest.artifacts[0].file).unlink()
    assert installed_root(cache_dir, manifest) is None
    assert sum(row.installed_files for row in status(manifest, cache_dir)) == len(manifest.artifacts) - 1

    events: list[FetchProgress] = []
    assert fetch(manifest, cache_dir, mirror=mirror, progress=events.append) == root
    assert events[0].outcome == "copied" and {e.outcome for e in events[1:]} == {"reused"}
    _assert_installed(root, manifest)
    assert leftovers(cache_dir) == []


def test_leftovers_of_a_crashed_fetch_are_cleared(manifest: Manifest, mirror: Path, cache_dir: Path) -> None:
    crashed = cache_dir / ".staging-crashed"
    crashed.mkdir(parents=True)
    (crashed / "half.xsd").write_bytes(b"<xs:sch")
    fetch(manifest, cache_dir, mirror=mirror)
    assert leftovers(cache_dir) == []


def _over(data: dict[str, Any], base_url: str) -> Manifest:
    """The same pins, with every URL pointing at the loopback server."""
    for entry in data["artifacts"]:
        entry["url"] = f"{base_url}/{entry['file']}"
    return make_manifest(data)


def test_fetch_over_http(mirror: Path, cache_dir: Path, project_data: dict[str, Any]) -> None:
    events: list[FetchProgress] = []
    with serve(mirror) as base_url:
        manifest = _over(project_data, base_url)
        root = fetch(manifest, cache_dir, progress=events.append)
    _assert_installed(root, manifest)
    assert {e.outcome for e in events} == {"downloaded"}


def test_http_404_fails_cleanly(mirror: Path, cache_dir: Path, project_data: dict[str, Any]) -> None:
    project_data["artifacts"][3]["file"] = "ubl-2.1/xsd/common/not-there.xsd"
    with serve(mirror) as base_url:
        manifest = _over(project_data, base_url)
        with pytest.raises(
            ArtifactFetchError, match=r"ubl-2\.1/xsd/common/not-there\.xsd: HTTP 404"
        ) as caught:
            fetch(manifest, cache_dir)
    assert caught.value.file == "ubl-2.1/xsd/common/not-there.xsd"
    assert installed_sets(cache_dir) == [] and leftovers(cache_dir) == []


def test_unreachable_server_fails_cleanly(cache_dir: Path, project_data: dict[str, Any]) -> None:
    with serve(cache_dir.parent) as base_url:
        pass  # the port is closed again: connections are refused
    manifest = _over(project_data, base_url)
    with pytest.raises(ArtifactFetchError, match="cannot download"):
        fetch(manifest, cache_dir, timeout=5)
    assert installed_sets(cache_dir) == []


def test_not_installed_error_names_the_fetch_command(cache_dir: Path) -> None:
    message = str(ArtifactsNotInstalled(cache_dir, "peppol-x"))
    assert "run 'ehfgate artifacts fetch'" in message
    assert str(cache_dir) in message and "peppol-x" in message


_FETCH_IN_A_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from accesspoint.artifacts import fetch, load_manifest
    fetch(load_manifest(), Path(sys.argv[1]), mirror=Path(sys.argv[2]))
    """
)


def test_concurrent_fetches_do_not_corrupt_the_cache(
    manifest: Manifest, mirror: Path, cache_dir: Path
) -> None:
    command = [sys.executable, "-c", _FETCH_IN_A_PROCESS, str(cache_dir), str(mirror)]
    env = {k: v for k, v in os.environ.items() if k != "EHFGATE_MANIFEST"}
    processes = [
        subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    root = installed_root(cache_dir, manifest)
    assert root is not None
    _assert_installed(root, manifest)
    assert installed_sets(cache_dir) == [manifest.set_id] and leftovers(cache_dir) == []


def test_fetch_waits_for_the_cache_lock(manifest: Manifest, mirror: Path, cache_dir: Path) -> None:
    """A writer holding the lock (another process's fetch) keeps a second fetch from touching the cache."""
    done = threading.Event()

    def fetch_in_background() -> None:
        fetch(manifest, cache_dir, mirror=mirror)
        done.set()

    with ArtifactCache(cache_dir).locked():
        worker = threading.Thread(target=fetch_in_background, daemon=True)
        worker.start()
        assert not done.wait(0.5)
        assert installed_sets(cache_dir) == []
    assert done.wait(60)
    worker.join()
    assert installed_root(cache_dir, manifest) is not None


def test_installed_set_is_not_private(manifest: Manifest, mirror: Path, cache_dir: Path) -> None:
    """A set fetched by root at image build time must be readable by the server's own user: the set
    directory gets a plain mkdir's permissions, not the 0700 of its temporary staging directory."""
    root = fetch(manifest, cache_dir, mirror=mirror)
    assert stat.S_IMODE(root.stat().st_mode) == stat.S_IMODE((cache_dir / "sets").stat().st_mode)
