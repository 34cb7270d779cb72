"""Validation for the server: the engine on its own thread, ready once the stylesheets are compiled.

Saxon serialises its work and holds the GIL, so one dedicated thread keeps the event loop free
without pretending to more parallelism than there is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from accesspoint.config import Config
from accesspoint.validation.engine import Validator
from accesspoint.validation.report import Report
from accesspoint.validation.setup import ValidationUnavailable, locate
from accesspoint.xml import XMLLimits

log = logging.getLogger("ehfgate.validation")


Observe = Callable[[Report, float], None]


class ValidationService:
    """``observe`` sees every report and its time (API, submissions and inbound alike)."""

    def __init__(self, config: Config, observe: Observe | None = None) -> None:
        self._config = config
        self._observe = observe
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="validation")
        self._validator: Validator | None = None
        self.problem: str | None = "validation artifacts are loading"

    @property
    def ready(self) -> bool:
        return self._validator is not None

    async def start(self) -> None:
        """Locate the artifacts and compile everything on the validation thread."""
        loop = asyncio.get_running_loop()
        try:
            self._validator = await loop.run_in_executor(self._executor, self._build)
            self.problem = None
        except ValidationUnavailable as exc:
            self.problem = str(exc)
            log.warning("validation unavailable: %s", exc)

    def _build(self) -> Validator:
        root, catalogue = locate(self._config)
        limits = XMLLimits(max_bytes=self._config.validation.max_document_bytes)
        validator = Validator(root, catalogue, limits=limits)
        validator.warm_up()
        return validator

    async def validate(self, data: bytes, *, name: str | None = None) -> Report:
        """Validate off the event loop; raises ValidationUnavailable when artifacts are missing."""
        validator = self._validator
        if validator is None:
            raise ValidationUnavailable(self.problem or "validation is not ready")
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        report = await loop.run_in_executor(self._executor, lambda: validator.validate(data, name=name))
        if self._observe is not None:
            self._observe(report, time.perf_counter() - started)
        return report

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
