"""A doorbell for idle workers: rung after a job is committed, so it starts now instead of at the next poll.

Polling stays the fallback (other processes sharing the database do not ring this one's bell). A ring
while every worker is busy is kept until the next one goes idle, so none is lost.
"""

from __future__ import annotations

import asyncio
import contextlib


class Doorbell:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def ring(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Until rung or ``seconds`` have passed."""
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), seconds)
        finally:
            self._event.clear()
