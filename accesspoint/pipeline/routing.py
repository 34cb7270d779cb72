"""Where an outbound document goes: ``routing.static`` now (SML/SMP discovery arrives with its issue)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from accesspoint.config import StaticRoute
from accesspoint.peppol.identifiers import IdentifierError, participant
from accesspoint.pki.credentials import load_certificates


class NoRoute(LookupError):
    """No endpoint is known for the receiver: a permanent failure for that document."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    certificate: x509.Certificate


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

    def resolve(self, receiver: str) -> Endpoint:
        endpoint = self._routes.get(str(participant(receiver)))
        if endpoint is None:
            raise NoRoute(f"no endpoint known for {receiver} (no static route; SMP lookup is not configured)")
        return endpoint
