"""DKIM signing (RFC 6376) of the exact bytes handed to SMTP, when ``smtp.dkim_*`` are all set.

The key file is an RSA private key in PEM (PKCS#1 or PKCS#8), signing rsa-sha256 — what every
receiver verifies. It is read once per file version and never logged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accesspoint.config import SmtpConfig

SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Reply-To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"MIME-Version",
    b"Content-Type",
)


class DkimError(ValueError):
    """The configured DKIM key cannot be used (missing file, not a private key, unsupported type)."""


@dataclass(frozen=True, slots=True)
class DkimKey:
    private: bytes = field(repr=False)  # PKCS#1 PEM, the form dkimpy reads
    algorithm: bytes


@functools.lru_cache(maxsize=8)
def _load(path: str, _version: int) -> DkimKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise DkimError(f"smtp.dkim_key: cannot read a PEM private key ({type(exc).__name__})") from None
    if isinstance(key, rsa.RSAPrivateKey):
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        return DkimKey(pem, b"rsa-sha256")
    raise DkimError("smtp.dkim_key: DKIM signing here needs an RSA key")


@dataclass(frozen=True, slots=True)
class DkimSigner:
    domain: str
    selector: str
    key_path: Path

    @classmethod
    def from_config(cls, smtp: SmtpConfig) -> DkimSigner | None:
        if not (smtp.dkim_domain and smtp.dkim_selector and smtp.dkim_key):
            return None
        return cls(smtp.dkim_domain, smtp.dkim_selector, Path(smtp.dkim_key))

    def sign(self, raw: bytes) -> bytes:
        """``raw`` with a DKIM-Signature header in front; raises :class:`DkimError`."""
        try:
            version = self.key_path.stat().st_mtime_ns
        except OSError:
            raise DkimError("smtp.dkim_key: the key file cannot be read") from None
        key = _load(str(self.key_path), version)
        present = {line.split(b":", 1)[0].strip().lower() for line in _header_lines(raw)}
        headers = [name for name in SIGNED_HEADERS if name.lower() in present]
        try:
            signature: bytes = dkim.sign(
                raw,
                self.selector.encode(),
                self.domain.encode(),
                key.private,
                canonicalize=(b"relaxed", b"relaxed"),
                signature_algorithm=key.algorithm,
                include_headers=headers,
            )
        except dkim.DKIMException as exc:
            raise DkimError(f"DKIM signing failed: {exc}") from None
        return signature + raw


def _header_lines(raw: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line and not line[:1].isspace()]
