"""The worker: leases jobs from the durable queue and drives them (send, validate inbound).

A job is leased for a while; if the process dies, the lease expires and another worker (or this one
after a restart) takes it over. A send reuses the first attempt's exact bytes and MessageId, so the
receiver's duplicate detection makes a repeated send harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
import sqlalchemy as sa

from accesspoint import failpoints, sbdh
from accesspoint.identity import APIdentity
from accesspoint.pipeline import sent_message, webhooks
from accesspoint.pipeline.delivery import Delivery, build, transmit
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.pipeline.inbound import VALIDATE_JOB, forget_expired_message_ids
from accesspoint.pipeline.observer import NoObserver, OutboundFinalHook, PipelineObserver
from accesspoint.pipeline.outbound import SEND_JOB
from accesspoint.pipeline.routing import NoRoute, Router, RouteUnavailable
from accesspoint.store import queue
from accesspoint.store.blobs import get_blob, put_blob
from accesspoint.store.documents import (
    Outbound,
    add_evidence,
    get_inbound,
    get_outbound,
    update_inbound,
    update_outbound,
)
from accesspoint.store.engine import Store
from accesspoint.store.events import record
from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import evidence
from accesspoint.validation.report import Report
from accesspoint.validation.setup import ValidationUnavailable

log = logging.getLogger("ehfgate.worker")
Validate = Callable[[bytes], Awaitable[Report]]
SENT_KIND = "as4-message-sent"


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    retry_schedule: tuple[int, ...] = (60, 300, 900, 1800, 3600, 7200, 7200, 14400, 21600, 28800)
    lease_seconds: float = 300
    timeout_seconds: float = 120
    concurrency: int = 4
    idle_seconds: float = 0.5
    # How soon an inbound document is tried again while validation is not ready (artifacts compiling).
    not_ready_seconds: float = 5
    # How often expired duplicate-detection keys are deleted.
    housekeeping_seconds: float = 3600


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id('w')}"


class Worker:
    def __init__(
        self,
        store: Store,
        identity: APIdentity,
        routing: Router,
        validate: Validate,
        settings: WorkerSettings,
        observer: PipelineObserver | None = None,
        *,
        webhook_key: bytes,
        doorbell: Doorbell | None = None,
        final_hooks: Sequence[OutboundFinalHook] = (),
    ) -> None:
        self.store = store
        self.identity = identity
        self.routing = routing
        self.validate = validate
        self.settings = settings
        self.observer: PipelineObserver = observer or NoObserver()
        self.webhook_key = webhook_key
        self.doorbell = doorbell or Doorbell()
        self.final_hooks = final_hooks  # read at each call: extensions may add theirs after start-up
        self.owner = _owner()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, with ``concurrency`` jobs in flight."""
        async with aiohttp.ClientSession() as session:
            loops = [self._loop(stop, session) for _ in range(self.settings.concurrency)]
            await asyncio.gather(self._housekeeping(stop), *loops)

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                removed = await forget_expired_message_ids(self.store)
                if removed:
                    log.info("forgot %d expired duplicate-detection keys", removed)
            except Exception:
                log.exception("housekeeping failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.housekeeping_seconds)

    async def _loop(self, stop: asyncio.Event, session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            try:
                worked = await self.run_once(session)
            except Exception:
                log.exception("worker step failed")
                worked = False
            if not worked and not stop.is_set():
                await self.doorbell.wait(self.settings.idle_seconds)

    async def run_once(self, session: aiohttp.ClientSession) -> bool:
        kinds = (SEND_JOB, VALIDATE_JOB, webhooks.WEBHOOK_JOB)
        job = await queue.lease(self.store, kinds, self.owner, self.settings.lease_seconds)
        if job is None:
            return False
        async with queue.held(self.store, job, self.settings.lease_seconds):
            if job.kind == SEND_JOB:
                await self._send(job, session)
            elif job.kind == VALIDATE_JOB:
                await self._validate_inbound(job)
            else:
                await webhooks.deliver(self.store, job, session, key=self.webhook_key)
        return True

    async def _validate_inbound(self, job: queue.Job) -> None:
        async with self.store.connect() as conn:
            document = await get_inbound(conn, job.ref)
            payload = (await get_blob(conn, document.payload_blob))[0] if document else b""
        if document is None:
            async with self.store.begin() as conn:
                await queue.complete(conn, job)
            return
        try:
            report = await self.validate(payload)
        except ValidationUnavailable as exc:
            # Not the document's fault: try again soon rather than after the lease expires.
            async with self.store.begin() as conn:
                await queue.reschedule(conn, job, now() + self.settings.not_ready_seconds)
            log.warning("inbound %s waits for validation: %s", document.id, exc)
            return
        status = "accepted" if report.valid else "rejected"
        async with self.store.begin() as conn:
            completed = await queue.complete(conn, job)
            if completed:
                await update_inbound(conn, document.id, status=status, report=report.to_dict())
                await record(conn, document.id, status, tenant_id=document.tenant_id, fatal=len(report.fatal))
                summary = {"id": document.id, "status": status, "message_id": document.message_id,
                           "sender": document.sender, "receiver": document.receiver}  # fmt: skip
                await webhooks.notify(conn, document.tenant_id, webhooks.INBOUND_RECEIVED, summary)
        if completed:
            self.observer.inbound_validated(status)

    async def _sent_before(self, document_id: str) -> tuple[dict[str, object], bytes] | None:
        async with self.store.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(evidence.c.blob_id, evidence.c.detail)
                    .where(evidence.c.document_id == document_id, evidence.c.kind == SENT_KIND)
                    .limit(1)
                )
            ).first()
            if row is None:
                return None
            body = (await get_blob(conn, row.blob_id))[0]
        return row.detail, body

    async def _send(self, job: queue.Job, session: aiohttp.ClientSession) -> None:
        async with self.store.connect() as conn:
            document = await get_outbound(conn, job.ref)
            envelope = (await get_blob(conn, document.payload_blob))[0] if document else b""
        if document is None or document.status in ("delivered", "failed"):
            async with self.store.begin() as conn:
                await queue.complete(conn, job)
            return
        try:
            endpoint = await self.routing.resolve(document.receiver, document.document_type, document.process)
        except NoRoute as exc:
            await self._finish(job, document, "failed", str(exc), None)
            return
        except RouteUnavailable as exc:
            await self._retry_or_fail(job, document, f"lookup failed: {exc}", None)
            return
        stored = await self._sent_before(document.id)
        if stored is not None:
            sent = sent_message.load(dict(stored[0]), stored[1])
        else:
            try:
                sent = build(self.identity, envelope, endpoint.certificate, document.message_id)
            except (ValueError, sbdh.EnvelopeReadError) as exc:
                await self._finish(job, document, "failed", f"cannot build: {exc}", None)
                return
            async with self.store.begin() as conn:
                blob = await put_blob(conn, sent.body, sent.content_type)
                await add_evidence(conn, "out", document.id, SENT_KIND, blob, sent_message.dump(sent))
        async with self.store.begin() as conn:
            await update_outbound(
                conn, document.id, status="sending", attempts=job.attempts, endpoint_url=endpoint.url
            )
            await record(
                conn,
                document.id,
                "attempt",
                tenant_id=document.tenant_id,
                attempt=job.attempts,
                url=endpoint.url,
            )
        started = time.monotonic()
        result = await transmit(
            self.identity, sent, endpoint.url, session=session, timeout_seconds=self.settings.timeout_seconds
        )
        self.observer.transmitted(result.outcome, time.monotonic() - started)
        failpoints.hit("outbound.after_transmit")
        if result.outcome == "delivered":
            await self._finish(job, document, "delivered", result.reason, result)
        elif result.outcome == "permanent":
            await self._finish(job, document, "failed", result.reason, result)
        else:
            await self._retry_or_fail(job, document, result.reason, result)

    async def _retry_or_fail(
        self, job: queue.Job, document: Outbound, reason: str, result: Delivery | None
    ) -> None:
        """A transient failure: again after the next delay of the schedule, or ``failed`` when used up."""
        if job.attempts > len(self.settings.retry_schedule):
            await self._finish(job, document, "failed", reason, result)
            return
        delay = self.settings.retry_schedule[job.attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
        async with self.store.begin() as conn:
            if await queue.reschedule(conn, job, now() + delay):
                await update_outbound(conn, document.id, status="retrying", last_error=reason)
                await record(
                    conn,
                    document.id,
                    "retry",
                    tenant_id=document.tenant_id,
                    reason=reason,
                    next_in=round(delay, 1),
                )

    async def _finish(
        self,
        job: queue.Job,
        document: Outbound,
        status: str,
        reason: str,
        result: Delivery | None,
    ) -> None:
        document_id, tenant_id = document.id, document.tenant_id
        async with self.store.begin() as conn:
            if not await queue.complete(conn, job):
                return  # the lease was lost: the new owner decides
            if result is not None and result.receipt is not None:
                blob = await put_blob(conn, result.receipt.envelope, "application/soap+xml")
                detail = {"receipt_message_id": result.receipt.message_id}
                await add_evidence(conn, "out", document_id, "receipt", blob, detail)
            if result is not None and result.signal is not None:
                blob = await put_blob(conn, result.signal.envelope, "application/soap+xml")
                await add_evidence(conn, "out", document_id, "error-signal", blob, {"reason": reason})
            await update_outbound(
                conn, document_id, status=status, last_error=None if status == "delivered" else reason
            )
            await record(conn, document_id, status, tenant_id=tenant_id, reason=reason)
            payload = {"id": document_id, "status": status, "reason": reason}
            await webhooks.notify(conn, tenant_id, webhooks.OUTBOUND_FINAL, payload)
        self.observer.outbound_final(status, now() - document.created_at)
        log.info("document %s %s: %s", document_id, status, reason, extra={"document_id": document_id})
        for hook in self.final_hooks:
            try:
                await hook(document_id, tenant_id, status)
            except Exception:
                log.exception("a hook for final document %s failed", document_id)
