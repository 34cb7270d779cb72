"""Validation benchmark: our engine against the floor (the same official XSD and XSLTs run directly).

Run: ``python bench/validation_bench.py`` (artifacts from the installed cache, or ``--artifacts DIR``).
Prints per-document latency p50/p95 for the corpus' complete invoices and the large perf invoices,
throughput with 1 and 2 worker processes, and the cold start of a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from accesspoint.artifacts import load_manifest  # noqa: E402
from accesspoint.config import load_config  # noqa: E402
from accesspoint.validation.catalogue import Catalogue, parse_catalogue  # noqa: E402
from accesspoint.validation.engine import Validator  # noqa: E402
from accesspoint.validation.pool import ValidationPool  # noqa: E402
from accesspoint.validation.setup import locate  # noqa: E402


class Floor:
    """The official artifacts run directly: lxml parse + XSD, Saxon load + each XSLT, compiled ahead."""

    def __init__(self, root: Path, catalogue: Catalogue) -> None:
        self.processor = PySaxonProcessor(license=False)
        xslt = self.processor.new_xslt30_processor()
        self.executables = {
            name: xslt.compile_stylesheet(stylesheet_file=str(root / rs.file))
            for name, rs in catalogue.rulesets.items()
        }
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        self.schemas = {
            name: etree.XMLSchema(etree.parse(str(root / file), parser=parser))
            for name, file in catalogue.schemas.items()
            if name != "StandardBusinessDocument"
        }
        self.catalogue = catalogue

    def validate(self, data: bytes) -> None:
        document = etree.fromstring(data)
        local = etree.QName(document).localname
        self.schemas[local].validate(document)
        node = self.processor.parse_xml(xml_text=data.decode("utf-8"))
        for name in self.catalogue.fallback[local]:
            self.executables[name].transform_to_string(xdm_node=node)


def _timed(function: object, data: bytes, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function(data)  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(
    ours: Validator, floor: Floor, documents: list[bytes], runs: int
) -> tuple[list[float], list[float]]:
    our_ms, floor_ms = [], []
    for data in documents:  # interleaved so that drift hits both alike
        floor_ms.append(_timed(floor.validate, data, runs))
        our_ms.append(_timed(ours.validate, data, runs))
    return our_ms, floor_ms


def throughput(root: Path, catalogue: Catalogue, paths: list[str], jobs: int) -> float:
    with ValidationPool(root, catalogue, jobs=jobs) as pool:
        list(pool.map(paths))  # start every worker and compile what the workload needs (steady state)
        started = time.perf_counter()
        outcomes = list(pool.map(paths))
        elapsed = time.perf_counter() - started
    assert all(o.report is not None for o in outcomes)
    return len(paths) / elapsed


COLD = """
import sys, time, json
t0 = time.perf_counter()
from pathlib import Path
from accesspoint.validation.engine import Validator
from accesspoint.validation.catalogue import parse_catalogue
from accesspoint.artifacts import load_manifest
t1 = time.perf_counter()
m = load_manifest()
v = Validator(Path(sys.argv[1]), parse_catalogue(m.release, m.validation))
report = v.validate(Path(sys.argv[2]).read_bytes())
t2 = time.perf_counter()
report = v.validate(Path(sys.argv[2]).read_bytes())
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "second": t3 - t2}))
"""


def cold_start(root: Path, document: Path) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COLD, str(root), str(document)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    total = time.perf_counter() - started
    figures: dict[str, float] = json.loads(done.stdout)
    figures["process_total"] = total
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artifacts", type=Path, help="artifact directory (default: the installed cache)")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per document (median taken)")
    args = parser.parse_args()
    if args.artifacts:
        manifest = load_manifest()
        root, catalogue = args.artifacts.resolve(), parse_catalogue(manifest.release, manifest.validation)
    else:
        root, catalogue = locate(load_config())
    cases = json.loads((args.corpus / "cases.json").read_text())
    invoices = [args.corpus / c["file"] for c in cases if c["kind"] == "example"]
    perf = sorted((args.corpus / "perf").glob("*.xml"))

    ours = Validator(root, catalogue)
    ours.warm_up()
    floor = Floor(root, catalogue)
    for path in invoices[:3]:
        ours.validate(path.read_bytes())
        floor.validate(path.read_bytes())

    rows = []
    our_ms, floor_ms = latency(ours, floor, [p.read_bytes() for p in invoices], args.runs)
    rows.append((f"corpus invoices (n={len(invoices)})", our_ms, floor_ms))
    for path in perf:
        o, f = latency(ours, floor, [path.read_bytes()], max(3, args.runs // 2))
        rows.append((path.name, o, f))

    print(f"\nValidation latency (median of {args.runs} runs per document; ms)")
    header = ("documents", "ours p50", "ours p95", "floor p50", "floor p95", "p50 ratio")
    print(f"{header[0]:<40}" + "".join(f" {h:>10}" for h in header[1:]))
    for label, o, f in rows:
        p50o, p50f = statistics.median(o), statistics.median(f)
        print(
            f"{label:<40} {p50o:10.2f} {_percentile(o, 0.95):10.2f} {p50f:10.2f} {_percentile(f, 0.95):10.2f}"
            f" {p50o / p50f:10.3f}"
        )

    workload = [str(p) for p in invoices] * 4
    one = throughput(root, catalogue, workload, 1)
    two = throughput(root, catalogue, workload, 2)
    print(
        f"\nThroughput over {len(workload)} invoices: --jobs 1 {one:.1f} docs/s, --jobs 2 {two:.1f} docs/s, "
        f"ratio {two / one:.2f} (cores: {os.cpu_count()})"
    )

    cold = cold_start(root, invoices[0])
    ms = {key: value * 1000 for key, value in cold.items()}
    print(f"\nCold start (fresh process, {invoices[0].name}):")
    print(f"  imports {ms['import']:.0f} ms; first validation {ms['first']:.0f} ms (compiles XSD and XSLTs);")
    print(f"  second validation {ms['second']:.1f} ms; whole process {ms['process_total']:.0f} ms")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS of this process (both engines loaded): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
