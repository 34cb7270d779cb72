"""One JSON call to a partner behind one of our HTTP contracts (factoring, eFaktura).

The partners share the shape of the call: the API key as a bearer token, a time limit, an answer read
with a size limit, and every failure sorted into permanent (the partner looked and said no, or our
request is wrong) or transient (408/425/429, 5xx, time-outs, broken connections, odd answers).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from accesspoint.httpio import TooLarge, read_bounded, transient_status

MAX_RESPONSE_BYTES = 64 * 1024
MAX_REASON = 400


class PartnerCallError(Exception):
    def __init__(self, reason: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.permanent, self.status = reason, permanent, status


def clip(text: str, limit: int = MAX_REASON) -> str:
    """One line of at most ``limit`` characters: partners' words end up in attempt reasons."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def call_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    api_key: str,
    body: dict[str, Any] | None,
    time_limit: aiohttp.ClientTimeout,
    who: str,
) -> tuple[int, dict[str, Any]]:
    """The status and the answer's JSON object ({} when the answer is not one).

    Raises a transient :class:`PartnerCallError` when ``who`` (e.g. "the factoring partner") cannot
    be reached, is too slow, or answers more than :data:`MAX_RESPONSE_BYTES`.
    """
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    try:
        async with session.request(
            method, url, json=body, headers=headers, timeout=time_limit, allow_redirects=False
        ) as response:
            payload = await read_bounded(response, MAX_RESPONSE_BYTES)
            status = response.status
    except TooLarge:
        raise PartnerCallError(f"{who}'s answer is too large", permanent=False) from None
    except TimeoutError:
        raise PartnerCallError(f"{who} did not answer in time", permanent=False) from None
    except aiohttp.ClientError as exc:
        raise PartnerCallError(f"cannot reach {who}: {type(exc).__name__}", permanent=False) from None
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}


def refusal(status: int, data: dict[str, Any], who: str) -> PartnerCallError:
    """The error for an answer that is not the expected one, with the partner's own words if any."""
    words = data.get("detail") or data.get("title")
    reason = f"{who} answered {status}" + (f": {words}" if isinstance(words, str) and words else "")
    return PartnerCallError(clip(reason), permanent=not transient_status(status), status=status)
