"""``/api/v1/payments``: upload an OCR giro file from the bank, list payments, and the ones a person
must look at (unmatched).

The upload is read with a bound before anything is parsed, and a file that is not OCR giro is
refused with the parser's reason (400); importing the same file again books nothing twice.
"""

from __future__ import annotations

from aiohttp import web

from accesspoint.httpio import TooLarge, read_request_bounded
from accesspoint.server.keys import CONFIG, STORE, TENANT
from accesspoint.server.problems import problem
from distribution.payments.booking import import_ocr_file, list_payments
from distribution.payments.ocr import OcrFormatError

routes = web.RouteTableDef()

MAX_OCR_BYTES = 64 * 1024 * 1024  # ~400 000 transactions; banks split bigger days into several files
MAX_PAGE = 200
DEFAULT_PAGE = 50
ACCEPTED_TYPES = frozenset({"text/plain", "application/octet-stream"})


def _too_large(limit: int) -> web.Response:
    return problem(413, "Payload Too Large", f"the file is larger than {limit} bytes", code="too-large")


async def _body(request: web.Request) -> bytes | web.Response:
    """The request body, read only up to the limit (never buffered beyond it)."""
    limit = min(MAX_OCR_BYTES, request.app[CONFIG].server.max_body_bytes)
    try:
        return await read_request_bounded(request, limit)
    except TooLarge:
        return _too_large(limit)


@routes.post("/api/v1/payments/ocr")
async def upload_ocr(request: web.Request) -> web.Response:
    if request.content_type not in ACCEPTED_TYPES:
        detail = f"send the OCR giro file as text/plain; charset=iso-8859-1, not {request.content_type!r}"
        return problem(415, "Unsupported Media Type", detail, code="unsupported-media-type")
    data = await _body(request)
    if isinstance(data, web.Response):
        return data
    try:
        result = await import_ocr_file(request.app[STORE], request[TENANT].id, data)
    except OcrFormatError as exc:
        return problem(400, "Bad Request", str(exc), code="invalid-ocr-file")
    return web.json_response(result.to_json(), status=200 if result.already_imported else 201)


def _page(request: web.Request) -> tuple[int, tuple[float, str] | None] | web.Response:
    try:
        limit = max(1, min(MAX_PAGE, int(request.query.get("limit", str(DEFAULT_PAGE)))))
    except ValueError:
        return problem(400, "Bad Request", "limit must be an integer", code="bad-request")
    cursor = request.query.get("after")
    if not cursor:
        return limit, None
    stamp, _, last_id = cursor.partition(",")
    try:
        created = float(stamp)
    except ValueError:
        created = float("nan")
    if created != created or not last_id or len(last_id) > 64:
        return problem(
            400, "Bad Request", "after must be the next_cursor of a previous page", code="bad-request"
        )
    return limit, (created, last_id)


async def _listing(request: web.Request, *, unmatched: bool) -> web.Response:
    page = _page(request)
    if isinstance(page, web.Response):
        return page
    limit, after = page
    async with request.app[STORE].connect() as conn:
        rows = await list_payments(conn, request[TENANT].id, unmatched=unmatched, after=after, limit=limit)
    next_cursor = f"{rows[-1].created_at!r},{rows[-1].id}" if len(rows) == limit else None
    return web.json_response({"items": [row.to_json() for row in rows], "next_cursor": next_cursor})


@routes.get("/api/v1/payments")
async def get_payments(request: web.Request) -> web.Response:
    return await _listing(request, unmatched=False)


@routes.get("/api/v1/payments/unmatched")
async def get_unmatched(request: web.Request) -> web.Response:
    return await _listing(request, unmatched=True)
