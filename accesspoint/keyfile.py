"""Long-lived secret keys: from the configuration, else a random key made once in a file under ``var/``.

A key made here is 32 random bytes written base64-encoded with mode 0600, created exclusively so two
processes starting together cannot each write their own. Several processes sharing one database must
share the key too: give it in the configuration (``webhooks.secret_key``, ``secrets.key``) or point
them at one data directory. The store remembers a fingerprint of each key (``store.keyring``) so a
mismatch stops a process at start-up instead of producing signatures nobody can verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
MIN_CONFIGURED_LENGTH = 32


class KeyFileError(ValueError):
    """A configured key that is too weak, or a key file that cannot be read or made."""


def load_or_create(path: Path) -> bytes:
    """The key in ``path``; a new random one is written there (0600) when the file does not exist."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read(path)
    try:
        os.write(fd, base64.b64encode(key) + b"\n")
    finally:
        os.close(fd)
    return key


def _read(path: Path) -> bytes:
    text = path.read_bytes().strip()
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeyFileError(f"{path}: not a base64 key") from exc
    if len(key) < KEY_BYTES:
        raise KeyFileError(f"{path}: key is {len(key)} bytes; at least {KEY_BYTES} are needed")
    return key


def resolve(configured: str | None, path: Path, setting: str) -> bytes:
    """``configured`` (any string of at least 32 characters) when given, else the key file ``path``."""
    if configured is None:
        return load_or_create(path)
    if len(configured) < MIN_CONFIGURED_LENGTH:
        raise KeyFileError(f"{setting} must be at least {MIN_CONFIGURED_LENGTH} characters long")
    return configured.encode()


def fingerprint(key: bytes, purpose: str) -> str:
    """A short public name for ``key`` (not a way back to it): equal keys give equal fingerprints."""
    return hmac.new(key, f"ehfgate key fingerprint: {purpose}".encode(), hashlib.sha256).hexdigest()[:24]
