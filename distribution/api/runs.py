"""``/api/v1/distribution/run`` and ``/api/v1/distribution/design``: the tenant's run and its look.

Both are checked when saved (each method's ``check_settings``, the renderer's ``Design``), so a bad
setting is refused here rather than discovered when an invoice goes out at night.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from aiohttp import web

from accesspoint.server.keys import STORE, TENANT
from accesspoint.server.problems import problem
from distribution.methods.base import SettingsError
from distribution.render import Design, DesignError
from distribution.run.app_keys import METHODS
from distribution.run.context import DESIGN_FIELDS, design_of
from distribution.run.plan import run_steps
from distribution.storage.designs import StoredDesign, get_design, save_design
from distribution.storage.runs import get_run, save_run

routes = web.RouteTableDef()

DESIGN_KEYS = (*DESIGN_FIELDS, "email_from", "logo_base64")
EMAIL = re.compile(r"[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}")


def is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


async def json_object(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's JSON object, or the problem response to answer instead."""
    if not is_json(request.content_type):
        detail = f"send JSON (application/json), not {request.content_type!r}"
        return problem(415, "Unsupported Media Type", detail, code="unsupported-media-type")
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        return problem(400, "Bad Request", f"the body is not JSON: {exc}", code="bad-json")
    if not isinstance(body, dict):
        return problem(400, "Bad Request", "the body must be a JSON object", code="bad-json")
    return body


def unprocessable(detail: str, code: str) -> web.Response:
    return problem(422, "Unprocessable Content", detail, code=code)


@routes.get("/api/v1/distribution/run")
async def get_run_handler(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        run = await get_run(conn, request[TENANT].id)
    return web.json_response({"methods": [step.to_json() for step in run_steps(run)]})


@routes.put("/api/v1/distribution/run")
async def put_run_handler(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    entries = body.get("methods")
    if not isinstance(entries, list) or not entries:
        return unprocessable(
            'methods must be a non-empty list of {"method": name, ...settings}', "invalid-run"
        )
    registry = request.app[METHODS]
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("method"), str):
            return unprocessable(
                'each entry of methods must be an object with a "method" name', "invalid-run"
            )
        name = entry["method"]
        if name not in registry:
            known = ", ".join(sorted(registry)) or "none"
            return unprocessable(f"unknown method {name!r} (this server offers: {known})", "unknown-method")
        if name in seen:
            return unprocessable(
                f"method {name!r} appears twice; each method at most once", "duplicate-method"
            )
        seen.add(name)
        settings = {key: value for key, value in entry.items() if key != "method"}
        try:
            registry[name].check_settings(settings)
        except SettingsError as exc:
            return unprocessable(f"{name}: {exc}", "invalid-settings")
    methods = [dict(entry) for entry in entries]
    async with request.app[STORE].begin() as conn:
        await save_run(conn, request[TENANT].id, methods)
    return web.json_response({"methods": methods})


def _design_json(stored: StoredDesign, design: Design) -> dict[str, Any]:
    return {
        "primary_colour": design.primary_colour,
        "accent_colour": design.accent_colour,
        "footer_text": design.footer_text,
        "language": design.language,
        "email_from": stored.settings.get("email_from"),
        "logo_base64": base64.b64encode(design.logo).decode() if design.logo else None,
    }


@routes.get("/api/v1/distribution/design")
async def get_design_handler(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        stored = await get_design(conn, request[TENANT].id)
    try:
        design = design_of(stored)
    except DesignError:
        design = Design(logo=stored.logo if stored.logo else None)
    return web.json_response(_design_json(stored, design))


def _parse_design(body: dict[str, Any]) -> StoredDesign | web.Response:
    unknown = sorted(set(body) - set(DESIGN_KEYS))
    if unknown:
        return unprocessable(f"unknown design fields {unknown}; known: {list(DESIGN_KEYS)}", "invalid-design")
    for key, value in body.items():
        if value is not None and not isinstance(value, str):
            return unprocessable(f"{key} must be a string or null", "invalid-design")
    settings = {key: body[key] for key in DESIGN_FIELDS if body.get(key) is not None}
    email_from = body.get("email_from")
    if email_from is not None:
        if not EMAIL.fullmatch(email_from):
            return unprocessable(f"email_from is not an e-mail address: {email_from!r}", "invalid-design")
        settings["email_from"] = email_from
    logo = None
    if body.get("logo_base64"):
        try:
            logo = base64.b64decode(body["logo_base64"], validate=True)
        except (binascii.Error, ValueError):
            return problem(400, "Bad Request", "logo_base64 is not valid base64", code="bad-base64")
    stored = StoredDesign(settings, logo)
    try:
        design_of(stored)
    except DesignError as exc:
        return unprocessable(str(exc), "invalid-design")
    return stored


@routes.put("/api/v1/distribution/design")
async def put_design_handler(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    stored = _parse_design(body)
    if isinstance(stored, web.Response):
        return stored
    async with request.app[STORE].begin() as conn:
        await save_design(conn, request[TENANT].id, stored)
    return web.json_response(_design_json(stored, design_of(stored)))
