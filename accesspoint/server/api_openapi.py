"""``GET /api/v1/openapi.json``: ``schemas/openapi.json`` with each extension's fragment merged in.

A fragment is an OpenAPI document of its own routes (``paths`` and ``components``); merging refuses
a path or component name that is already taken, so two parts can never describe one route twice.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from accesspoint.server.keys import EXTENSIONS


def openapi_path() -> Path:
    override = os.environ.get("EHFGATE_OPENAPI")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi_path().read_text())
    return document


def merged_document(fragments: Iterable[Path]) -> dict[str, Any]:
    """The core document plus every fragment (their paths and components)."""
    document = copy.deepcopy(openapi_document())
    for path in fragments:
        fragment = json.loads(path.read_text())
        for route, operations in fragment.get("paths", {}).items():
            if route in document["paths"]:
                raise ValueError(f"{path}: {route} is already described")
            document["paths"][route] = operations
        for section, entries in fragment.get("components", {}).items():
            target = document.setdefault("components", {}).setdefault(section, {})
            for name, entry in entries.items():
                if name in target and target[name] != entry:
                    raise ValueError(f"{path}: components.{section}.{name} is already defined differently")
                target[name] = entry
    return document


async def openapi(request: web.Request) -> web.Response:
    fragments = [path for extension in request.app[EXTENSIONS] for path in extension.openapi_fragments()]
    return web.json_response(merged_document(fragments) if fragments else openapi_document())
