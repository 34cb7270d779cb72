"""PDF rendering off the event loop.

Why: rendering is pure CPU under the GIL (about 10 ms for a two-page invoice, a third of a second
for a thousand lines). Done in the event loop, every AS4 message, API call and SMTP conversation of
the process waits meanwhile, and the run can use one core at most. Worker processes render instead,
while the loop goes on with the store and the network.

One pool per process, shared by every engine and request, started on first use (a process that never
renders never starts one) and with the *spawn* method: the server has threads (aiosqlite, the DNS
resolver), and a forked child would inherit their locks mid-state. ``processes=0`` renders in the
calling thread, as before, for small machines and tests that want no child processes.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from distribution.invoice import Invoice
from distribution.render.design import Design
from distribution.render.pdf import render_pdf

MAX_AUTOMATIC = 4

_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}


def automatic_processes() -> int:
    """One fewer than the cores (the event loop keeps one), at most four; none on one core."""
    return max(0, min(MAX_AUTOMATIC, (os.cpu_count() or 1) - 1))


def _warm() -> None:
    """Worker start-up: register the fonts, so the first invoice does not pay for it."""
    from distribution.render.fonts import fonts_for

    fonts_for(None)


def _shared_pool(processes: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(processes)
        if pool is None:
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_warm)
            _pools[processes] = pool
        return pool


def _forget(processes: int, pool: Executor) -> None:
    """Drop a broken pool, so the next render starts a fresh one."""
    with _lock:
        if _pools.get(processes) is pool:
            del _pools[processes]
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def _shutdown() -> None:
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


class RendererUnavailable(RuntimeError):
    """The worker process died (killed, out of memory): transient, the next render starts a new pool."""


class PdfRenderer:
    """Renders invoices in ``processes`` worker processes (0: in the caller's thread)."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = automatic_processes() if processes is None else max(0, processes)

    async def render(self, invoice: Invoice, design: Design) -> bytes:
        if self.processes == 0:
            return render_pdf(invoice, design)
        pool = _shared_pool(self.processes)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, render_pdf, invoice, design)
        except BrokenProcessPool as exc:
            _forget(self.processes, pool)
            raise RendererUnavailable(f"the PDF renderer's worker process stopped: {exc}") from exc
