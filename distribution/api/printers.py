"""``/api/v1/distribution/printers``: the tenant's CloudPrint printers (name, e-mail address, and
the largest e-mail each takes). Another tenant's printer answers 404 like an unknown id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from accesspoint.server.keys import STORE, TENANT
from accesspoint.server.problems import problem
from distribution.api.runs import json_object, unprocessable
from distribution.mail.address import is_address
from distribution.methods.cloudprint import MAX_PRINTER_NAME
from distribution.storage.printers import PrinterExists, add_printer, delete_printer, list_printers

routes = web.RouteTableDef()

FIELDS = ("name", "email", "max_bytes")
MAX_PRINTER_BYTES = 1024 * 1024 * 1024


def _parse(body: dict[str, Any]) -> tuple[str, str, int | None] | web.Response:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        return unprocessable(f"unknown fields {unknown}; a printer has {list(FIELDS)}", "invalid-printer")
    name, email, max_bytes = body.get("name"), body.get("email"), body.get("max_bytes")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_PRINTER_NAME or not name.isprintable():
        return unprocessable(f"name: 1-{MAX_PRINTER_NAME} printable characters", "invalid-printer")
    if not isinstance(email, str) or not is_address(email):
        return unprocessable(f"email is not an e-mail address: {email!r}", "invalid-printer")
    if max_bytes is not None and (
        isinstance(max_bytes, bool)
        or not isinstance(max_bytes, int)
        or not 0 < max_bytes <= MAX_PRINTER_BYTES
    ):
        return unprocessable(
            f"max_bytes must be null or a whole number 1-{MAX_PRINTER_BYTES}", "invalid-printer"
        )
    return name.strip(), email, max_bytes


@routes.post("/api/v1/distribution/printers")
async def add_handler(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    parsed = _parse(body)
    if isinstance(parsed, web.Response):
        return parsed
    name, email, max_bytes = parsed
    try:
        async with request.app[STORE].begin() as conn:
            printer = await add_printer(conn, request[TENANT].id, name, email, max_bytes)
    except PrinterExists:
        return problem(409, "Conflict", f"a printer named {name!r} exists already", code="printer-exists")
    return web.json_response(printer.to_json(), status=201)


@routes.get("/api/v1/distribution/printers")
async def list_handler(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        printers = await list_printers(conn, request[TENANT].id)
    return web.json_response({"printers": [printer.to_json() for printer in printers]})


@routes.delete("/api/v1/distribution/printers/{id}")
async def delete_handler(request: web.Request) -> web.Response:
    async with request.app[STORE].begin() as conn:
        deleted = await delete_printer(conn, request[TENANT].id, request.match_info["id"])
    if not deleted:
        return problem(404, "Not Found", "no such printer", code="not-found")
    return web.Response(status=204)
