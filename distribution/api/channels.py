"""``/api/v1/distribution/channels/{name}``: a tenant's set-up of the factoring, Vipps and eFaktura
channels: settings (plain JSON) and credentials (sealed with ``secrets.key``).

Credentials are write-only: an answer says which are set (``"set"``), never what they are, and
nothing here logs them. A PUT replaces the settings; given secrets replace those of the same name
and the others stay, so a Vipps webhook secret can be added after the webhook is registered. The
whole set-up is checked before anything is stored (422 names the field).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from accesspoint.httpio import TooLarge, read_request_bounded
from accesspoint.secretbox import SecretBoxError
from accesspoint.server.keys import SECRET_BOX, STORE, TENANT
from accesspoint.server.problems import problem
from distribution.efaktura.settings import efaktura_secrets, efaktura_settings
from distribution.factoring.settings import factoring_secrets, factoring_settings
from distribution.methods.base import SettingsError
from distribution.storage.channels import load_settings, save_settings
from distribution.storage.secrets import read_secret, write_secret
from distribution.vipps.settings import vipps_secrets, vipps_settings

routes = web.RouteTableDef()
MAX_BODY = 64 * 1024
CHECKS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "factoring": (factoring_settings, factoring_secrets),
    "vipps": (vipps_settings, vipps_secrets),
    "efaktura": (efaktura_settings, efaktura_secrets),
}


def _name(request: web.Request) -> str | web.Response:
    name = request.match_info["name"]
    if name not in CHECKS:
        return problem(
            404, "Not Found", f"no channel {name!r} (one of {', '.join(sorted(CHECKS))})", code="not-found"
        )
    return name


async def _view(request: web.Request, name: str) -> dict[str, Any]:
    tenant_id = request[TENANT].id
    async with request.app[STORE].connect() as conn:
        settings = await load_settings(conn, tenant_id, name)
        try:
            secrets = await read_secret(conn, request.app[SECRET_BOX], tenant_id, name) or {}
        except SecretBoxError:
            secrets = {}
    return {"name": name, "settings": settings, "secrets": {key: "set" for key in sorted(secrets)}}


@routes.get("/api/v1/distribution/channels/{name}")
async def get_channel(request: web.Request) -> web.Response:
    name = _name(request)
    if isinstance(name, web.Response):
        return name
    return web.json_response(await _view(request, name))


def _invalid(detail: str) -> web.Response:
    return problem(422, "Unprocessable Content", detail, code="invalid-settings")


@routes.put("/api/v1/distribution/channels/{name}")
async def put_channel(request: web.Request) -> web.Response:
    name = _name(request)
    if isinstance(name, web.Response):
        return name
    try:
        raw = await read_request_bounded(request, MAX_BODY)
    except TooLarge:
        return problem(413, "Payload Too Large", f"at most {MAX_BODY} bytes", code="too-large")
    try:
        body = json.loads(raw)
    except ValueError:
        return problem(400, "Bad Request", "the body is not JSON", code="bad-request")
    if not isinstance(body, dict) or set(body) - {"settings", "secrets"} or "settings" not in body:
        return _invalid('the body is {"settings": {...}, "secrets": {...}} (secrets optional)')
    given = body.get("secrets")
    if given is not None and not isinstance(given, dict):
        return _invalid("secrets must be an object")
    check_settings, check_secrets = CHECKS[name]
    tenant_id, box = request[TENANT].id, request.app[SECRET_BOX]
    async with request.app[STORE].begin() as conn:
        try:
            check_settings(body["settings"])
        except SettingsError as exc:
            return _invalid(f"settings: {exc}")
        if given:
            try:
                existing = await read_secret(conn, box, tenant_id, name) or {}
            except SecretBoxError:
                existing = {}
            merged = {**existing, **given}
            try:
                check_secrets(merged)
            except SettingsError as exc:
                return _invalid(f"secrets: {exc}")
            await write_secret(conn, box, tenant_id, name, merged)
        await save_settings(conn, tenant_id, name, body["settings"])
    return web.json_response(await _view(request, name))
