"""The postal address a letter goes to, and when it is complete enough to post.

Norwegian addresses (country NO or unset) need a street line, a four-digit postcode and a place;
foreign ones need a street line and an ISO 3166-1 alpha-2 country code (their postcode and place
may be written in the lines, as many countries do).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from distribution.invoice import Invoice
from distribution.methods.base import Customer, PostalAddress

NORWAY = "NO"
_POSTCODE = re.compile(r"[0-9]{4}")
_COUNTRY = re.compile(r"[A-Z]{2}")
MAX_LINES = 4  # street lines a window shows besides name and "postcode place" (Digipost: 3 NO, 4 foreign)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Name and address as printed in the envelope window and sent to the provider."""

    name: str
    lines: tuple[str, ...]
    postcode: str | None
    city: str | None
    country: str | None  # None means Norway

    @property
    def is_norwegian(self) -> bool:
        return self.country in (None, NORWAY)

    def window_lines(self) -> list[str]:
        """The lines of the address block, top to bottom."""
        place = " ".join(part for part in (self.postcode, self.city) if part)
        lines = [self.name, *self.lines]
        if place:
            lines.append(place)
        if not self.is_norwegian and self.country:
            lines.append(self.country)
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address_lines": list(self.lines),
            "postcode": self.postcode,
            "city": self.city,
            "country": self.country or NORWAY,
        }


def incomplete(name: str | None, address: PostalAddress | None) -> str | None:
    """Why this name and address cannot be posted to, or None when they can."""
    if not name:
        return "no recipient name"
    if address is None:
        return "no postal address"
    lines = [line for line in address.lines if line.strip()]
    if not lines:
        return "the postal address has no address line"
    if len(lines) > MAX_LINES:
        return f"the postal address has more than {MAX_LINES} address lines"
    country = (address.country or NORWAY).upper()
    if country == NORWAY:
        if not address.postcode:
            return "the Norwegian address has no postcode"
        if not _POSTCODE.fullmatch(address.postcode.strip()):
            return f"the Norwegian postcode {address.postcode!r} is not four digits"
        if not address.city or not address.city.strip():
            return "the Norwegian address has no place (city)"
    elif not _COUNTRY.fullmatch(country):
        return f"the country {address.country!r} is not an ISO 3166-1 alpha-2 code"
    return None


def recipient_of(name: str, address: PostalAddress) -> Recipient:
    """A :class:`Recipient` from a name and address that passed :func:`incomplete`."""
    country = (address.country or NORWAY).upper()
    return Recipient(
        name=name.strip(),
        lines=tuple(line.strip() for line in address.lines if line.strip()),
        postcode=address.postcode.strip() if address.postcode else None,
        city=address.city.strip() if address.city else None,
        country=None if country == NORWAY else country,
    )


def customer_address(customer: Customer, invoice: Invoice) -> tuple[str | None, PostalAddress | None, str]:
    """The name and address to post to, and where they came from: the customer's contact data
    given with the invoice, else the buyer in the UBL document."""
    buyer = invoice.buyer
    name = customer.name or (buyer.display_name if buyer else None)
    if customer.address is not None:
        return name, customer.address, "the customer's postal address"
    ubl = buyer.address if buyer else None
    if ubl is None:
        return name, None, "the invoice's buyer"
    lines = tuple(line for line in (ubl.street, ubl.additional_street, ubl.address_line) if line)
    return name, PostalAddress(lines, ubl.postal_zone, ubl.city, ubl.country_code), "the invoice's buyer"
