"""The AvtaleGiro batch end to end on SQLite and PostgreSQL: claims queued by the method go into one
file per tenant, the file reaches a real SFTP server, claims follow queued → in-file → sent, and a
cancellation removes a claim from its file until the file is sent."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import netsgiro
import pytest
import sqlalchemy as sa
from aiohttp import web

from accesspoint.config import Config
from accesspoint.secretbox import SecretBox
from accesspoint.server.keys import CONFIG as CONFIG_KEY
from accesspoint.server.keys import SECRET_BOX, STORE
from accesspoint.store.blobs import get_blob
from accesspoint.store.engine import Store
from accesspoint.store.tenants import Tenant
from distribution.avtalegiro.claims import (
    ClaimNotCancellable,
    cancel_claim,
    get_claim,
    get_file,
    queue_claim,
)
from distribution.avtalegiro.mandates import register_mandate
from distribution.avtalegiro.scheduler import ClaimsSchedule, claims_loop, run_claims
from distribution.avtalegiro.settings import SECRET_NAME, SftpCredential
from distribution.avtalegiro.transfer import TransferPolicy
from distribution.methods.avtalegiro import AvtaleGiroMethod
from distribution.methods.base import Outcome
from distribution.payments.kid import make_kid
from distribution.storage.payments_schema import claims
from distribution.storage.secrets import write_secret
from tests.distribution.sftp_server import SftpServer
from tests.distribution.test_avtalegiro_file import requests_of
from tests.distribution.test_avtalegiro_mandates import (
    OSLO_MORNING,
    TODAY,
    Contexts,
    contexts,
    new_invoice,
    new_tenant,
)

__all__ = ["contexts"]  # the fixture, shared

BOX = SecretBox(b"avtalegiro test secrets key 32by")
FAST = TransferPolicy(attempts=2, backoff_seconds=0.01, chunk_size=256, attempt_timeout_seconds=20)
CONFIG = Config()
FILE_NAME = "avtalegiro-01234567-{}.txt"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    (tmp_path / "sftp" / "inbox").mkdir(parents=True)
    started = SftpServer(tmp_path / "sftp")
    await started.start()
    yield started
    await started.close()


async def payee(store: Store, server: SftpServer, name: str = "acme", *, secret: bool = True) -> Tenant:
    tenant = await new_tenant(store, name, sftp=server.sftp_settings())
    if secret:
        async with store.begin() as conn:
            login = SftpCredential(private_key=server.private_key, passphrase=None, password=None)
            await write_secret(conn, BOX, tenant.id, SECRET_NAME, login.to_json())
    return tenant


async def claim_for(
    store: Store, contexts: Contexts, tenant: Tenant, number: str, amount: str, days: int
) -> tuple[str, str]:
    """An invoice with a mandate, delivered through the method: (invoice id, claim id)."""
    kid = make_kid(number, algorithm="mod10")
    due = TODAY + dt.timedelta(days=days)
    invoice_id = await new_invoice(store, tenant, number, amount, kid, due)
    async with store.begin() as conn:
        await register_mandate(conn, tenant.id, kid=kid, notify=number.endswith("1"))
    result = await AvtaleGiroMethod(clock=lambda: OSLO_MORNING).deliver(
        contexts(tenant, invoice_id, kid=kid, amount=amount, due=due)
    )
    assert result.outcome is Outcome.PENDING and result.reference, result.reason
    return invoice_id, result.reference


def received(server: SftpServer, number: str) -> netsgiro.Transmission:
    return netsgiro.parse(
        (server.root / "inbox" / FILE_NAME.format(number)).read_bytes().decode("iso-8859-1")
    )


async def states(store: Store) -> dict[str, str]:
    async with store.connect() as conn:
        return {row.id: row.state for row in await conn.execute(sa.select(claims.c.id, claims.c.state))}


async def test_batch_writes_sends_and_delivers(store: Store, server: SftpServer, contexts: Contexts) -> None:
    acme = await payee(store, server)
    batch = [("10001", "1250.00", 5), ("10002", "99.90", 10), ("10003", "15000.00", 30)]
    queued = [await claim_for(store, contexts, acme, *row) for row in batch]
    far = await claim_for(store, contexts, acme, "10004", "10.00", 400)  # beyond 12 months: waits
    late_invoice = await new_invoice(
        store, acme, "10005", "5.00", make_kid("10005", algorithm="mod10"), TODAY
    )
    late_kid, late_due = make_kid("10005", algorithm="mod10"), TODAY + dt.timedelta(days=3)
    async with store.begin() as conn:  # queued earlier, and the due date came too close since
        late, _ = await queue_claim(
            conn, acme.id, late_invoice, kid=late_kid, amount=Decimal(5), due_date=late_due, notify=False
        )

    (result,) = await run_claims(store, CONFIG, today=TODAY, box=BOX, policy=FAST)
    assert (result.tenant_id, result.transmission_number, result.claims, result.state, result.error) == (
        acme.id,
        "0000001",
        3,
        "sent",
        None,
    )
    assert result.amount == Decimal("16349.90")
    transmission = received(server, "0000001")
    requests = requests_of(transmission)
    assert [(t.kid, t.amount, t.date) for t in requests] == [
        (make_kid(number, algorithm="mod10"), Decimal(amount), TODAY + dt.timedelta(days=days))
        for number, amount, days in batch
    ]
    assert requests[0].type is netsgiro.TransactionType.AVTALEGIRO_WITH_BANK_NOTIFICATION
    assert requests[0].reference == "Faktura 10001"
    assert await states(store) == {
        **{claim_id: "sent" for _, claim_id in queued},
        far[1]: "queued",
        late.id: "expired",
    }

    method = AvtaleGiroMethod(clock=lambda: OSLO_MORNING)
    invoice_id, claim_id = queued[0]
    ctx = contexts(acme, invoice_id, kid=make_kid("10001", algorithm="mod10"), amount="1250.00", due=TODAY)
    delivered = await method.status(ctx, claim_id)
    assert delivered.outcome is Outcome.DELIVERED
    assert delivered.evidence["transmission_number"] == "0000001"
    assert delivered.evidence["file_id"] == result.file_id and delivered.evidence["transaction_number"] == 1
    assert (await method.status(ctx, late.id)).outcome is Outcome.PERMANENT
    async with store.begin() as conn:
        with pytest.raises(ClaimNotCancellable, match="was sent"):
            await cancel_claim(conn, acme.id, claim_id)
    assert await run_claims(store, CONFIG, today=TODAY, box=BOX, policy=FAST) == []  # nothing new to send


async def test_cancelling_before_the_file_is_sent(
    store: Store, server: SftpServer, contexts: Contexts
) -> None:
    acme = await payee(store, server)
    first = await claim_for(store, contexts, acme, "20001", "100.00", 6)
    second = await claim_for(store, contexts, acme, "20002", "200.00", 7)
    third = await claim_for(store, contexts, acme, "20003", "300.00", 8)
    async with store.begin() as conn:
        assert (await cancel_claim(conn, acme.id, first[1])).state == "cancelled"  # queued: simply cancelled

    server.drop_after, server.drops = 100, 10  # the link fails: the file is written but not sent
    (failed,) = await run_claims(store, CONFIG, today=TODAY, box=BOX, policy=FAST)
    assert failed.state == "written" and failed.claims == 2 and "after 2 attempts" in (failed.error or "")
    assert not (server.root / "inbox" / FILE_NAME.format("0000001")).exists()
    assert (await states(store))[second[1]] == "in-file"

    async with store.begin() as conn:
        cancelled = await cancel_claim(conn, acme.id, second[1])
        assert (cancelled.state, cancelled.claim_file_id) == ("cancelled", None)
        file = await get_file(conn, failed.file_id)
        assert file is not None and file.state == "written" and file.transmission_number == "0000001"
        data, _ = await get_blob(conn, file.blob_id)
        remaining = await get_claim(conn, third[1])
    assert [(t.kid, t.amount, t.number) for t in requests_of(netsgiro.parse(data.decode("iso-8859-1")))] == [
        (make_kid("20003", algorithm="mod10"), Decimal("300.00"), 1)
    ]
    assert remaining is not None and remaining.transaction_number == 1

    server.drops = 0
    (sent,) = await run_claims(store, CONFIG, today=TODAY, box=BOX, policy=FAST, build=False)
    assert (sent.file_id, sent.state, sent.claims) == (failed.file_id, "sent", 1)
    assert [t.kid for t in requests_of(received(server, "0000001"))] == [make_kid("20003", algorithm="mod10")]
    async with store.begin() as conn:
        with pytest.raises(ClaimNotCancellable):
            await cancel_claim(conn, acme.id, third[1])
    assert await states(store) == {first[1]: "cancelled", second[1]: "cancelled", third[1]: "sent"}

    method = AvtaleGiroMethod(clock=lambda: OSLO_MORNING)
    gone = await method.status(contexts(acme, first[0], kid=None, amount="1", due=None), first[1])
    assert gone.outcome is Outcome.PERMANENT and "cancelled" in gone.reason


async def test_a_file_whose_claims_are_all_cancelled_is_never_sent(
    store: Store, server: SftpServer, contexts: Contexts
) -> None:
    acme = await payee(store, server)
    only = await claim_for(store, contexts, acme, "30001", "100.00", 6)
    other = await payee(store, server, "globex", secret=False)
    theirs = await claim_for(store, contexts, other, "30002", "50.00", 6)
    server.drop_after, server.drops = 10, 10
    results = await run_claims(store, CONFIG, today=TODAY, box=BOX, policy=FAST)
    assert {(r.tenant_id, r.state) for r in results} == {(acme.id, "written"), (other.id, "written")}
    missing = next(r for r in results if r.tenant_id == other.id)
    assert missing.error == "no SFTP credential is stored (avtalegiro-sftp)" and missing.attempts == 0
    async with store.begin() as conn:
        with pytest.raises(LookupError):
            await cancel_claim(conn, other.id, only[1])  # another tenant's claim does not exist for it
        await cancel_claim(conn, acme.id, only[1])
        file = await get_file(conn, next(r.file_id for r in results if r.tenant_id == acme.id))
    assert file is not None and file.state == "void"
    server.drops = 0
    assert await run_claims(store, CONFIG, today=TODAY, box=BOX, policy=FAST, tenants=[acme.id]) == []
    leftovers = [p.name for p in (server.root / "inbox").iterdir()]
    assert leftovers == [".avtalegiro-01234567-0000001.txt.part"]  # only the broken attempt's temporary
    assert (await states(store))[theirs[1]] == "in-file"


async def test_the_schedule_runs_each_tenant_once_a_day_at_its_time(
    store: Store, server: SftpServer, contexts: Contexts
) -> None:
    acme = await payee(store, server)  # schedule 06:30 Europe/Oslo
    await claim_for(store, contexts, acme, "40001", "100.00", 9)
    moments = iter(
        [
            dt.datetime(2030, 1, 7, 5, 0, tzinfo=dt.UTC),  # 06:00 in Oslo: not yet
            dt.datetime(2030, 1, 7, 5, 45, tzinfo=dt.UTC),  # 06:45: run
            dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC),  # later the same day: already ran
        ]
    )
    schedule = ClaimsSchedule(
        store, CONFIG, BOX, policy=FAST, retry_seconds=3600, clock=lambda: next(moments)
    )
    assert await schedule.tick() == []
    (result,) = await schedule.tick()
    assert result.state == "sent" and result.claims == 1
    await claim_for(store, contexts, acme, "40002", "100.00", 9)
    assert await schedule.tick() == []
    assert sorted(p.name for p in (server.root / "inbox").iterdir()) == [FILE_NAME.format("0000001")]


async def test_the_server_loop_sends_a_file_left_unsent(
    store: Store, server: SftpServer, contexts: Contexts
) -> None:
    acme = await payee(store, server)
    await claim_for(store, contexts, acme, "50001", "100.00", 9)
    server.drop_after, server.drops = 10, 10
    (failed,) = await run_claims(store, CONFIG, today=TODAY, box=BOX, policy=FAST)
    assert failed.state == "written"
    server.drops = 0
    app = web.Application()
    app[STORE], app[CONFIG_KEY], app[SECRET_BOX] = store, CONFIG, BOX
    stop = asyncio.Event()
    loop = asyncio.create_task(claims_loop(app, stop))
    try:
        for _ in range(200):
            async with store.connect() as conn:
                file = await get_file(conn, failed.file_id)
            if file is not None and file.state == "sent":
                break
            await asyncio.sleep(0.05)
        assert file is not None and file.state == "sent" and file.attempts == 2
    finally:
        stop.set()
        await asyncio.wait_for(loop, 10)
    assert (server.root / "inbox" / FILE_NAME.format("0000001")).exists()
