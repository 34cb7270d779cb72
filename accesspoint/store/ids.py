"""Random, unguessable ids with a readable prefix (``doc_``, ``in_``, ``t_`` ...)."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def now() -> float:
    """Wall-clock epoch seconds: the one clock every stored time uses."""
    return time.time()
