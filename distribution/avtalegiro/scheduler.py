"""The AvtaleGiro batch: once a day per tenant, at the tenant's time (Europe/Oslo), every queued
claim within reach goes into one claims file, which is uploaded by SFTP.

"Within reach" is the bank's rule: the due date at least ``cutoff_days`` after the processing day
and at most 12 months ahead. The processing day is today, or tomorrow once the bank's 14:00 cut-off
has passed. A file whose upload failed stays ``written`` and is tried again every
``retry_seconds`` (and by the next day's run), so a short outage does not cost a claim its due date.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from accesspoint.config import Config
from accesspoint.secretbox import SecretBox
from accesspoint.server.keys import CONFIG, SECRET_BOX, STORE
from accesspoint.store import events
from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from distribution.avtalegiro.claims import (
    Claim,
    ClaimFile,
    claims_in_file,
    create_file,
    mark_failed,
    mark_sent,
    take_for_sending,
    unsent_files,
)
from distribution.avtalegiro.settings import (
    SECRET_NAME,
    AvtaleGiroSettings,
    AvtaleGiroSettingsError,
    configured_tenants,
    credential_from_json,
)
from distribution.avtalegiro.transfer import TransferError, TransferPolicy, upload
from distribution.storage.secrets import read_secret

log = logging.getLogger("ehfgate.avtalegiro")

OSLO = ZoneInfo("Europe/Oslo")
BANK_CUTOFF = dt.time(14, 0)  # files after this count from the next day
LEASE_SECONDS = 15 * 60.0  # a "sending" file older than this lost its sender (crash) and is taken over


def processing_day(moment: dt.datetime) -> dt.date:
    """The bank day a file sent at ``moment`` counts from."""
    local = moment.astimezone(OSLO)
    return local.date() + dt.timedelta(days=1) if local.time() >= BANK_CUTOFF else local.date()


def next_run_day(schedule: dt.time, moment: dt.datetime) -> dt.date:
    """The processing day of the first daily run at or after ``moment``: a claim queued now goes
    to the bank then, so its due date must be far enough from that day (not from today)."""
    local = moment.astimezone(OSLO)
    run_at = dt.datetime.combine(local.date(), schedule, OSLO)
    if local > run_at:
        run_at = dt.datetime.combine(local.date() + dt.timedelta(days=1), schedule, OSLO)
    return processing_day(run_at)


def remote_name(settings: AvtaleGiroSettings, transmission_number: str) -> str:
    return f"avtalegiro-{settings.data_transmitter}-{transmission_number}.txt"


@dataclass(frozen=True, slots=True)
class ClaimFileResult:
    tenant_id: str
    file_id: str
    transmission_number: str
    claims: int
    amount: Decimal
    state: str  # sent | written (upload failed; tried again later)
    error: str | None = None
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "file_id": self.file_id,
            "transmission_number": self.transmission_number,
            "claims": self.claims,
            "amount": f"{self.amount:.2f}",
            "state": self.state,
            "error": self.error,
            "attempts": self.attempts,
        }


def _result(
    file: ClaimFile, members: list[Claim], state: str, error: str | None, attempts: int
) -> ClaimFileResult:
    amount = sum((claim.amount for claim in members), Decimal(0))
    return ClaimFileResult(
        file.tenant_id, file.id, file.transmission_number, len(members), amount, state, error, attempts
    )


async def _send(
    store: Store,
    box: SecretBox,
    tenant_id: str,
    settings: AvtaleGiroSettings,
    file: ClaimFile,
    policy: TransferPolicy,
) -> ClaimFileResult | None:
    stale_before = now() - LEASE_SECONDS
    async with store.begin() as conn:
        data = await take_for_sending(conn, file, stale_before=stale_before)
        secret = await read_secret(conn, box, tenant_id, SECRET_NAME) if data is not None else None
    if data is None:
        return None  # cancelled to nothing, or another process is sending it
    attempts = 0
    try:
        if secret is None:
            raise TransferError("no SFTP credential is stored (avtalegiro-sftp)", retryable=False)
        try:
            credential = credential_from_json(secret)
        except AvtaleGiroSettingsError as exc:
            raise TransferError(str(exc), retryable=False) from exc
        uploaded = await upload(
            settings.sftp, credential, remote_name(settings, file.transmission_number), data, policy
        )
        attempts = uploaded.attempts
    except TransferError as exc:
        error = str(exc)
        async with store.begin() as conn:
            await mark_failed(conn, file.id, error)
            await events.record(conn, file.id, "avtalegiro.file-failed", tenant_id=tenant_id, error=error)
            members = await claims_in_file(conn, file.id)
        log.warning("claims file %s of tenant %s not sent: %s", file.transmission_number, tenant_id, error)
        return _result(file, members, "written", error, attempts)
    async with store.begin() as conn:
        await mark_sent(conn, file.id)
        members = await claims_in_file(conn, file.id)
        await events.record(
            conn,
            file.id,
            "avtalegiro.file-sent",
            tenant_id=tenant_id,
            transmission_number=file.transmission_number,
            path=uploaded.path,
            size=uploaded.size,
            claims=len(members),
        )
    return _result(file, members, "sent", None, attempts)


async def run_claims(
    store: Store,
    config: Config,
    *,
    today: dt.date,
    box: SecretBox,
    tenants: Collection[str] | None = None,
    build: bool = True,
    policy: TransferPolicy | None = None,
) -> list[ClaimFileResult]:
    """One batch: for each configured tenant (or those in ``tenants``) write a file of the claims
    within reach of ``today`` (unless ``build`` is false) and upload every file not yet sent.
    ``config`` is the server's; the transfer tuning comes from ``policy``."""
    del config  # nothing in the server configuration tunes the batch yet
    policy = policy or TransferPolicy()
    async with store.connect() as conn:
        configured = await configured_tenants(conn)
    results: list[ClaimFileResult] = []
    for tenant_id, settings in configured:
        if tenants is not None and tenant_id not in tenants:
            continue
        if build:
            async with store.begin() as conn:
                written = await create_file(conn, tenant_id, settings, today)
                if written.file is not None:
                    await events.record(
                        conn,
                        written.file.id,
                        "avtalegiro.file-written",
                        tenant_id=tenant_id,
                        transmission_number=written.file.transmission_number,
                        claims=len(written.claims),
                        expired=written.expired,
                    )
        async with store.connect() as conn:
            waiting = await unsent_files(conn, tenant_id, stale_before=now() - LEASE_SECONDS)
        for file in waiting:
            result = await _send(store, box, tenant_id, settings, file, policy)
            if result is not None:
                results.append(result)
    return results


class ClaimsSchedule:
    """Decides, every ``tick_seconds``, which tenants' daily run is due (at or after their
    ``schedule`` time, once per Oslo day) and which have a failed file to try again."""

    def __init__(
        self,
        store: Store,
        config: Config,
        box: SecretBox,
        *,
        tick_seconds: float = 30.0,
        retry_seconds: float = 600.0,
        policy: TransferPolicy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store, self.config, self.box = store, config, box
        self.tick_seconds, self.retry_seconds = tick_seconds, retry_seconds
        self.policy = policy
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._ran_on: dict[str, dt.date] = {}
        self._retried_at: dict[str, float] = {}

    async def tick(self) -> list[ClaimFileResult]:
        moment = self.clock()
        local = moment.astimezone(OSLO)
        async with self.store.connect() as conn:
            configured = await configured_tenants(conn)
        due = [
            tenant_id
            for tenant_id, settings in configured
            if local.time() >= settings.schedule and self._ran_on.get(tenant_id) != local.date()
        ]
        stamp = now()
        retry = [
            tenant_id
            for tenant_id, _ in configured
            if tenant_id not in due and stamp - self._retried_at.get(tenant_id, 0.0) >= self.retry_seconds
        ]
        results: list[ClaimFileResult] = []
        if due:
            results += await self._run(moment, due, build=True)
            for tenant_id in due:
                self._ran_on[tenant_id] = local.date()
                self._retried_at[tenant_id] = stamp
        if retry:
            results += await self._run(moment, retry, build=False)
            for tenant_id in retry:
                self._retried_at[tenant_id] = stamp
        return results

    async def _run(self, moment: dt.datetime, tenants: list[str], *, build: bool) -> list[ClaimFileResult]:
        today = processing_day(moment)
        return await run_claims(
            self.store,
            self.config,
            today=today,
            box=self.box,
            tenants=tenants,
            build=build,
            policy=self.policy,
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("AvtaleGiro batch failed; trying again at the next tick")
            try:
                await asyncio.wait_for(stop.wait(), self.tick_seconds)
            except TimeoutError:
                continue


async def claims_loop(app: web.Application, stop: asyncio.Event) -> None:
    """The batch for a running server until ``stop`` is set."""
    await ClaimsSchedule(app[STORE], app[CONFIG], app[SECRET_BOX]).run(stop)


async def claims_ctx(app: web.Application) -> AsyncIterator[None]:
    """For ``app.cleanup_ctx``: the batch runs while the server is up."""
    stop = asyncio.Event()
    task = asyncio.create_task(claims_loop(app, stop))
    yield
    stop.set()
    await task
