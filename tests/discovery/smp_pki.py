"""A test SMP CA under the dev PKI root, SMP signing certificates from it, and a foreign one.

Shaped like Peppol's: root -> "SERVICE METADATA PUBLISHER TEST CA" -> SMP certificate (CN = seat id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from accesspoint.as4.trust import AnchorTrust
from accesspoint.pki.credentials import Credentials
from accesspoint.pki.devpki import DevPki, create_dev_pki

_SKEW = dt.timedelta(minutes=5)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ehfgate test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def issue(
    cn: str,
    issuer: Credentials | None,
    *,
    ca: bool,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Credentials:
    """A certificate for ``cn`` signed by ``issuer`` (self-signed when None)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = not_before or dt.datetime.now(dt.UTC) - _SKEW
    end = not_after or start + dt.timedelta(days=365)
    subject = _name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca and issuer else None), critical=True)
        .add_extension(_usage(ca=ca), critical=True)
    )
    certificate = builder.sign(issuer.private_key if issuer else key, hashes.SHA256())
    chain = (issuer.certificate,) if issuer and not ca else ()
    return Credentials(key, certificate, chain)


@dataclass(frozen=True, slots=True)
class SmpPki:
    dev: DevPki
    smp_ca: Credentials
    smp: Credentials
    other_smp: Credentials
    foreign_smp: Credentials

    def smp_trust(self) -> Callable[[x509.Certificate, Sequence[x509.Certificate]], None]:
        """The SMP trust check for the client: chain to the dev root through the SMP CA, and dates."""
        anchor = AnchorTrust(
            anchors=self.dev.anchors, intermediates=(self.smp_ca.certificate,), check_party=False
        )

        def check(certificate: x509.Certificate, chain: Sequence[x509.Certificate]) -> None:
            anchor(certificate, chain, None)

        return check


def create_smp_pki() -> SmpPki:
    dev = create_dev_pki(seats=("POP000001",))
    smp_ca = issue("ehfgate SERVICE METADATA PUBLISHER TEST CA", dev.root, ca=True)
    foreign_root = issue("Foreign Root CA", None, ca=True)
    return SmpPki(
        dev=dev,
        smp_ca=smp_ca,
        smp=issue("PSM000001", smp_ca, ca=False),
        other_smp=issue("PSM000002", smp_ca, ca=False),
        foreign_smp=issue("PSM000666", issue("Foreign SMP CA", foreign_root, ca=True), ca=False),
    )
