"""Tenants, their API keys (only a hash is stored) and the participant ids they receive for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.peppol.identifiers import participant as parse_participant
from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import api_keys, participants, tenants

KEY_PREFIX = "ehfg"


class TenantError(ValueError):
    """A tenant operation that cannot be done (unknown tenant, name taken, participant taken)."""


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_tenant(conn: AsyncConnection, name: str) -> Tenant:
    name = name.strip()
    if not name:
        raise TenantError("a tenant needs a name")
    tenant = Tenant(new_id("t"), name)
    try:
        async with conn.begin_nested():
            await conn.execute(tenants.insert().values(id=tenant.id, name=name, created_at=now()))
    except IntegrityError:
        raise TenantError(f"tenant {name!r} already exists") from None
    return tenant


async def get_tenant(conn: AsyncConnection, name: str) -> Tenant:
    row = (await conn.execute(sa.select(tenants.c.id, tenants.c.name).where(tenants.c.name == name))).first()
    if row is None:
        raise TenantError(f"no tenant named {name!r}")
    return Tenant(row.id, row.name)


async def create_api_key(conn: AsyncConnection, tenant: Tenant, label: str | None = None) -> str:
    """A new key for ``tenant``; the plaintext is returned once and never stored."""
    lookup = secrets.token_hex(8)
    key = f"{KEY_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"
    await conn.execute(
        api_keys.insert().values(
            id=new_id("key"),
            tenant_id=tenant.id,
            lookup=lookup,
            key_hash=_hash(key),
            label=label,
            created_at=now(),
        )
    )
    return key


async def authenticate(conn: AsyncConnection, key: str) -> Tenant | None:
    """The tenant a presented key belongs to, or None. The hash comparison is constant-time."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 16:
        return None
    row = (
        await conn.execute(
            sa.select(api_keys.c.key_hash, api_keys.c.revoked_at, tenants.c.id, tenants.c.name)
            .join(tenants, tenants.c.id == api_keys.c.tenant_id)
            .where(api_keys.c.lookup == parts[1])
        )
    ).first()
    expected = row.key_hash if row is not None else _hash("no such key")
    matches = hmac.compare_digest(expected, _hash(key))
    if row is None or not matches or row.revoked_at is not None:
        return None
    return Tenant(row.id, row.name)


async def add_participant(conn: AsyncConnection, tenant: Tenant, participant_id: str) -> str:
    """Register ``participant_id`` as received by ``tenant``; returns the normalised full form."""
    full = str(parse_participant(participant_id))
    existing = (
        await conn.execute(sa.select(participants.c.tenant_id).where(participants.c.participant == full))
    ).first()
    if existing is not None:
        if existing.tenant_id == tenant.id:
            return full
        raise TenantError(f"participant {full} is already registered to another tenant")
    await conn.execute(
        participants.insert().values(id=new_id("p"), tenant_id=tenant.id, participant=full, created_at=now())
    )
    return full


async def tenant_for_participant(conn: AsyncConnection, participant_id: str) -> str | None:
    """The id of the tenant receiving for ``participant_id`` (None: not serviced here)."""
    full = str(parse_participant(participant_id))
    row = (
        await conn.execute(sa.select(participants.c.tenant_id).where(participants.c.participant == full))
    ).first()
    return row.tenant_id if row is not None else None
