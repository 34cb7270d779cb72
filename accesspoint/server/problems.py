"""RFC 9457 problem details: every error the server answers is ``application/problem+json``."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("ehfgate.server")


def problem(
    status: int, title: str, detail: str | None = None, *, code: str | None = None, **extra: Any
) -> web.Response:
    """A problem+json response; ``code`` is a stable machine-readable name for the error."""
    body: dict[str, Any] = {"type": f"urn:ehfgate:problem:{code or status}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if code:
        body["code"] = code
    body.update(extra)
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM_TYPE)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's HTTP exceptions and unexpected errors into problem+json."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == PROBLEM_TYPE:
            raise
        title = exc.reason
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(exc.status)
        response = problem(
            exc.status,
            title,
            exc.text if exc.text and exc.text != f"{exc.status}: {title}" else None,
            code=code,
        )
        if "Allow" in exc.headers:  # a 405 must say which methods the resource has (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "the error was logged", code="internal")
