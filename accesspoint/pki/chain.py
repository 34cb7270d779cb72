"""Chain checks by purpose: an AP certificate must come from an AP CA, an SMP certificate from an SMP CA.

Peppol's hierarchy is fixed (root -> AP CA or SMP CA -> end entity), so instead of building arbitrary
paths we pin the *issuing* CAs, each tied to its root and to the purposes it issues for. Both CAs sit
under the same root, so a plain "chains to the root" check would let an SMP certificate sign AS4
messages; pinning the issuer per purpose closes that gap.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import NameOID

Purpose = Literal["ap", "smp"]
PURPOSES: tuple[Purpose, ...] = ("ap", "smp")
PURPOSE_NAMES: dict[Purpose, str] = {"ap": "access point", "smp": "SMP"}
_SIGNATURE_CACHE = 4096


class CertificateRefused(Exception):
    """A certificate may not be used for what was asked. ``reason`` is a stable token for logs and
    EBMS errors (``certificate-expired``, ``certificate-untrusted``, ``certificate-revoked``...)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


# Rendering names is the dearest part of a check whose signatures are already cached, and the
# same few certificates are checked over and over: remember the text of each name.
@functools.lru_cache(maxsize=4096)
def name_text(name: x509.Name) -> str:
    return name.rfc4514_string()


@functools.lru_cache(maxsize=4096)
def _common_name(name: x509.Name) -> str | None:
    names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if len(names) == 1 else None


def common_name(cert: x509.Certificate) -> str | None:
    return _common_name(cert.subject)


def describe(cert: x509.Certificate) -> str:
    return common_name(cert) or name_text(cert.subject)


def purposes_from_name(cert: x509.Certificate) -> frozenset[Purpose]:
    """What a CA not pinned with a role issues, read from its name as Peppol names its CAs.

    "SERVICE METADATA PUBLISHER" -> SMP only, "ACCESS POINT" -> AP only; any other name (a private or
    development PKI) issues both, as such roots did before purposes were told apart.
    """
    name = (common_name(cert) or "").upper()
    if "SERVICE METADATA PUBLISHER" in name:
        return frozenset({"smp"})
    if "ACCESS POINT" in name:
        return frozenset({"ap"})
    return frozenset(PURPOSES)


def is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not constraints.ca:
        return False
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.key_cert_sign


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """The issuer's name matches and its key verifies the certificate's signature."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def check_dates(cert: x509.Certificate, at: dt.datetime, what: str) -> None:
    if at < cert.not_valid_before_utc:
        raise CertificateRefused(
            "certificate-not-yet-valid", f"{what} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
        )
    if at > cert.not_valid_after_utc:
        raise CertificateRefused(
            "certificate-expired", f"{what} expired on {cert.not_valid_after_utc:%Y-%m-%d}"
        )


@dataclass(frozen=True, slots=True)
class IssuingCA:
    """A CA trusted to issue end-entity certificates for ``purposes``; ``root`` is checked to sign it."""

    certificate: x509.Certificate
    root: x509.Certificate
    purposes: frozenset[Purpose]
    origin: str

    @property
    def name(self) -> str:
        return describe(self.certificate)


def issuing_cas_under(
    roots: Iterable[x509.Certificate], intermediates: Iterable[x509.Certificate], origin: str
) -> list[IssuingCA]:
    """Intermediates (CA certificates) that one of ``roots`` signed, with purposes read from their names.

    Intermediates that chain to none of the roots are left out: they can never complete a path.
    """
    root_list = list(roots)
    found: list[IssuingCA] = []
    for cert in intermediates:
        if not is_ca(cert):
            continue
        root = next((r for r in root_list if issued_by(cert, r)), None)
        if root is not None:
            found.append(IssuingCA(cert, root, purposes_from_name(cert), origin))
    return found


class IssuerPolicy:
    """Pinned issuing CAs, plus roots under which a CA sent along with the certificate may issue.

    ``open_roots`` are the configured ``trust.anchors``: a development or private PKI whose
    intermediate the receiver may not have configured. The Peppol roots are never open: every
    Peppol issuing CA is pinned, so an unknown CA under a Peppol root is not trusted until it is.
    """

    def __init__(self, issuers: Sequence[IssuingCA], open_roots: Sequence[x509.Certificate] = ()) -> None:
        self.issuers = tuple(issuers)
        self.open_roots = tuple(open_roots)
        self._signatures: dict[tuple[x509.Certificate, x509.Certificate], bool] = {}

    def issuer_for(
        self, cert: x509.Certificate, purpose: Purpose, chain: Sequence[x509.Certificate], at: dt.datetime
    ) -> IssuingCA:
        """The trusted CA that issued ``cert`` for ``purpose``, its and its root's dates checked."""
        candidates = [ca for ca in self.issuers if ca.certificate.subject == cert.issuer]
        if self.open_roots:
            sent = [
                c
                for c in chain
                if c.subject == cert.issuer and c not in {ca.certificate for ca in candidates}
            ]
            candidates += issuing_cas_under(self.open_roots, sent, "certificate chain")
        verified = [ca for ca in candidates if self._signed(cert, ca.certificate)]
        if not verified:
            raise CertificateRefused(
                "certificate-untrusted",
                f"certificate {describe(cert)} is not issued by a trusted CA "
                f"(issuer {cert.issuer.rfc4514_string()})",
            )
        fitting = [ca for ca in verified if purpose in ca.purposes]
        if not fitting:
            other = ", ".join(PURPOSE_NAMES[p] for p in sorted(verified[0].purposes))
            raise CertificateRefused(
                "certificate-purpose",
                f"certificate {describe(cert)} is issued by {verified[0].name}, a CA for {other} "
                f"certificates, not for {PURPOSE_NAMES[purpose]} certificates",
            )
        problems: list[CertificateRefused] = []
        for ca in fitting:  # a renewed CA may share its name with an expired one: any valid one will do
            try:
                check_dates(ca.certificate, at, f"issuing CA {ca.name}")
                check_dates(ca.root, at, f"root CA {describe(ca.root)}")
            except CertificateRefused as exc:
                problems.append(exc)
                continue
            return ca
        raise problems[0]

    def _signed(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        # Signatures never change, so each (certificate, issuer) pair is verified once.
        key = (cert, issuer)
        known = self._signatures.get(key)
        if known is None:
            known = issued_by(cert, issuer)
            if len(self._signatures) >= _SIGNATURE_CACHE:
                self._signatures.clear()
            self._signatures[key] = known
        return known
