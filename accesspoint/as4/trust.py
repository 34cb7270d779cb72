"""Is the signer's certificate one we accept? A pluggable decision; the default checks a chain to
configured roots, validity dates, key usage and that the certificate CN equals the From PartyId.

The Peppol PKI (AP CA by purpose, per network mode) is another :class:`TrustPolicy`:
``accesspoint.pki.checker.CertificateChecker.as4_trust()``; revocation is an async step after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import NameOID

from accesspoint.as4.errors import FAILED_AUTHENTICATION, EbmsError

MAX_CHAIN_DEPTH = 4
_CACHE_SIZE = 1024


class TrustPolicy(Protocol):
    """Raise :class:`EbmsError` (EBMS:0101) unless ``certificate`` may sign for ``party_id``.

    ``chain`` holds certificates that came with the message (usually none in Peppol); ``party_id``
    is the From PartyId (user messages) or the party we sent to (receipts), ``None`` if unknown.
    """

    def __call__(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], party_id: str | None
    ) -> None: ...


def _refuse(text: str, reason: str) -> EbmsError:
    return EbmsError(FAILED_AUTHENTICATION, text, reason=reason)


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if len(names) == 1 else None


def _check_dates(cert: x509.Certificate, at: dt.datetime, what: str) -> None:
    if at < cert.not_valid_before_utc:
        raise _refuse(
            f"{what} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}", "certificate-not-yet-valid"
        )
    if at > cert.not_valid_after_utc:
        raise _refuse(f"{what} expired on {cert.not_valid_after_utc:%Y-%m-%d}", "certificate-expired")


def _is_ca(cert: x509.Certificate) -> bool:
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


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


@dataclass(frozen=True, slots=True)
class AnchorTrust:
    """Default trust: a path from the signer through ``intermediates`` to one of ``anchors``.

    ``at`` pins the validation time (tests, or re-checking old evidence); ``None`` means now.
    ``check_party`` compares the signer CN with the party id (the Peppol seat id rule).
    """

    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    at: dt.datetime | None = None
    check_party: bool = True
    # Signatures along a path never change, so verified paths are remembered (dates are rechecked).
    _paths: dict[tuple[x509.Certificate, ...], tuple[x509.Certificate, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __call__(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], party_id: str | None
    ) -> None:
        at = self.at or dt.datetime.now(dt.UTC)
        _check_dates(certificate, at, "signer certificate")
        try:
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is not None and not usage.digital_signature:
            raise _refuse("signer certificate is not for digital signatures", "certificate-usage")
        key = (certificate, *chain)
        path = self._paths.get(key)
        if path is None:
            path = self._find_path(certificate, [*chain, *self.intermediates])
            if len(self._paths) >= _CACHE_SIZE:
                self._paths.clear()
            self._paths[key] = path
        for issuer in path[:-1]:
            _check_dates(issuer, at, "issuing CA certificate")
        _check_dates(path[-1], at, "root certificate")
        if self.check_party:
            cn = common_name(certificate)
            if party_id is None or cn != party_id:
                raise _refuse(
                    f"signer certificate CN {cn!r} is not the party {party_id!r}", "certificate-party"
                )

    def _find_path(
        self, leaf: x509.Certificate, pool: list[x509.Certificate]
    ) -> tuple[x509.Certificate, ...]:
        """Issuers from the leaf's up to and including an anchor (signatures checked)."""
        path: list[x509.Certificate] = []
        current = leaf
        for _ in range(MAX_CHAIN_DEPTH):
            for anchor in self.anchors:
                if current.issuer == anchor.subject and _issued_by(current, anchor):
                    return (*path, anchor)
            issuer = next(
                (c for c in pool if c.subject == current.issuer and c != current and _issued_by(current, c)),
                None,
            )
            if issuer is None or not _is_ca(issuer):
                break
            path.append(issuer)
            current = issuer
        raise _refuse("signer certificate does not chain to a trusted root", "certificate-untrusted")
