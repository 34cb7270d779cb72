"""A development PKI shaped like Peppol's: root CA -> access point CA -> AP certificates (CN = seat id),
and root CA -> SMP CA -> SMP certificates.

Why our own: tests and local set-ups need certificates the real Peppol CAs will never issue, and no
private key may ever be committed, so keys are generated on demand. ``create_dev_pki`` returns the
PKI in memory (tests also issue expired, not-yet-valid or foreign certificates from it);
``generate_dev_pki`` writes PEM files for ``ehfgate dev-pki --out DIR``. Certificates can carry an
OCSP URL and a CRL distribution point, and the AP CA can delegate OCSP signing to a responder
certificate, so revocation checking runs against real responders in tests.
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
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from accesspoint.pki.credentials import Credentials

ROOT_CA_FILE = "root-ca.pem"
AP_CA_FILE = "ap-ca.pem"
SMP_CA_FILE = "smp-ca.pem"
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


def _revocation_pointers(ocsp_url: str | None, crl_url: str | None) -> list[x509.ExtensionType]:
    """AIA (OCSP) and CRL distribution point extensions, as the Peppol CAs put them in AP certificates."""
    extensions: list[x509.ExtensionType] = []
    if ocsp_url:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        extensions.append(x509.AuthorityInformationAccess([access]))
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        extensions.append(x509.CRLDistributionPoints([point]))
    return extensions


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


def _signing_only_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _common_name(creds: Credentials) -> str:
    return creds.common_name or "CA"


def _sign(
    subject: x509.Name,
    subject_key: rsa.RSAPrivateKey,
    issuer: Credentials | None,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca_path_length: int | None,
    is_ca: bool,
    extra: list[x509.ExtensionType] | None = None,
    usage: x509.KeyUsage | None = None,
    purposes: list[x509.ObjectIdentifier] | None = None,
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
        .add_extension(usage or (_ca_usage() if is_ca else _ap_usage()), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()),
            critical=False,
        )
    if not is_ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(purposes or [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=True
        )
    for extension in extra or ():
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@dataclass(frozen=True, slots=True)
class DevPki:
    """A PKI in memory. The CAs keep their keys so tests can issue more certificates.

    ``smp_ca`` is made by :func:`create_dev_pki`; it is optional only for callers that build a
    ``DevPki`` by hand.
    """

    root: Credentials
    ap_ca: Credentials
    access_points: Mapping[str, Credentials]
    organisation: str = "ehfgate development"
    country: str = "NO"
    smp_ca: Credentials | None = None

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
        ocsp_url: str | None = None,
        crl_url: str | None = None,
    ) -> Credentials:
        """Issue another AP certificate, e.g. an expired or not-yet-valid one, or one reusing a key.

        ``ocsp_url`` / ``crl_url`` put the revocation pointers a checker follows into the certificate.
        """
        return self._leaf(
            self.ap_ca, seat, "PEPPOL TEST AP", not_before, not_after, key, organisation, ocsp_url, crl_url
        )

    def issue_smp(
        self,
        name: str = "PSM000001",
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key: rsa.RSAPrivateKey | None = None,
        ocsp_url: str | None = None,
        crl_url: str | None = None,
    ) -> Credentials:
        """An SMP signing certificate from the SMP CA (CN = the SMP's seat id)."""
        return self._leaf(
            self.smp_issuer, name, "PEPPOL TEST SMP", not_before, not_after, key, None, ocsp_url, crl_url
        )

    @property
    def smp_issuer(self) -> Credentials:
        if self.smp_ca is None:
            raise ValueError("this dev PKI has no SMP CA")
        return self.smp_ca

    def issue_ocsp_responder(
        self,
        issuer: Credentials | None = None,
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> Credentials:
        """A delegated OCSP responder certificate for ``issuer`` (default: the AP CA).

        Carries the OCSP-signing EKU (RFC 6960 section 4.2.2.2) and id-pkix-ocsp-nocheck, so nobody
        asks for the revocation status of the responder itself.
        """
        ca = issuer or self.ap_ca
        start = not_before or (_now() - _BACKDATE)
        end = not_after or (start + dt.timedelta(days=30))
        private = _new_key()
        subject = _name(f"{_common_name(ca)} OCSP responder", self.organisation, self.country)
        cert = _sign(
            subject,
            private,
            ca,
            not_before=start,
            not_after=end,
            ca_path_length=None,
            is_ca=False,
            extra=[x509.OCSPNoCheck()],
            usage=_signing_only_usage(),
            purposes=[ExtendedKeyUsageOID.OCSP_SIGNING],
        )
        return Credentials(private, cert, (ca.certificate,))

    def _leaf(
        self,
        ca: Credentials,
        cn: str,
        unit: str,
        not_before: dt.datetime | None,
        not_after: dt.datetime | None,
        key: rsa.RSAPrivateKey | None,
        organisation: str | None,
        ocsp_url: str | None,
        crl_url: str | None,
    ) -> Credentials:
        start = not_before or (_now() - _BACKDATE)
        end = not_after or (start + dt.timedelta(days=365 * _AP_YEARS))
        private = key or _new_key()
        subject = _name(cn, organisation or self.organisation, self.country, unit)
        cert = _sign(
            subject,
            private,
            ca,
            not_before=start,
            not_after=end,
            ca_path_length=None,
            is_ca=False,
            extra=_revocation_pointers(ocsp_url, crl_url),
        )
        return Credentials(private, cert, (ca.certificate,))


def create_dev_pki(
    seats: Iterable[str] = DEFAULT_SEATS,
    *,
    organisation: str = "ehfgate development",
    country: str = "NO",
    name: str = "ehfgate DEV",
    now: dt.datetime | None = None,
) -> DevPki:
    """A fresh root CA, AP CA, SMP CA and one AP certificate per seat, all RSA 2048 / SHA-256, in memory."""
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
    smp_key = _new_key()
    smp_subject = _name(f"{name} SERVICE METADATA PUBLISHER TEST CA", organisation, country, "FOR TEST ONLY")
    smp_cert = _sign(
        smp_subject, smp_key, root, not_before=start, not_after=ca_end, ca_path_length=0, is_ca=True
    )
    access_points: dict[str, Credentials] = {}
    pki = DevPki(
        root,
        Credentials(ca_key, ca_cert, (root_cert,)),
        access_points,
        organisation,
        country,
        Credentials(smp_key, smp_cert, (root_cert,)),
    )
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
    smp_ca_certificate: Path | None = None


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
    smp: bool = False,
) -> DevPkiFiles:
    """Write a fresh dev PKI as PEM: ``root-ca.pem``, ``ap-ca.pem``, ``SEAT.cert.pem``, ``SEAT.key.pem``
    (and ``smp-ca.pem`` when ``smp``).

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
    smp_path: Path | None = None
    if smp:
        smp_path = directory / SMP_CA_FILE
        _write(smp_path, _pem(pki.smp_issuer.certificate), private=False, overwrite=overwrite)
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
    return DevPkiFiles(directory, root_path, ca_path, keys, certs, smp_path)
