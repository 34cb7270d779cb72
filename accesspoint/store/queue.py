"""The durable work queue: leased rows, so several processes share work and a crashed one's lease expires.

On PostgreSQL a due job is claimed with ``FOR UPDATE SKIP LOCKED`` (concurrent workers never wait on
or take the same row). SQLite has one writer at a time, so a conditional UPDATE in a write
transaction claims atomically there.

A lease is short so that a crashed worker's jobs are soon taken over; a worker that is alive but
slow (a long send on a loaded machine) keeps its lease by renewing it (``held``), so the job is
never run twice at once. One lease is told from the next by the owner *and* the attempt count, so
a worker whose lease expired cannot complete or renew the job another worker took over, even when
both run under the same owner name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.engine import Store
from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import jobs

log = logging.getLogger(__name__)


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


def _this_lease(job: Job) -> sa.ColumnElement[bool]:
    owned = sa.and_(jobs.c.lease_owner == job.lease_owner, jobs.c.attempts == job.attempts)
    return sa.and_(jobs.c.id == job.id, owned)


async def complete(conn: AsyncConnection, job: Job) -> bool:
    """Mark done; False when the lease was lost meanwhile (another worker owns the job now)."""
    result = await conn.execute(jobs.update().where(_this_lease(job)).values(done=True, lease_until=None))
    return result.rowcount == 1


async def reschedule(conn: AsyncConnection, job: Job, run_at: float) -> bool:
    """Release the lease and run again at ``run_at``; False when the lease was lost."""
    result = await conn.execute(
        jobs.update().where(_this_lease(job)).values(run_at=run_at, lease_owner=None, lease_until=None)
    )
    return result.rowcount == 1


async def renew(store: Store, job: Job, seconds: float) -> bool:
    """Extend a held lease to ``seconds`` from now; False when it was lost, completed or released."""
    async with store.begin() as conn:
        result = await conn.execute(
            jobs.update()
            .where(_this_lease(job), jobs.c.done.is_(False), jobs.c.lease_until.is_not(None))
            .values(lease_until=now() + seconds)
        )
    return result.rowcount == 1


@contextlib.asynccontextmanager
async def held(store: Store, job: Job, seconds: float) -> AsyncIterator[None]:
    """Keep ``job`` leased while the block runs, renewing every third of the lease.

    A job done within a third of its lease costs nothing more. The renewal is never cancelled in the
    middle of its statement: the block's end waits for a renewal under way to commit."""
    done = asyncio.Event()

    async def keep() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), seconds / 3)
            if done.is_set():
                return
            try:
                kept = await renew(store, job, seconds)
            except Exception:  # the store is away: try again at the next turn, the lease may still hold
                log.exception("could not renew the lease on job %s", job.id)
                continue
            if not kept:
                if not done.is_set():
                    log.warning("job %s: lease lost; another worker may run it", job.id)
                return

    keeper = asyncio.create_task(keep(), name=f"lease {job.id}")
    try:
        yield
    finally:
        done.set()
        await keeper


async def depth(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(
        sa.select(jobs.c.kind, sa.func.count()).where(jobs.c.done.is_(False)).group_by(jobs.c.kind)
    )
    return {kind: count for kind, count in rows.all()}
