"""A tenant's settings for one payment channel (``tenant_settings``, plain JSON) and its credentials
(``tenant_secrets``, sealed), read together the way a delivery method needs them.

Methods get the store and the configuration, not the server's :class:`SecretBox`; :func:`box_for`
builds the same box from ``secrets.key`` (or the key file next to the data) that the server uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.config import Config
from accesspoint.secretbox import SecretBox, SecretBoxError, secret_box
from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from distribution.storage.payments_schema import tenant_settings
from distribution.storage.secrets import read_secret


@dataclass(frozen=True, slots=True)
class Channel:
    """``settings``/``secrets`` are None when the tenant has not given them."""

    settings: dict[str, Any] | None
    secrets: dict[str, Any] | None


def box_for(config: Config) -> SecretBox:
    return secret_box(config)


async def load_settings(conn: AsyncConnection, tenant_id: str, name: str) -> dict[str, Any] | None:
    value = (
        await conn.execute(
            sa.select(tenant_settings.c.value).where(
                tenant_settings.c.tenant_id == tenant_id, tenant_settings.c.name == name
            )
        )
    ).scalar_one_or_none()
    return dict(value) if isinstance(value, dict) else None


async def save_settings(conn: AsyncConnection, tenant_id: str, name: str, value: dict[str, Any]) -> None:
    key = (tenant_settings.c.tenant_id == tenant_id) & (tenant_settings.c.name == name)
    updated = await conn.execute(tenant_settings.update().where(key).values(value=value, updated_at=now()))
    if updated.rowcount == 0:
        await conn.execute(
            tenant_settings.insert().values(tenant_id=tenant_id, name=name, value=value, updated_at=now())
        )


async def load_channel(store: Store, box: SecretBox, tenant_id: str, name: str) -> Channel:
    """A sealed value this key cannot open counts as not given (the tenant must set it again)."""
    async with store.connect() as conn:
        settings = await load_settings(conn, tenant_id, name)
        try:
            secrets = await read_secret(conn, box, tenant_id, name)
        except SecretBoxError:
            secrets = None
    return Channel(settings, secrets)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def url_problem(value: object) -> str | None:
    """Why ``value`` is not a usable partner base URL (https, or plain http to this machine only)."""
    from urllib.parse import urlsplit

    if not isinstance(value, str) or not value or len(value) > 2000:
        return "must be an https URL"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "is not a URL"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return "must be an https URL (plain http only to a loopback address)"
