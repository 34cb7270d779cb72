"""The artifact cache on disk: immutable, complete sets plus a ``current`` pointer.

Layout of ``artifacts.dir``::

    sets/<release>-<digest16>/...   one complete, verified set per manifest, laid out by each ``file``
    current                         name of the set installed by the latest fetch
    .lock                           held (flock) by a fetch for its whole run
    .staging-*/                     a fetch in progress; removed on failure, renamed into sets/ on success

A set directory appears in one ``rename`` only after every file in it was verified, so a reader
either finds a complete set or none: there is no half-installed state to detect.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from accesspoint.artifacts.manifest import Manifest, load_manifest
from accesspoint.config import Config

if sys.platform != "win32":
    import fcntl

SETS_DIR = "sets"
CURRENT_FILE = "current"
LOCK_FILE = ".lock"
STAGING_PREFIX = ".staging-"
_DISCARD_PREFIX = ".discard-"


class ArtifactCache:
    """One cache directory. Reading never writes; every change happens under :meth:`locked`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    @property
    def sets_dir(self) -> Path:
        return self.root / SETS_DIR

    def set_dir(self, manifest: Manifest) -> Path:
        """Where ``manifest``'s set lives (whether or not it is installed)."""
        return self.sets_dir / manifest.set_id

    def installed_root(self, manifest: Manifest) -> Path | None:
        """The directory holding every file of ``manifest``, or None when a fetch is needed.

        Looked up by the manifest's digest rather than through ``current``, so a checkout finds its
        own set even when another checkout sharing the cache fetched a different release last.
        Every file is checked to exist, so a set damaged by hand reads as not installed (and the
        next fetch replaces it) instead of failing later inside the validator.
        """
        root = self.set_dir(manifest)
        if not root.is_dir():
            return None
        if all((root / artifact.file).is_file() for artifact in manifest.artifacts):
            return root
        return None

    def current(self) -> str | None:
        """The set name the latest fetch installed, or None (never fetched, or an unusable pointer)."""
        try:
            name = (self.root / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        return name

    def installed_sets(self) -> list[Path]:
        """Installed set directories, the current one first (the likeliest source of reusable files)."""
        try:
            names = sorted(
                p.name for p in self.sets_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
            )
        except FileNotFoundError:
            return []
        current = self.current()
        names.sort(key=lambda name: name != current)
        return [self.sets_dir / name for name in names]

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock for writers, so concurrent fetches run one after the other.

        flock is released by the kernel when a process dies, so a crashed fetch never leaves the
        cache locked. On Windows there is no lock; the atomic renames still keep sets consistent.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+b") as handle:
            if sys.platform != "win32":
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if sys.platform != "win32":
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # The methods below change the cache: call them only while holding locked().

    def new_staging(self) -> Path:
        """A fresh staging directory inside the cache (same file system, so the final rename is atomic)."""
        return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))

    def clear_leftovers(self) -> None:
        """Remove what a crashed fetch left behind; safe because only the lock holder creates these."""
        for pattern in (f"{STAGING_PREFIX}*", f"{_DISCARD_PREFIX}*"):
            for leftover in self.root.glob(pattern):
                shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(f"{CURRENT_FILE}.tmp-*"):
            leftover.unlink(missing_ok=True)

    def commit(self, staging: Path, manifest: Manifest) -> Path:
        """Make a fully verified staging directory the manifest's set, in one rename."""
        target = self.set_dir(manifest)
        self.sets_dir.mkdir(exist_ok=True)
        # mkdtemp makes the staging directory private (0700); give the set the permissions a plain
        # mkdir would (umask applied), so a server running as another user can read it.
        staging.chmod(stat.S_IMODE(self.sets_dir.stat().st_mode))
        if target.exists():  # damaged by hand (installed_root said no): move it out of the way first
            self._discard(target)
        os.rename(staging, target)
        _fsync_dir(self.sets_dir)
        return target

    def set_current(self, set_id: str) -> None:
        """Point ``current`` at ``set_id``: write a temporary file, then os.replace (atomic)."""
        temporary = self.root / f"{CURRENT_FILE}.tmp-{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(set_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.root / CURRENT_FILE)
        _fsync_dir(self.root)

    def prune(self, keep: set[str]) -> None:
        """Delete sets not in ``keep``. Callers keep the previous set so a running server keeps its files."""
        for path in self.installed_sets():
            if path.name not in keep:
                self._discard(path)

    def _discard(self, path: Path) -> None:
        """Rename first (atomic: readers stop seeing the set at once), then delete at leisure."""
        aside = Path(tempfile.mkdtemp(prefix=_DISCARD_PREFIX, dir=self.root))
        os.rename(path, aside / path.name)
        shutil.rmtree(aside, ignore_errors=True)


def installed_root(config_or_dir: Config | Path | str, manifest: Manifest | None = None) -> Path | None:
    """Where the manifest's complete set is installed (default: the project's manifest), or None."""
    cache_dir = config_or_dir.artifacts.dir if isinstance(config_or_dir, Config) else Path(config_or_dir)
    return ArtifactCache(cache_dir).installed_root(manifest if manifest is not None else load_manifest())


def installed_group(
    config_or_dir: Config | Path | str, kind: str, manifest: Manifest | None = None
) -> tuple[Manifest, Path] | None:
    """The optional group ``kind`` (its manifest, to find files by label) and where it is installed.

    None when the manifest has no such group or it is not (completely) installed.
    """
    cache_dir = config_or_dir.artifacts.dir if isinstance(config_or_dir, Config) else Path(config_or_dir)
    group = (manifest if manifest is not None else load_manifest()).optional_groups().get(kind)
    if group is None:
        return None
    root = ArtifactCache(cache_dir).installed_root(group)
    return None if root is None else (group, root)


def _fsync_dir(path: Path) -> None:
    """Persist a rename: without it a power cut can forget the new directory entry."""
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
