"""Numbers and dates as a reader of each language expects them: ``1 234,50`` and ``30.06.2013`` in
bokmål, ``1,234.50`` and ``30 Jun 2013`` in English.

The Norwegian thousands separator is a no-break space (U+00A0) so an amount never wraps in two.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from distribution.render.design import Language

NBSP = "\u00a0"
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _localise(plain: str, language: Language) -> str:
    """``plain`` is Python's ``1,234.5`` form; swap separators for bokmål."""
    if language == "nb":
        return plain.replace(",", NBSP).replace(".", ",")
    return plain


def _places(value: Decimal, minimum: int) -> int:
    exponent = value.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(minimum, decimals)


@functools.lru_cache(maxsize=4096)
def _number(value: Decimal, negative: bool, minimum: int, language: Language) -> str:
    """Memoised: an invoice repeats its prices, quantities and rates line after line.

    Equal decimals (``2.5`` and ``2.50``) print alike here, so sharing an entry is safe; the one
    exception is zero's sign (``-0 == 0`` but prints ``-0``), hence ``negative`` in the key.
    """
    return _localise(f"{value:,.{_places(value, minimum)}f}", language)


def format_amount(value: Decimal | None, language: Language) -> str:
    """Money: two decimals, more only when the document gives more (unit prices often do)."""
    if value is None:
        return ""
    return _number(value, value.is_signed(), 2, language)


def format_quantity(value: Decimal | None, language: Language) -> str:
    """Quantities without padding zeros: ``2``, ``2,5``, ``1 000``."""
    if value is None:
        return ""
    return _number(value, value.is_signed(), 0, language)


def format_percent(value: Decimal | None, language: Language) -> str:
    if value is None:
        return ""
    number = format_quantity(value, language)
    return f"{number}{NBSP}%" if language == "nb" else f"{number}%"


def format_date(value: dt.date | None, language: Language) -> str:
    if value is None:
        return ""
    if language == "nb":
        return value.strftime("%d.%m.%Y")
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def format_period(start: dt.date | None, end: dt.date | None, language: Language) -> str:
    return " – ".join(part for part in (format_date(start, language), format_date(end, language)) if part)
