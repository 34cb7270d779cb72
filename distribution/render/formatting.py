"""Numbers and dates as a reader of each language expects them: ``1 234,50`` and ``30.06.2013`` in
bokmål, ``1,234.50`` and ``30 Jun 2013`` in English.

The Norwegian thousands separator is a no-break space (U+00A0) so an amount never wraps in two.
"""

from __future__ import annotations

import datetime as dt
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


def format_amount(value: Decimal | None, language: Language) -> str:
    """Money: two decimals, more only when the document gives more (unit prices often do)."""
    if value is None:
        return ""
    return _localise(f"{value:,.{_places(value, 2)}f}", language)


def format_quantity(value: Decimal | None, language: Language) -> str:
    """Quantities without padding zeros: ``2``, ``2,5``, ``1 000``."""
    if value is None:
        return ""
    return _localise(f"{value:,.{_places(value, 0)}f}", language)


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
