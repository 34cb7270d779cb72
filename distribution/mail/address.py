"""Who an invoice e-mail is from.

Receivers check that the sending server is authorised for the From domain (SPF, DKIM), so From is the
gateway's own address unless the tenant's address is on a domain that authorises this gateway
(``distribution.allowed_sender_domains``). Otherwise the tenant's address goes in Reply-To, so answers
still reach the tenant. The display name is the tenant's, whichever address is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from accesspoint.config import DistributionConfig

_ADDRESS = re.compile(
    r"[^@\s<>\"(),;:\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+"
)


class SenderMissing(ValueError):
    """No usable From address: the gateway sender is unset and the tenant's may not be used as From."""


def is_address(value: str | None) -> bool:
    """A plain ``local@domain`` address fit for an SMTP envelope and a header."""
    return bool(value) and len(value or "") <= 320 and _ADDRESS.fullmatch(value or "") is not None


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class Sender:
    address: str  # the envelope sender and the From address
    display_name: str
    reply_to: str | None = None

    @property
    def from_header(self) -> str:
        return formataddr((self.display_name, self.address)) if self.display_name else self.address

    @property
    def domain(self) -> str:
        return domain_of(self.address)


def _allowed(domain: str, allowed: tuple[str, ...]) -> bool:
    return domain in {entry.strip().lower().lstrip("@") for entry in allowed if entry.strip()}


def resolve_sender(config: DistributionConfig, tenant_from: str | None, tenant_name: str) -> Sender:
    """From, display name and Reply-To for one tenant; raises :class:`SenderMissing`."""
    tenant_address = tenant_from if is_address(tenant_from) else None
    if tenant_address and _allowed(domain_of(tenant_address), config.allowed_sender_domains):
        return Sender(tenant_address, tenant_name)
    gateway_name, gateway_address = parseaddr(config.sender or "")
    if not is_address(gateway_address):
        raise SenderMissing(
            "no sender address is configured (distribution.sender)"
            + (
                f"; the tenant's address {tenant_address} is not on an allowed sender domain"
                if tenant_address
                else ""
            )
        )
    return Sender(gateway_address, tenant_name or gateway_name, reply_to=tenant_address)
