"""Where the official Schematron XSLTs spend their time on large invoices (ablation with Saxon HE).

Run: ``.venv/bin/python bench/xslt_hotspots.py`` (stylesheets from ``--artifacts DIR``, default
``../shared/artifacts`` next to the repository, else the installed artifact cache).

Saxon HE has no profiler reachable from saxonche (no ``-TP``, no trace listener), so every figure here
is a difference between two stylesheet variants timed on the same loaded document. The variants are
edited COPIES of the official stylesheets written to a temporary directory; the rule text is never
changed, rule templates are only emptied or removed:

- ``fixed``: the root template with every pattern taken out (just the SVRL header).
- ``pattern Mxx``: one pattern alone (its ``apply-templates mode="Mxx" select="/"``), minus ``fixed``.
- across all patterns, the rule templates' bodies are taken away step by step:
  ``traversal`` (every rule template removed: the bare ``@*|*`` walk of each pattern's mode),
  ``match patterns`` (templates kept, bodies emptied: the cost of testing the ``match`` patterns),
  ``svrl:fired-rule`` (bodies hold only ``<svrl:fired-rule>``), ``asserts`` (the full bodies);
  within the asserts, those whose test holds a key-less ``//`` path, and those that look a code up in
  a code list written as one long string literal; within the match patterns, the wildcard ones
  (``//*[...]``, which Saxon has to test against every element).
- ``default-mode walks``: the ``<xsl:apply-templates/>`` the Schematron skeleton puts in every
  ``<svrl:active-pattern>`` (a full walk of the document in the default mode that outputs nothing).
- ``rule``: one pattern alone with every rule body emptied except that rule's; minus the same pattern
  with all bodies emptied. Rules are screened first (those that fire often, or whose asserts use ``//``).
- ``SVRL serialisation``: ``transform_to_string`` minus ``transform_to_value``; ``document load``: Saxon's
  ``parse_xml``.

The document is the 1000-line EHF invoice of the perf corpus cut to 100/250/501 lines (it need not stay
valid for timing). Then: an importing stylesheet that cuts the default-mode walks (official rules
untouched; the SVRL is compared); an invalid document with one failure per line (the failures'
``location`` paths are the one superlinear cost found); the scaling of both perf invoices, also extended
by repeating their lines (cost per line and per node); and the latency of one document with the two rule
sets run one after the other, in two threads, or in two processes.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from lxml import etree
from saxonche import PySaxonProcessor

REPO = Path(__file__).resolve().parent.parent
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
LINE_TAGS = (f"{{{CAC}}}InvoiceLine", f"{{{CAC}}}CreditNoteLine")
T_TEMPLATE, T_APPLY = f"{{{XSL}}}template", f"{{{XSL}}}apply-templates"
T_ACTIVE, T_FIRED = f"{{{SVRL}}}active-pattern", f"{{{SVRL}}}fired-rule"
DEFAULT_SIZES = (100, 250, 501, 1000)
PERF_DOCS = ("ehf-no-invoice-1000-lines.xml", "invoice-501-lines.xml")
RULESETS = ("en16931", "peppol")

Element = Any  # lxml element (lxml-stubs is optional)


# ---------------------------------------------------------------------------------------------------------
# Locating inputs


def artifacts_dir(given: Path | None) -> Path:
    """``--artifacts``, else ``../shared/artifacts`` beside the repository, else the installed cache."""
    if given is not None:
        return given.resolve()
    mirror = REPO.parent / "shared" / "artifacts"
    if mirror.is_dir():
        return mirror
    try:
        sys.path.insert(0, str(REPO))
        from accesspoint.config import load_config
        from accesspoint.validation.setup import locate

        root, _ = locate(load_config())
        return Path(root)
    except Exception as exc:  # the cache may be absent or the tree mid-edit
        raise SystemExit(f"no artifacts: give --artifacts DIR ({exc})") from None


def ruleset_files() -> dict[str, str]:
    """Rule set name -> stylesheet path inside the artifact directory, from the project's manifest."""
    manifest = json.loads((REPO / "schemas" / "artifacts.json").read_text(encoding="utf-8"))
    rulesets: dict[str, dict[str, str]] = manifest["validation"]["rulesets"]
    return {name: rulesets[name]["file"] for name in RULESETS}


def resize(path: Path, lines: int) -> str:
    """The invoice with exactly ``lines`` lines: cut, or extended by repeating its lines in order."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    found = [child for child in root if child.tag in LINE_TAGS]
    if lines <= len(found):
        for line in found[lines:]:
            root.remove(line)
    else:
        last = found[-1]
        for index in range(lines - len(found)):
            clone = copy.deepcopy(found[index % len(found)])
            last.addnext(clone)
            last = clone
    return etree.tostring(root, encoding="unicode")


def node_count(text: str) -> int:
    """Elements plus attributes: what a mode's ``@*|*`` walk visits."""
    root = etree.fromstring(text.encode("utf-8"))
    return sum(1 + len(element.attrib) for element in root.iter("*"))


# ---------------------------------------------------------------------------------------------------------
# Stylesheet variants


@dataclass(frozen=True, slots=True)
class Spec:
    """One variant of a compiled-Schematron stylesheet.

    ``body``: what every rule template keeps -- ``full``; ``fired`` (only ``<svrl:fired-rule>`` and the
    continuation ``apply-templates``); ``skeleton`` (only the continuation); ``absent`` (template removed).
    """

    modes: frozenset[str] | None = None  # patterns run (None: all)
    walks: bool = True  # the default-mode <xsl:apply-templates/> in each <svrl:active-pattern>
    body: str = "full"
    keep: tuple[str, int] | None = None  # (mode, index): this rule keeps its full body
    drop_asserts: str | None = None  # a key of ASSERT_KINDS: drop those asserts
    drop_wildcard: bool = False  # remove rule templates whose match pattern has a '*[...]' step


ASSERT_KINDS: dict[str, Callable[[str], bool]] = {
    # a path from the root without a key: a scan of the whole document each time the assert runs
    "slash": lambda test: "//" in test,
    # contains(' AED AFN ... ', concat(' ', @currencyID, ' ')): a code list as one long string literal
    "codelist": lambda test: re.search(r"'[^']{200,}'", test) is not None,
}
WILDCARD = re.compile(r"(^|[/|(\s])\*\[")  # a match pattern step '*[...]' (no name to index the rule by)


@dataclass(slots=True)
class Rule:
    mode: str
    index: int
    context: str
    match: str
    asserts: int
    slash_asserts: int
    codelist_asserts: int


class Sheet:
    """An official stylesheet, parsed once; ``build`` writes edited copies."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.tree = etree.parse(str(path))
        root = self.tree.getroot()
        self.modes = [call.get("mode") for call, _ in self._calls(root)]
        self.patterns = {call.get("mode"): active_id(active) for call, active in self._calls(root)}
        self.rules = [
            Rule(
                mode,
                index,
                template.find(T_FIRED).get("context", ""),
                template.get("match", ""),
                *assert_counts(template),
            )
            for mode in self.modes
            for index, template in enumerate(self._rule_templates(root, mode))
        ]

    @staticmethod
    def _root_template(root: Element) -> Element:
        return next(t for t in root.iter(T_TEMPLATE) if t.get("match") == "/" and t.get("mode") is None)

    def _calls(self, root: Element) -> Iterator[tuple[Element, Element | None]]:
        """(``apply-templates mode=Mxx select="/"``, the ``svrl:active-pattern`` before it) per pattern."""
        active = None
        for element in self._root_template(root).iter(T_ACTIVE, T_APPLY):
            if element.tag == T_ACTIVE:
                active = element
            elif element.get("mode") and element.get("select") == "/":
                yield element, active
                active = None

    @staticmethod
    def _rule_templates(root: Element, mode: str) -> list[Element]:
        return [t for t in root.iter(T_TEMPLATE) if t.get("mode") == mode and t.find(T_FIRED) is not None]

    def build(self, spec: Spec) -> str:
        tree = copy.deepcopy(self.tree)
        root = tree.getroot()
        kept = self.modes if spec.modes is None else [m for m in self.modes if m in spec.modes]
        for call, active in list(self._calls(root)):
            dropped = call.get("mode") not in kept
            if dropped:
                call.getparent().remove(call)
            if active is not None and (dropped or not spec.walks):
                for walk in [a for a in active.iter(T_APPLY) if a.get("mode") is None]:
                    walk.getparent().remove(walk)
                if dropped:
                    active.getparent().remove(active)
        for template in list(root.iter(T_TEMPLATE)):  # other patterns' templates: faster compiles
            if template.get("mode") in self.modes and template.get("mode") not in kept:
                root.remove(template)
        for mode in kept:
            for index, template in enumerate(self._rule_templates(root, mode)):
                body = "full" if spec.keep == (mode, index) else spec.body
                strip_rule(template, body, spec.drop_asserts, spec.drop_wildcard)
        return etree.tostring(tree, encoding="unicode")


def active_id(active: Element | None) -> str:
    if active is None:
        return ""
    for attribute in active.iter(f"{{{XSL}}}attribute"):
        if attribute.get("name") == "id":
            return (attribute.text or "").strip()
    return ""


def _test_of(element: Element) -> str:
    when = element.find(f"{{{XSL}}}when")
    return str((when if when is not None else element).get("test", ""))


def assert_counts(template: Element) -> tuple[int, int, int]:
    tests = [_test_of(c) for c in template if c.tag in (f"{{{XSL}}}choose", f"{{{XSL}}}if")]
    slash, codelist = (sum(map(ASSERT_KINDS[kind], tests)) for kind in ("slash", "codelist"))
    return len(tests), slash, codelist


def strip_rule(template: Element, body: str, drop_asserts: str | None, drop_wildcard: bool) -> None:
    """Empty a rule template down to ``body`` (see :class:`Spec`)."""
    if body == "absent" or (drop_wildcard and WILDCARD.search(template.get("match", ""))):
        template.getparent().remove(template)
        return
    dropped = ASSERT_KINDS[drop_asserts] if drop_asserts else None
    for child in list(template):
        continuation = child.tag == T_APPLY and child.get("mode") == template.get("mode")
        if continuation or (child.tag == T_FIRED and body != "skeleton"):
            continue
        is_assert = child.tag in (f"{{{XSL}}}choose", f"{{{XSL}}}if")
        if body == "full" and not (dropped and is_assert and dropped(_test_of(child))):
            continue
        template.remove(child)


# ---------------------------------------------------------------------------------------------------------
# Timing


class Bench:
    """One Saxon processor; variants compiled from files in a temporary directory."""

    def __init__(self, runs: int, workdir: Path, stat: str = "min") -> None:
        self.stat = stat
        self.processor = PySaxonProcessor(license=False)
        self.xslt = self.processor.new_xslt30_processor()
        self.runs = runs
        self.workdir = workdir
        self.compiled = 0
        self.compile_s = 0.0

    def compile(self, text: str) -> Any:
        self.compiled += 1
        path = self.workdir / f"variant-{self.compiled}.xslt"
        path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        executable = self.xslt.compile_stylesheet(stylesheet_file=str(path))
        self.compile_s += time.perf_counter() - started
        path.unlink()
        return executable

    def load(self, text: str) -> Any:
        return self.processor.parse_xml(xml_text=text)

    def samples(self, call: Callable[[], object], runs: int) -> list[float]:
        """Milliseconds of ``runs`` calls after one untimed call."""
        call()
        out = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            out.append((time.perf_counter() - started) * 1000)
        return out

    def time(self, call: Callable[[], object], runs: int | None = None) -> float:
        """Milliseconds of ``call``: the fastest (or median, ``--stat median``) of ``runs`` after one untimed.

        The native-image JVM inside saxonche pauses for GC now and then (a run at 100 lines takes 35 ms,
        or 60-190 ms when a collection lands in it), so the median of a few runs is noisy; the minimum
        is the stable estimate of the work itself. Differences below ~5 ms are within the noise.
        """
        samples = self.samples(call, runs or self.runs)
        return statistics.median(samples) if self.stat == "median" else min(samples)

    def measure(
        self, sheet: Sheet, spec: Spec, nodes: dict[int, Any], runs: int | None = None
    ) -> list[float]:
        executable = self.compile(sheet.build(spec))
        return [
            self.time(partial(executable.transform_to_value, xdm_node=node), runs) for node in nodes.values()
        ]


def minus(a: list[float], b: list[float]) -> list[float]:
    return [x - y for x, y in zip(a, b, strict=True)]


@dataclass(slots=True)
class Row:
    label: str
    ms: list[float]
    depth: int = 1


# ---------------------------------------------------------------------------------------------------------
# Analysis of one rule set


def fired_counts(bench: Bench, sheet: Sheet, node: Any) -> tuple[Counter[str], int, int]:
    """svrl:fired-rule count per rule context, SVRL size in characters, and failed asserts."""
    svrl = bench.compile(sheet.build(Spec())).transform_to_string(xdm_node=node)
    contexts = Counter(html_unescape(c) for c in re.findall(r'<svrl:fired-rule context="([^"]*)"', svrl))
    return contexts, len(svrl), svrl.count("<svrl:failed-assert")


def short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def html_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def analyse(
    bench: Bench, sheet: Sheet, nodes: dict[int, Any], top: int, screen_min_fired: int
) -> tuple[list[Row], list[float]]:
    sizes = list(nodes)
    largest = {sizes[-1]: nodes[sizes[-1]]}
    fired, svrl_chars, failed = fired_counts(bench, sheet, nodes[sizes[-1]])
    total = bench.measure(sheet, Spec(), nodes)
    fixed = bench.measure(sheet, Spec(modes=frozenset(), walks=False), nodes)
    no_walks = bench.measure(sheet, Spec(walks=False), nodes)
    fired_only = bench.measure(sheet, Spec(walks=False, body="fired"), nodes)
    skeleton = bench.measure(sheet, Spec(walks=False, body="skeleton"), nodes)
    absent = bench.measure(sheet, Spec(walks=False, body="absent"), nodes)
    no_slash = bench.measure(sheet, Spec(walks=False, drop_asserts="slash"), nodes)
    no_codelist = bench.measure(sheet, Spec(walks=False, drop_asserts="codelist"), nodes)
    no_wildcard = bench.measure(sheet, Spec(walks=False, body="skeleton", drop_wildcard=True), nodes)
    n_slash = sum(r.slash_asserts for r in sheet.rules)
    n_codelist = sum(r.codelist_asserts for r in sheet.rules)
    n_asserts = sum(r.asserts for r in sheet.rules)
    wildcards = [r for r in sheet.rules if WILDCARD.search(r.match)]

    rows = [
        Row(f"TOTAL transform_to_value ({len(sheet.modes)} patterns, {len(sheet.rules)} rules)", total, 0),
        Row("fixed cost (SVRL header, no pattern)", fixed),
        Row(f"default-mode walks ({len(sheet.modes)} x <xsl:apply-templates/>)", minus(total, no_walks)),
        Row(f"mode traversal ({len(sheet.modes)} x @*|* walk, no rules)", minus(absent, fixed)),
        Row("match patterns (rule templates with empty bodies)", minus(skeleton, absent)),
        Row(
            f"of which wildcard patterns ({'; '.join(short(r.match, 24) for r in wildcards)})",
            minus(skeleton, no_wildcard),
            2,
        ),
        Row(
            f"svrl:fired-rule output ({sum(fired.values())} elements, SVRL {svrl_chars / 1e6:.1f} MB)",
            minus(fired_only, skeleton),
        ),
        Row(f"asserts ({n_asserts}; {failed} failed)", minus(no_walks, fired_only)),
        Row(f"of which asserts with a key-less // path ({n_slash})", minus(no_walks, no_slash), 2),
        Row(
            f"of which code lists as one string literal, contains() ({n_codelist})",
            minus(no_walks, no_codelist),
            2,
        ),
    ]

    # one pattern at a time (no default-mode walk), minus the fixed cost
    for mode in sheet.modes:
        alone = bench.measure(sheet, Spec(modes=frozenset({mode}), walks=False), nodes)
        count = sum(r.mode == mode for r in sheet.rules)
        rows.append(Row(f"pattern {mode} {sheet.patterns[mode]} ({count} rules)", minus(alone, fixed)))

    # rules: screen at the largest size, then measure the top ones at every size
    candidates = [
        r
        for r in sheet.rules
        if fired[r.context] >= screen_min_fired or (fired[r.context] and r.slash_asserts)
    ]
    bases: dict[str, list[float]] = {}
    screened: list[tuple[float, Rule]] = []
    for mode in sorted({r.mode for r in candidates}):
        bases[mode] = bench.measure(
            sheet, Spec(modes=frozenset({mode}), walks=False, body="skeleton"), largest
        )
    for rule in candidates:
        spec = Spec(modes=frozenset({rule.mode}), walks=False, body="skeleton", keep=(rule.mode, rule.index))
        ms = bench.measure(sheet, spec, largest, runs=2)
        screened.append((ms[0] - bases[rule.mode][0], rule))
    screened.sort(key=lambda item: item[0], reverse=True)
    base_all: dict[str, list[float]] = {}
    for _, rule in screened[:top]:
        if rule.mode not in base_all:
            base_all[rule.mode] = bench.measure(
                sheet, Spec(modes=frozenset({rule.mode}), walks=False, body="skeleton"), nodes
            )
        spec = Spec(modes=frozenset({rule.mode}), walks=False, body="skeleton", keep=(rule.mode, rule.index))
        ms = minus(bench.measure(sheet, spec, nodes), base_all[rule.mode])
        kinds = f", {rule.slash_asserts} with //" if rule.slash_asserts else ""
        kinds += f", {rule.codelist_asserts} code list" if rule.codelist_asserts else ""
        label = f"rule {rule.mode} [{short(rule.context, 44)}] {fired[rule.context]}x"
        label += f", {rule.asserts} asserts{kinds}"
        rows.append(Row(label, ms))

    full = bench.compile(sheet.build(Spec()))
    to_string = [bench.time(partial(full.transform_to_string, xdm_node=node)) for node in nodes.values()]
    rows.append(
        Row("SVRL serialisation (transform_to_string - transform_to_value)", minus(to_string, total), 0)
    )
    return rows, total


# ---------------------------------------------------------------------------------------------------------
# Output


def print_table(title: str, sizes: list[int], rows: list[Row], total: list[float], stat: str) -> None:
    print(f"\n{title}")
    head = "".join(f" {f'{s} lines':>10}" for s in sizes)
    print(f"{f'component (ms, {stat} of runs)':<92}{head} {'share':>7} {'x per 10x':>9}")
    for row in rows:
        label = ("  " * row.depth + row.label)[:92]
        share = row.ms[-1] / total[-1] * 100 if total[-1] else 0.0
        growth = row.ms[-1] / row.ms[0] * sizes[0] * 10 / sizes[-1] if row.ms[0] > 0.5 else float("nan")
        cells = "".join(f" {value:10.1f}" for value in row.ms)
        print(f"{label:<92}{cells} {share:6.1f}% {growth:9.1f}")


def scaling(bench: Bench, corpus: Path, sheets: dict[str, Sheet], sizes: list[int]) -> None:
    """Totals per document and size: is the cost per line or per node constant?"""
    executables = {name: bench.compile(sheet.build(Spec())) for name, sheet in sheets.items()}
    print(
        "\nScaling: both perf invoices cut or extended by repeating lines; ms per rule set, per line, and"
        "\nus per node (elements + attributes) for both rule sets together"
    )
    print(
        f"{'document':<34}{'lines':>6}{'nodes':>9}{'load':>8}"
        + "".join(f"{n:>10}" for n in sheets)
        + "".join(f"{n + '/line':>14}" for n in sheets)
        + f"{'us/node':>10}"
    )
    for name in PERF_DOCS:
        for lines in sizes:
            text = resize(corpus / "perf" / name, lines)
            nodes = node_count(text)
            load = bench.time(partial(bench.load, text), 3)
            node = bench.load(text)
            ms = {
                n: bench.time(partial(e.transform_to_value, xdm_node=node), 3) for n, e in executables.items()
            }
            per_line = "".join(f"{v / lines:14.3f}" for v in ms.values())
            per_node = sum(ms.values()) / nodes * 1e3  # ms -> us
            print(
                f"{name:<34}{lines:6d}{nodes:9d}{load:8.1f}"
                + "".join(f"{v:10.1f}" for v in ms.values())
                + per_line
                + f"{per_node:10.2f}"
            )


LOCATION_OFF = """<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:import href="{href}"/>
  <xsl:template match="node() | @*" mode="schematron-select-full-path"/>
</xsl:stylesheet>
"""


def invalid_lines(bench: Bench, sheet: Sheet, source: Path, sizes: list[int]) -> None:
    """Every line fails one assert (BR-CL-23, unit code): the cost of the failures' ``location`` paths."""
    official = bench.compile(sheet.build(Spec()))
    wrapper = bench.workdir / "location-off.xslt"
    wrapper.write_text(LOCATION_OFF.format(href=sheet.path.resolve().as_uri()), encoding="utf-8")
    no_location = bench.xslt.compile_stylesheet(stylesheet_file=str(wrapper))
    print(
        f"\nInvalid document, {sheet.name}: every unitCode set to 'XXX' (one failed-assert per line), ms;\n"
        "'location' = time of the official schematron-get-full-path (vs. an importing stylesheet that\n"
        "leaves the location empty); 'rest' = the other costs of the failures"
    )
    print(
        f"{'lines':>6}{'valid':>9}{'invalid':>9}{'failures':>9}{'location':>10}{'us/failure':>11}{'rest':>8}"
    )
    for lines in sizes:
        valid_text = resize(source, lines)
        invalid_text = re.sub(r'unitCode="[^"]*"', 'unitCode="XXX"', valid_text)
        valid, invalid = bench.load(valid_text), bench.load(invalid_text)
        ms_valid = bench.time(partial(official.transform_to_value, xdm_node=valid), 2)
        ms_invalid = bench.time(partial(official.transform_to_value, xdm_node=invalid), 2)
        ms_off = bench.time(partial(no_location.transform_to_value, xdm_node=invalid), 2)
        failures = official.transform_to_string(xdm_node=invalid).count("<svrl:failed-assert")
        location = ms_invalid - ms_off
        print(
            f"{lines:6d}{ms_valid:9.1f}{ms_invalid:9.1f}{failures:9d}{location:10.1f}"
            f"{location / failures * 1000:11.0f}{ms_off - ms_valid:8.1f}"
        )


NO_WALKS = """<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:import href="{href}"/>
  <!-- the skeleton's <xsl:apply-templates/> in each svrl:active-pattern: stop at the root element -->
  <xsl:template match="/*"/>
</xsl:stylesheet>
"""


def wrapper_without_walks(bench: Bench, sheets: dict[str, Sheet], node: Any, lines: int) -> None:
    """Our side, official rules untouched: an importing stylesheet that cuts the default-mode walks."""
    print(
        f'\nOur side: an importing stylesheet whose only template is <xsl:template match="/*"/> '
        f"(default mode), {lines} lines"
    )
    for sheet in sheets.values():
        official = bench.xslt.compile_stylesheet(stylesheet_file=str(sheet.path))
        wrapper = bench.workdir / f"no-walks-{sheet.name}.xslt"
        wrapper.write_text(NO_WALKS.format(href=sheet.path.resolve().as_uri()), encoding="utf-8")
        cut = bench.xslt.compile_stylesheet(stylesheet_file=str(wrapper))
        same = official.transform_to_string(xdm_node=node) == cut.transform_to_string(xdm_node=node)
        before = bench.time(partial(official.transform_to_value, xdm_node=node), 3)
        after = bench.time(partial(cut.transform_to_value, xdm_node=node), 3)
        print(
            f"  {sheet.name:<10} official {before:6.1f} ms, wrapper {after:6.1f} ms "
            f"({(before - after) / before * 100:4.1f}% less); SVRL identical: {same}"
        )


_WORKER: dict[str, Any] = {}


def _worker_init(name: str, file: str) -> None:
    processor = PySaxonProcessor(license=False)
    _WORKER["processor"] = processor
    _WORKER[name] = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=file)


def _worker_run(name: str, text: str) -> bool:
    node = _WORKER["processor"].parse_xml(xml_text=text)
    svrl = _WORKER[name].transform_to_string(xdm_node=node)
    return "failed-assert" in svrl


def concurrency(bench: Bench, files: dict[str, str], text: str, lines: int) -> None:
    """Latency of one document: both rule sets in this process vs. one process per rule set."""
    executables = {name: bench.xslt.compile_stylesheet(stylesheet_file=f) for name, f in files.items()}

    def serial() -> None:
        node = bench.load(text)
        for executable in executables.values():
            executable.transform_to_string(xdm_node=node)

    def threads() -> None:
        node = bench.load(text)
        workers = [
            threading.Thread(target=e.transform_to_string, kwargs={"xdm_node": node})
            for e in executables.values()
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    one = bench.samples(serial, 4)
    threaded = bench.samples(threads, 3)
    context = multiprocessing.get_context("spawn")
    pools = {  # one single-worker pool per rule set, so that each rule set has its own process
        name: ProcessPoolExecutor(1, mp_context=context, initializer=_worker_init, initargs=(name, file))
        for name, file in files.items()
    }
    try:

        def parallel() -> None:
            futures = [pool.submit(_worker_run, name, text) for name, pool in pools.items()]
            for future in futures:
                future.result()

        bench.samples(parallel, 1)  # both workers up, compiled and past their first transform
        two = bench.samples(parallel, 6)
    finally:
        for pool in pools.values():
            pool.shutdown()
    print(f"\nLatency of one {lines}-line document (Saxon load + both rule sets + SVRL serialisation), ms")
    for label, values in (
        ("one process, rule sets one after the other", one),
        ("two threads in one process", threaded),
        ("one process per rule set (each loads the document)", two),
    ):
        print(
            f"  {label:<52} min {min(values):5.0f}  median {statistics.median(values):5.0f}  "
            f"max {max(values):5.0f}  (n={len(values)})"
        )


# ---------------------------------------------------------------------------------------------------------


def lap(since: float) -> float:
    now = time.perf_counter()
    print(f"[{now - since:.0f} s]")
    return now


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, help="artifact directory (default ../shared/artifacts)")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="line counts")
    parser.add_argument("--runs", type=int, default=4, help="timed runs per measurement")
    parser.add_argument("--stat", choices=("min", "median"), default="min", help="statistic of the runs")
    parser.add_argument("--top", type=int, default=5, help="rules per rule set measured at every size")
    parser.add_argument("--screen-min-fired", type=int, default=100, help="screen rules firing this often")
    parser.add_argument("--rulesets", default=",".join(RULESETS))
    parser.add_argument("--skip-invalid", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-concurrency", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    root = artifacts_dir(args.artifacts)
    files = {
        name: str(root / file) for name, file in ruleset_files().items() if name in args.rulesets.split(",")
    }
    sizes = sorted(int(s) for s in args.sizes.split(","))
    source = args.corpus / "perf" / PERF_DOCS[0]
    texts = {n: resize(source, n) for n in sizes}

    with tempfile.TemporaryDirectory(prefix="xslt-hotspots-") as tmp:
        bench = Bench(args.runs, Path(tmp), args.stat)
        loads = [bench.time(partial(bench.load, t)) for t in texts.values()]
        nodes = {n: bench.load(t) for n, t in texts.items()}
        print(f"Artifacts: {root}")
        print(
            f"Document: {source.name} cut to {', '.join(map(str, sizes))} lines "
            f"({', '.join(f'{node_count(t)}' for t in texts.values())} elements+attributes)"
        )
        sheets = {name: Sheet(name, Path(file)) for name, file in files.items()}
        for sheet in sheets.values():  # let the heap settle before anything is timed
            warm = bench.compile(sheet.build(Spec()))
            for node in nodes.values():
                bench.time(partial(warm.transform_to_value, xdm_node=node), 2)
        section = time.perf_counter()
        totals: list[list[float]] = []
        for name, sheet in sheets.items():
            rows, total = analyse(bench, sheet, nodes, args.top, args.screen_min_fired)
            totals.append(total)
            title = (
                f"{name}: {sheet.path.name} -- share = of the total at {sizes[-1]} lines; "
                f"'x per 10x' = growth for 10x lines (10 = linear)"
            )
            print_table(title, sizes, rows, total, args.stat)
            section = lap(section)
        print_table(
            "Per document",
            sizes,
            [
                Row("Saxon document load (parse_xml from text)", loads, 0),
                Row("both rule sets, transform_to_value", [sum(v) for v in zip(*totals, strict=True)], 0),
            ],
            [sum(v) + load for v, load in zip(zip(*totals, strict=True), loads, strict=True)],
            args.stat,
        )
        wrapper_without_walks(bench, sheets, nodes[sizes[-1]], sizes[-1])
        section = lap(section)
        if "en16931" in sheets and not args.skip_invalid:
            invalid_lines(bench, sheets["en16931"], source, [s for s in sizes if s >= 500] + [2000])
            section = lap(section)
        if not args.skip_scaling:
            scaling(bench, args.corpus, sheets, sorted({sizes[0], sizes[-1], 2000}))
            section = lap(section)
        if not args.skip_concurrency:
            concurrency(bench, files, texts[sizes[-1]], sizes[-1])
            section = lap(section)
        print(
            f"\n{bench.compiled} variants compiled in {bench.compile_s:.1f} s; "
            f"whole run {time.perf_counter() - started:.0f} s"
        )


if __name__ == "__main__":
    main()
