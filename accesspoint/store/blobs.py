"""Payload blobs with their sha256, written in the caller's transaction."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import blobs


async def put_blob(
    conn: AsyncConnection, content: bytes, media_type: str = "application/octet-stream"
) -> str:
    blob_id = new_id("blob")
    await conn.execute(
        blobs.insert().values(
            id=blob_id,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            media_type=media_type,
            content=content,
            created_at=now(),
        )
    )
    return blob_id


async def get_blob(conn: AsyncConnection, blob_id: str) -> tuple[bytes, str]:
    """Content and media type; raises KeyError when absent."""
    row = (
        await conn.execute(sa.select(blobs.c.content, blobs.c.media_type).where(blobs.c.id == blob_id))
    ).first()
    if row is None:
        raise KeyError(blob_id)
    return bytes(row.content), row.media_type
