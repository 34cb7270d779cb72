"""End-to-end benchmark: two ``ehfgate serve`` processes on loopback, A sending to B, against the floor.

Run: ``python bench/e2e_bench.py [--quick] [--memory N] [--memory-only]``. Both stores (a fresh
PostgreSQL database per server and run), 1 and 16 documents in flight, then the memory run.

What is timed. Each of ``--concurrency`` client threads posts a document to A's API and waits until
A tells its webhook (``outbound.final``) that the document is ``delivered``, then posts the next: the
concurrency is the number of documents in flight from POST to delivery. Latency runs from the start
of the POST to the moment A committed ``delivered`` (the webhook delivery's ``created_at``, written in
the same transaction), so the webhook's own queueing is not counted as latency (it is printed as
"hook lag"; it does keep a client's slot busy a little longer). No per-document polling: it would
load A in proportion to the documents in flight. Throughput counts a document once it is delivered
by A *and* validated into B's inbox (B validates after its receipt is sent); B's count is read from
its ``/metrics`` once all deliveries are in. The servers' CPU per document comes from /proc.

The document: one known-valid Norwegian EHF invoice (the one the e2e tests send), posted N times.
Its own endpoint ids make the sender A's participant and the receiver B's, and every copy costs the
same, so the figures compare across runs and with the floor; a mix would measure the mix.

The floor is the work that cannot be avoided, in this process with no network or store: the
validation of the posted document (A validates on submit), the SBDH envelope and AS4 build (sign,
encrypt) A sends, the AS4 parse and verify B does, and B's validation of the received payload. Both
validations count because the server really runs both: the sender must not send, and the receiver
must not accept, what it has not checked. Receipt signing and checking are left out, so the floor
is a lower bound. ``floor / (wall time per document)`` says how much of the time is real work
(target >= 0.5 on PostgreSQL). On a shared machine wall times swing with other load, so the floor is
measured before and after the servers run (their mean is used; the spread shows the noise), and
``floor CPU / servers' CPU`` per document is printed too: the same question, asked of CPU time.

Memory: A's and B's RSS (VmRSS) after a warm-up and at the end of a ``--memory N`` run (default
10 000 documents; 16 in flight), sampled every N/10 documents. It must stay flat.

``--quick`` (a smoke run, about a minute and a half) starts one pair per store for all its runs, with
the workers the largest concurrency wants; the full run starts a pair per store and concurrency with
``EHFGATE_OUTBOUND_WORKERS`` = max(4, concurrency).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from accesspoint import sbdh  # noqa: E402
from accesspoint.as4 import AnchorTrust, read_user_message  # noqa: E402
from accesspoint.config import load_config  # noqa: E402
from accesspoint.identity import APIdentity  # noqa: E402
from accesspoint.peppol.identifiers import participant  # noqa: E402
from accesspoint.pipeline.delivery import build  # noqa: E402
from accesspoint.pki import create_dev_pki  # noqa: E402
from accesspoint.validation.engine import Validator  # noqa: E402
from accesspoint.validation.setup import locate  # noqa: E402
from accesspoint.xml import XMLLimits  # noqa: E402
from bench._servers import (  # noqa: E402
    POSTGRES_ADMIN,
    RECEIVER_SEAT,
    SENDER_SEAT,
    Client,
    HookReceiver,
    Pair,
    cpu_seconds,
    fresh_database,
    metric,
    postgres_problem,
    rss_kib,
    start_pair,
)

INVOICE = Path("supplement/docs/004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml")
ACCEPTED = ("ehfgate_inbound_documents_total", 'status="accepted"')
WAIT_SECONDS = 180.0
IDLE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Floor:
    """Median milliseconds per document of each unavoidable step, their sum, and the CPU it took
    (``cpu``: process time, which other load on the machine does not inflate as it does wall time)."""

    validate_submit: float
    build: float
    parse: float
    validate_received: float
    cpu: float

    @property
    def total(self) -> float:
        return self.validate_submit + self.build + self.parse + self.validate_received


def measure_floor(invoice: bytes, repeat: int) -> Floor:
    """The same document through validation, AS4 build, AS4 parse and validation again, as the server
    runs them (same validator setup as ``ValidationService``, same ``build`` as the worker)."""
    config = load_config()
    root, catalogue = locate(config)
    validator = Validator(root, catalogue, limits=XMLLimits(max_bytes=config.validation.max_document_bytes))
    validator.warm_up()
    pki = create_dev_pki((SENDER_SEAT, RECEIVER_SEAT))
    trust = AnchorTrust(anchors=pki.anchors, intermediates=pki.intermediates)
    sender = APIdentity(pki.ap(SENDER_SEAT), SENDER_SEAT, trust)
    receiver = pki.ap(RECEIVER_SEAT)
    steps: list[tuple[float, ...]] = []
    for i in range(repeat + 1):
        c0 = time.process_time()
        t0 = time.perf_counter()
        submitted = validator.validate(invoice)
        t1 = time.perf_counter()
        message = build(sender, sbdh.envelope_for_ubl(invoice), receiver.certificate, None)
        t2 = time.perf_counter()
        received = read_user_message(
            message.content_type, message.body, keys=[receiver], trust=trust, receiver_party=RECEIVER_SEAT
        )
        t3 = time.perf_counter()
        checked = validator.validate(received.payload)
        t4 = time.perf_counter()
        c4 = time.process_time()
        if not (submitted.valid and checked.valid):
            raise SystemExit("the benchmark invoice is not valid: pick a valid one")
        if i:  # the first pass warms caches (trust paths, compiled XPath) and is not counted
            steps.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3, c4 - c0))
    v1, b, p, v2, c = (statistics.median(s[k] for s in steps) * 1000 for k in range(5))
    return Floor(v1, b, p, v2, c)


def parties(invoice: bytes) -> tuple[str, str]:
    """(sender, receiver) participant ids as the server derives them from the invoice."""
    envelope = sbdh.read_envelope(sbdh.envelope_for_ubl(invoice))
    assert envelope.sender and envelope.receiver
    return str(participant(envelope.sender.value or "")), str(participant(envelope.receiver.value or ""))


@dataclass
class Run:
    """What one configuration measured."""

    store: str
    concurrency: int
    workers: int
    documents: int
    submit_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    hook_lag_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    delivered: float = 0.0
    complete: float = 0.0
    rss: list[tuple[int, int, int]] = field(default_factory=list)  # (documents done, A KiB, B KiB)
    cpu_ms: tuple[float, float] = (0.0, 0.0)  # CPU per document of A and of B
    idle_cpu: tuple[float, float] = (0.0, 0.0)  # CPU ms per second of A and of B with nothing to do

    def per_second(self, end: float) -> float:
        return self.documents / (end - self.started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Load:
    """``concurrency`` threads, each posting one document and waiting for its delivery, then the next."""

    def __init__(self, pair: Pair, hooks: HookReceiver, invoice: bytes, concurrency: int) -> None:
        self.pair, self.hooks, self.invoice, self.concurrency = pair, hooks, invoice, concurrency
        self.lock = threading.Lock()
        self.errors: list[BaseException] = []

    def go(self, documents: int, run: Run | None, on_done: Callable[[int], None] | None = None) -> None:
        left = [documents]
        done = [0]

        def take() -> bool:
            with self.lock:
                if left[0] <= 0 or self.errors:
                    return False
                left[0] -= 1
                return True

        def submitter() -> None:
            client = Client(self.pair.a.url, self.pair.key_a)
            try:
                while take():
                    started = time.time()
                    answer = client.request("POST", "/api/v1/documents", self.invoice, "application/xml")
                    posted = time.time()
                    status, at = self.hooks.wait(answer["id"], WAIT_SECONDS)
                    if status != "delivered":
                        raise RuntimeError(f"document {answer['id']} ended {status}")
                    with self.lock:
                        done[0] += 1
                        count = done[0]
                        if run is not None:
                            run.started = min(run.started or started, started)
                            run.delivered = max(run.delivered, at)
                            run.submit_ms.append((posted - started) * 1000)
                            run.latency_ms.append((at - started) * 1000)
                            run.hook_lag_ms.append((self.hooks.arrived[answer["id"]] - at) * 1000)
                    if on_done is not None:
                        on_done(count)
            except BaseException as exc:
                with self.lock:
                    self.errors.append(exc)
            finally:
                client.close()

        threads = [threading.Thread(target=submitter) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.errors:
            raise RuntimeError(f"load failed: {self.errors[0]!r}") from self.errors[0]


def wait_accepted(pair: Pair, count: int) -> float:
    """Poll B's ``/metrics`` until ``count`` documents are in its inbox; the time that was seen."""
    deadline = time.monotonic() + WAIT_SECONDS
    while metric(pair.b, *ACCEPTED) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"B accepted fewer than {count} documents in {WAIT_SECONDS:g} s")
        time.sleep(0.02)
    return time.time()


def cpu(pair: Pair) -> tuple[float, float]:
    assert pair.a.process is not None and pair.b.process is not None
    return cpu_seconds(pair.a.process.pid), cpu_seconds(pair.b.process.pid)


def idle_cpu(pair: Pair, seconds: float) -> tuple[float, float]:
    """CPU ms per second each server spends with no work at all (its queue polling, timers)."""
    before = cpu(pair)
    time.sleep(seconds)
    after = cpu(pair)
    return (after[0] - before[0]) * 1000 / seconds, (after[1] - before[1]) * 1000 / seconds


def rss(pair: Pair) -> tuple[int, int]:
    assert pair.a.process is not None and pair.b.process is not None
    return rss_kib(pair.a.process.pid), rss_kib(pair.b.process.pid)


@contextmanager
def servers(store: str, workers: int, invoice: bytes, admin_url: str) -> Iterator[tuple[Pair, HookReceiver]]:
    """A fresh pair (fresh databases) with A's outbound.final webhook pointing at a loopback receiver."""
    seller, buyer = parties(invoice)
    with tempfile.TemporaryDirectory(prefix="ehfgate-e2e-") as tmp:
        if store == "postgresql":
            with fresh_database(admin_url) as url_a, fresh_database(admin_url) as url_b:
                pair = start_pair(Path(tmp), seller, buyer, store_urls=(url_a, url_b), workers=workers)
                yield from _with_hooks(pair)
        else:
            pair = start_pair(Path(tmp), seller, buyer, store_urls=None, workers=workers)
            yield from _with_hooks(pair)


def _with_hooks(pair: Pair) -> Iterator[tuple[Pair, HookReceiver]]:
    hooks = HookReceiver()
    try:
        url = hooks.start()
        client = Client(pair.a.url, pair.key_a)
        body = json.dumps({"url": url, "events": ["outbound.final"]}).encode()
        client.request("POST", "/api/v1/webhooks", body, "application/json")
        client.close()
        yield pair, hooks
    finally:
        hooks.stop()
        pair.stop()


@dataclass(frozen=True, slots=True)
class Plan:
    """One measured run on a pair: documents in flight, how many, warm-up first, RSS sampled every n."""

    concurrency: int
    documents: int
    warmup: int
    rss_every: int = 0


def session(store: str, workers: int, plans: list[Plan], invoice: bytes, admin_url: str) -> list[Run]:
    """Start one pair and run ``plans`` on it in turn."""
    runs = []
    with servers(store, workers, invoice, admin_url) as (pair, hooks):
        accepted = 0
        for plan in plans:
            print(
                f"  {store}: {plan.concurrency} in flight, {plan.documents} documents"
                f" (+{plan.warmup} warm-up)",
                flush=True,
            )
            runs.append(measure(pair, hooks, store, workers, plan, invoice, accepted))
            accepted += plan.warmup + plan.documents
        for (server, level, logger, message), count in pair.problems().most_common():
            print(f"  log: {server} {level} x{count}: {logger}: {message[:120]}")
    return runs


def measure(
    pair: Pair, hooks: HookReceiver, store: str, workers: int, plan: Plan, invoice: bytes, accepted: int
) -> Run:
    """``accepted``: documents B had accepted before this run (its counter is cumulative)."""
    run = Run(store, plan.concurrency, workers, plan.documents)
    load = Load(pair, hooks, invoice, plan.concurrency)
    load.go(plan.warmup, None)
    wait_accepted(pair, accepted + plan.warmup)
    run.idle_cpu = idle_cpu(pair, IDLE_SECONDS)
    run.rss.append((0, *rss(pair)))
    cpu_before = cpu(pair)

    def sample(count: int) -> None:
        if plan.rss_every and count % plan.rss_every == 0 and count < plan.documents:
            run.rss.append((count, *rss(pair)))

    load.go(plan.documents, run, sample)
    run.complete = max(run.delivered, wait_accepted(pair, accepted + plan.warmup + plan.documents))
    cpu_after = cpu(pair)
    run.cpu_ms = (
        (cpu_after[0] - cpu_before[0]) * 1000 / plan.documents,
        (cpu_after[1] - cpu_before[1]) * 1000 / plan.documents,
    )
    run.rss.append((plan.documents, *rss(pair)))
    return run


def print_runs(runs: list[Run], floor: Floor) -> None:
    print(
        f"\n{'store':<10} {'conc':>4} {'wrk':>4} {'docs':>6} | {'docs/s':>7} {'ms/doc':>7} {'ratio':>6} | "
        f"{'post p50':>8} {'e2e p50':>8} {'e2e p99':>8} {'ratio':>6} | {'hook lag':>8} | "
        f"{'A cpu':>6} {'B cpu':>6} {'ratio':>6}"
    )
    print("-" * 127)
    for run in runs:
        per_doc = (run.complete - run.started) * 1000 / run.documents
        p50 = statistics.median(run.latency_ms)
        print(
            f"{run.store:<10} {run.concurrency:>4} {run.workers:>4} {run.documents:>6} | "
            f"{run.per_second(run.complete):7.1f} {per_doc:7.1f} {floor.total / per_doc:6.2f} | "
            f"{statistics.median(run.submit_ms):8.1f} {p50:8.1f} {percentile(run.latency_ms, 0.99):8.1f} "
            f"{floor.total / p50:6.2f} | {statistics.median(run.hook_lag_ms):8.1f} | "
            f"{run.cpu_ms[0]:6.1f} {run.cpu_ms[1]:6.1f} {floor.cpu / sum(run.cpu_ms):6.2f}"
        )
    print(
        "docs/s and ms/doc: wall time from the first POST until A delivered and B accepted every document;\n"
        "ratio = floor ms / (ms/doc) resp. floor ms / e2e p50. post = POST until 202 (A validated and\n"
        "stored it); e2e = POST until A committed `delivered`; hook lag = that commit until the webhook\n"
        "reached the bench (not part of e2e). wrk = EHFGATE_OUTBOUND_WORKERS of A and B. cpu = CPU ms\n"
        "per document used by the A and B processes (from /proc), ratio = floor cpu / (A cpu + B cpu): the\n"
        "share of the servers' CPU that is real work, which other load on the machine hardly moves."
    )


def print_rss(runs: list[Run]) -> None:
    print(
        f"\n{'RSS MiB':<26} {'A start':>8} {'A end':>8} {'B start':>8} {'B end':>8} | "
        f"{'A idle':>7} {'B idle':>7} (CPU ms/s, workers)"
    )
    for run in runs:
        _, a0, b0 = run.rss[0]
        _, a1, b1 = run.rss[-1]
        label = f"{run.store} c{run.concurrency} n={run.documents}"
        print(
            f"{label:<26} {a0 / 1024:8.1f} {a1 / 1024:8.1f} {b0 / 1024:8.1f} {b1 / 1024:8.1f} | "
            f"{run.idle_cpu[0]:7.1f} {run.idle_cpu[1]:7.1f} ({run.workers})"
        )


def print_memory(run: Run) -> None:
    print(f"\nMemory run: {run.documents} documents on {run.store}, {run.concurrency} in flight")
    print(f"{'documents':>10} {'A MiB':>8} {'B MiB':>8}")
    for count, a, b in run.rss:
        print(f"{count:>10} {a / 1024:8.1f} {b / 1024:8.1f}")
    (_, a0, b0), (_, a1, b1) = run.rss[0], run.rss[-1]
    n = max(run.documents, 1)
    print(
        f"growth over the run: A {(a1 - a0) / 1024:+.1f} MiB ({(a1 - a0) / n:+.2f} KiB/doc), "
        f"B {(b1 - b0) / 1024:+.1f} MiB ({(b1 - b0) / n:+.2f} KiB/doc); "
        f"{run.per_second(run.complete):.1f} docs/s, e2e p50 {statistics.median(run.latency_ms):.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few documents, small memory run (< 2 min)")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument(
        "--invoice", type=Path, help="a valid invoice (default: the EHF example the e2e tests use)"
    )
    parser.add_argument("--documents", type=int, help="documents per run (default: by concurrency and mode)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument(
        "--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--workers", type=int, help="EHFGATE_OUTBOUND_WORKERS (default: max(4, concurrency))")
    parser.add_argument("--memory", type=int, help="documents in the memory run (default 10000; quick 48)")
    parser.add_argument("--memory-only", action="store_true", help="skip the concurrency matrix")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN, help="admin URL; a fresh database per run")
    args = parser.parse_args()

    invoice = (args.invoice or args.corpus / INVOICE).read_bytes()
    memory_docs = args.memory if args.memory is not None else (48 if args.quick else 10_000)
    stores = list(args.stores)
    if "postgresql" in stores and (problem := postgres_problem(args.postgres)) is not None:
        print(f"PostgreSQL skipped: {problem}")
        stores.remove("postgresql")
    repeat = 10 if args.quick else 40
    print(f"invoice: {len(invoice)} bytes; sender/receiver {parties(invoice)}", flush=True)

    before = measure_floor(invoice, repeat)
    memory_store = "postgresql" if "postgresql" in stores else stores[0]
    memory_plan = Plan(16, memory_docs, 0 if args.quick else 100, rss_every=max(1, memory_docs // 10))
    runs: list[Run] = []
    memory_runs: list[Run] = []
    if args.quick:
        # one pair per store (server start-up dominates a short run): workers for the larger concurrency
        workers = args.workers or max(4, *args.concurrency)
        print(f"quick: one pair per store, EHFGATE_OUTBOUND_WORKERS={workers}", flush=True)
        for store in stores:
            plans = (
                [] if args.memory_only else [_plan(c, args.documents, quick=True) for c in args.concurrency]
            )
            with_memory = memory_docs > 0 and store == memory_store
            done = session(
                store, workers, plans + ([memory_plan] if with_memory else []), invoice, args.postgres
            )
            runs += done[: len(plans)]
            memory_runs += done[len(plans) :]
    else:
        for store in [] if args.memory_only else stores:
            for concurrency in args.concurrency:
                workers = args.workers or max(4, concurrency)
                print(f"{store}: EHFGATE_OUTBOUND_WORKERS={workers}", flush=True)
                runs += session(
                    store, workers, [_plan(concurrency, args.documents, quick=False)], invoice, args.postgres
                )
        if memory_docs:
            workers = args.workers or 16
            print(f"memory run, {memory_store}: EHFGATE_OUTBOUND_WORKERS={workers}", flush=True)
            memory_runs = session(memory_store, workers, [memory_plan], invoice, args.postgres)
    after = measure_floor(invoice, repeat)
    floor = Floor(*((x + y) / 2 for x, y in zip(_steps(before), _steps(after), strict=True)))

    print("\nFloor (ms per document, median; before / after the servers ran / mean used):")
    for name, x, y in zip(Floor.__dataclass_fields__, _steps(before), _steps(after), strict=True):
        if name == "cpu":
            print(f"  {'total (wall)':<18} {before.total:8.2f} {after.total:8.2f} {floor.total:8.2f}")
        print(f"  {name:<18} {x:8.2f} {y:8.2f} {(x + y) / 2:8.2f}")
    if runs:
        print_runs(runs, floor)
        print_rss(runs)
    for memory_run in memory_runs:
        print_runs([memory_run], floor)
        print_memory(memory_run)
    return 0


def _steps(floor: Floor) -> tuple[float, float, float, float, float]:
    return floor.validate_submit, floor.build, floor.parse, floor.validate_received, floor.cpu


def _plan(concurrency: int, documents: int | None, *, quick: bool) -> Plan:
    if documents is None:
        if quick:
            documents = 8 if concurrency == 1 else 2 * concurrency
        else:
            documents = 150 if concurrency == 1 else 40 * concurrency
    return Plan(concurrency, documents, warmup=max(4, concurrency))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (http.client.HTTPException, OSError, RuntimeError, TimeoutError) as exc:
        print(f"e2e bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
