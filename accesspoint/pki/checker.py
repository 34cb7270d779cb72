"""The one place that decides whether a peer's certificate is acceptable: chain by purpose, party, and
revocation per ``trust.revocation``.

The AS4 core is synchronous and does no I/O, so it gets :meth:`CertificateChecker.as4_trust` (chain
only, raising EBMS:0101); the pipeline then awaits :meth:`CertificateChecker.check` for the revocation
step. The SMP client gets :meth:`CertificateChecker.smp_trust` for the SMP signer and calls ``check``
with purpose ``ap`` for the endpoint certificate it found.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography import x509

from accesspoint.as4.errors import FAILED_AUTHENTICATION, EbmsError
from accesspoint.config import Config
from accesspoint.pki.chain import (
    PURPOSE_NAMES,
    CertificateRefused,
    IssuerPolicy,
    IssuingCA,
    Purpose,
    check_dates,
    common_name,
    describe,
    issuing_cas_under,
    name_text,
)
from accesspoint.pki.credentials import load_certificates
from accesspoint.pki.peppol_ca import (
    DEFAULT_GENERATIONS,
    Generation,
    Mode,
    PeppolCAUnavailable,
    installed_peppol_issuers,
)
from accesspoint.pki.revocation import RevocationChecker, RevocationResult, unchecked

log = logging.getLogger("ehfgate.pki")

RevocationPolicy = Literal["hard", "soft", "off"]


@dataclass(frozen=True, slots=True)
class TrustVerdict:
    """An accepted certificate and why: what ``ehfgate lookup`` shows and logs record."""

    subject: str
    issuer: str
    serial: int
    not_after: dt.datetime
    purpose: Purpose
    party_id: str | None
    issuing_ca: str
    trust_origin: str
    revocation: RevocationResult
    warnings: tuple[str, ...] = ()

    def explain(self) -> str:
        text = (
            f"{PURPOSE_NAMES[self.purpose]} certificate {self.subject} (serial {self.serial:x}, "
            f"until {self.not_after:%Y-%m-%d}) issued by {self.issuing_ca} [{self.trust_origin}]; "
            f"revocation {self.revocation.explain()}"
        )
        return text + "".join(f"; warning: {w}" for w in self.warnings)

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": f"{self.serial:x}",
            "not_after": self.not_after.isoformat(),
            "purpose": self.purpose,
            "party_id": self.party_id,
            "issuing_ca": self.issuing_ca,
            "trust_origin": self.trust_origin,
            "revocation": self.revocation.as_json(),
            "warnings": list(self.warnings),
        }


_ACCEPTED_CACHE = 4096


class CertificateChecker:
    """Chain (by purpose), dates, key usage, CN = party id, then revocation per ``revocation`` policy.

    ``issuers`` are the pinned issuing CAs (Peppol's for the mode, and those under ``trust.anchors``);
    ``open_roots`` are the configured anchors under which a CA sent with the certificate may issue.
    ``at`` pins the validation time (tests, re-checking evidence); ``None`` means now.
    """

    def __init__(
        self,
        issuers: Sequence[IssuingCA],
        *,
        open_roots: Sequence[x509.Certificate] = (),
        revocation: RevocationPolicy = "soft",
        revocation_checker: RevocationChecker | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        self.policy = IssuerPolicy(issuers, open_roots)
        # Accepted (certificate, purpose, party, chain) -> (issuing CA, valid from, valid until): a
        # repeat inside the window of all three certificates' dates needs no work but a comparison.
        self._accepted: dict[tuple[object, ...], tuple[IssuingCA, dt.datetime, dt.datetime]] = {}
        self._warned: set[x509.Certificate] = set()
        self.revocation = revocation
        self.revocation_checker = revocation_checker or RevocationChecker()
        self.at = at

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        anchors: Iterable[x509.Certificate] = (),
        intermediates: Iterable[x509.Certificate] = (),
        generations: Iterable[Generation] = DEFAULT_GENERATIONS,
        revocation_checker: RevocationChecker | None = None,
    ) -> CertificateChecker:
        """The Peppol CAs of ``peppol.mode`` (when installed) plus ``trust.anchors`` for development.

        ``anchors`` / ``intermediates`` add certificates loaded elsewhere (e.g. the identity's dev PKI
        root and AP CA); the files of ``trust.anchors`` are read here. Without installed Peppol CA
        certificates only the anchors are trusted, and that is logged as a warning.
        """
        mode: Mode = config.peppol.mode
        loaded = [c for path in config.trust.anchors for c in load_certificates(Path(path).read_bytes())]
        certificates = [*loaded, *anchors, *intermediates]
        roots = _unique(c for c in certificates if c.issuer == c.subject)
        subordinates = _unique(c for c in certificates if c.issuer != c.subject)
        issuers = issuing_cas_under(roots, subordinates, "trust.anchors")
        try:
            issuers = [*installed_peppol_issuers(config.artifacts.dir, mode, generations), *issuers]
        except PeppolCAUnavailable as exc:
            log.warning("Peppol %s CAs not loaded, trusting trust.anchors only: %s", mode, exc)
        if not issuers and not roots:
            raise PeppolCAUnavailable(
                f"no trusted CA: the Peppol {mode} CA certificates are not installed "
                "and trust.anchors is empty"
            )
        return cls(
            issuers,
            open_roots=roots,
            revocation=config.trust.revocation,
            revocation_checker=revocation_checker,
        )

    async def aclose(self) -> None:
        await self.revocation_checker.aclose()

    def check_chain(
        self,
        cert: x509.Certificate,
        purpose: Purpose,
        party_id: str | None,
        chain: Sequence[x509.Certificate] = (),
    ) -> IssuingCA:
        """Raise :class:`CertificateRefused` unless ``cert`` may act for ``purpose`` (and ``party_id``).

        ``party_id`` None skips the CN check (an SMP certificate, or an endpoint certificate whose
        seat id is not known); returns the issuing CA for the revocation step.
        """
        at = self.at or dt.datetime.now(dt.UTC)
        key = (cert, purpose, party_id, *chain)
        accepted = self._accepted.get(key)
        if accepted is not None and accepted[1] <= at <= accepted[2]:
            return accepted[0]
        what = f"{PURPOSE_NAMES[purpose]} certificate {describe(cert)}"
        check_dates(cert, at, what)
        _check_usage(cert, what)
        issuing = self.policy.issuer_for(cert, purpose, chain, at)
        if party_id is not None:
            cn = common_name(cert)
            if cn != party_id:
                raise CertificateRefused(
                    "certificate-party", f"{what}: CN {cn!r} is not the party {party_id!r}"
                )
        parts = (cert, issuing.certificate, issuing.root)
        start = max(c.not_valid_before_utc for c in parts)
        end = min(c.not_valid_after_utc for c in parts)
        if len(self._accepted) >= _ACCEPTED_CACHE:
            self._accepted.clear()
        self._accepted[key] = (issuing, start, end)
        return issuing

    async def check(
        self,
        cert: x509.Certificate,
        purpose: Purpose,
        party_id: str | None,
        chain: Sequence[x509.Certificate] = (),
    ) -> TrustVerdict:
        """Chain, then revocation per policy: ``hard`` refuses unknown, ``soft`` accepts it with a
        warning, both refuse revoked; ``off`` skips the check."""
        issuing = self.check_chain(cert, purpose, party_id, chain)
        warnings: list[str] = []
        if self.revocation == "off":
            status = unchecked("trust.revocation = off")
        else:
            status = await self.revocation_checker.check(cert, issuing.certificate)
        what = f"{PURPOSE_NAMES[purpose]} certificate {describe(cert)}"
        if status.status == "revoked":
            raise CertificateRefused("certificate-revoked", f"{what} is revoked: {status.explain()}")
        if status.status == "unknown":
            if self.revocation == "hard":
                raise CertificateRefused(
                    "certificate-revocation-unknown", f"{what}: revocation status unknown: {status.detail}"
                )
            warning = f"revocation status unknown, accepted (trust.revocation = soft): {status.detail}"
            if cert not in self._warned:  # once per certificate, not once per message
                if len(self._warned) >= _ACCEPTED_CACHE:
                    self._warned.clear()
                self._warned.add(cert)
                log.warning("%s: %s", what, warning)
            warnings.append(warning)
        return TrustVerdict(
            subject=name_text(cert.subject),
            issuer=name_text(cert.issuer),
            serial=cert.serial_number,
            not_after=cert.not_valid_after_utc,
            purpose=purpose,
            party_id=party_id,
            issuing_ca=issuing.name,
            trust_origin=issuing.origin,
            revocation=status,
            warnings=tuple(warnings),
        )

    def as4_trust(self, *, require_party: bool = True) -> As4ChainTrust:
        """A :class:`accesspoint.as4.trust.TrustPolicy` for the AS4 layer (chain only, no I/O)."""
        return As4ChainTrust(self, require_party)

    def smp_trust(self) -> Callable[[x509.Certificate, Sequence[x509.Certificate]], None]:
        """The SMP client's ``SmpTrust``: the signer must come from an SMP CA (chain only)."""

        def check(certificate: x509.Certificate, chain: Sequence[x509.Certificate]) -> None:
            self.check_chain(certificate, "smp", None, chain)

        return check


@dataclass(frozen=True, slots=True)
class As4ChainTrust:
    """Satisfies ``TrustPolicy``: refusals become EBMS:0101 with the same ``reason`` tokens.

    ``require_party`` keeps the AS4 rule that a signer without a known party is refused.
    """

    checker: CertificateChecker
    require_party: bool = True

    def __call__(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate], party_id: str | None
    ) -> None:
        if party_id is None and self.require_party:
            raise EbmsError(
                FAILED_AUTHENTICATION,
                f"signer certificate CN {common_name(certificate)!r} is not the party None",
                reason="certificate-party",
            )
        try:
            self.checker.check_chain(certificate, "ap", party_id, chain)
        except CertificateRefused as exc:
            raise EbmsError(FAILED_AUTHENTICATION, str(exc), reason=exc.reason) from None


def _check_usage(cert: x509.Certificate, what: str) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and constraints.ca:
        raise CertificateRefused("certificate-usage", f"{what} is a CA certificate")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise CertificateRefused("certificate-usage", f"{what} is not for digital signatures")


def _unique(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen: list[x509.Certificate] = []
    for cert in certs:
        if cert not in seen:
            seen.append(cert)
    return seen
