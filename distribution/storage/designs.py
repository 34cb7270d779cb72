"""The tenant's design (``distribution_designs``): settings as JSON, the logo as a blob."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.blobs import put_blob
from accesspoint.store.ids import now
from accesspoint.store.schema import blobs
from distribution.storage.schema import distribution_designs


@dataclass(frozen=True, slots=True)
class StoredDesign:
    settings: dict[str, Any] = field(default_factory=dict)  # colours, footer_text, language, email_from
    logo: bytes | None = field(default=None, repr=False)


async def get_design(conn: AsyncConnection, tenant_id: str) -> StoredDesign:
    """The saved design, or an empty one (every setting at its default) when none was saved."""
    logo = blobs.alias("logo")
    row = (
        await conn.execute(
            sa.select(distribution_designs.c.settings, logo.c.content)
            .select_from(distribution_designs.outerjoin(logo, logo.c.id == distribution_designs.c.logo_blob))
            .where(distribution_designs.c.tenant_id == tenant_id)
        )
    ).first()
    if row is None:
        return StoredDesign()
    return StoredDesign(dict(row.settings or {}), bytes(row.content) if row.content is not None else None)


async def save_design(conn: AsyncConnection, tenant_id: str, design: StoredDesign) -> None:
    logo_blob = None
    if design.logo is not None:
        media_type = "image/png" if design.logo.startswith(b"\x89PNG") else "image/jpeg"
        logo_blob = await put_blob(conn, design.logo, media_type)
    values = {"settings": design.settings, "logo_blob": logo_blob, "updated_at": now()}
    updated = await conn.execute(
        distribution_designs.update().where(distribution_designs.c.tenant_id == tenant_id).values(**values)
    )
    if updated.rowcount == 0:
        await conn.execute(distribution_designs.insert().values(tenant_id=tenant_id, **values))
