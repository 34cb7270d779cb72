"""Invoice PDF rendering benchmark: the read model and the renderer against their floors.

Run: ``python bench/render_bench.py [--corpus DIR] [--limit N]``. Prints p50/p95 milliseconds per
corpus invoice for reading the UBL (``read_invoice``), rendering (``render_pdf``) and both, then the
1000-line invoice, each with its ratio to a floor: an empty A4 page written by ReportLab (the same
library, so the fixed cost of any PDF) and by pypdf, and for the reader lxml parsing the same bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from distribution.invoice import InvoiceReadError, read_invoice  # noqa: E402
from distribution.render import Design, render_pdf  # noqa: E402
from distribution.render.fonts import fonts_for  # noqa: E402


def timed(function: Callable[[], object], repeat: int = 1) -> float:
    """Best-of-``repeat`` wall time in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def reportlab_empty_page() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def reportlab_page_with_fonts() -> bytes:
    """The fixed cost every invoice pays: an A4 page with one line in each embedded font."""
    fonts = fonts_for(None)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=fonts.regular)
    for offset, name in enumerate((fonts.regular, fonts.bold)):
        canvas.setFont(name, 10)
        canvas.drawString(72, 700 - 20 * offset, "Faktura 1 234,50 NOK æøå €")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def pypdf_empty_page() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=A4[0], height=A4[1])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def corpus_documents(corpus: Path) -> list[bytes]:
    files = [corpus / case["file"] for case in json.loads((corpus / "cases.json").read_text())]
    supplement = corpus / "supplement"
    files += [supplement / case["file"] for case in json.loads((supplement / "cases.json").read_text())]
    return [path.read_bytes() for path in files]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--limit", type=int, default=0, help="only the first N documents")
    args = parser.parse_args()
    design = Design(logo=None, language="nb")

    documents = corpus_documents(args.corpus)
    if args.limit:
        documents = documents[: args.limit]
    # Warm-up: font registration, imports, lxml parser.
    warm = read_invoice((args.corpus / "perf" / "invoice-501-lines.xml").read_bytes())
    render_pdf(warm, design)

    floor_rl = statistics.median(timed(reportlab_empty_page) for _ in range(50))
    floor_pypdf = statistics.median(timed(pypdf_empty_page) for _ in range(50))
    floor_fonts = statistics.median(timed(reportlab_page_with_fonts) for _ in range(50))
    parse_ms, read_ms, render_ms, total_ms = [], [], [], []
    skipped = 0
    for data in documents:
        try:
            invoice = read_invoice(data)
        except InvoiceReadError:
            skipped += 1
            continue
        parse_ms.append(timed(lambda data=data: etree.fromstring(data)))
        read_ms.append(timed(lambda data=data: read_invoice(data)))
        render_ms.append(timed(lambda invoice=invoice: render_pdf(invoice, design)))
        total_ms.append(read_ms[-1] + render_ms[-1])

    print(f"corpus: {len(render_ms)} invoices/credit notes rendered, {skipped} other documents skipped")
    print(f"floor: empty A4 page ReportLab {floor_rl:.2f} ms, pypdf {floor_pypdf:.2f} ms;")
    print(f"       one page with both fonts embedded (ReportLab) {floor_fonts:.2f} ms")
    for name, values, floor, floor_name in (
        ("lxml parse", parse_ms, None, ""),
        ("read_invoice", read_ms, statistics.median(parse_ms), "lxml parse"),
        ("render_pdf", render_ms, floor_rl, "empty ReportLab page"),
        ("read + render", total_ms, floor_rl, "empty ReportLab page"),
        ("render_pdf", render_ms, floor_fonts, "page with both fonts"),
    ):
        p50, p95 = percentiles(values)
        ratio = f"  p50 = {p50 / floor:.1f}x {floor_name}" if floor else ""
        print(f"  {name:14} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms{ratio}")

    big = (args.corpus / "perf" / "ehf-no-invoice-1000-lines.xml").read_bytes()
    invoice = read_invoice(big)
    read_big = timed(lambda: read_invoice(big), repeat=3)
    parse_big = timed(lambda: etree.fromstring(big), repeat=3)
    render_big = timed(lambda: render_pdf(invoice, design), repeat=3)
    pdf = render_pdf(invoice, design)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    per_page = render_big / pages
    print(f"1000-line invoice: read {read_big:.1f} ms ({read_big / parse_big:.1f}x lxml parse)")
    print(f"  render {render_big:.1f} ms for {pages} pages, {len(pdf) // 1024} KiB")
    print(f"  {per_page:.2f} ms per page = {per_page / floor_rl:.1f}x an empty ReportLab page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
