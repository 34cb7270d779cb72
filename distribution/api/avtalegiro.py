"""``/api/v1/distribution/avtalegiro``, ``/mandates`` and ``/claims/{id}/cancel``: the tenant's
AvtaleGiro set-up, its payers' agreements, and cancelling a claim before its file leaves.

The SFTP credential is write-only: a PUT may carry it (``sftp_secret``), it is sealed at rest and
every answer says only whether one is stored. Another tenant's mandate or claim is a 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from accesspoint.httpio import TooLarge, read_request_bounded
from accesspoint.server.keys import CONFIG, SECRET_BOX, STORE, TENANT
from accesspoint.server.problems import problem
from distribution.api.runs import json_object, unprocessable
from distribution.avtalegiro.claims import ClaimNotCancellable, ClaimNotFound, cancel_claim
from distribution.avtalegiro.mandates import (
    MAX_CUSTOMER,
    AgreementFileError,
    apply_agreements,
    delete_mandate,
    list_mandates,
    read_agreement_file,
    register_mandate,
)
from distribution.avtalegiro.settings import (
    SECRET_NAME,
    AvtaleGiroSettings,
    AvtaleGiroSettingsError,
    credential_from_json,
    load_settings,
    save_settings,
    settings_from_json,
)
from distribution.payments.kid import is_valid_kid
from distribution.storage.secrets import secret_names, write_secret

routes = web.RouteTableDef()

MAX_AGREEMENT_FILE_BYTES = 16 * 1024 * 1024
MAX_PAGE = 500
DEFAULT_PAGE = 100
FILE_TYPES = frozenset({"text/plain", "application/octet-stream"})
MANDATE_FIELDS = frozenset({"kid", "customer", "notify"})


def _settings_json(settings: AvtaleGiroSettings, has_secret: bool) -> dict[str, Any]:
    return {**settings.to_json(), "sftp_secret": "set" if has_secret else "missing"}


@routes.get("/api/v1/distribution/avtalegiro")
async def get_settings(request: web.Request) -> web.Response:
    tenant_id = request[TENANT].id
    async with request.app[STORE].connect() as conn:
        settings = await load_settings(conn, tenant_id)
        names = await secret_names(conn, tenant_id)
    if settings is None:
        return problem(404, "Not Found", "AvtaleGiro is not set up for this tenant", code="not-found")
    return web.json_response(_settings_json(settings, SECRET_NAME in names))


@routes.put("/api/v1/distribution/avtalegiro")
async def put_settings(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    fields = dict(body)
    secret = fields.pop("sftp_secret", None)
    try:
        settings = settings_from_json(fields)
        credential = credential_from_json(secret) if secret is not None else None
    except AvtaleGiroSettingsError as exc:
        return unprocessable(str(exc), "invalid-avtalegiro-settings")
    tenant_id = request[TENANT].id
    async with request.app[STORE].begin() as conn:
        await save_settings(conn, tenant_id, settings)
        if credential is not None:
            await write_secret(conn, request.app[SECRET_BOX], tenant_id, SECRET_NAME, credential.to_json())
        names = await secret_names(conn, tenant_id)
    return web.json_response(_settings_json(settings, SECRET_NAME in names))


def _page(request: web.Request) -> tuple[int, str | None, bool | None] | web.Response:
    try:
        limit = max(1, min(MAX_PAGE, int(request.query.get("limit", str(DEFAULT_PAGE)))))
    except ValueError:
        return problem(400, "Bad Request", "limit must be an integer", code="bad-request")
    after = request.query.get("after") or None
    if after is not None and len(after) > 40:
        return problem(
            400, "Bad Request", "after must be the next_cursor of a previous page", code="bad-request"
        )
    active_text = request.query.get("active")
    active = {"true": True, "false": False, None: None}.get(active_text)
    if active_text is not None and active is None:
        return problem(400, "Bad Request", "active must be true or false", code="bad-request")
    return limit, after, active


@routes.get("/api/v1/distribution/mandates")
async def get_mandates(request: web.Request) -> web.Response:
    page = _page(request)
    if isinstance(page, web.Response):
        return page
    limit, after, active = page
    async with request.app[STORE].connect() as conn:
        found = await list_mandates(conn, request[TENANT].id, active=active, limit=limit, after=after)
    next_cursor = found[-1].kid if len(found) == limit else None
    return web.json_response({"items": [mandate.to_json() for mandate in found], "next_cursor": next_cursor})


def _mandate_body(body: dict[str, Any]) -> tuple[str, str | None, bool] | web.Response:
    unknown = sorted(set(body) - MANDATE_FIELDS)
    if unknown:
        return unprocessable(
            f"unknown fields {unknown}; a mandate has {sorted(MANDATE_FIELDS)}", "invalid-mandate"
        )
    kid, customer, notify = body.get("kid"), body.get("customer"), body.get("notify", False)
    if not isinstance(kid, str) or not (kid.isascii() and kid.isdigit() and 2 <= len(kid) <= 25):
        return unprocessable("kid must be 2-25 digits", "invalid-mandate")
    if not is_valid_kid(kid):
        return unprocessable(f"kid {kid} has no valid MOD10 or MOD11 check digit", "invalid-mandate")
    if customer is not None and (
        not isinstance(customer, str) or not 0 < len(customer) <= MAX_CUSTOMER or not customer.isprintable()
    ):
        return unprocessable(f"customer must be 1-{MAX_CUSTOMER} printable characters", "invalid-mandate")
    if not isinstance(notify, bool):
        return unprocessable("notify must be true or false", "invalid-mandate")
    return kid, customer, notify


@routes.post("/api/v1/distribution/mandates")
async def post_mandate(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    parsed = _mandate_body(body)
    if isinstance(parsed, web.Response):
        return parsed
    kid, customer, notify = parsed
    try:
        async with request.app[STORE].begin() as conn:
            mandate, created = await register_mandate(
                conn, request[TENANT].id, kid=kid, customer=customer, notify=notify
            )
    except IntegrityError:
        detail = f"a mandate for KID {kid} was registered at the same moment; repeat the request"
        return problem(409, "Conflict", detail, code="mandate-conflict")
    return web.json_response(mandate.to_json(), status=201 if created else 200)


@routes.delete("/api/v1/distribution/mandates/{id}")
async def remove_mandate(request: web.Request) -> web.Response:
    async with request.app[STORE].begin() as conn:
        deleted = await delete_mandate(conn, request[TENANT].id, request.match_info["id"])
    if not deleted:
        return problem(404, "Not Found", "no such mandate", code="not-found")
    return web.Response(status=204)


async def _file_body(request: web.Request) -> bytes | web.Response:
    limit = min(MAX_AGREEMENT_FILE_BYTES, request.app[CONFIG].server.max_body_bytes)
    try:
        return await read_request_bounded(request, limit)
    except TooLarge:
        return problem(413, "Payload Too Large", f"the file is larger than {limit} bytes", code="too-large")


@routes.post("/api/v1/distribution/mandates/import")
async def import_agreements(request: web.Request) -> web.Response:
    if request.content_type not in FILE_TYPES:
        detail = f"send the agreement file as text/plain; charset=iso-8859-1, not {request.content_type!r}"
        return problem(415, "Unsupported Media Type", detail, code="unsupported-media-type")
    data = await _file_body(request)
    if isinstance(data, web.Response):
        return data
    try:
        changes = read_agreement_file(data)
    except AgreementFileError as exc:
        return problem(400, "Bad Request", str(exc), code="invalid-agreement-file")
    try:
        async with request.app[STORE].begin() as conn:
            counts = await apply_agreements(conn, request[TENANT].id, changes)
    except IntegrityError:
        detail = "mandates changed at the same moment; import the file again"
        return problem(409, "Conflict", detail, code="mandate-conflict")
    return web.json_response({**counts.to_json(), "records": len(changes)})


@routes.post("/api/v1/distribution/claims/{id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    try:
        async with request.app[STORE].begin() as conn:
            claim = await cancel_claim(conn, request[TENANT].id, request.match_info["id"])
    except ClaimNotFound:
        return problem(404, "Not Found", "no such claim", code="not-found")
    except ClaimNotCancellable as exc:
        return problem(409, "Conflict", str(exc), code="claim-not-cancellable")
    return web.json_response(claim.to_json())
