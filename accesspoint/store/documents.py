"""Outbound and inbound documents: rows, status changes and tenant-scoped reads.

Reads always take the tenant: a document of another tenant is simply not found (so the API answers
404 and never reveals that the id exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import evidence, inbound, outbound


@dataclass(frozen=True, slots=True)
class Outbound:
    id: str
    tenant_id: str
    status: str
    sender: str
    receiver: str
    document_type: str
    process: str
    instance_id: str
    message_id: str
    payload_blob: str
    attempts: int
    last_error: str | None
    endpoint_url: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Inbound:
    id: str
    tenant_id: str
    status: str
    message_id: str
    conversation_id: str | None
    from_party: str | None
    sender: str
    receiver: str
    document_type: str
    process: str
    payload_blob: str
    report: dict[str, Any] | None
    created_at: float
    updated_at: float
    acked_at: float | None


def _outbound(row: Any) -> Outbound:
    return Outbound(**{field: getattr(row, field) for field in Outbound.__dataclass_fields__})


def _inbound(row: Any) -> Inbound:
    return Inbound(**{field: getattr(row, field) for field in Inbound.__dataclass_fields__})


async def get_outbound(
    conn: AsyncConnection, document_id: str, tenant_id: str | None = None
) -> Outbound | None:
    query = sa.select(outbound).where(outbound.c.id == document_id)
    if tenant_id is not None:
        query = query.where(outbound.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).first()
    return _outbound(row) if row is not None else None


async def outbound_by_idempotency_key(conn: AsyncConnection, tenant_id: str, key: str) -> Outbound | None:
    query = sa.select(outbound).where(outbound.c.tenant_id == tenant_id, outbound.c.idempotency_key == key)
    row = (await conn.execute(query)).first()
    return _outbound(row) if row is not None else None


async def update_outbound(conn: AsyncConnection, document_id: str, **values: Any) -> None:
    await conn.execute(
        outbound.update().where(outbound.c.id == document_id).values(updated_at=now(), **values)
    )


async def get_inbound(
    conn: AsyncConnection, document_id: str, tenant_id: str | None = None
) -> Inbound | None:
    query = sa.select(inbound).where(inbound.c.id == document_id)
    if tenant_id is not None:
        query = query.where(inbound.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).first()
    return _inbound(row) if row is not None else None


async def update_inbound(conn: AsyncConnection, document_id: str, **values: Any) -> None:
    await conn.execute(inbound.update().where(inbound.c.id == document_id).values(updated_at=now(), **values))


async def list_inbound(
    conn: AsyncConnection, tenant_id: str, *, status: str | None, after: tuple[float, str] | None, limit: int
) -> list[Inbound]:
    """A page of the tenant's inbox, oldest first, after the cursor ``(created_at, id)``."""
    query = sa.select(inbound).where(inbound.c.tenant_id == tenant_id)
    if status is not None:
        query = query.where(inbound.c.status == status)
    if after is not None:
        created, last_id = after
        query = query.where(
            sa.or_(
                inbound.c.created_at > created,
                sa.and_(inbound.c.created_at == created, inbound.c.id > last_id),
            )
        )
    rows = (await conn.execute(query.order_by(inbound.c.created_at, inbound.c.id).limit(limit))).all()
    return [_inbound(row) for row in rows]


async def evidence_of(conn: AsyncConnection, document_id: str) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            sa.select(evidence).where(evidence.c.document_id == document_id).order_by(evidence.c.created_at)
        )
    ).all()
    return [
        {"id": r.id, "kind": r.kind, "blob": r.blob_id, "detail": r.detail or {}, "created_at": r.created_at}
        for r in rows
    ]


async def add_evidence(
    conn: AsyncConnection,
    direction: str,
    document_id: str,
    kind: str,
    blob_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Keep a piece of evidence (raw message, receipt, signal) of a document's exchange."""
    await conn.execute(
        evidence.insert().values(
            id=new_id("ev"),
            direction=direction,
            document_id=document_id,
            kind=kind,
            blob_id=blob_id,
            detail=detail,
            created_at=now(),
        )
    )
