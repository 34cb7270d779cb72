"""Vipps MobilePay webhook request authentication, as the Webhooks API documents it.

``x-ms-content-sha256`` is base64(SHA-256(body)); the signed string is
``POST\\n<path and query>\\n<x-ms-date>;<host>;<x-ms-content-sha256>``; the ``Authorization`` header
is ``HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64 HMAC-SHA256>``
keyed with the webhook's secret (its UTF-8 bytes, as given at registration). We also refuse a date
outside a few minutes of ours, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import time
from collections.abc import Mapping

PREFIX = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
TOLERANCE_SECONDS = 300.0
MAX_HEADER = 1024


class WebhookSignatureError(ValueError):
    """The request is not signed by the holder of the webhook secret (or too long ago)."""


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def signed_string(path_and_query: str, date: str, host: str, hashed: str) -> str:
    return f"POST\n{path_and_query}\n{date};{host};{hashed}"


def authorization(secret: str, path_and_query: str, date: str, host: str, hashed: str) -> str:
    text = signed_string(path_and_query, date, host, hashed).encode()
    mac = hmac.new(secret.encode(), text, hashlib.sha256).digest()
    return PREFIX + base64.b64encode(mac).decode("ascii")


def sign(
    secret: str, body: bytes, *, path_and_query: str, host: str, at: float | None = None
) -> dict[str, str]:
    """The headers Vipps sends with ``body`` (used by tests and tools that play Vipps)."""
    date = email.utils.formatdate(time.time() if at is None else at, usegmt=True)
    hashed = content_hash(body)
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": hashed,
        "Authorization": authorization(secret, path_and_query, date, host, hashed),
    }


def _timestamp(date: str) -> float:
    try:
        parsed = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        raise WebhookSignatureError("x-ms-date is not an HTTP date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    path_and_query: str,
    host: str,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> None:
    """Raise :class:`WebhookSignatureError` unless the request is authentic and recent."""
    date = headers.get("x-ms-date")
    hashed = headers.get("x-ms-content-sha256")
    given = headers.get("Authorization")
    if not date or not hashed or not given:
        raise WebhookSignatureError("x-ms-date, x-ms-content-sha256 and Authorization are required")
    if max(len(date), len(hashed), len(given)) > MAX_HEADER:
        raise WebhookSignatureError("a signature header is too long")
    current = time.time() if now is None else now
    if abs(current - _timestamp(date)) > tolerance:
        raise WebhookSignatureError("x-ms-date is outside the accepted window")
    if not hmac.compare_digest(hashed.encode("ascii", "replace"), content_hash(body).encode("ascii")):
        raise WebhookSignatureError("x-ms-content-sha256 does not match the body")
    expected = authorization(secret, path_and_query, date, host, hashed)
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("ascii")):
        raise WebhookSignatureError("the signature does not match")
