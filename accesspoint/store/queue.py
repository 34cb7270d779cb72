"""The durable work queue: leased rows, so several processes share work and a crashed one's lease expires.

On PostgreSQL a due job is claimed with ``FOR UPDATE SKIP LOCKED`` (concurrent workers never wait on
or take the same row). SQLite has one writer at a time, so a conditional UPDATE in a write
transaction claims atomically there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.engine import Store
from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import jobs


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str
    ref: str
    attempts: int
    lease_owner: str


async def enqueue(conn: AsyncConnection, kind: str, ref: str, *, run_at: float | None = None) -> str:
    job_id = new_id("job")
    await conn.execute(
        jobs.insert().values(
            id=job_id, kind=kind, ref=ref, run_at=run_at or now(), attempts=0, done=False, created_at=now()
        )
    )
    return job_id


def _due(kinds: tuple[str, ...], at: float) -> sa.Select[Any]:
    return (
        sa.select(jobs.c.id)
        .where(
            jobs.c.done.is_(False),
            jobs.c.kind.in_(kinds),
            jobs.c.run_at <= at,
            sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < at),
        )
        .order_by(jobs.c.run_at)
        .limit(1)
    )


async def lease(store: Store, kinds: tuple[str, ...], owner: str, seconds: float) -> Job | None:
    """Claim one due job for ``seconds``; None when nothing is due.

    One statement (UPDATE ... WHERE id = (the first due job) RETURNING): the queue is asked many
    times a second, and each round trip is paid by every step of every document."""
    at = now()
    due = _due(kinds, at)
    if not store.is_sqlite:
        due = due.with_for_update(skip_locked=True)
    async with store.begin() as conn:
        claimed = await conn.execute(
            jobs.update()
            .where(jobs.c.id == due.scalar_subquery(), jobs.c.done.is_(False))
            .where(sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < at))
            .values(lease_owner=owner, lease_until=at + seconds, attempts=jobs.c.attempts + 1)
            .returning(jobs.c.id, jobs.c.kind, jobs.c.ref, jobs.c.attempts)
        )
        row = claimed.first()
    if row is None:
        return None
    return Job(row.id, row.kind, row.ref, row.attempts, owner)


async def complete(conn: AsyncConnection, job: Job) -> bool:
    """Mark done; False when the lease was lost meanwhile (another worker owns the job now)."""
    result = await conn.execute(
        jobs.update()
        .where(jobs.c.id == job.id, jobs.c.lease_owner == job.lease_owner)
        .values(done=True, lease_until=None)
    )
    return result.rowcount == 1


async def reschedule(conn: AsyncConnection, job: Job, run_at: float) -> bool:
    """Release the lease and run again at ``run_at``; False when the lease was lost."""
    result = await conn.execute(
        jobs.update()
        .where(jobs.c.id == job.id, jobs.c.lease_owner == job.lease_owner)
        .values(run_at=run_at, lease_owner=None, lease_until=None)
    )
    return result.rowcount == 1


async def depth(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(
        sa.select(jobs.c.kind, sa.func.count()).where(jobs.c.done.is_(False)).group_by(jobs.c.kind)
    )
    return {kind: count for kind, count in rows.all()}
