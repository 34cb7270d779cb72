"""Payment matching: one OCR giro file of N payment records against N open invoices, per store.

Run: ``python bench/payments_bench.py [--records N] [--stores sqlite postgresql]`` (default 100 000
records; PostgreSQL from EHFGATE_TEST_POSTGRES_URL or 127.0.0.1:5432, skipped with the reason when
it does not answer). The file is built with netsgiro (94 % paid in full by KID, 4 % partly, 2 % with
an unknown KID). Figures per store:
- import: ``import_ocr_file`` end to end (parse, lock and read candidates, match, write payments,
  invoices and events, one transaction) in records/s, and the process's peak RSS growth meanwhile;
- re-import of the same file (a no-op answered from the first import);
- the floor, measured in the same run: parsing the file (netsgiro) plus a dict lookup of every KID,
  i.e. reading the file and finding each invoice in memory; ratio = import / floor.
Target: the import well under a minute on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import netsgiro
import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accesspoint.store.blobs import put_blob
from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import create_tenant
from distribution.payments.booking import import_ocr_file
from distribution.payments.kid import make_kid
from distribution.payments.ocr import parse_ocr
from distribution.storage.payments_schema import payments
from distribution.storage.schema import invoices

POSTGRES_ADMIN = os.environ.get("EHFGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SETTLED = dt.date(2024, 3, 15)
INSERT_CHUNK = 5000


def kid_of(index: int) -> str:
    return make_kid(f"{index:09d}", algorithm="mod10")


def invoice_amount(index: int) -> Decimal:
    return Decimal(100 + index % 9000) + Decimal(index % 100) / 100


def build_file(records: int) -> bytes:
    """OCR giro transmission with ``records`` transactions (netsgiro's writer)."""
    transmission = netsgiro.Transmission(
        number="1703231", data_transmitter=netsgiro.NETS_ID, data_recipient="00012345", date=SETTLED
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id="000000000",
        number="4000086",
        account="86011117947",
        date=SETTLED,
    )
    for index in range(records):
        amount = invoice_amount(index)
        kid = kid_of(index)
        if index % 50 == 0:
            kid = make_kid(f"9{index:09d}", algorithm="mod10")  # 2 %: nobody's KID
        elif index % 25 == 1:
            amount = (amount / 2).quantize(Decimal("0.01"))  # 4 %: half paid
        assignment.transactions.append(
            netsgiro.Transaction(
                service_code=netsgiro.ServiceCode.OCR_GIRO,
                type=netsgiro.TransactionType.FROM_GIRO_DEBITED_ACCOUNT,
                number=index + 1,
                date=SETTLED,
                amount=amount,
                kid=kid,
                reference=f"{index + 1:09d}",
                text=None,
                centre_id="13",
                day_code=15,
                partial_settlement_number=1,
                partial_settlement_serial_number="01234",
                sign="0",
                form_number="9636827194",
                bank_date=SETTLED,
                debit_account="12345678903",
                filler=None,
            )
        )
    return transmission.to_ocr().encode("iso-8859-1")


class PeakRss:
    """Samples this process's resident set every few milliseconds (Linux /proc)."""

    def __init__(self) -> None:
        self.base = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.base) / 2**20


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_ADMIN)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_store(kind: str) -> AsyncIterator[Store]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            store = Store(f"sqlite:///{Path(directory) / 'bench.db'}")
            try:
                await upgrade(store)
                yield store
            finally:
                await store.close()
        return
    name = f"ehfgate_bench_{secrets.token_hex(4)}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    store = Store(make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False))
    try:
        await upgrade(store)
        yield store
    finally:
        await store.close()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(store: Store, records: int) -> str:
    """A tenant with ``records`` open invoices, KID i for invoice i."""
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "bench")
        blob = await put_blob(conn, b"<Invoice/>", "application/xml")
        stamp = time.time()
        for start in range(0, records, INSERT_CHUNK):
            rows: list[dict[str, Any]] = [
                {
                    "id": f"inv_bench_{index:09d}",
                    "tenant_id": tenant.id,
                    "status": "delivered",
                    "customer": {},
                    "document_blob": blob,
                    "kind": "invoice",
                    "number": f"2024-{index}",
                    "kid": kid_of(index),
                    "amount": str(invoice_amount(index)),
                    "currency": "NOK",
                    "due_date": "2024-03-30",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for index in range(start, min(records, start + INSERT_CHUNK))
            ]
            await conn.execute(invoices.insert(), rows)
    return tenant.id


def floor_seconds(data: bytes, records: int) -> tuple[float, float]:
    """(parse, parse + KID lookup) seconds: the least any importer does."""
    by_kid = {kid_of(index): f"inv_bench_{index:09d}" for index in range(records)}
    started = time.perf_counter()
    parsed = parse_ocr(data)
    parsed_at = time.perf_counter()
    found = sum(1 for payment in parsed.payments if payment.kid in by_kid)
    ended = time.perf_counter()
    assert found == records - (records + 49) // 50
    return parsed_at - started, ended - started


async def run_store(kind: str, data: bytes, records: int, floor: float) -> None:
    async with fresh_store(kind) as store:
        seeded = time.perf_counter()
        tenant_id = await seed(store, records)
        seed_seconds = time.perf_counter() - seeded
        with PeakRss() as memory:
            started = time.perf_counter()
            result = await import_ocr_file(store, tenant_id, data)
            seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = await import_ocr_file(store, tenant_id, data)
        again_ms = (time.perf_counter() - started) * 1000
        async with store.connect() as conn:
            stored = (await conn.execute(sa.select(sa.func.count()).select_from(payments))).scalar_one()
            paid = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(invoices).where(invoices.c.status == "paid")
                )
            ).scalar_one()
    counts = result.counts
    assert counts.records == records and stored == records and again.counts.duplicates == records
    assert paid == counts.paid_invoices == counts.full
    print(
        f"{kind:10} import {records} records in {seconds:6.2f} s = {records / seconds:8.0f} records/s, "
        f"peak RSS +{memory.growth_mib:.0f} MiB; ratio to floor {seconds / floor:5.1f}x"
    )
    print(
        f"{'':10} full {counts.full}, partial {counts.partial}, unmatched {counts.unmatched}, "
        f"paid invoices {counts.paid_invoices}; re-import {again_ms:.0f} ms (all {again.counts.duplicates} "
        f"duplicates); seeding {records} invoices took {seed_seconds:.1f} s"
    )


def postgres_problem() -> str | None:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--quick", action="store_true", help="10 000 records")
    args = parser.parse_args()
    records = 10_000 if args.quick else args.records

    started = time.perf_counter()
    data = build_file(records)
    print(
        f"built the OCR file with netsgiro: {records} records, {len(data) / 2**20:.1f} MiB, "
        f"{time.perf_counter() - started:.1f} s (not timed below)"
    )
    parse, floor = min(floor_seconds(data, records) for _ in range(2))
    rate = records / floor
    print(f"{'floor':10} parse {parse:.2f} s + KID dict lookup = {floor:.2f} s = {rate:8.0f} records/s")
    for kind in args.stores:
        if kind == "postgresql" and (problem := postgres_problem()) is not None:
            print(f"{kind:10} skipped: {problem}")
            continue
        asyncio.run(run_store(kind, data, records, floor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
