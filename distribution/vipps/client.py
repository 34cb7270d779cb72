"""Client of Vipps MobilePay's Access Token API and ePayment API (create, get, capture).

Answers are classified for the run: the API refusing the customer (400 naming the phone number or
an unknown user: not a Vipps user, under 15, a foreign number) means this customer *cannot receive*
by Vipps; other 4xx are permanent (our request or our credentials are wrong); 408, 423, 429, 5xx,
time-outs and broken connections are transient (Vipps documents retrying these with the same
``Idempotency-Key``). Every answer is read with a size limit and every request has a time limit.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

from accesspoint.httpio import TooLarge, read_bounded, transient_status
from distribution.vipps.settings import VippsSecrets, VippsSettings

Kind = Literal["cannot-receive", "permanent", "transient"]
SYSTEM_NAME = "ehfgate"
SYSTEM_VERSION = "1"
MAX_RESPONSE_BYTES = 256 * 1024
MAX_REASON = 400
LOCKED = 423  # Vipps: the payment is being changed by another request; try again shortly
TOKEN_MARGIN_SECONDS = 60.0
# What in a 400 problem says "this user cannot pay by Vipps" rather than "your request is wrong".
_USER_WORDS = ("user unknown", "user not found", "unknown user", "not a vipps user", "phone")


class VippsError(Exception):
    def __init__(self, reason: str, kind: Kind, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.kind, self.status = reason, kind, status


@dataclass
class TokenCache:
    """Access tokens per (API, client, sales unit), kept until shortly before they expire."""

    tokens: dict[tuple[str, str, str], tuple[str, float]] = field(default_factory=dict)

    def get(self, key: tuple[str, str, str], at: float) -> str | None:
        found = self.tokens.get(key)
        if found is None or found[1] <= at:
            return None
        return found[0]

    def put(self, key: tuple[str, str, str], token: str, expires_at: float) -> None:
        self.tokens[key] = (token, expires_at)

    def drop(self, key: tuple[str, str, str]) -> None:
        self.tokens.pop(key, None)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _problem_words(body: bytes) -> tuple[str, bool]:
    """The problem's own words, and whether it refuses the customer rather than the request."""
    try:
        data = json.loads(body)
    except ValueError:
        return _clip(body.decode("utf-8", "replace")), False
    if not isinstance(data, dict):
        return "", False
    parts = [str(data.get(key)) for key in ("title", "detail") if isinstance(data.get(key), str)]
    names: list[str] = []
    for item in data.get("extraDetails") or data.get("invalidParams") or []:
        if isinstance(item, dict):
            names.append(str(item.get("name", "")))
            parts.append(f"{item.get('name')}: {item.get('reason')}")
    text = "; ".join(parts)
    lowered = text.lower()
    about_user = any("phonenumber" in name.lower() or name.lower() == "customer" for name in names)
    return _clip(text), about_user or any(word in lowered for word in _USER_WORDS)


def _transient(status: int) -> bool:
    return transient_status(status) or status == LOCKED


async def _read(response: aiohttp.ClientResponse, limit: int) -> bytes:
    try:
        return await read_bounded(response, limit)
    except TooLarge:
        raise VippsError(
            f"Vipps' answer is larger than {limit} bytes", "transient", response.status
        ) from None


class VippsClient:
    """One merchant sales unit at ``settings.base_url``, through the caller's ``session``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: VippsSettings,
        secrets: VippsSecrets,
        tokens: TokenCache,
        *,
        timeout_seconds: float = 30.0,
        clock: Any = time.time,
    ) -> None:
        self._session, self._settings, self._secrets, self._tokens = session, settings, secrets, tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._clock = clock
        self._key = (settings.base_url, secrets.client_id, settings.merchant_serial_number)

    def _common(self) -> dict[str, str]:
        return {
            "Ocp-Apim-Subscription-Key": self._secrets.subscription_key,
            "Merchant-Serial-Number": self._settings.merchant_serial_number,
            "Vipps-System-Name": SYSTEM_NAME,
            "Vipps-System-Version": SYSTEM_VERSION,
        }

    async def access_token(self) -> str:
        """``POST /accesstoken/get``; cached until a minute before ``expires_in`` runs out."""
        at = self._clock()
        cached = self._tokens.get(self._key, at)
        if cached is not None:
            return cached
        headers = {
            **self._common(),
            "client_id": self._secrets.client_id,
            "client_secret": self._secrets.client_secret,
        }
        status, body = await self._send("POST", "/accesstoken/get", headers, None)
        if status != 200:
            words, _ = _problem_words(body)
            kind: Kind = "transient" if _transient(status) else "permanent"
            raise VippsError(f"Vipps refused the access token request ({status}): {words}", kind, status)
        try:
            data = json.loads(body)
            token = data["access_token"]
            lifetime = float(data.get("expires_in", 3600))  # Vipps sends it as a string
        except (ValueError, KeyError, TypeError):
            raise VippsError("Vipps' access token answer is not readable", "transient", status) from None
        if not isinstance(token, str) or not token:
            raise VippsError("Vipps' access token answer has no access_token", "transient", status)
        self._tokens.put(self._key, token, at + max(0.0, lifetime - TOKEN_MARGIN_SECONDS))
        return token

    async def create_payment(self, request: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await self._api("POST", "/epayment/v1/payments", request, idempotency_key, (200, 201))

    async def get_payment(self, reference: str) -> dict[str, Any]:
        return await self._api(
            "GET", f"/epayment/v1/payments/{quote(reference, safe='')}", None, None, (200,)
        )

    async def capture(self, reference: str, value: int, idempotency_key: str) -> dict[str, Any]:
        body = {"modificationAmount": {"currency": "NOK", "value": value}}
        path = f"/epayment/v1/payments/{quote(reference, safe='')}/capture"
        return await self._api("POST", path, body, idempotency_key, (200,))

    async def _api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        idempotency_key: str | None,
        expect: tuple[int, ...],
    ) -> dict[str, Any]:
        for attempt in (1, 2):
            headers = {**self._common(), "Authorization": f"Bearer {await self.access_token()}"}
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
            status, payload = await self._send(method, path, headers, body)
            if status == 401 and attempt == 1:
                self._tokens.drop(self._key)  # revoked or expired early: one fresh token, then give up
                continue
            break
        if status in expect:
            try:
                data = json.loads(payload)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise VippsError("Vipps' answer is not a JSON object", "transient", status)
            return data
        words, about_user = _problem_words(payload)
        reason = f"Vipps answered {status}" + (f": {words}" if words else "")
        if status == 400 and about_user:
            raise VippsError(reason, "cannot-receive", status)
        if _transient(status):
            raise VippsError(reason, "transient", status)
        raise VippsError(reason, "permanent", status)

    async def _send(
        self, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None
    ) -> tuple[int, bytes]:
        url = self._settings.base_url + path
        try:
            async with self._session.request(
                method, url, json=body, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as response:
                return response.status, await _read(response, MAX_RESPONSE_BYTES)
        except VippsError:
            raise
        except TimeoutError:
            raise VippsError(f"Vipps did not answer within {self._timeout.total:g} s", "transient") from None
        except aiohttp.ClientError as exc:
            raise VippsError(f"cannot reach Vipps: {type(exc).__name__}", "transient") from None
