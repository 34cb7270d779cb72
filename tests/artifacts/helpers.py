"""Helpers for the artifact tests: derived manifests, private mirrors, tampering, a loopback HTTP server."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from accesspoint.artifacts import Manifest, parse_manifest


def make_manifest(data: dict[str, Any]) -> Manifest:
    return parse_manifest(data, source="test manifest")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def copy_mirror(source: Path, target: Path, manifest: Manifest) -> Path:
    """A private mirror holding the manifest's files, safe to tamper with."""
    for artifact in manifest.artifacts:
        destination = target / artifact.file
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / artifact.file, destination)
    return target


def tamper(path: Path) -> None:
    """Change one byte in the middle: same size, different sha256."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def leftovers(cache_dir: Path) -> list[str]:
    """What a fetch must never leave behind: staging or discarded directories, temporary pointers."""
    if not cache_dir.exists():
        return []
    prefixes = (".staging-", ".discard-", "current.tmp")
    return sorted(p.name for p in cache_dir.iterdir() if p.name.startswith(prefixes))


def installed_sets(cache_dir: Path) -> list[str]:
    sets = cache_dir / "sets"
    return sorted(p.name for p in sets.iterdir()) if sets.exists() else []


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a loopback port (a stand-in for the canonical URLs); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
