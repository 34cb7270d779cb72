"""Sealing stored credentials with ``secrets.key``: AES-256-GCM, the purpose bound in as associated data.

A sealed value is ``b"v1" + key id (8 bytes) + nonce (12) + ciphertext``. The associated data names
what the secret is for (e.g. ``tenant:<id>:vipps``), so a sealed value copied to another row or
tenant does not open there. The key id lets a rotated key be told from a wrong one.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accesspoint import keyfile
from accesspoint.config import Config

VERSION = b"v1"
_NONCE = 12
_KEY_ID = 8


class SecretBoxError(ValueError):
    """A sealed value that this key cannot open (another key, another purpose, or damaged)."""


SECRETS_KEY_FILE = "secrets.key"  # under server.data_dir when the configuration gives no key


@dataclass(frozen=True)
class SecretBox:
    key: bytes = field(repr=False)
    key_id: bytes = field(init=False, repr=False)
    _aead: AESGCM = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < 32:
            raise ValueError("secrets.key must give at least 32 bytes")
        # Derived once: every seal and open would otherwise hash the key again.
        object.__setattr__(
            self, "key_id", hashlib.sha256(b"ehfgate secretbox id\0" + self.key).digest()[:_KEY_ID]
        )
        object.__setattr__(self, "_aead", AESGCM(hashlib.sha256(b"ehfgate secretbox\0" + self.key).digest()))

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return VERSION + self.key_id + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def open(self, sealed: bytes, purpose: str) -> bytes:
        header = len(VERSION) + _KEY_ID
        if len(sealed) < header + _NONCE + 16 or not sealed.startswith(VERSION):
            raise SecretBoxError("not a sealed value")
        if sealed[len(VERSION) : header] != self.key_id:
            raise SecretBoxError("sealed with another secrets.key")
        nonce = sealed[header : header + _NONCE]
        try:
            return self._aead.decrypt(nonce, sealed[header + _NONCE :], purpose.encode())
        except InvalidTag:
            raise SecretBoxError(f"cannot open the secret for {purpose!r}") from None


def secret_box(config: Config) -> SecretBox:
    """The box for ``secrets.key`` from the configuration, else the key file made once under ``var/``."""
    return _box(config.secrets.key, config.server.data_dir / SECRETS_KEY_FILE)


@functools.lru_cache(maxsize=8)
def _box(configured: str | None, path: Path) -> SecretBox:
    return SecretBox(keyfile.resolve(configured, path, "secrets.key"))
