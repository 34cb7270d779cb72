"""Where does a document for a participant go? SML, then SMP, then the endpoint certificate's trust.

This is the one question the outbound pipeline and ``ehfgate lookup`` ask. The answer keeps every
step (DNS name and record, SMP fetches, signature verdict, certificate verdict) so an operator can
see why, and it separates three kinds of "no":

- a definite answer (not registered, document type not supported, expired service, untrusted
  endpoint certificate, a refused SMP answer): the document cannot go there, retrying won't help;
- :class:`DiscoveryUnavailable`: DNS or SMP could not be asked right now; try again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from accesspoint.config import Config
from accesspoint.discovery.sml import NotRegistered, SmlClient, SmlDnsError, SmpFound
from accesspoint.discovery.smp import DEFAULT_TRANSPORT_PROFILE, FoundEndpoint, SmpClient, SmpLookup
from accesspoint.discovery.smp_documents import SmpRefused, SmpUnavailable
from accesspoint.peppol.identifiers import Identifier, document_type, participant, process
from accesspoint.pki.chain import CertificateRefused
from accesspoint.pki.checker import CertificateChecker, TrustVerdict

REVOCATION_UNKNOWN = "certificate-revocation-unknown"


class DiscoveryUnavailable(Exception):
    """SML or SMP could not be asked (timeout, SERVFAIL, HTTP 5xx): the same lookup may work later."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """The whole story of one lookup. ``endpoint`` is set only when the document can go there."""

    participant: Identifier
    document_type: Identifier
    process: Identifier
    outcome: str  # found | not-registered | <SmpLookup outcome> | smp-refused | certificate-refused
    detail: str
    sml: SmpFound | NotRegistered | None = None
    smp: SmpLookup | None = None
    endpoint: FoundEndpoint | None = None
    certificate: TrustVerdict | None = None
    steps: tuple[str, ...] = field(default_factory=tuple)

    @property
    def found(self) -> bool:
        return self.outcome == "found"

    def as_json(self) -> dict[str, Any]:
        sml: dict[str, Any] | None = None
        if isinstance(self.sml, SmpFound):
            sml = {"registered": True, "form": str(self.sml.form), "dns_name": self.sml.dns_name,
                   "record": self.sml.record, "ttl": self.sml.ttl, "smp_url": self.sml.smp_url,
                   "from_cache": self.sml.from_cache}  # fmt: skip
        elif isinstance(self.sml, NotRegistered):
            sml = {"registered": False, "tried": [
                {"form": str(m.form), "dns_name": m.dns_name, "reason": m.reason} for m in self.sml.misses
            ]}  # fmt: skip
        endpoint = None
        if self.endpoint is not None:
            endpoint = {
                "url": self.endpoint.url,
                "transport_profile": self.endpoint.transport_profile,
                "certificate_subject": self.endpoint.certificate.subject.rfc4514_string(),
                "certificate_issuer": self.endpoint.certificate.issuer.rfc4514_string(),
                "certificate_not_after": self.endpoint.certificate.not_valid_after_utc.isoformat(),
                "service_activation": _iso(self.endpoint.activation),
                "service_expiration": _iso(self.endpoint.expiration),
            }
        signature = None
        if self.smp is not None and self.smp.signature is not None:
            sig = self.smp.signature
            signature = {"signed": sig.signed, "trusted": sig.trusted, "signer": sig.signer_subject,
                         "algorithm": sig.algorithm}  # fmt: skip
        return {
            "participant": str(self.participant),
            "document_type": str(self.document_type),
            "process": str(self.process),
            "outcome": self.outcome,
            "detail": self.detail,
            "sml": sml,
            "smp_url": self.smp.smp_url
            if self.smp
            else (self.sml.smp_url if isinstance(self.sml, SmpFound) else None),
            "smp_steps": [str(s) for s in self.smp.steps] if self.smp else [],
            "signature": signature,
            "endpoint": endpoint,
            "certificate": self.certificate.as_json() if self.certificate else None,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class Discovery:
    """SML + SMP + certificate trust, with the clients' caches shared across lookups."""

    def __init__(
        self,
        sml: SmlClient,
        smp: SmpClient,
        checker: CertificateChecker,
        *,
        transport_profile: str = DEFAULT_TRANSPORT_PROFILE,
    ) -> None:
        self.sml = sml
        self.smp = smp
        self.checker = checker
        self.transport_profile = transport_profile

    @classmethod
    def from_config(
        cls, config: Config, checker: CertificateChecker, *, session: aiohttp.ClientSession | None = None
    ) -> Discovery:
        sml = SmlClient.for_mode(
            config.peppol.mode, sml_zone=config.peppol.sml_zone, dns_server=config.peppol.dns_server
        )
        return cls(sml, SmpClient(checker.smp_trust(), session=session), checker)

    async def aclose(self) -> None:
        await self.smp.close()

    async def lookup(self, receiver: str, document_type_id: str, process_id: str) -> Lookup:
        """Raises :class:`DiscoveryUnavailable` for outages and ``IdentifierError`` for malformed ids."""
        who, what, how = participant(receiver), document_type(document_type_id), process(process_id)
        try:
            found = await self.sml.lookup(who)
        except SmlDnsError as exc:
            raise DiscoveryUnavailable(f"SML lookup of {who} failed: {exc}") from exc
        if isinstance(found, NotRegistered):
            return Lookup(who, what, how, "not-registered", str(found), sml=found)
        try:
            answer = await self.smp.lookup(
                found.smp_url, who, what, how, transport_profile=self.transport_profile
            )
        except SmpUnavailable as exc:
            raise DiscoveryUnavailable(f"SMP {found.smp_url} could not be read: {exc}") from exc
        except SmpRefused as exc:
            steps = tuple(str(s) for s in exc.steps)
            return Lookup(who, what, how, "smp-refused", str(exc), sml=found, steps=steps)
        if not answer.found or answer.endpoint is None:
            return Lookup(who, what, how, str(answer.outcome), answer.detail, sml=found, smp=answer)
        try:
            verdict = await self.checker.check(answer.endpoint.certificate, "ap", None)
        except CertificateRefused as exc:
            if exc.reason == REVOCATION_UNKNOWN:  # hard policy and the responder is down
                raise DiscoveryUnavailable(str(exc)) from exc
            return Lookup(
                who, what, how, "certificate-refused", str(exc), sml=found, smp=answer, endpoint=None
            )
        return Lookup(
            who,
            what,
            how,
            "found",
            f"{answer.endpoint.url} ({answer.endpoint.transport_profile})",
            sml=found,
            smp=answer,
            endpoint=answer.endpoint,
            certificate=verdict,
        )
