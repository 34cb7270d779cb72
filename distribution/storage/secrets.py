"""A tenant's channel credentials, sealed with ``secrets.key`` (accesspoint.secretbox) at rest.

Callers get plaintext only through :func:`read_secret`, for the one request that needs it; listings
say which secrets exist, never what they are.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.secretbox import SecretBox
from accesspoint.store.ids import now
from distribution.storage.payments_schema import tenant_secrets


def _purpose(tenant_id: str, name: str) -> str:
    return f"tenant:{tenant_id}:{name}"


async def write_secret(
    conn: AsyncConnection, box: SecretBox, tenant_id: str, name: str, value: dict[str, Any]
) -> None:
    sealed = box.seal(json.dumps(value, sort_keys=True).encode(), _purpose(tenant_id, name))
    key = (tenant_secrets.c.tenant_id == tenant_id) & (tenant_secrets.c.name == name)
    updated = await conn.execute(tenant_secrets.update().where(key).values(sealed=sealed, updated_at=now()))
    if updated.rowcount == 0:
        await conn.execute(
            tenant_secrets.insert().values(tenant_id=tenant_id, name=name, sealed=sealed, updated_at=now())
        )


async def read_secret(
    conn: AsyncConnection, box: SecretBox, tenant_id: str, name: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(tenant_secrets.c.sealed).where(
                tenant_secrets.c.tenant_id == tenant_id, tenant_secrets.c.name == name
            )
        )
    ).first()
    if row is None:
        return None
    value: dict[str, Any] = json.loads(box.open(bytes(row.sealed), _purpose(tenant_id, name)))
    return value


async def secret_names(conn: AsyncConnection, tenant_id: str) -> list[str]:
    rows = await conn.execute(
        sa.select(tenant_secrets.c.name)
        .where(tenant_secrets.c.tenant_id == tenant_id)
        .order_by(tenant_secrets.c.name)
    )
    return list(rows.scalars())
