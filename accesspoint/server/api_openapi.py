"""``GET /api/v1/openapi.json``: the API description kept in ``schemas/openapi.json``."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web


def openapi_path() -> Path:
    override = os.environ.get("EHFGATE_OPENAPI")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi_path().read_text())
    return document


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
