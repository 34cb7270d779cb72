"""A tenant's factoring partner (``tenant_settings`` row ``factoring``) and its credentials (sealed).

``factor`` is who buys the invoices: name, organisation number and the account the buyer pays to;
``kid_algorithm`` (mod10 | mod11) when the factor wants its own KID made from the invoice number.
``assignment_text`` is the notice that the invoice has been assigned (put in the document note).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from distribution.methods.base import SettingsError
from distribution.storage.channels import url_problem

NAME = "factoring"
SECRET_FIELDS = ("api_key", "callback_secret")
DEFAULT_ASSIGNMENT = (
    "Denne fakturaen er overdratt og kan med frigjørende virkning bare betales til {factor}, konto {account}."
)
_ORGNO = re.compile(r"[0-9]{9}")
_ACCOUNT = re.compile(r"[0-9]{11}|[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}")


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    organisation_number: str
    account: str
    kid_algorithm: Literal["mod10", "mod11"] | None = None


@dataclass(frozen=True, slots=True)
class FactoringSettings:
    base_url: str
    factor: Factor
    assignment_text: str

    def notice(self) -> str:
        return self.assignment_text.replace("{factor}", self.factor.name).replace(
            "{account}", self.factor.account
        )


@dataclass(frozen=True, slots=True)
class FactoringSecrets:
    api_key: str
    callback_secret: str | None = None


def _orgno_checks(orgno: str) -> bool:
    """The organisation number's MOD11 check digit (Peppol rule PEPPOL-COMMON-R041 checks it too)."""
    total = sum(
        int(digit) * weight for digit, weight in zip(orgno[:8], (3, 2, 7, 6, 5, 4, 3, 2), strict=True)
    )
    check = (11 - total % 11) % 11
    return check != 10 and check == int(orgno[8])


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise SettingsError(f"{what} must be a non-empty string of at most {limit} characters")
    return value.strip()


def factoring_settings(value: Any) -> FactoringSettings:
    if not isinstance(value, dict):
        raise SettingsError("factoring settings must be an object")
    unknown = sorted(set(value) - {"base_url", "factor", "assignment_text"})
    if unknown:
        raise SettingsError(f"unknown factoring setting {unknown[0]!r}")
    why = url_problem(value.get("base_url"))
    if why is not None:
        raise SettingsError(f"base_url {why}")
    factor = value.get("factor")
    if not isinstance(factor, dict):
        raise SettingsError("factor must be an object with name, organisation_number and account")
    unknown = sorted(set(factor) - {"name", "organisation_number", "account", "kid_algorithm"})
    if unknown:
        raise SettingsError(f"unknown factor setting {unknown[0]!r}")
    name = _text(factor.get("name"), "factor.name", 200)
    orgno = factor.get("organisation_number")
    if not isinstance(orgno, str) or not _ORGNO.fullmatch(orgno) or not _orgno_checks(orgno):
        raise SettingsError("factor.organisation_number must be a 9-digit Norwegian organisation number")
    account = factor.get("account")
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account.replace(" ", "").replace(".", "")):
        raise SettingsError("factor.account must be an 11-digit Norwegian account number or an IBAN")
    algorithm = factor.get("kid_algorithm")
    if algorithm not in (None, "mod10", "mod11"):
        raise SettingsError("factor.kid_algorithm must be mod10 or mod11")
    text = value.get("assignment_text", DEFAULT_ASSIGNMENT)
    return FactoringSettings(
        value["base_url"].rstrip("/"),
        Factor(name, orgno, account.replace(" ", "").replace(".", ""), algorithm),
        _text(text, "assignment_text", 1000),
    )


def factoring_secrets(value: Any) -> FactoringSecrets:
    if not isinstance(value, dict):
        raise SettingsError("factoring secrets must be an object")
    unknown = sorted(set(value) - set(SECRET_FIELDS))
    if unknown:
        raise SettingsError(f"unknown factoring secret {unknown[0]!r}")
    api_key = value.get("api_key")
    if not isinstance(api_key, str) or not api_key or len(api_key) > 4096:
        raise SettingsError("secret api_key must be a non-empty string")
    callback = value.get("callback_secret")
    if callback is not None and (not isinstance(callback, str) or not callback or len(callback) > 4096):
        raise SettingsError("secret callback_secret must be a non-empty string")
    return FactoringSecrets(api_key, callback)
