"""A private key with its certificate and intermediate chain: what signs, decrypts and identifies an AP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, slots=True)
class Credentials:
    """Our key pair. ``chain`` holds the intermediates above ``certificate`` (never the root)."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        # A mismatched key and certificate would only show up as a peer's decryption failure.
        ours = self.private_key.public_key().public_numbers()
        theirs = self.certificate.public_key()
        if not isinstance(theirs, rsa.RSAPublicKey) or theirs.public_numbers() != ours:
            raise ValueError("the private key does not belong to the certificate")

    @property
    def common_name(self) -> str | None:
        """The subject CN: for a Peppol AP certificate this is the seat id."""
        names = self.certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(names[0].value) if names else None


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in PEM text, or the single certificate of DER bytes."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def load_credentials(
    key_path: Path, cert_path: Path, chain_paths: Sequence[Path] = (), *, password: bytes | None = None
) -> Credentials:
    """Load PEM files as configured by ``ap.key``, ``ap.cert`` and ``ap.chain``."""
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=password)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{key_path}: Peppol AS4 needs an RSA key")
    certs = load_certificates(cert_path.read_bytes())
    chain = [c for path in chain_paths for c in load_certificates(path.read_bytes())]
    # A cert file that bundles the chain after the leaf is common; accept it.
    return Credentials(key, certs[0], tuple(certs[1:] + chain))
