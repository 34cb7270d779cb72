"""Keys shared by every process on one database: made once, remembered by fingerprint, mismatch refused."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from accesspoint import keyfile
from accesspoint.store.engine import Store
from accesspoint.store.keyring import KeyMismatch, agree_on_key


async def test_first_key_is_remembered_and_another_refused(store: Store) -> None:
    ours = keyfile.fingerprint(b"a" * 32, "webhooks")
    theirs = keyfile.fingerprint(b"b" * 32, "webhooks")
    assert ours != theirs
    await asyncio.gather(*(agree_on_key(store, "webhooks.secret_key", ours) for _ in range(4)))
    await agree_on_key(store, "webhooks.secret_key", ours)  # the same key again is fine
    with pytest.raises(KeyMismatch, match="every process sharing the database"):
        await agree_on_key(store, "webhooks.secret_key", theirs)
    await agree_on_key(store, "secrets.key", theirs)  # names are independent


def test_key_file_is_made_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "webhooks.key"
    key = keyfile.load_or_create(path)
    assert len(key) == keyfile.KEY_BYTES
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keyfile.load_or_create(path) == key
    assert keyfile.resolve(None, path, "webhooks.secret_key") == key


def test_configured_key_wins_and_must_be_long_enough(tmp_path: Path) -> None:
    configured = "s" * 40
    assert keyfile.resolve(configured, tmp_path / "unused.key", "webhooks.secret_key") == configured.encode()
    assert not (tmp_path / "unused.key").exists()
    with pytest.raises(keyfile.KeyFileError, match=r"webhooks\.secret_key must be at least 32"):
        keyfile.resolve("short", tmp_path / "unused.key", "webhooks.secret_key")


def test_a_damaged_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.key"
    path.write_text("not base64 at all!\n")
    with pytest.raises(keyfile.KeyFileError, match="not a base64 key"):
        keyfile.load_or_create(path)
