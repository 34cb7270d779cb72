"""The run engine: works one invoice's plan on the access point's durable queue, one step per lease.

Each accepted invoice has one job (kind ``distribution``, ref = invoice id). A step looks at the
method in hand (``invoices.position`` into ``invoices.plan``) and does one thing: asks a PENDING
delivery for its status, or checks eligibility and, if eligible, delivers. The outcome decides what
comes next: DELIVERED ends the run (``delivered``, or ``sold`` when the evidence says
``{"sold": true}``); PENDING asks again after ``distribution.status_poll_seconds`` (or when
:func:`distribution.run.wake.wake` is called); TRANSIENT tries the same method again after
``distribution.retry_schedule[n]`` (±20 % jitter) and falls through once the schedule is used up;
CANNOT_RECEIVE and PERMANENT fall through at once. With the plan exhausted the invoice is
``undeliverable`` with every attempt's reason. Every check, attempt and outcome is an event, and a
final status queues the ``invoice.final`` webhook in the same transaction that sets it.

Crash safety. The attempt row (outcome ``started``) and its attempt key are committed *before*
``deliver`` runs, and the outcome is committed after it returns. If the process dies in between,
the job's lease expires and the next step finds the ``started`` row: it does not check eligibility
or mint a new key, it calls ``deliver`` again with the *same* attempt key. Methods pass that key on
as their idempotency key (e-mail derives its Message-ID from it, print providers and Peppol dedupe
on it), so a resumed run cannot deliver the same invoice twice through one attempt. Every write
after a method call first re-checks the job's lease, so a step whose lease was taken over meanwhile
changes nothing.

A method that raises is a TRANSIENT outcome with the exception's text; a method that outruns the
lease is stopped and counted the same way. The run itself never crashes on a method. The one
exception: a failing ``status`` call of a PENDING delivery keeps it PENDING and asks again later,
since treating it as a failed delivery would send the invoice a second time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint import failpoints
from accesspoint.config import Config
from accesspoint.pipeline import webhooks
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.store import queue
from accesspoint.store.engine import Store
from accesspoint.store.events import record_many
from accesspoint.store.ids import new_id, now
from distribution.methods.base import DeliveryMethod, Outcome, Result, Services
from distribution.render.pool import PdfRenderer
from distribution.run.context import LoadedInvoice, invoice_context, load_invoice
from distribution.run.plan import Step
from distribution.storage.invoices import (
    STARTED,
    AttemptRow,
    InvoiceRow,
    attempts_of,
    get_invoice,
    insert_attempt,
    new_attempt_key,
    update_attempt,
    update_invoice,
)

log = logging.getLogger("ehfgate.distribution")

JOB_KIND = "distribution"
FINAL_EVENT = "invoice.final"
FINAL_STATUSES = frozenset({"delivered", "sold", "undeliverable", "paid"})
NOT_ELIGIBLE = "not-eligible"
SKIPPED = "skipped"
UNAVAILABLE = "unavailable"
MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class EngineSettings:
    retry_schedule: tuple[float, ...] = (60, 300, 1800, 7200)
    status_poll_seconds: float = 30
    lease_seconds: float = 300
    workers: int = 2
    idle_seconds: float = 0.5

    @classmethod
    def from_config(cls, config: Config) -> EngineSettings:
        section = config.distribution
        return cls(
            retry_schedule=tuple(float(s) for s in section.retry_schedule),
            status_poll_seconds=float(section.status_poll_seconds),
            lease_seconds=float(config.outbound.lease_seconds),
            workers=section.workers,
        )

    @property
    def method_timeout(self) -> float:
        """A partner that never answers must not hold an invoice for ever, though the lease is renewed."""
        return self.lease_seconds * 0.8


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id('d')}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


class Engine:
    """Drives invoices through their plans. ``methods`` are shared by every tenant."""

    def __init__(
        self,
        store: Store,
        methods: Mapping[str, DeliveryMethod],
        config: Config,
        http: aiohttp.ClientSession,
        settings: EngineSettings | None = None,
        doorbell: Doorbell | None = None,
    ) -> None:
        self.store = store
        # Rung after an invoice is queued or woken in this process, so an idle worker starts at once;
        # polling every ``idle_seconds`` stays for work queued by other processes.
        self.doorbell = doorbell or Doorbell()
        self.methods = dict(methods)
        renderer = PdfRenderer(config.distribution.render_processes)
        self.services = Services(store, config, http, renderer)
        self.settings = settings or EngineSettings.from_config(config)
        self.owner = _owner()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, with ``settings.workers`` invoices in flight."""

        async def ring_on_stop() -> None:
            await stop.wait()
            self.doorbell.ring()  # idle workers see ``stop`` now, not at their next poll

        bell = asyncio.create_task(ring_on_stop())
        try:
            await asyncio.gather(*(self._loop(stop) for _ in range(max(1, self.settings.workers))))
        finally:
            bell.cancel()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("distribution step failed")
                worked = False
            if not worked and not stop.is_set():
                await self.doorbell.wait(self.settings.idle_seconds)

    async def run_once(self) -> bool:
        """Lease one due invoice and take one step; False when nothing was due."""
        job = await queue.lease(self.store, (JOB_KIND,), self.owner, self.settings.lease_seconds)
        if job is None:
            return False
        async with queue.held(self.store, job, self.settings.lease_seconds):
            await self.step(job)
        return True

    async def step(self, job: queue.Job) -> None:
        async with self.store.connect() as conn:
            row = await get_invoice(conn, job.ref)
            if row is not None and row.status not in FINAL_STATUSES and row.position < len(row.plan):
                loaded: LoadedInvoice | None = await load_invoice(conn, row)
                attempts = await attempts_of(conn, row.id)
            else:
                loaded, attempts = None, []
        if row is None or row.status in FINAL_STATUSES:
            async with self.store.begin() as conn:
                await queue.complete(conn, job)
            return
        if loaded is None:  # nothing (left) to try
            async with self.store.begin() as conn:
                if await queue.complete(conn, job):
                    await self._undeliverable(conn, row)
            return
        step = Step.from_json(row.plan[row.position])
        method = self.methods.get(step.method)
        if method is None:
            reason = f"method {step.method!r} is not available on this server"
            await self._conclude(
                job, row, step, new_attempt_key(), Result(Outcome.PERMANENT, reason), UNAVAILABLE
            )
            return
        mine = [attempt for attempt in attempts if attempt.method == step.method]
        transients = sum(1 for attempt in mine if attempt.outcome == Outcome.TRANSIENT)
        last = mine[-1] if mine else None
        if last is not None and last.outcome == Outcome.PENDING:
            await self._poll(job, row, step, method, loaded, last, transients)
            return
        # Every try of one method on one invoice shares the first try's key: a retry after a transient
        # failure (which may have reached the other side) or a crash is recognised as the same delivery.
        chain_key = mine[0].id if mine else None
        if last is not None and last.outcome == STARTED:
            # The process died between recording the attempt and its outcome: same key again.
            ctx = invoice_context(loaded, chain_key or last.id, step.settings, self.services)
            async with self.store.begin() as conn:
                await self._event(conn, row, "attempt", method=step.method, attempt_key=last.id, resumed=True)
            result = await self._call(method.deliver(ctx))
            await self._conclude(job, row, step, last.id, result, transients=transients, existing=True)
            return
        key = new_attempt_key()
        ctx = invoice_context(loaded, chain_key or key, step.settings, self.services)
        try:
            verdict = await asyncio.wait_for(method.eligible(ctx), self.settings.method_timeout)
        except Exception as exc:
            result = Result(Outcome.TRANSIENT, f"eligibility check failed: {_describe(exc)}")
            await self._conclude(job, row, step, key, result, transients=transients)
            return
        if not verdict.eligible:
            async with self.store.begin() as conn:
                await self._event(
                    conn, row, "check", method=step.method, eligible=False, reason=verdict.reason
                )
            await self._conclude(
                job, row, step, key, Result(Outcome.CANNOT_RECEIVE, verdict.reason), NOT_ELIGIBLE
            )
            return
        async with self.store.begin() as conn:
            await insert_attempt(conn, row.id, step.method, STARTED, _clip(verdict.reason), attempt_id=key)
            if row.status != "delivering":
                await update_invoice(conn, row.id, status="delivering")
            await self._events(
                conn,
                row,
                ("check", {"method": step.method, "eligible": True, "reason": verdict.reason}),
                ("attempt", {"method": step.method, "attempt_key": key, "resumed": False}),
            )
        failpoints.hit("distribution.after_started")
        result = await self._call(method.deliver(ctx))
        failpoints.hit("distribution.after_deliver")
        await self._conclude(job, row, step, key, result, transients=transients, existing=True)

    async def _poll(
        self,
        job: queue.Job,
        row: InvoiceRow,
        step: Step,
        method: DeliveryMethod,
        loaded: LoadedInvoice,
        attempt: AttemptRow,
        transients: int,
    ) -> None:
        ctx = invoice_context(loaded, attempt.id, step.settings, self.services)
        try:
            result = await asyncio.wait_for(
                method.status(ctx, attempt.reference or ""), self.settings.method_timeout
            )
        except Exception as exc:
            result = Result(Outcome.PENDING, f"status unknown: {_describe(exc)}", attempt.reference)
        if result.outcome == Outcome.PENDING:
            async with self.store.begin() as conn:
                if await queue.reschedule(conn, job, now() + self.settings.status_poll_seconds):
                    await self._event(
                        conn, row, "poll", method=step.method, attempt_key=attempt.id, reason=result.reason
                    )
            return
        await self._conclude(job, row, step, attempt.id, result, transients=transients, existing=True)

    async def _call(self, call: Awaitable[Result]) -> Result:
        """A method's answer; an exception or a call that outruns the lease is a TRANSIENT outcome."""
        try:
            return await asyncio.wait_for(call, self.settings.method_timeout)
        except TimeoutError:
            return Result(Outcome.TRANSIENT, f"no answer within {self.settings.method_timeout:g} s")
        except Exception as exc:
            return Result(Outcome.TRANSIENT, _describe(exc))

    async def _conclude(
        self,
        job: queue.Job,
        row: InvoiceRow,
        step: Step,
        key: str,
        result: Result,
        label: str | None = None,
        *,
        transients: int = 0,
        existing: bool = False,
    ) -> None:
        """Record ``result`` for the attempt ``key`` and move the job on; nothing if the lease was lost."""
        outcome = label or str(result.outcome)
        evidence = dict(result.evidence) or None
        last_method = row.position + 1 >= len(row.plan)
        async with self.store.begin() as conn:
            if result.outcome == Outcome.DELIVERED:
                moved = await queue.complete(conn, job)
            elif result.outcome == Outcome.PENDING:
                moved = await queue.reschedule(conn, job, now() + self.settings.status_poll_seconds)
            elif result.outcome == Outcome.TRANSIENT and transients < len(self.settings.retry_schedule):
                delay = self.settings.retry_schedule[transients] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
                moved = await queue.reschedule(conn, job, now() + delay)
                if moved:
                    await self._event(
                        conn, row, "retry", method=step.method, retry=transients + 1, next_in=round(delay, 3)
                    )
            elif last_method:
                moved = await queue.complete(conn, job)
            else:
                moved = await queue.reschedule(conn, job, now())
            if not moved:
                return  # another worker owns the job now and decides
            values: dict[str, Any] = {"outcome": outcome, "reason": _clip(result.reason)}
            values.update(reference=result.reference, evidence=evidence)
            if existing:
                await update_attempt(conn, key, **values)
            else:
                await insert_attempt(conn, row.id, step.method, attempt_id=key, **values)
            said = (
                "outcome",
                {"method": step.method, "attempt_key": key, "outcome": outcome, "reason": result.reason},
            )
            if result.outcome == Outcome.DELIVERED:
                status = "sold" if (evidence or {}).get("sold") is True else "delivered"
                stored = await update_invoice(conn, row.id, status=status, method=step.method)
                done = (status, {"method": step.method, "reason": result.reason})
                await self._events(conn, row, said, done)
                if stored == "paid":  # money came in with the delivery
                    status = "paid"
                payload = {"id": row.id, "status": status, "method": step.method, "number": row.number}
                await webhooks.notify(conn, row.tenant_id, FINAL_EVENT, payload)
            elif result.outcome == Outcome.PENDING or (
                result.outcome == Outcome.TRANSIENT and transients < len(self.settings.retry_schedule)
            ):
                await self._events(conn, row, said)
                if row.status != "delivering":
                    await update_invoice(conn, row.id, status="delivering")
            elif last_method:
                await self._events(conn, row, said)
                await update_invoice(conn, row.id, position=row.position + 1)
                await self._undeliverable(conn, row)
            else:
                await update_invoice(conn, row.id, position=row.position + 1, status="delivering")
                following = Step.from_json(row.plan[row.position + 1]).method
                onward = ("fall-through", {"method": step.method, "next": following})
                await self._events(conn, row, said, onward)

    async def _undeliverable(self, conn: AsyncConnection, row: InvoiceRow) -> None:
        attempts = await attempts_of(conn, row.id)
        reasons = [{"method": a.method, "outcome": a.outcome, "reason": a.reason} for a in attempts]
        await update_invoice(conn, row.id, status="undeliverable")
        await self._event(conn, row, "undeliverable", reasons=reasons)
        payload = {"id": row.id, "status": "undeliverable", "method": None, "number": row.number}
        await webhooks.notify(conn, row.tenant_id, FINAL_EVENT, {**payload, "reasons": reasons})
        log.info("invoice %s undeliverable", row.id, extra={"invoice_id": row.id})

    async def _event(self, conn: AsyncConnection, row: InvoiceRow, kind: str, **detail: Any) -> None:
        await self._events(conn, row, (kind, detail))

    @staticmethod
    async def _events(conn: AsyncConnection, row: InvoiceRow, *entries: tuple[str, dict[str, Any]]) -> None:
        """Several events in one statement: a step writes two or three, and each round trip counts."""
        named = [(f"distribution.{kind}", detail) for kind, detail in entries]
        await record_many(conn, row.id, named, tenant_id=row.tenant_id)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return _clip(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
