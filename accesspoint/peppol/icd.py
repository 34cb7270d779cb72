"""ISO 6523 ICDs of the Peppol participant identifier code list, and their per-scheme value checks.

The list is v9.7 of the OpenPeppol eDEC code list "participant identifier schemes". An ICD outside it
cannot be registered in the SML, so a participant id using one is refused; deprecated and removed ICDs
are still recognised (old partners keep sending them) but reported, so callers can warn.

Check digits are verified only where the code list names a well-defined algorithm: a typo in an
organisation number then fails here instead of as "not registered" after a DNS round trip.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

CODE_LIST_VERSION = "9.7"


class IcdState(enum.Enum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Icd:
    code: str
    scheme_id: str
    state: IcdState = IcdState.ACTIVE
    removal_date: str | None = None

    @property
    def deprecated(self) -> bool:
        """Deprecated or already removed: accepted, but not for new registrations."""
        return self.state is not IcdState.ACTIVE

    def warning(self) -> str | None:
        """What a caller should tell its user about this ICD, or None for an active one."""
        if self.state is IcdState.ACTIVE:
            return None
        when = f" (removal date {self.removal_date})" if self.removal_date else ""
        return (
            f"ICD {self.code} ({self.scheme_id}) is {self.state.value} in the Peppol code list "
            f"v{CODE_LIST_VERSION}{when}"
        )


_A, _D, _R = IcdState.ACTIVE, IcdState.DEPRECATED, IcdState.REMOVED

_TABLE: tuple[tuple[str, str, IcdState, str | None], ...] = (
    ("0002", "FR:SIRENE", _A, None),
    ("0007", "SE:ORGNR", _A, None),
    ("0009", "FR:SIRET", _A, None),
    ("0037", "FI:OVT", _R, "2024-12-31"),
    ("0060", "DUNS", _A, None),
    ("0088", "GLN", _A, None),
    ("0096", "DK:P", _A, None),
    ("0097", "IT:FTI", _A, None),
    ("0106", "NL:KVK", _A, None),
    ("0130", "EU:NAL", _A, None),
    ("0135", "IT:SIA", _A, None),
    ("0142", "IT:SECETI", _A, None),
    ("0151", "AU:ABN", _A, None),
    ("0158", "SK:ICO", _A, None),
    ("0183", "CH:UIDB", _A, None),
    ("0184", "DK:DIGST", _A, None),
    ("0188", "JP:SST", _A, None),
    ("0190", "NL:OINO", _A, None),
    ("0191", "EE:CC", _A, None),
    ("0192", "NO:ORG", _A, None),
    ("0193", "UBLBE", _D, "2026-07-07"),
    ("0195", "SG:UEN", _A, None),
    ("0196", "IS:KTNR", _A, None),
    ("0198", "DK:ERST", _A, None),
    ("0199", "LEI", _A, None),
    ("0200", "LT:LEC", _A, None),
    ("0201", "IT:CUUO", _A, None),
    ("0204", "DE:LWID", _A, None),
    ("0205", "IT:COD", _A, None),
    ("0208", "BE:EN", _A, None),
    ("0209", "GS1", _A, None),
    ("0210", "IT:CFI", _A, None),
    ("0211", "IT:IVA", _A, None),
    ("0212", "FI:ORG", _R, "2024-12-31"),
    ("0213", "FI:VAT", _R, "2024-12-31"),
    ("0215", "FI:NSI", _R, "2024-12-31"),
    ("0216", "FI:OVT2", _A, None),
    ("0218", "LV:URN", _A, None),
    ("0221", "JP:IIN", _A, None),
    ("0225", "FR:CTC", _A, None),
    ("0230", "MY:EIF", _A, None),
    ("0235", "AE:TIN", _A, None),
    ("0240", "LU:MAT", _A, None),
    ("0242", "SPIS", _A, None),
    ("0244", "NG:TID", _A, None),
    ("0245", "SK:DIC", _A, None),
    ("0246", "DE:GEBA", _A, None),
    ("0248", "OM:VAT", _A, None),
    ("9901", "DK:CPR", _R, "2023-11-30"),
    ("9902", "DK:CVR", _R, "2023-11-30"),
    ("9904", "DK:SE", _R, "2023-11-30"),
    ("9905", "DK:VANS", _R, "2023-11-30"),
    ("9906", "IT:VAT", _R, "2023-05-24"),
    ("9907", "IT:CF", _R, "2023-05-24"),
    ("9908", "NO:ORGNR", _R, "2023-05-24"),
    ("9909", "NO:VAT", _D, None),
    ("9910", "HU:VAT", _A, None),
    ("9912", "EU:VAT", _D, None),
    ("9913", "EU:REID", _A, None),
    ("9914", "AT:VAT", _A, None),
    ("9915", "AT:GOV", _A, None),
    ("9916", "AT:CID", _D, None),
    ("9917", "IS:KT", _D, None),
    ("9918", "IBAN", _A, None),
    ("9919", "AT:KUR", _A, None),
    ("9920", "ES:VAT", _A, None),
    ("9921", "IT:IPA", _R, "2023-11-30"),
    ("9922", "AD:VAT", _A, None),
    ("9923", "AL:VAT", _A, None),
    ("9924", "BA:VAT", _A, None),
    ("9925", "BE:VAT", _A, None),
    ("9926", "BG:VAT", _A, None),
    ("9927", "CH:VAT", _A, None),
    ("9928", "CY:VAT", _A, None),
    ("9929", "CZ:VAT", _A, None),
    ("9930", "DE:VAT", _A, None),
    ("9931", "EE:VAT", _A, None),
    ("9932", "GB:VAT", _A, None),
    ("9933", "GR:VAT", _A, None),
    ("9934", "HR:VAT", _A, None),
    ("9935", "IE:VAT", _A, None),
    ("9936", "LI:VAT", _A, None),
    ("9937", "LT:VAT", _A, None),
    ("9938", "LU:VAT", _A, None),
    ("9939", "LV:VAT", _A, None),
    ("9940", "MC:VAT", _A, None),
    ("9941", "ME:VAT", _A, None),
    ("9942", "MK:VAT", _A, None),
    ("9943", "MT:VAT", _A, None),
    ("9944", "NL:VAT", _A, None),
    ("9945", "PL:VAT", _A, None),
    ("9946", "PT:VAT", _A, None),
    ("9947", "RO:VAT", _A, None),
    ("9948", "RS:VAT", _A, None),
    ("9949", "SI:VAT", _A, None),
    ("9950", "SK:VAT", _A, None),
    ("9951", "SM:VAT", _A, None),
    ("9952", "TR:VAT", _A, None),
    ("9953", "VA:VAT", _A, None),
    ("9954", "NL:OIN", _R, "2026-03-31"),
    ("9955", "SE:VAT", _R, "2023-07-31"),
    ("9956", "BE:CBE", _R, "2023-12-31"),
    ("9957", "FR:VAT", _A, None),
    ("9958", "DE:LID", _R, "2023-07-31"),
    ("9959", "US:EIN", _A, None),
)

ICDS: Mapping[str, Icd] = {code: Icd(code, scheme, state, removal) for code, scheme, state, removal in _TABLE}


def find(code: str) -> Icd | None:
    """The code list entry for a 4-digit ICD, or None when the code list does not have it."""
    return ICDS.get(code)


# --- check digit algorithms -------------------------------------------------------------------------

_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def mod11_check_digit(first8: str) -> int | None:
    """The Brønnøysund MOD11 check digit of a Norwegian organisation number's first 8 digits.

    None when the remainder leaves 10: no organisation number starts with those digits.
    """
    remainder = sum(int(d) * w for d, w in zip(first8, _ORGNR_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 0
    digit = 11 - remainder
    return None if digit == 10 else digit


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of a GTIN/GLN body: weights 3,1,3,... from the rightmost digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def luhn_check_digit(body: str) -> int:
    """The Luhn check digit that completes ``body`` (every second digit from the right doubled)."""
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def mod97_check(body: str) -> int:
    """Belgian enterprise number: the last two digits are 97 minus the first eight modulo 97."""
    return 97 - int(body) % 97


# --- per-ICD value checks ---------------------------------------------------------------------------

_DIGITS = {n: re.compile(rf"[0-9]{{{n}}}") for n in (9, 10, 13)}
_NO_VAT = re.compile(r"no([0-9]{9})mva", re.IGNORECASE)
_BE_EN = re.compile(r"[01][0-9]{9}")


def _norwegian_orgnr(number: str) -> str | None:
    if not _DIGITS[9].fullmatch(number):
        return "a Norwegian organisation number is 9 digits"
    expected = mod11_check_digit(number[:8])
    if expected is None:
        return f"no organisation number can start with {number[:8]} (MOD11 leaves no check digit)"
    if int(number[8]) != expected:
        return f"check digit should be {expected}"
    return None


def _norwegian_vat(value: str) -> str | None:
    match = _NO_VAT.fullmatch(value)
    if match is None:
        return "a Norwegian VAT number is NO, 9 digits and MVA"
    return _norwegian_orgnr(match.group(1))


def _gln(value: str) -> str | None:
    if not _DIGITS[13].fullmatch(value):
        return "a GLN is 13 digits"
    expected = gs1_check_digit(value[:12])
    if int(value[12]) != expected:
        return f"check digit should be {expected}"
    return None


def _swedish_orgnr(value: str) -> str | None:
    if not _DIGITS[10].fullmatch(value):
        return "a Swedish organisation number is 10 digits"
    expected = luhn_check_digit(value[:9])
    if int(value[9]) != expected:
        return f"check digit should be {expected}"
    return None


def _belgian_enterprise(value: str) -> str | None:
    if not _BE_EN.fullmatch(value):
        return "a Belgian enterprise number is 10 digits starting with 0 or 1"
    expected = mod97_check(value[:8])
    if int(value[8:]) != expected:
        return f"check digits should be {expected:02d}"
    return None


_CHECKS: Mapping[str, Callable[[str], str | None]] = {
    "0007": _swedish_orgnr,
    "0088": _gln,
    "0192": _norwegian_orgnr,
    "0208": _belgian_enterprise,
    "9908": _norwegian_orgnr,
    "9909": _norwegian_vat,
}


def has_check(code: str) -> bool:
    """Whether the identifiers of this ICD get a syntax and check digit test here."""
    return code in _CHECKS


def value_problem(code: str, identifier: str) -> str | None:
    """What is wrong with ``identifier`` (the part after ``NNNN:``) under its ICD, or None.

    ICDs without a known algorithm are not second-guessed: None.
    """
    check = _CHECKS.get(code)
    return check(identifier) if check else None
