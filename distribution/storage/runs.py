"""The tenant's run (``distribution_runs``): its methods in priority order, each with its settings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import now
from distribution.storage.schema import distribution_runs


async def get_run(conn: AsyncConnection, tenant_id: str) -> list[dict[str, Any]] | None:
    """The saved methods (``[{"method": "ehf"}, {"method": "email", ...settings}]``), None if never saved."""
    row = (
        await conn.execute(
            sa.select(distribution_runs.c.methods).where(distribution_runs.c.tenant_id == tenant_id)
        )
    ).first()
    return [dict(entry) for entry in row.methods] if row is not None else None


async def save_run(conn: AsyncConnection, tenant_id: str, methods: list[dict[str, Any]]) -> None:
    updated = await conn.execute(
        distribution_runs.update()
        .where(distribution_runs.c.tenant_id == tenant_id)
        .values(methods=methods, updated_at=now())
    )
    if updated.rowcount == 0:
        await conn.execute(
            distribution_runs.insert().values(tenant_id=tenant_id, methods=methods, updated_at=now())
        )
