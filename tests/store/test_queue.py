"""The work queue on both engines: leases, expiry, and concurrent workers taking each job once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from accesspoint.store import queue
from accesspoint.store.engine import Store


async def test_lease_complete_reschedule(store: Store) -> None:
    async with store.begin() as conn:
        job_id = await queue.enqueue(conn, "send", "doc_1")
    job = await queue.lease(store, ("send",), "worker-a", 30)
    assert job is not None and job.id == job_id and job.attempts == 1
    assert await queue.lease(store, ("send",), "worker-b", 30) is None  # leased
    async with store.begin() as conn:
        assert await queue.reschedule(conn, job, run_at=0)
    again = await queue.lease(store, ("send",), "worker-b", 30)
    assert again is not None and again.attempts == 2
    async with store.begin() as conn:
        assert not await queue.complete(conn, job)  # worker-a lost the lease
        assert await queue.complete(conn, again)
        assert await queue.depth(conn) == {}
    assert await queue.lease(store, ("send",), "worker-a", 30) is None


async def test_expired_lease_is_taken_over(store: Store) -> None:
    async with store.begin() as conn:
        await queue.enqueue(conn, "send", "doc_1")
    crashed = await queue.lease(store, ("send",), "crashed", 0.05)
    assert crashed is not None
    await asyncio.sleep(0.1)
    taken = await queue.lease(store, ("send",), "survivor", 30)
    assert taken is not None and taken.id == crashed.id
    async with store.begin() as conn:
        assert not await queue.complete(conn, crashed)
        assert await queue.complete(conn, taken)


async def test_kinds_and_due_time(store: Store) -> None:
    async with store.begin() as conn:
        await queue.enqueue(conn, "webhook", "w1")
        await queue.enqueue(conn, "send", "later", run_at=4_000_000_000)
    assert await queue.lease(store, ("send",), "w", 30) is None
    job = await queue.lease(store, ("send", "webhook"), "w", 30)
    assert job is not None and job.kind == "webhook"


async def test_concurrent_workers_take_each_job_exactly_once(store: Store) -> None:
    async with store.begin() as conn:
        for i in range(200):
            await queue.enqueue(conn, "send", f"doc_{i}")
    taken: Counter[str] = Counter()

    async def worker(name: str) -> None:
        while True:
            job = await queue.lease(store, ("send",), name, 60)
            if job is None:
                return
            taken[job.ref] += 1
            async with store.begin() as conn:
                assert await queue.complete(conn, job)

    await asyncio.gather(*(worker(f"w{i}") for i in range(8)))
    assert len(taken) == 200
    assert set(taken.values()) == {1}


async def test_a_held_lease_outlives_its_length(store: Store) -> None:
    async with store.begin() as conn:
        await queue.enqueue(conn, "send", "doc_1")
    job = await queue.lease(store, ("send",), "slow", 0.3)
    assert job is not None
    async with queue.held(store, job, 0.3):
        for _ in range(6):  # 1.2 s: four times the lease
            await asyncio.sleep(0.2)
            assert await queue.lease(store, ("send",), "other", 30) is None
        async with store.begin() as conn:
            assert await queue.complete(conn, job)
    assert await queue.lease(store, ("send",), "other", 30) is None


async def test_a_lease_no_longer_held_expires(store: Store) -> None:
    async with store.begin() as conn:
        await queue.enqueue(conn, "send", "doc_1")
    job = await queue.lease(store, ("send",), "slow", 0.3)
    assert job is not None
    with pytest.raises(RuntimeError):
        async with queue.held(store, job, 0.3):
            raise RuntimeError("the worker's step failed")
    await asyncio.sleep(0.4)
    taken = await queue.lease(store, ("send",), "other", 30)
    assert taken is not None and taken.id == job.id


async def test_a_stale_lease_of_the_same_owner_cannot_complete_or_renew(store: Store) -> None:
    """Loops of one process share an owner name: the attempt count tells their leases apart."""
    async with store.begin() as conn:
        await queue.enqueue(conn, "send", "doc_1")
    stale = await queue.lease(store, ("send",), "worker", 0.05)
    assert stale is not None
    await asyncio.sleep(0.1)
    current = await queue.lease(store, ("send",), "worker", 30)
    assert current is not None and current.id == stale.id
    assert not await queue.renew(store, stale, 30)
    async with store.begin() as conn:
        assert not await queue.complete(conn, stale)
        assert not await queue.reschedule(conn, stale, run_at=0)
    assert await queue.renew(store, current, 30)
    async with store.begin() as conn:
        assert await queue.complete(conn, current)
    assert not await queue.renew(store, current, 30)  # a completed job is not leased again
