"""Named crash points for crash-safety tests: ``EHFGATE_FAILPOINTS=name,...`` makes the process die at
``hit(name)`` exactly as ``kill -9`` would (no clean-up, no flush). Unset in normal operation."""

from __future__ import annotations

import os


def hit(name: str) -> None:
    armed = os.environ.get("EHFGATE_FAILPOINTS")
    if armed and name in armed.split(","):
        os._exit(137)
