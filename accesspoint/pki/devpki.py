"""A development PKI shaped like Peppol's: root CA -> access point CA -> AP certificates (CN = seat id).

Why our own: tests and local set-ups need certificates the real Peppol CAs will never issue, and no
private key may ever be committed, so keys are generated on demand. ``create_dev_pki`` returns the
PKI in memory (tests also issue expired, not-yet-valid or foreign certificates from it);
``generate_dev_pki`` writes PEM files for ``ehfgate dev-pki --out DIR``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accesspoint.pki.credentials import Credentials

ROOT_CA_FILE = "root-ca.pem"
AP_CA_FILE = "ap-ca.pem"
DEFAULT_SEATS = ("POP000001", "POP000002")
KEY_SIZE = 2048
_CA_YEARS = 10
_AP_YEARS = 2
_BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock skew between test processes


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _new_key(key_size: int = KEY_SIZE) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def _name(cn: str, organisation: str, country: str, unit: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, country)]
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _ap_usage() -> x509.KeyUsage:
    # As on the Peppol G3 AP certificates: sign messages, receive transported keys.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=True,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _sign(
    subject: x509.Name,
    subject_key: rsa.RSAPrivateKey,
    issuer: Credentials | None,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca_path_length: int | None,
    is_ca: bool,
) -> x509.Certificate:
    issuer_name = issuer.certificate.subject if issuer else subject
    signing_key = issuer.private_key if issuer else subject_key
    public = subject_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=ca_path_length), critical=True)
        .add_extension(_ca_usage() if is_ca else _ap_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()),
            critical=False,
        )
    if not is_ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=True
        )
    return builder.sign(signing_key, hashes.SHA256())


@dataclass(frozen=True, slots=True)
class DevPki:
    """A PKI in memory. ``root`` and ``ap_ca`` keep their keys so tests can issue more certificates."""

    root: Credentials
    ap_ca: Credentials
    access_points: Mapping[str, Credentials]
    organisation: str = "ehfgate development"
    country: str = "NO"

    @property
    def anchors(self) -> tuple[x509.Certificate, ...]:
        """The trust anchors a receiver configures for this PKI (``trust.anchors``)."""
        return (self.root.certificate,)

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        return (self.ap_ca.certificate,)

    def ap(self, seat: str) -> Credentials:
        """The AP credentials for a seat id (created at construction)."""
        return self.access_points[seat]

    def issue(
        self,
        seat: str,
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key: rsa.RSAPrivateKey | None = None,
        organisation: str | None = None,
    ) -> Credentials:
        """Issue another AP certificate, e.g. an expired or not-yet-valid one, or one reusing a key."""
        start = not_before or (_now() - _BACKDATE)
        end = not_after or (start + dt.timedelta(days=365 * _AP_YEARS))
        private = key or _new_key()
        subject = _name(seat, organisation or self.organisation, self.country, "PEPPOL TEST AP")
        cert = _sign(
            subject, private, self.ap_ca, not_before=start, not_after=end, ca_path_length=None, is_ca=False
        )
        return Credentials(private, cert, (self.ap_ca.certificate,))


def create_dev_pki(
    seats: Iterable[str] = DEFAULT_SEATS,
    *,
    organisation: str = "ehfgate development",
    country: str = "NO",
    name: str = "ehfgate DEV",
    now: dt.datetime | None = None,
) -> DevPki:
    """A fresh root CA, AP CA and one AP certificate per seat, all RSA 2048 / SHA-256, in memory."""
    start = (now or _now()) - _BACKDATE
    ca_end = start + dt.timedelta(days=365 * _CA_YEARS)
    root_key = _new_key()
    root_subject = _name(f"{name} Root TEST CA", organisation, country, "FOR TEST ONLY")
    root_cert = _sign(
        root_subject, root_key, None, not_before=start, not_after=ca_end, ca_path_length=1, is_ca=True
    )
    root = Credentials(root_key, root_cert)
    ca_key = _new_key()
    ca_subject = _name(f"{name} ACCESS POINT TEST CA", organisation, country, "FOR TEST ONLY")
    ca_cert = _sign(
        ca_subject, ca_key, root, not_before=start, not_after=ca_end, ca_path_length=0, is_ca=True
    )
    access_points: dict[str, Credentials] = {}
    pki = DevPki(root, Credentials(ca_key, ca_cert, (root_cert,)), access_points, organisation, country)
    for seat in seats:
        access_points[seat] = pki.issue(seat, not_before=start)
    return pki


@dataclass(frozen=True, slots=True)
class DevPkiFiles:
    """Where ``generate_dev_pki`` wrote each file (what ``ap.*`` and ``trust.anchors`` point at)."""

    directory: Path
    root_certificate: Path
    ap_ca_certificate: Path
    keys: Mapping[str, Path]
    certificates: Mapping[str, Path]


def _write(path: Path, data: bytes, *, private: bool, overwrite: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if overwrite else os.O_EXCL)
    mode = 0o600 if private else 0o644
    fd = os.open(path, flags, mode)
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is masked by umask and ignored for existing files
        os.write(fd, data)
    finally:
        os.close(fd)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def generate_dev_pki(
    out_dir: Path | str,
    seats: Iterable[str] = DEFAULT_SEATS,
    *,
    organisation: str = "ehfgate development",
    country: str = "NO",
    overwrite: bool = False,
) -> DevPkiFiles:
    """Write a fresh dev PKI as PEM: ``root-ca.pem``, ``ap-ca.pem``, ``SEAT.cert.pem``, ``SEAT.key.pem``.

    Private keys are written with mode 0600 (unencrypted: development only). CA keys are not written,
    so a leaked directory cannot mint more certificates. Existing files are kept unless ``overwrite``.
    """
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    pki = create_dev_pki(seats, organisation=organisation, country=country)
    root_path = directory / ROOT_CA_FILE
    ca_path = directory / AP_CA_FILE
    _write(root_path, _pem(pki.root.certificate), private=False, overwrite=overwrite)
    _write(ca_path, _pem(pki.ap_ca.certificate), private=False, overwrite=overwrite)
    keys: dict[str, Path] = {}
    certs: dict[str, Path] = {}
    for seat, creds in pki.access_points.items():
        keys[seat] = directory / f"{seat}.key.pem"
        certs[seat] = directory / f"{seat}.cert.pem"
        key_pem = creds.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write(keys[seat], key_pem, private=True, overwrite=overwrite)
        _write(certs[seat], _pem(creds.certificate), private=False, overwrite=overwrite)
    return DevPkiFiles(directory, root_path, ca_path, keys, certs)
