"""API authentication: ``Authorization: Bearer <key>`` on every /api/v1 route but the OpenAPI document.

The key's tenant scopes everything the request may see.
"""

from __future__ import annotations

from aiohttp import web

from accesspoint.server.keys import STORE, TENANT
from accesspoint.server.problems import Handler, problem
from accesspoint.store.tenants import authenticate

PUBLIC = frozenset({"/api/v1/openapi.json"})
MAX_KEY_LENGTH = 200


def _is_key_shaped(key: str) -> bool:
    """Keys are short printable ASCII; anything else (non-UTF-8 header bytes arrive as surrogates) can be
    refused before it reaches the store, which could not encode it."""
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/v1/") or request.path in PUBLIC:
        return await handler(request)
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    tenant = None
    if scheme.lower() == "bearer" and _is_key_shaped(key):
        async with request.app[STORE].connect() as conn:
            tenant = await authenticate(conn, key)
    if tenant is None:
        response = problem(
            401,
            "Unauthorized",
            "a valid API key is required (Authorization: Bearer <key>)",
            code="unauthorized",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="ehfgate"'
        return response
    request[TENANT] = tenant
    return await handler(request)
