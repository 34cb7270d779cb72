"""``POST /callbacks/print``: a print provider says a job moved on.

Outside /api/v1 because the caller is the provider, not a tenant: the request is authenticated only
by its ``Ehfgate-Print-Signature`` (HMAC with ``autopost.api_key``, recent timestamp). A verified
callback does not change the invoice itself; it wakes the invoice's run, which asks the provider
for the job's status at once and records the outcome as every other poll does.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from accesspoint.httpio import TooLarge, read_request_bounded
from accesspoint.server.keys import CONFIG, STORE
from accesspoint.server.problems import problem
from distribution.print.provider import CALLBACK_PATH, JobStatus
from distribution.print.signature import HEADER, SignatureError, verify
from distribution.run.app_keys import BELL
from distribution.run.wake import wake

MAX_BODY = 64 * 1024
log = logging.getLogger("ehfgate.distribution")
routes = web.RouteTableDef()


def _unauthorized(detail: str) -> web.Response:
    return problem(401, "Unauthorized", detail, code="bad-signature")


@routes.post(CALLBACK_PATH)
async def print_callback(request: web.Request) -> web.StreamResponse:
    api_key = request.app[CONFIG].autopost.api_key
    try:
        body = await read_request_bounded(request, MAX_BODY)
    except TooLarge:
        return problem(413, "Payload Too Large", f"a callback is at most {MAX_BODY} bytes", code="too-large")
    if not api_key:
        return _unauthorized("print callbacks are not accepted: AutoPost is not configured")
    try:
        verify(api_key, body, request.headers.get(HEADER))
    except SignatureError as exc:
        return _unauthorized(str(exc))
    try:
        job = JobStatus.from_json(json.loads(body))
    except ValueError as exc:
        return problem(400, "Bad Request", f"not a job status: {exc}", code="invalid-callback")
    if job.reference is None:
        return problem(400, "Bad Request", "the job status has no reference", code="invalid-callback")
    woken = await wake(request.app[STORE], job.reference)
    if woken:
        request.app[BELL].ring()
    log.info("print callback: job %s is %s (run woken: %s)", job.job_id, job.status, woken)
    return web.Response(status=204)
