"""Server extensions: packages built on the access point (the distribution run) add their routes,
background work and API description here, so the core never imports them.

An extension is found through the ``ehfgate.extensions`` entry point group: the object it names has a
``name`` and a ``setup(app)`` that adds routes and cleanup contexts, and may name OpenAPI fragments
(``paths`` and ``components``) to merge into ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from aiohttp import web

GROUP = "ehfgate.extensions"


class Extension(Protocol):
    name: str

    def setup(self, app: web.Application) -> None: ...

    def openapi_fragments(self) -> Sequence[Path]: ...


def discover() -> list[Extension]:
    """Every installed extension, in entry-point name order (deterministic start-up)."""
    found: list[Extension] = []
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        loaded = entry.load()
        found.append(loaded() if isinstance(loaded, type) else loaded)
    return found
