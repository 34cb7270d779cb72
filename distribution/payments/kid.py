"""KID numbers (kundeidentifikasjon): MOD10/MOD11 check digits, the tenant's KID scheme, and the KID
written into the invoice's ``cac:PaymentMeans/cbc:PaymentID``.

The KID is how a payment finds its invoice without a person: the payer's bank copies it into the OCR
giro record, so it must carry a check digit the bank verifies (spec: weights from the right; MOD10 is
Luhn, MOD11 uses weights 2..7). MOD11 has no digit for a remainder of 1; the spec writes ``-`` there.
:func:`mod11` answers ``None`` for that case so callers see it, and :func:`make_kid` then writes the
``-`` as the spec says. Channels whose file format is digits only (AvtaleGiro claims files) need a
tenant on MOD10 or a base whose MOD11 digit exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import now
from accesspoint.xml.errors import XMLError
from accesspoint.xml.parser import parse_xml
from distribution.storage.payments_schema import tenant_settings

Algorithm = Literal["mod10", "mod11"]
Source = Literal["invoice", "customer+invoice"]
ALGORITHMS: tuple[Algorithm, ...] = ("mod10", "mod11")
SOURCES: tuple[Source, ...] = ("invoice", "customer+invoice")
MIN_LENGTH = 2
MAX_LENGTH = 25
SETTINGS_NAME = "kid"
DEFAULT_CUSTOMER_LENGTH = 6
MOD11_WEIGHTS = (2, 3, 4, 5, 6, 7)

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS = {"cac": CAC, "cbc": CBC}
# Children of cac:PaymentMeans that come before cbc:PaymentID in the UBL 2.1 sequence.
BEFORE_PAYMENT_ID = frozenset(
    f"{{{CBC}}}{name}"
    for name in (
        "ID",
        "PaymentMeansCode",
        "PaymentDueDate",
        "PaymentChannelCode",
        "InstructionID",
        "InstructionNote",
    )
)


class KidError(ValueError):
    """A KID that cannot be made or written; the message says why."""


def _digits(value: str, what: str) -> str:
    if not value or not value.isascii() or not value.isdigit():
        raise KidError(f"{what} must be digits 0-9, got {value!r}")
    return value


def mod10(digits: str) -> str:
    """The MOD10 (Luhn) check digit of ``digits``: weights 2,1,2,1... from the right, digit sums."""
    total = 0
    for position, char in enumerate(reversed(_digits(digits, "a MOD10 base"))):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


def mod11(digits: str) -> str | None:
    """The MOD11 check digit of ``digits`` (weights 2..7 from the right); ``None`` when the remainder
    is 1, where no digit exists (the spec writes ``-``; :func:`make_kid` does)."""
    total = sum(
        int(char) * MOD11_WEIGHTS[position % 6]
        for position, char in enumerate(reversed(_digits(digits, "a MOD11 base")))
    )
    remainder = total % 11
    if remainder == 0:
        return "0"
    if remainder == 1:
        return None
    return str(11 - remainder)


def _mod11_or_dash(digits: str) -> str:
    return mod11(digits) or "-"


def is_valid_kid(kid: str, *, algorithm: Algorithm | None = None) -> bool:
    """True for 2-25 positions whose last is the check digit of the rest: by ``algorithm``, or by
    either when it is None (a payment does not say which scheme its payee registered)."""
    if not isinstance(kid, str) or not MIN_LENGTH <= len(kid) <= MAX_LENGTH or not kid.isascii():
        return False
    body, check = kid[:-1], kid[-1]
    if not body.isdigit() or not (check.isdigit() or check == "-"):
        return False
    if algorithm in (None, "mod10") and check != "-" and mod10(body) == check:
        return True
    return algorithm in (None, "mod11") and _mod11_or_dash(body) == check


def make_kid(base: str, *, algorithm: Algorithm, length: int | None = None) -> str:
    """``base`` with its check digit; with ``length`` the base is zero-padded on the left so the KID
    has exactly that many positions (a fixed length is what the payee registered with the bank)."""
    _digits(base, "a KID base")
    if algorithm not in ALGORITHMS:
        raise KidError(f"algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}")
    if length is not None:
        if not MIN_LENGTH <= length <= MAX_LENGTH:
            raise KidError(f"a KID has {MIN_LENGTH} to {MAX_LENGTH} positions, not {length}")
        if len(base) > length - 1:
            raise KidError(f"base {base!r} does not fit a KID of {length} positions")
        base = base.zfill(length - 1)
    if len(base) + 1 > MAX_LENGTH:
        raise KidError(f"base {base!r} is too long for a KID (at most {MAX_LENGTH} positions)")
    return base + (mod10(base) if algorithm == "mod10" else _mod11_or_dash(base))


@dataclass(frozen=True, slots=True)
class KidSettings:
    """The tenant's scheme (tenant_settings ``kid``): which check digit, how long, made from what.

    ``source`` ``invoice``: the invoice number's digits; ``customer+invoice``: the customer number's
    digits zero-padded to ``customer_length`` and then the invoice number's, so two customers' KIDs
    can never collide. ``prefix`` (digits) goes first, e.g. to tell the tenant's ledgers apart.
    """

    algorithm: Algorithm = "mod10"
    length: int | None = None
    source: Source = "invoice"
    prefix: str = ""
    customer_length: int = DEFAULT_CUSTOMER_LENGTH

    def to_json(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "length": self.length,
            "source": self.source,
            "prefix": self.prefix,
            "customer_length": self.customer_length,
        }


def kid_settings_from_json(value: Any) -> KidSettings:
    """Checked settings; :class:`KidError` names the field that is wrong."""
    if not isinstance(value, Mapping):
        raise KidError("kid settings must be an object")
    unknown = sorted(set(value) - {"algorithm", "length", "source", "prefix", "customer_length"})
    if unknown:
        raise KidError(f"unknown kid settings {unknown}")
    algorithm = value.get("algorithm", "mod10")
    if algorithm not in ALGORITHMS:
        raise KidError(f"kid.algorithm must be one of {list(ALGORITHMS)}")
    source = value.get("source", "invoice")
    if source not in SOURCES:
        raise KidError(f"kid.source must be one of {list(SOURCES)}")
    length = value.get("length")
    if length is not None and (
        isinstance(length, bool) or not isinstance(length, int) or not MIN_LENGTH <= length <= MAX_LENGTH
    ):
        raise KidError(f"kid.length must be an integer from {MIN_LENGTH} to {MAX_LENGTH}, or null")
    prefix = value.get("prefix") or ""
    if not isinstance(prefix, str) or (prefix and not (prefix.isascii() and prefix.isdigit())):
        raise KidError("kid.prefix must be digits")
    customer_length = value.get("customer_length", DEFAULT_CUSTOMER_LENGTH)
    if isinstance(customer_length, bool) or not isinstance(customer_length, int) or customer_length < 1:
        raise KidError("kid.customer_length must be a positive integer")
    fixed = len(prefix) + (customer_length if source == "customer+invoice" else 0)
    if fixed + 2 > (length or MAX_LENGTH):
        raise KidError("kid.prefix and customer part leave no room for the invoice number")
    return KidSettings(algorithm, length, source, prefix, customer_length)


def _number_digits(value: str | None, what: str) -> str:
    digits = "".join(char for char in value or "" if char.isascii() and char.isdigit())
    if not digits:
        raise KidError(f"the {what} {value!r} has no digits to make a KID from")
    return digits


def kid_for(settings: KidSettings, *, invoice_number: str, customer_number: str | None = None) -> str:
    """The KID of one invoice under the tenant's scheme (digits of the numbers; other characters of
    an invoice number such as ``INV-`` are dropped)."""
    base = settings.prefix
    if settings.source == "customer+invoice":
        customer = _number_digits(customer_number, "customer number")
        if len(customer) > settings.customer_length:
            raise KidError(f"customer number {customer_number!r} is longer than {settings.customer_length}")
        base += customer.zfill(settings.customer_length)
    invoice = _number_digits(invoice_number, "invoice number")
    if settings.length is not None:
        # Pad the invoice part, not the whole base, so the prefix stays in front.
        room = settings.length - 1 - len(base)
        if len(invoice) > room:
            raise KidError(f"invoice number {invoice_number!r} does not fit a KID of {settings.length}")
        invoice = invoice.zfill(room)
    return make_kid(base + invoice, algorithm=settings.algorithm, length=settings.length)


async def load_kid_settings(conn: AsyncConnection, tenant_id: str) -> KidSettings | None:
    """The tenant's KID scheme, or None when the tenant does not have KIDs made."""
    value = (
        await conn.execute(
            sa.select(tenant_settings.c.value).where(
                tenant_settings.c.tenant_id == tenant_id, tenant_settings.c.name == SETTINGS_NAME
            )
        )
    ).scalar_one_or_none()
    return None if value is None else kid_settings_from_json(value)


async def save_kid_settings(conn: AsyncConnection, tenant_id: str, settings: KidSettings) -> None:
    key = (tenant_settings.c.tenant_id == tenant_id) & (tenant_settings.c.name == SETTINGS_NAME)
    updated = await conn.execute(
        tenant_settings.update().where(key).values(value=settings.to_json(), updated_at=now())
    )
    if updated.rowcount == 0:
        await conn.execute(
            tenant_settings.insert().values(
                tenant_id=tenant_id, name=SETTINGS_NAME, value=settings.to_json(), updated_at=now()
            )
        )


def assign_kid(document: bytes, kid: str) -> bytes:
    """``document`` with ``kid`` as the PaymentID of every payment means that names the payee's
    account (a KID only means something together with the account it is paid to).

    A document without such a payment means is refused: inventing an account is not ours to do.
    """
    if not is_valid_kid(kid):
        raise KidError(f"{kid!r} is not a valid KID (2-25 digits ending in a MOD10 or MOD11 check digit)")
    try:
        tree = parse_xml(document)
    except XMLError as exc:
        raise KidError(f"the document is not readable XML: {exc}") from None
    root = tree.getroot()
    means = [
        element
        for element in root.findall("cac:PaymentMeans", NS)
        if element.find("cac:PayeeFinancialAccount/cbc:ID", NS) is not None
    ]
    if not means:
        raise KidError(
            "the document has no cac:PaymentMeans with a cac:PayeeFinancialAccount; "
            "a KID needs the account it is paid to"
        )
    for element in means:
        _set_payment_id(element, kid)
    encoding = tree.docinfo.encoding or "UTF-8"
    result = etree.tostring(tree, xml_declaration=True, encoding=encoding)
    assert isinstance(result, bytes)  # an encoding was given, so lxml returns bytes
    return result


def _set_payment_id(means: etree._Element, kid: str) -> None:
    existing = means.findall("cbc:PaymentID", NS)
    if existing:
        existing[0].text = kid
        for extra in existing[1:]:
            means.remove(extra)
        return
    payment_id = etree.SubElement(means, f"{{{CBC}}}PaymentID")  # reuses the prefix in scope
    payment_id.text = kid
    position = 0
    for index, child in enumerate(means):
        if child.tag in BEFORE_PAYMENT_ID:
            position = index + 1
    if position:
        # Indentation like the element before it, so the document stays readable.
        before = means[position - 1]
        payment_id.tail = before.tail
    means.insert(position, payment_id)
