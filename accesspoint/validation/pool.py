"""Validate many files on several cores.

Saxon holds Python's GIL and serialises its own work, so parallelism needs processes: each worker
builds its own :class:`Validator` (compiling stylesheets once) and validates files by path, so only
file names and JSON-ready reports cross process boundaries.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accesspoint.validation.catalogue import Catalogue
from accesspoint.validation.engine import Validator
from accesspoint.xml import XMLError, XMLLimits


@dataclass(frozen=True, slots=True)
class Outcome:
    """A report (as its JSON dict) or the reason the input could not be read."""

    name: str
    report: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None


def validate_path(validator: Validator, path: str) -> Outcome:
    try:
        data = Path(path).read_bytes() if path != "-" else _stdin()
    except OSError as exc:
        return Outcome(path, error=f"cannot read: {exc.strerror or exc}", error_code="unreadable")
    try:
        return Outcome(path, report=validator.validate(data, name=path).to_dict())
    except XMLError as exc:
        return Outcome(path, error=str(exc), error_code=exc.code)


def _stdin() -> bytes:
    import sys

    return sys.stdin.buffer.read()


_worker: Validator | None = None


def _init_worker(root: Path, catalogue: Catalogue, limits: XMLLimits) -> None:
    global _worker
    _worker = Validator(root, catalogue, limits=limits)


def _work(path: str) -> Outcome:
    assert _worker is not None
    return validate_path(_worker, path)


def validate_paths(
    paths: Sequence[str], root: Path, catalogue: Catalogue, *, jobs: int = 1, limits: XMLLimits | None = None
) -> Iterator[Outcome]:
    """Outcomes in input order; ``jobs`` worker processes (1 = in this process)."""
    limits = limits or XMLLimits()
    if jobs <= 1 or len(paths) <= 1:
        validator = Validator(root, catalogue, limits=limits)
        for path in paths:
            yield validate_path(validator, path)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(root, catalogue, limits)
    ) as pool:
        yield from pool.map(_work, paths, chunksize=max(1, min(16, len(paths) // (jobs * 4))))
