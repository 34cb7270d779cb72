"""The renderer's worker processes: the same PDF as in the loop, and a dead worker is a transient failure."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from distribution.invoice import read_invoice
from distribution.render import Design
from distribution.render.pool import PdfRenderer, RendererUnavailable, _shared_pool, automatic_processes
from tests.distribution.corpus import NORWEGIAN_EXAMPLE


async def test_a_worker_process_renders_the_same_pdf_as_the_loop(corpus: Path) -> None:
    invoice = read_invoice((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    design = Design(language="en", primary_colour="#123456")
    inline = await PdfRenderer(0).render(invoice, design)
    pooled = await PdfRenderer(1).render(invoice, design)
    assert pooled.startswith(b"%PDF-")
    assert pooled == inline  # invariant output: the worker renders exactly what the loop would


async def test_renders_run_side_by_side_without_blocking_the_loop(corpus: Path) -> None:
    invoice = read_invoice((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    renderer = PdfRenderer(1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        pdfs = await asyncio.gather(*(renderer.render(invoice, Design()) for _ in range(8)))
    finally:
        task.cancel()
    assert len(set(pdfs)) == 1
    assert ticks > 8  # the loop kept turning while the worker rendered


async def test_a_dead_worker_is_reported_as_unavailable_and_the_next_render_gets_a_new_pool(
    corpus: Path,
) -> None:
    invoice = read_invoice((corpus / NORWEGIAN_EXAMPLE).read_bytes())
    renderer = PdfRenderer(2)
    await renderer.render(invoice, Design())
    broken = _shared_pool(2)
    with pytest.raises(BrokenProcessPool):
        await asyncio.wrap_future(broken.submit(os._exit, 3))
    with pytest.raises(RendererUnavailable, match="worker process stopped"):
        await renderer.render(invoice, Design())
    assert _shared_pool(2) is not broken
    assert (await renderer.render(invoice, Design())).startswith(b"%PDF-")


def test_automatic_size_leaves_the_event_loop_a_core() -> None:
    expected = max(0, min(4, (os.cpu_count() or 1) - 1))
    assert automatic_processes() == expected
    assert PdfRenderer(None).processes == expected
    assert PdfRenderer(-1).processes == 0
