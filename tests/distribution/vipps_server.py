"""Vipps MobilePay on loopback: the Access Token API, the ePayment endpoints ehfgate uses (create, get,
capture) and signed webhooks, as Vipps documents them.

It checks what Vipps checks: the credentials and subscription key on the token call, the bearer
token, ``Ocp-Apim-Subscription-Key`` and ``Merchant-Serial-Number`` on every API call, the request
body's documented constraints (reference alphabet and length, description length, MSISDN, receipt
with ``expiresAt``), and ``Idempotency-Key`` (a repeated key answers the first result and creates
nothing). Phone numbers not in ``users`` are refused the documented way (400, "User unknown").
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from distribution.vipps.webhooks import sign

REFERENCE = re.compile(r"[a-zA-Z0-9-]{8,50}")
MSISDN = re.compile(r"\d{10,15}")


def _problem(status: int, title: str, detail: str, extra: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {
        "type": "https://developer.vippsmobilepay.com/docs/knowledge-base/errors",
        "title": title,
        "detail": detail,
        "status": status,
        "traceId": secrets.token_hex(8),
    }
    if extra:
        body["extraDetails"] = extra
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


@dataclass
class Payment:
    reference: str
    request: dict[str, Any]
    state: str = "CREATED"
    captured: int = 0
    psp_reference: str = field(default_factory=lambda: secrets.token_hex(6))

    @property
    def value(self) -> int:
        return int(self.request["amount"]["value"])

    def to_json(self) -> dict[str, Any]:
        authorized = self.value if self.state == "AUTHORIZED" else 0

        def money(value: int) -> dict[str, Any]:
            return {"currency": "NOK", "value": value}

        return {
            "reference": self.reference,
            "state": self.state,
            "amount": money(self.value),
            "aggregate": {
                "authorizedAmount": money(authorized),
                "capturedAmount": money(self.captured),
                "cancelledAmount": money(0),
                "refundedAmount": money(0),
            },
            "paymentMethod": {"type": "WALLET"},
            "profile": {},
            "pspReference": self.psp_reference,
        }


class VippsServer:
    def __init__(self, msn: str = "123456") -> None:
        self.msn = msn
        self.client_id = "client-id-1"
        self.client_secret = "client-secret-1"
        self.subscription_key = "subscription-key-1"
        self.users: set[str] = {"4791234567"}
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.create_requests = 0
        self.captures: list[dict[str, Any]] = []
        self.payments: dict[str, Payment] = {}
        self.by_key: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.failures: list[int] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/accesstoken/get", self._token)
        app.router.add_post("/epayment/v1/payments", self._create)
        app.router.add_get("/epayment/v1/payments/{reference}", self._get)
        app.router.add_post("/epayment/v1/payments/{reference}/capture", self._capture)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test controls ----------------------------------------------------------------------------

    def set_state(self, reference: str, state: str) -> None:
        self.payments[reference].state = state

    async def send_webhook(
        self, url: str, secret: str, reference: str, name: str, *, at: float | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        """POST the documented event to ``url`` signed with ``secret``; returns status, body, headers."""
        payment = self.payments[reference]
        event = {
            "msn": self.msn,
            "reference": reference,
            "pspReference": payment.psp_reference,
            "name": name,
            "amount": {"currency": "NOK", "value": payment.value},
            "timestamp": "2025-01-01T12:00:00.000Z",
            "idempotencyKey": None,
            "success": True,
        }
        body = json.dumps(event).encode()
        target = urlsplit(url)
        path = target.path + (f"?{target.query}" if target.query else "")
        host = target.netloc
        headers = {
            **sign(secret, body, path_and_query=path, host=host, at=at),
            "Content-Type": "application/json",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, body, headers

    # -- the API ----------------------------------------------------------------------------------

    def _refuse_common(self, request: web.Request, *, bearer: bool) -> web.Response | None:
        if self.failures:
            status = self.failures.pop(0)
            return _problem(status, "Service unavailable", "try again later")
        if request.headers.get("Ocp-Apim-Subscription-Key") != self.subscription_key:
            return _problem(401, "Unauthorized", "Access denied due to invalid subscription key.")
        if request.headers.get("Merchant-Serial-Number") != self.msn:
            return _problem(403, "Forbidden", "The merchant serial number is not yours")
        if bearer:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or token not in self.tokens:
                return _problem(401, "Unauthorized", "invalid access token")
        return None

    async def _token(self, request: web.Request) -> web.Response:
        refused = self._refuse_common(request, bearer=False)
        if refused is not None:
            return refused
        self.token_requests += 1
        if (request.headers.get("client_id"), request.headers.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return _problem(401, "Unauthorized", "invalid client credentials")
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": "3600", "ext_expires_in": "3600", "access_token": token}
        )

    def _invalid(self, body: Any) -> list[dict[str, str]]:
        wrong: list[dict[str, str]] = []
        if not isinstance(body, dict):
            return [{"name": "body", "reason": "must be an object"}]
        amount = body.get("amount")
        if (
            not isinstance(amount, dict)
            or amount.get("currency") != "NOK"
            or not isinstance(amount.get("value"), int)
        ):
            wrong.append({"name": "amount", "reason": "currency NOK and an integer value in øre"})
        if body.get("paymentMethod") != {"type": "WALLET"}:
            wrong.append({"name": "paymentMethod", "reason": "WALLET expected"})
        if body.get("userFlow") != "PUSH_MESSAGE":
            wrong.append({"name": "userFlow", "reason": "PUSH_MESSAGE expected in this test"})
        if not isinstance(body.get("reference"), str) or not REFERENCE.fullmatch(body["reference"]):
            wrong.append({"name": "reference", "reason": "must match ^[a-zA-Z0-9-]{8,50}$"})
        description = body.get("paymentDescription")
        if not isinstance(description, str) or not 3 <= len(description) <= 100:
            wrong.append({"name": "paymentDescription", "reason": "3 to 100 characters"})
        if "expiresAt" in body and "receipt" not in body:
            wrong.append({"name": "receipt", "reason": "required with expiresAt"})
        receipt = body.get("receipt")
        if receipt is not None:
            lines = receipt.get("orderLines") if isinstance(receipt, dict) else None
            if (
                not isinstance(lines, list)
                or not lines
                or receipt.get("bottomLine", {}).get("currency") != "NOK"
            ):
                wrong.append({"name": "receipt", "reason": "orderLines and bottomLine.currency required"})
            else:
                total = sum(
                    -line["totalAmount"] if line.get("isReturn") else line["totalAmount"] for line in lines
                )
                if isinstance(amount, dict) and total != amount.get("value"):
                    wrong.append({"name": "receipt", "reason": f"order lines sum to {total}, not the amount"})
        return wrong

    async def _create(self, request: web.Request) -> web.Response:
        refused = self._refuse_common(request, bearer=True)
        if refused is not None:
            return refused
        key = request.headers.get("Idempotency-Key")
        if not key or len(key) > 50:
            return _problem(400, "Bad Request", "Idempotency-Key is required (at most 50 characters)")
        remembered = self.by_key.get((self.msn, key))
        if remembered is not None:
            return web.json_response(remembered[1], status=remembered[0])
        self.create_requests += 1
        body = await request.json()
        wrong = self._invalid(body)
        if wrong:
            return _problem(
                400, "Bad Request", "The request body contains one or more validation errors.", wrong
            )
        phone = str(body.get("customer", {}).get("phoneNumber", ""))
        if not MSISDN.fullmatch(phone) or phone not in self.users:
            return _problem(
                400,
                "Bad Request",
                "User unknown: the phone number is not a Vipps user or cannot pay businesses.",
                [{"name": "customer.phoneNumber", "reason": "User unknown"}],
            )
        reference = body["reference"]
        if reference in self.payments:
            return _problem(409, "Conflict", f"reference {reference} is already used")
        self.payments[reference] = Payment(reference, body)
        answer = {"reference": reference}
        self.by_key[(self.msn, key)] = (201, answer)
        return web.json_response(answer, status=201)

    async def _get(self, request: web.Request) -> web.Response:
        refused = self._refuse_common(request, bearer=True)
        if refused is not None:
            return refused
        payment = self.payments.get(request.match_info["reference"])
        if payment is None:
            return _problem(404, "Not Found", "no such payment")
        return web.json_response(payment.to_json())

    async def _capture(self, request: web.Request) -> web.Response:
        refused = self._refuse_common(request, bearer=True)
        if refused is not None:
            return refused
        key = request.headers.get("Idempotency-Key")
        if not key:
            return _problem(400, "Bad Request", "Idempotency-Key is required")
        remembered = self.by_key.get((self.msn, key))
        if remembered is not None:
            return web.json_response(remembered[1], status=remembered[0])
        payment = self.payments.get(request.match_info["reference"])
        if payment is None:
            return _problem(404, "Not Found", "no such payment")
        body = await request.json()
        value = body["modificationAmount"]["value"]
        if payment.state != "AUTHORIZED" or payment.captured + value > payment.value:
            return _problem(400, "Bad Request", "Captured amount exceeds the reserved amount")
        payment.captured += value
        self.captures.append({"reference": payment.reference, "value": value, "key": key})
        answer = payment.to_json()
        self.by_key[(self.msn, key)] = (200, answer)
        return web.json_response(answer)
