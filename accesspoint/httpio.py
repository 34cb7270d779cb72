"""Reading what a peer we do not control sends without letting it choose our memory use, and
telling a refusal worth retrying from one that is not.

Every client of the project (revocation, SMP, partners, providers) reads answers through
:func:`read_bounded`, and handlers with a limit below ``server.max_body_bytes`` (file uploads,
callbacks, settings) read request bodies through :func:`read_request_bounded`: a declared
Content-Length over the limit is refused before reading, and an undeclared body is read in chunks
and abandoned as soon as it passes the limit.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

CHUNK = 64 * 1024
# 4xx answers that say "not now" rather than "no": request timeout, too early, too many requests.
TRANSIENT_4XX = frozenset({408, 425, 429})


def transient_status(status: int) -> bool:
    """Whether an error status is worth trying again later: 5xx and :data:`TRANSIENT_4XX`."""
    return status >= 500 or status in TRANSIENT_4XX


class TooLarge(Exception):
    """The answer is larger than the limit; ``str()`` says so in words callers can pass on."""


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limit:
        raise TooLarge(f"the answer of {declared} bytes exceeds the limit of {limit}")
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the answer exceeds the limit of {limit} bytes")
    return bytes(body)


async def read_request_bounded(request: web.BaseRequest, limit: int) -> bytes:
    """The whole request body, at most ``limit`` bytes; raises :class:`TooLarge` beyond it."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise TooLarge(f"the body of {declared} bytes exceeds the limit of {limit}")
    body = bytearray()
    while chunk := await request.content.read(CHUNK):
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the body exceeds the limit of {limit} bytes")
    return bytes(body)
