"""The append-only event log: every step of every document, with time, actor and reason."""

from __future__ import annotations

from collections.abc import Sequence
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


async def record_many(
    conn: AsyncConnection,
    subject: str,
    entries: Sequence[tuple[str, dict[str, Any]]],
    *,
    tenant_id: str | None,
    actor: str = "ehfgate",
) -> None:
    """Several events of one subject, in order, in one statement (kind and detail each)."""
    if not entries:
        return
    at = now()
    rows = [
        {"tenant_id": tenant_id, "subject": subject, "kind": kind, "actor": actor, "detail": detail, "at": at}
        for kind, detail in entries
    ]
    await conn.execute(events.insert(), rows)


async def history(conn: AsyncConnection, subject: str, tenant_id: str | None = None) -> list[Event]:
    query = sa.select(events).where(events.c.subject == subject).order_by(events.c.seq)
    if tenant_id is not None:
        query = query.where(events.c.tenant_id == tenant_id)
    rows = (await conn.execute(query)).all()
    return [Event(r.seq, r.subject, r.kind, r.actor, r.detail or {}, r.at) for r in rows]
