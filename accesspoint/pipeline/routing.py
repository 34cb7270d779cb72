"""Where an outbound document goes: ``routing.static`` first (direct links, tests), else SML + SMP.

Either way the endpoint's certificate must be one we trust (the Peppol AP CA, or ``trust.anchors``)
and not revoked. Three results: an :class:`Endpoint`; :class:`NoRoute` (permanent: not registered,
document type not supported, untrusted certificate); :class:`RouteUnavailable` (try again later).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from accesspoint.config import StaticRoute
from accesspoint.discovery.lookup import REVOCATION_UNKNOWN, Discovery, DiscoveryUnavailable, Lookup
from accesspoint.peppol.identifiers import IdentifierError, participant
from accesspoint.pki.chain import CertificateRefused
from accesspoint.pki.checker import CertificateChecker
from accesspoint.pki.credentials import load_certificates


class NoRoute(LookupError):
    """No endpoint can take the document: a permanent failure for it."""


class RouteUnavailable(Exception):
    """The lookup could not be made now (DNS, SMP or revocation outage): retry later."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    certificate: x509.Certificate
    source: str = "static"  # static | smp
    lookup: Lookup | None = None


class StaticRouting:
    def __init__(self, routes: tuple[StaticRoute, ...]) -> None:
        self._routes: dict[str, Endpoint] = {}
        for route in routes:
            try:
                key = str(participant(route.participant))
                certificate = load_certificates(route.cert.read_bytes())[0]
            except (IdentifierError, OSError, ValueError) as exc:
                raise ValueError(f"routing.static {route.participant}: {exc}") from exc
            self._routes[key] = Endpoint(route.url, certificate)

    def get(self, receiver: str) -> Endpoint | None:
        try:
            return self._routes.get(str(participant(receiver)))
        except IdentifierError:
            return None


class Router:
    """Static routes, then discovery (when given); the endpoint certificate checked by ``checker``."""

    def __init__(
        self,
        static: StaticRouting,
        discovery: Discovery | None = None,
        checker: CertificateChecker | None = None,
    ) -> None:
        self.static = static
        self.discovery = discovery
        self.checker = checker

    async def resolve(self, receiver: str, document_type: str, process: str) -> Endpoint:
        endpoint = self.static.get(receiver)
        if endpoint is not None:
            if self.checker is not None:
                try:
                    await self.checker.check(endpoint.certificate, "ap", None)
                except CertificateRefused as exc:
                    if exc.reason == REVOCATION_UNKNOWN:  # the responder is down: ask again later
                        raise RouteUnavailable(str(exc)) from exc
                    raise NoRoute(f"routing.static certificate for {receiver}: {exc}") from exc
            return endpoint
        if self.discovery is None:
            raise NoRoute(f"no endpoint known for {receiver} (no static route; discovery is off)")
        try:
            found = await self.discovery.lookup(receiver, document_type, process)
        except DiscoveryUnavailable as exc:
            raise RouteUnavailable(str(exc)) from exc
        except IdentifierError as exc:
            raise NoRoute(f"cannot look up {receiver}: {exc}") from exc
        if not found.found or found.endpoint is None:
            raise NoRoute(f"{found.outcome}: {found.detail}")
        return Endpoint(found.endpoint.url, found.endpoint.certificate, "smp", found)
