"""Validate many files on several cores.

Saxon holds Python's GIL and serialises its own work, so parallelism needs processes: each worker
builds its own :class:`Validator` (compiling stylesheets once) and validates files by path, so only
file names and JSON-ready reports cross process boundaries.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
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
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        return Outcome(path, error=f"cannot read: {exc.strerror or exc}", error_code="unreadable")
    try:
        return Outcome(path, report=validator.validate(data, name=path).to_dict())
    except XMLError as exc:
        return Outcome(path, error=str(exc), error_code=exc.code)


_worker: Validator | None = None


def _init_worker(root: Path, catalogue: Catalogue, limits: XMLLimits) -> None:
    global _worker
    _worker = Validator(root, catalogue, limits=limits)


def _work(path: str) -> Outcome:
    assert _worker is not None, "worker not initialised"
    return validate_path(_worker, path)


class ValidationPool:
    """``jobs`` validators: in this process when 1, else in as many worker processes."""

    def __init__(
        self, root: Path, catalogue: Catalogue, *, jobs: int = 1, limits: XMLLimits | None = None
    ) -> None:
        self.jobs = jobs
        limits = limits or XMLLimits()
        self._local: Validator | None = None
        self._pool: Executor | None = None
        if jobs <= 1:
            self._local = Validator(root, catalogue, limits=limits)
        else:
            self._pool = ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(root, catalogue, limits),
            )

    def map(self, paths: Sequence[str]) -> Iterator[Outcome]:
        """Outcomes in input order."""
        if self._local is not None:
            return (validate_path(self._local, path) for path in paths)
        assert self._pool is not None
        chunk = max(1, min(8, len(paths) // (self.jobs * 8)))
        return self._pool.map(_work, paths, chunksize=chunk)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> ValidationPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
