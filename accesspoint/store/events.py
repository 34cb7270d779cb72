"""The append-only event log: every step of every document, with time, actor and reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import now
from accesspoint.store.schema import events


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    subject: str
    kind: str
    actor: str
    detail: dict[str, Any]
    at: float


async def record(
    conn: AsyncConnection,
    subject: str,
    kind: str,
    *,
    tenant_id: str | None,
    actor: str = "ehfgate",
    **detail: Any,
) -> None:
    await conn.execute(
        events.insert().values(
            tenant_id=tenant_id, subject=subject, kind=kind, actor=actor, detail=detail, at=now()
        )
    )


async def history(conn: AsyncConnection, subject: str, tenant_id: str | None = None) -> list[Event]:
    query = sa.select(events).where(events.c.subject == subject).order_by(events.c.seq)
    if tenant_id is not None:
        query = query.where(events.c.tenant_id == tenant_id)
    rows = (await conn.execute(query)).all()
    return [Event(r.seq, r.subject, r.kind, r.actor, r.detail or {}, r.at) for r in rows]
