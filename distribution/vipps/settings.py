"""A tenant's Vipps settings (``tenant_settings`` row ``vipps``) and credentials (sealed ``vipps``).

``long_living``: the sales unit is approved by Vipps for long-living payment requests, so a request
may stay open until the invoice's due date (``expiresAt``); without it Vipps' own short timeout
applies and ``expiresAt`` must not be sent (Vipps refuses it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from distribution.methods.base import SettingsError
from distribution.storage.channels import url_problem

NAME = "vipps"
_MSN = re.compile(r"[0-9]{4,6}")
SECRET_FIELDS = ("client_id", "client_secret", "subscription_key", "webhook_secret")


@dataclass(frozen=True, slots=True)
class VippsSettings:
    base_url: str
    merchant_serial_number: str
    long_living: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "merchant_serial_number": self.merchant_serial_number,
            "long_living": self.long_living,
        }


@dataclass(frozen=True, slots=True)
class VippsSecrets:
    client_id: str
    client_secret: str
    subscription_key: str
    webhook_secret: str | None = None


def vipps_settings(value: Any) -> VippsSettings:
    """Raises SettingsError naming the setting that is wrong."""
    if not isinstance(value, dict):
        raise SettingsError("vipps settings must be an object")
    unknown = sorted(set(value) - {"base_url", "merchant_serial_number", "long_living"})
    if unknown:
        raise SettingsError(f"unknown vipps setting {unknown[0]!r}")
    why = url_problem(value.get("base_url"))
    if why is not None:
        raise SettingsError(f"base_url {why}")
    msn = value.get("merchant_serial_number")
    if not isinstance(msn, str) or not _MSN.fullmatch(msn):
        raise SettingsError("merchant_serial_number must be the sales unit's 4-6 digit number")
    long_living = value.get("long_living", False)
    if not isinstance(long_living, bool):
        raise SettingsError("long_living must be true or false")
    return VippsSettings(value["base_url"].rstrip("/"), msn, long_living)


def vipps_secrets(value: Any, *, partial: bool = False) -> VippsSecrets:
    """``webhook_secret`` may come later (Vipps answers it when the webhook is registered)."""
    if not isinstance(value, dict):
        raise SettingsError("vipps secrets must be an object")
    unknown = sorted(set(value) - set(SECRET_FIELDS))
    if unknown:
        raise SettingsError(f"unknown vipps secret {unknown[0]!r}")
    for key in SECRET_FIELDS:
        item = value.get(key)
        if item is None and (key == "webhook_secret" or partial):
            continue
        if not isinstance(item, str) or not item or len(item) > 4096:
            raise SettingsError(f"secret {key} must be a non-empty string")
    return VippsSecrets(
        value.get("client_id", ""),
        value.get("client_secret", ""),
        value.get("subscription_key", ""),
        value.get("webhook_secret"),
    )
