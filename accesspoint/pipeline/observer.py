"""What the pipeline reports as it works, for whoever counts it (the server's Prometheus metrics).

The pipeline knows nothing of Prometheus: it calls these hooks, and the default does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

# Called with (document id, tenant id, final status) once an outbound document is ``delivered`` or
# ``failed`` and that is committed: whoever waits for the document (an extension's run) hears it at
# once instead of at its next poll. A hook that raises is logged; the pipeline goes on.
OutboundFinalHook = Callable[[str, str, str], Awaitable[None]]


class PipelineObserver(Protocol):
    def transmitted(self, outcome: str, seconds: float) -> None:
        """One AS4 send attempt ended (``delivered``, ``transient`` or ``permanent``) after ``seconds``."""

    def outbound_final(self, status: str, seconds_since_submit: float) -> None:
        """An outbound document reached ``delivered`` or ``failed``, this long after it was accepted."""

    def inbound_validated(self, status: str) -> None:
        """A received document landed in the inbox as ``accepted`` or ``rejected``."""


class NoObserver:
    def transmitted(self, outcome: str, seconds: float) -> None:
        pass

    def outbound_final(self, status: str, seconds_since_submit: float) -> None:
        pass

    def inbound_validated(self, status: str) -> None:
        pass
