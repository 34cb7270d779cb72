"""Distribution benchmark: invoices through a run that ends in e-mail, against a plain aiosmtplib loop.

Run: ``python bench/distribution_bench.py [--quick] [--invoices N] [--stores sqlite,postgresql]
[--profile]``. Full: 10 000 invoices per store; ``--quick``: 300 (under two minutes).

Why this shape. The question is what the run costs on top of sending the mail, so both sides send the
same mail to the same receiver and only the work before the send differs.

Ours: the real :class:`~distribution.run.engine.Engine` in this process over a real store (an SQLite
file in a temporary directory, and a fresh PostgreSQL database at 127.0.0.1:5432 when it answers,
dropped afterwards), with the real :class:`~distribution.methods.email.EmailMethod` as the only method
of the tenant's run and the engine's default settings (``distribution.workers`` = 2 invoices in flight;
``distribution.render_processes`` = one fewer than the cores, so the PDF is rendered in a worker process
whose CPU and memory are reported beside ours). One producer task hands the invoices to
:func:`~distribution.run.accept.accept`, one after another as an API client would, while the engine
works them in the same event loop (as ``ehfgate serve`` does), so accepting is inside the timed run.
Each invoice is the Norwegian EHF example (four lines; two pages as rendered) for one business customer
with an e-mail address, so each costs: accept (parse, store the document, plan, queue), lease, load (the
parsed invoice is reused), design and template from the store, merge fields and the sandboxed template,
**the PDF rendered from scratch**, MIME composition, one SMTP connection, and the outcome's commit.
Validation is *not* included: ``accept`` gets a ``validate`` function that returns the real validator's
report of that document (run once at start), because validation is the access point's cost and has its
own benchmark (validation_bench.py).

Timed: from the first ``accept`` to the moment the store says the last invoice is ``delivered`` (the
method is wrapped to count deliveries; once it reaches N, the store is polled every 5 ms). Before that,
a warm-up of a few invoices through the same engine and store (imports, fonts, template compilation,
connection pool), then RSS is read: "RSS start". RSS is sampled every N/10 deliveries; "RSS end" is the
sample at the last delivery (before the bench's own ``count(*)`` over the invoices, whose SQLite page
cache adds a few MiB), "peak" is VmHWM (the bench's query included). All include the validator compiled
for that one report, the same at start and end. No tracemalloc: it would slow the run about twofold.
``--workers`` changes the invoices in flight (the floor's side-by-side loops follow it).

The floor: the same number of ready-made messages, the bytes the method sends for this invoice
(same template, the PDF rendered once, the same composition and serialisation), sent with
``aiosmtplib.send`` exactly as the method calls it (one connection per message, same options, no
``local_hostname``), to the same server; once as one plain loop and once as ``workers`` loops side by
side (the run's concurrency). ``ratio = floor time / our time`` against the faster floor (the
stricter), target >= 0.5. The floor is measured before and after each store's run and the mean used
(the spread shows the noise of a shared machine). Process CPU per invoice is printed as well
(``time.process_time``, which includes aiosqlite's thread; PostgreSQL's own CPU is not counted).

The SMTP receiver is aiosmtpd in a child process, counting messages and bytes and keeping none:
in a thread of this process it would share the GIL with the engine and the floor loop, and its
buffers would be in our RSS. It reports what it received at the end, as a check.

Also: ``render_pdf`` p50 for that Norwegian example (the issue's "one-page" invoice; its long line
notes push the VAT and payment blocks onto a second page) and the corpus' 501-line invoice (perf/).
``--profile`` runs ours once more on SQLite under cProfile and prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import aiosmtplib  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from accesspoint.config import Config, load_config  # noqa: E402
from accesspoint.config.model import DistributionConfig, SmtpConfig  # noqa: E402
from accesspoint.store.engine import Store  # noqa: E402
from accesspoint.store.migrate import upgrade  # noqa: E402
from accesspoint.store.tenants import create_tenant  # noqa: E402
from accesspoint.validation.engine import Validator  # noqa: E402
from accesspoint.validation.report import Report  # noqa: E402
from accesspoint.validation.setup import locate  # noqa: E402
from bench._servers import POSTGRES_ADMIN, cpu_seconds, fresh_database, postgres_problem, rss_kib  # noqa: E402
from distribution.invoice import Invoice, read_invoice  # noqa: E402
from distribution.mail.compose import compose, message_id_for  # noqa: E402
from distribution.mail.deliver import sender_for, serialise  # noqa: E402
from distribution.mail.files import invoice_pdf  # noqa: E402
from distribution.methods.base import Customer, InvoiceContext, Outcome, Result  # noqa: E402
from distribution.methods.base import Tenant as MethodTenant  # noqa: E402
from distribution.methods.email import EmailMethod  # noqa: E402
from distribution.render import Design, render_pdf  # noqa: E402
from distribution.render.pool import PdfRenderer  # noqa: E402
from distribution.run.accept import NewInvoice, accept  # noqa: E402
from distribution.run.engine import Engine, EngineSettings  # noqa: E402
from distribution.storage.designs import StoredDesign  # noqa: E402
from distribution.storage.invoices import attempts_of  # noqa: E402
from distribution.storage.runs import save_run  # noqa: E402
from distribution.storage.schema import invoices  # noqa: E402
from distribution.templates import default_template, merge_fields, render_template  # noqa: E402

ONE_PAGE = Path("supplement/docs/004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml")
MANY_LINES = Path("perf/invoice-501-lines.xml")
HOST = "127.0.0.1"
SENDER_ADDRESS = "faktura@gateway.example"
SENDER = f"Faktura <{SENDER_ADDRESS}>"
RECIPIENT = "kunde@example.no"
CUSTOMER = Customer(kind="business", name="Kunde AS", email=RECIPIENT)
TENANT_NAME = "Bench AS"
POLL_SECONDS = 0.005
FLOOR_WARMUP = 3
PROFILED = 2000  # invoices under cProfile at most


# ---------------------------------------------------------------------------------------- receiver


class CountingHandler:
    """Accepts every message and keeps only the count and the byte total."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 2.0.0 Ok"


def serve_smtp(port: int) -> None:
    """Child process: serve until stdin closes, then print what was received as JSON."""
    from aiosmtpd.controller import Controller

    handler = CountingHandler()
    controller = Controller(handler, hostname=HOST, port=port, server_hostname="smtp.bench")
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(json.dumps({"messages": handler.messages, "bytes": handler.bytes}), flush=True)


@dataclass
class Receiver:
    process: subprocess.Popen[str]
    port: int

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def close(self) -> dict[str, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        counts: dict[str, int] = json.loads(self.process.stdout.read())
        self.process.wait(10)
        return counts


@contextmanager
def receiver() -> Iterator[Receiver]:
    from tests.distribution.smtp_server import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--smtp-child", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP receiver did not start")
        yield Receiver(process, port)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


# ------------------------------------------------------------------------------------------ helpers


def config_for(port: int, workers: int) -> Config:
    return Config(
        smtp=SmtpConfig(host=HOST, port=port, security="none", timeout_seconds=60),
        distribution=DistributionConfig(sender=SENDER, workers=workers),
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def helpers(receiver_pid: int) -> list[int]:
    """The renderer's worker processes: this process's children but the SMTP receiver and
    multiprocessing's resource tracker."""
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        for pid in map(int, (task / "children").read_text().split()):
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if pid != receiver_pid and b"resource_tracker" not in command:
                pids.append(pid)
    return pids


def helpers_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with suppress(FileNotFoundError):
            total += cpu_seconds(pid)
    return total


def peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def real_report(document: bytes) -> Report:
    """The real validator's report of the benchmark invoice (once); it must be valid."""
    root, catalogue = locate(load_config())
    report = Validator(root, catalogue).validate(document)
    if not report.valid:
        raise SystemExit("the benchmark invoice is not valid: pick a valid one")
    return report


def ready_made_message(document: bytes, config: Config) -> bytes:
    """The bytes the e-mail method sends for ``document`` with the built-in template (PDF rendered once)."""
    invoice = read_invoice(document)
    tenant = MethodTenant("t-bench", TENANT_NAME)
    sender = sender_for(config, StoredDesign({}), tenant)
    assert not isinstance(sender, Result)
    rendered = render_template(default_template("nb"), merge_fields(invoice, CUSTOMER, tenant.name, "nb"))
    ctx = InvoiceContext(
        invoice_id="inv-bench",
        attempt_key="inv-bench:email:1",
        tenant=tenant,
        document=document,
        invoice=invoice,
        customer=CUSTOMER,
        attachments=(),
        settings={},
        services=None,  # type: ignore[arg-type]  # invoice_pdf() needs no services
        render=lambda: PdfRenderer(0).render(invoice, Design()),
    )
    message = compose(
        sender=sender,
        recipients=[RECIPIENT],
        subject=rendered.subject,
        message_id=message_id_for(ctx.attempt_key, sender.domain),
        files=(asyncio.run(invoice_pdf(ctx, "nb")),),
        text=rendered.text,
        html=rendered.html,
    )
    return serialise(message, config)


# -------------------------------------------------------------------------------------------- floor


@dataclass(frozen=True, slots=True)
class FloorRun:
    loops: int
    messages: int  # sent, the warm-up included
    seconds: float
    cpu: float  # this process
    receiver_cpu: float


async def _send_loop(raw: bytes, count: int, smtp: SmtpConfig) -> None:
    for _ in range(count):
        await aiosmtplib.send(
            raw,
            sender=SENDER_ADDRESS,
            recipients=[RECIPIENT],
            hostname=smtp.host,
            port=smtp.port,
            timeout=smtp.timeout_seconds,
            use_tls=False,
            start_tls=False,
        )


async def _floor(raw: bytes, count: int, loops: int, smtp: SmtpConfig) -> tuple[float, float]:
    await _send_loop(raw, FLOOR_WARMUP, smtp)  # warm: imports, the first connection
    shares = [count // loops + (1 if i < count % loops else 0) for i in range(loops)]
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(_send_loop(raw, share, smtp) for share in shares))
    return time.perf_counter() - started, time.process_time() - cpu


def measure_floor(raw: bytes, count: int, loops: int, smtp: SmtpConfig, smtp_server: Receiver) -> FloorRun:
    before = smtp_server.cpu()
    seconds, cpu = asyncio.run(_floor(raw, count, loops, smtp))
    return FloorRun(loops, count + FLOOR_WARMUP, seconds, cpu, smtp_server.cpu() - before)


# --------------------------------------------------------------------------------------------- ours


class CountedEmail(EmailMethod):
    """The real e-mail method; counts what it delivered (and samples RSS every ``every``)."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.delivered = 0
        self.failed: list[str] = []
        self.every = max(1, every)
        self.samples: list[tuple[int, int]] = []  # (delivered, RSS KiB)
        self.start = 0  # deliveries before the timed run (the warm-up)
        self.target = 0
        self.done = asyncio.Event()

    async def deliver(self, ctx: InvoiceContext) -> Result:
        result = await super().deliver(ctx)
        if result.outcome == Outcome.DELIVERED:
            self.delivered += 1
            done = self.delivered - self.start
            if done % self.every == 0 or self.delivered == self.target:
                self.samples.append((done, rss_kib(os.getpid())))
            if self.delivered >= self.target:
                self.done.set()
        else:
            self.failed.append(f"{result.outcome}: {result.reason}")
        return result


@dataclass
class OurRun:
    store: str
    invoices: int
    seconds: float = 0.0
    accept_seconds: float = 0.0
    cpu: float = 0.0
    receiver_cpu: float = 0.0
    helper_cpu: float = 0.0  # the renderer's worker processes
    helpers: int = 0
    helpers_rss: int = 0  # KiB, at the end
    rss_start: int = 0
    rss_end: int = 0
    peak: int = 0
    samples: list[tuple[int, int]] = field(default_factory=list)
    message_bytes: int = 0
    floors: list[FloorRun] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.invoices / self.seconds


async def _delivered(store: Store) -> int:
    async with store.connect() as conn:
        query = sa.select(sa.func.count()).select_from(invoices).where(invoices.c.status == "delivered")
        return int((await conn.execute(query)).scalar_one())


async def _through(
    store: Store, tenant_id: str, method: CountedEmail, document: bytes, count: int, report: Report
) -> tuple[float, float, list[str]]:
    """Accept ``count`` invoices while the engine (already running) delivers them; the timings."""

    async def validate(_: bytes) -> Report:
        return report

    base = await _delivered(store)
    method.start, method.target = method.delivered, method.delivered + count
    method.done.clear()
    ids: list[str] = []
    started = time.perf_counter()
    for _ in range(count):
        new = NewInvoice(document, CUSTOMER)
        ids.append((await accept(store, tenant_id, new, validate, available=("email",))).id)
    accepted = time.perf_counter() - started
    deadline = max(120.0, count * 0.5)
    try:
        await asyncio.wait_for(method.done.wait(), deadline)
    except TimeoutError:
        raise RuntimeError(f"not delivered in {deadline:g} s; failures: {method.failed[:3]}") from None
    # The method has answered for the last one; its outcome is committed a moment later (no event).
    while await _delivered(store) < base + count:  # noqa: ASYNC110
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter() - started, accepted, ids


async def _ours(
    url: str,
    name: str,
    document: bytes,
    count: int,
    warmup: int,
    config: Config,
    report: Report,
    smtp_server: Receiver,
    profile: cProfile.Profile | None = None,
) -> OurRun:
    store = Store(url)
    await upgrade(store)
    run = OurRun(name, count)
    try:
        async with store.begin() as conn:
            tenant = await create_tenant(conn, TENANT_NAME)
            await save_run(conn, tenant.id, [{"method": "email"}])
        method = CountedEmail(every=count // 10)
        async with aiohttp.ClientSession() as http:
            settings = EngineSettings.from_config(config)
            engine = Engine(store, {"email": method}, config, http, settings)
            stop = asyncio.Event()
            task = asyncio.create_task(engine.run(stop))
            try:
                await _through(store, tenant.id, method, document, warmup, report)
                method.samples.clear()
                gc.collect()
                run.rss_start = rss_kib(os.getpid())
                workers = helpers(smtp_server.process.pid)
                receiver_cpu, cpu = smtp_server.cpu(), time.process_time()
                helper_cpu = helpers_cpu(workers)
                if profile is not None:
                    profile.enable()
                try:
                    run.seconds, run.accept_seconds, ids = await _through(
                        store, tenant.id, method, document, count, report
                    )
                finally:
                    if profile is not None:
                        profile.disable()
                run.cpu = time.process_time() - cpu
                run.receiver_cpu = smtp_server.cpu() - receiver_cpu
                run.helper_cpu = helpers_cpu(workers) - helper_cpu
                run.helpers = len(workers)
                run.helpers_rss = sum(rss_kib(pid) for pid in workers)
                run.peak = peak_kib()
                run.samples = list(method.samples)
                run.rss_end = run.samples[-1][1]  # at the last delivery, before the bench's count query
            finally:
                stop.set()
                await task
        async with store.connect() as conn:
            attempts = await attempts_of(conn, ids[-1])
        run.message_bytes = int((attempts[-1].evidence or {}).get("bytes", 0))
        if method.failed:
            raise RuntimeError(f"{len(method.failed)} deliveries failed, e.g. {method.failed[0]}")
    finally:
        await store.close()
    return run


@contextmanager
def store_url(name: str) -> Iterator[str]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ehfgate-distbench-") as directory:
            yield f"sqlite:///{Path(directory) / 'store.db'}"
    else:
        with fresh_database(POSTGRES_ADMIN) as url:
            yield url


# ------------------------------------------------------------------------------------------- render


def render_p50(invoice: Invoice, repeat: int) -> tuple[float, int, int]:
    """p50 milliseconds of ``render_pdf`` with the default design, the page count and the size."""
    design = Design()
    pdf = render_pdf(invoice, design)  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        render_pdf(invoice, design)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), len(PdfReader(io.BytesIO(pdf)).pages), len(pdf)


# --------------------------------------------------------------------------------------------- main


def print_profile(profile: cProfile.Profile, count: int, top: int = 30) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        print(f"\n--- cProfile of {count} invoices (main thread), by {order} ---")
        print(out.getvalue().split("\n", 6)[-1].rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="300 invoices per store, fewer render runs")
    parser.add_argument("--invoices", type=int, help="invoices per store (default 10 000, --quick 300)")
    parser.add_argument("--stores", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument(
        "--workers",
        type=int,
        default=DistributionConfig().workers,
        help="engine workers, i.e. invoices in flight (default: distribution.workers' default)",
    )
    parser.add_argument("--profile", action="store_true", help="also profile ours on SQLite (cProfile)")
    parser.add_argument("--smtp-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_child:
        serve_smtp(args.smtp_child)
        return 0
    count = args.invoices or (300 if args.quick else 10_000)
    warmup = 20 if args.quick else 50
    stores = [name.strip() for name in args.stores.split(",") if name.strip()]
    if "postgresql" in stores and (problem := postgres_problem(POSTGRES_ADMIN)):
        print(f"PostgreSQL skipped: {problem}")
        stores.remove("postgresql")

    print(f"load average at start: {loadavg()} ({os.cpu_count()} CPUs)", flush=True)
    document = (args.corpus / ONE_PAGE).read_bytes()
    one_page = render_p50(read_invoice(document), 20 if args.quick else 50)
    many = render_p50(read_invoice((args.corpus / MANY_LINES).read_bytes()), 3 if args.quick else 10)
    report = real_report(document)
    gc.collect()

    runs: list[OurRun] = []
    measured: list[FloorRun] = []
    expected = 0  # messages the receiver must have at the end
    profile: cProfile.Profile | None = None
    profiled = min(count, PROFILED)
    with receiver() as smtp_server:
        config = config_for(smtp_server.port, args.workers)
        raw = ready_made_message(document, config)
        workers = EngineSettings.from_config(config).workers

        def floors() -> list[FloorRun]:
            pair = [measure_floor(raw, count, loops, config.smtp, smtp_server) for loops in (1, workers)]
            for floor in pair:
                print(f"  floor, {floor.loops} loop(s): {count / floor.seconds:7.1f} msg/s", flush=True)
            measured.extend(pair)
            return pair

        print(f"floor: {count} ready-made messages of {len(raw) / 1024:.1f} KiB", flush=True)
        previous = floors()
        for name in stores:
            print(f"{name}: {warmup} warm-up + {count} invoices through the run", flush=True)
            with store_url(name) as url:
                run = asyncio.run(_ours(url, name, document, count, warmup, config, report, smtp_server))
            expected += warmup + count
            print(f"  {run.per_second:.1f} invoices/s ({run.seconds:.1f} s)", flush=True)
            following = floors()
            run.floors = previous + following
            previous = following
            runs.append(run)
        if args.profile:
            print(f"profiling {profiled} invoices on sqlite", flush=True)
            profile = cProfile.Profile()
            with store_url("sqlite") as url:
                asyncio.run(
                    _ours(url, "sqlite", document, profiled, warmup, config, report, smtp_server, profile)
                )
            expected += warmup + profiled
        received = smtp_server.close()
    expected += sum(floor.messages for floor in measured)

    print_table(runs, count, workers, one_page, many, len(raw))
    print(
        f"receiver: {received['messages']} messages, {received['bytes'] / 2**20:.0f} MiB"
        f" (expected {expected})"
    )
    print(f"load average at end: {loadavg()}")
    if profile is not None:
        print_profile(profile, profiled)
    return 0 if received["messages"] == expected else 1


def _mean_floor(floors: list[FloorRun], loops: int) -> tuple[float, float, float]:
    """Mean seconds, spread (max/min) and mean CPU seconds of the floors with ``loops`` loops."""
    chosen = [floor for floor in floors if floor.loops == loops]
    seconds = [floor.seconds for floor in chosen]
    return statistics.mean(seconds), max(seconds) / min(seconds), statistics.mean(f.cpu for f in chosen)


def print_table(
    runs: list[OurRun],
    count: int,
    workers: int,
    one_page: tuple[float, int, int],
    many: tuple[float, int, int],
    raw_bytes: int,
) -> None:
    print("\nPDF rendering (render_pdf, default design), p50:")
    for label, (ms, pages, size) in (("ehf-3-faktura-1, 4 lines", one_page), ("invoice-501-lines", many)):
        print(f"  {label:28} {ms:8.1f} ms  {pages:3} page(s)  {size / 1024:6.0f} KiB")
    print(f"  501 lines: {many[0] / 501:.2f} ms per line")
    print(f"\n{count} invoices per store, engine workers {workers}; floor message {raw_bytes} B")
    header = (
        f"{'store':10} {'inv/s':>7} {'floor/s 1':>9} {'floor/s ' + str(workers):>9} {'ratio':>6} "
        f"{'spread':>6} {'CPU ms/inv':>10} {'render CPU':>10} {'floor CPU':>9} {'recv CPU':>8} "
        f"{'RSS start':>9} {'RSS end':>8} {'peak':>7}"
    )
    print(header)
    for run in runs:
        single, _, _ = _mean_floor(run.floors, 1)
        side, spread_side, floor_cpu = _mean_floor(run.floors, workers)
        best = min(single, side)
        spread = _mean_floor(run.floors, 1)[1] if best == single else spread_side
        print(
            f"{run.store:10} {run.per_second:7.1f} {count / single:9.1f} {count / side:9.1f} "
            f"{best / run.seconds:6.2f} {spread:6.2f} {run.cpu / count * 1000:10.2f} "
            f"{run.helper_cpu / count * 1000:10.2f} "
            f"{floor_cpu / count * 1000:9.2f} {run.receiver_cpu / count * 1000:8.2f} "
            f"{run.rss_start / 1024:8.0f}M {run.rss_end / 1024:7.0f}M {run.peak / 1024:6.0f}M"
        )
    print("ratio = faster floor's time / our time (target >= 0.5); spread = that floor's max/min time;")
    print("CPU = this process per invoice / per floor message; render CPU = the renderer's worker processes")
    print("per invoice; recv CPU = the SMTP receiver's per invoice; RSS = this process (workers below)")
    for run in runs:
        samples = ", ".join(f"{done}: {kib / 1024:.0f}M" for done, kib in run.samples)
        print(
            f"  {run.store}: accepted all in {run.accept_seconds:.1f} s; the method sent "
            f"{run.message_bytes} B per message; {run.helpers} render process(es), "
            f"{run.helpers_rss / 1024:.0f} MiB at the end; RSS by delivered: {samples}"
        )


if __name__ == "__main__":
    sys.exit(main())
