"""A tenant's eFaktura adapter (``tenant_settings`` row ``efaktura``) and its API key (sealed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distribution.methods.base import SettingsError
from distribution.storage.channels import url_problem

NAME = "efaktura"
SECRET_FIELDS = ("api_key",)


@dataclass(frozen=True, slots=True)
class EfakturaSettings:
    base_url: str


def efaktura_settings(value: Any) -> EfakturaSettings:
    if not isinstance(value, dict):
        raise SettingsError("efaktura settings must be an object")
    unknown = sorted(set(value) - {"base_url"})
    if unknown:
        raise SettingsError(f"unknown efaktura setting {unknown[0]!r}")
    why = url_problem(value.get("base_url"))
    if why is not None:
        raise SettingsError(f"base_url {why}")
    return EfakturaSettings(value["base_url"].rstrip("/"))


def efaktura_secrets(value: Any) -> str:
    if not isinstance(value, dict) or set(value) - set(SECRET_FIELDS):
        raise SettingsError("efaktura secrets must be an object with api_key")
    api_key = value.get("api_key")
    if not isinstance(api_key, str) or not api_key or len(api_key) > 4096:
        raise SettingsError("secret api_key must be a non-empty string")
    return api_key
