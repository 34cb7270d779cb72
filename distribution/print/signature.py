"""Signed print-provider callbacks: ``Ehfgate-Print-Signature: t=<unix time>,v1=<hex>`` where the
hex is HMAC-SHA256 keyed with the API key over ``"<t>." + body``.

Why a timestamp inside the MAC: a captured callback cannot be replayed after the tolerance, and
several ``v1=`` values are accepted so a provider can sign with an old and a new key while they rotate.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Ehfgate-Print-Signature"
TOLERANCE_SECONDS = 300.0
MAX_HEADER = 1024


class SignatureError(ValueError):
    """The callback's signature is missing, malformed, wrong or too old; the message says which."""


def _mac(api_key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(api_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(api_key: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a provider sends with ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return f"t={stamp},v1={_mac(api_key, stamp, body)}"


def verify(
    api_key: str,
    body: bytes,
    header: str | None,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` with ``api_key`` recently enough."""
    if not header:
        raise SignatureError(f"the {HEADER} header is missing")
    if len(header) > MAX_HEADER:
        raise SignatureError(f"the {HEADER} header is too long")
    stamp: str | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1":
            candidates.append(value)
    if stamp is None or not stamp.isdigit() or not candidates:
        raise SignatureError(f"the {HEADER} header must be t=<unix time>,v1=<hex>")
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        raise SignatureError("the signature's timestamp is outside the accepted window")
    expected = _mac(api_key, stamp, body).encode()
    matched = False
    for candidate in candidates:  # compare with every candidate: no early exit on the good one
        matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
    if not matched:
        raise SignatureError("the signature does not match the body")
