"""The customer's contact data as JSON (API body, ``invoices.customer``) and as the methods'
:class:`Customer`. Checked strictly on the way in, so a method never meets a malformed field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from distribution.methods.base import Customer, PostalAddress

MAX_FIELD = 320
MAX_ADDRESS_LINES = 6
TEXT_FIELDS = ("name", "email", "invoice_email", "mobile", "participant", "preferred_method")
ADDRESS_FIELDS = ("postcode", "city", "country")


class CustomerError(ValueError):
    """The customer object is not usable; the message names the field."""


def _text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CustomerError(f"{where}{key} must be a string")
    value = value.strip()
    if len(value) > MAX_FIELD or not value.isprintable():
        raise CustomerError(f"{where}{key} must be printable text of at most {MAX_FIELD} characters")
    return value or None


def _address(data: Any) -> PostalAddress | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise CustomerError("customer.address must be an object")
    lines = data.get("lines", [])
    if not isinstance(lines, list) or len(lines) > MAX_ADDRESS_LINES:
        raise CustomerError(f"customer.address.lines must be a list of at most {MAX_ADDRESS_LINES} strings")
    cleaned = tuple(
        line for line in (_text({"line": item}, "line", "customer.address.") for item in lines) if line
    )
    postcode, city, country = (_text(data, key, "customer.address.") for key in ADDRESS_FIELDS)
    if country is not None:
        country = country.upper()
        if len(country) != 2 or not country.isalpha():
            raise CustomerError("customer.address.country must be an ISO 3166-1 alpha-2 code such as NO")
    return PostalAddress(cleaned, postcode, city, country)


def customer_from_json(data: Any) -> Customer:
    if data is None:
        return Customer()
    if not isinstance(data, Mapping):
        raise CustomerError("customer must be an object")
    kind = data.get("kind", "business")
    if kind not in ("private", "business"):
        raise CustomerError("customer.kind must be 'private' or 'business'")
    name, email, invoice_email, mobile, participant, preferred = (
        _text(data, key, "customer.") for key in TEXT_FIELDS
    )
    return Customer(
        kind=kind,
        name=name,
        email=email,
        invoice_email=invoice_email,
        mobile=mobile,
        participant=participant,
        preferred_method=preferred,
        address=_address(data.get("address")),
    )


def customer_to_json(customer: Customer) -> dict[str, Any]:
    address = customer.address
    return {
        "kind": customer.kind,
        **{key: getattr(customer, key) for key in TEXT_FIELDS},
        "address": None
        if address is None
        else {
            "lines": list(address.lines),
            "postcode": address.postcode,
            "city": address.city,
            "country": address.country,
        },
    }
