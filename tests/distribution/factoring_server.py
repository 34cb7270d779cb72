"""A factoring partner on loopback implementing schemas/factoring-partner-api.json: it checks the API
key and every request against the contract's schemas, decides credit by a limit per buyer, and keeps
purchases by idempotency key (a repeat answers the first purchase)."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import jsonschema_rs
from aiohttp import web

CONTRACT = Path(__file__).resolve().parents[2] / "schemas" / "factoring-partner-api.json"


def _validator(name: str) -> Any:
    document = json.loads(CONTRACT.read_text())
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


CHECK, DECISION = _validator("CreditCheckRequest"), _validator("CreditDecision")
PURCHASE, ANSWER = _validator("PurchaseRequest"), _validator("Purchase")


def _problem(status: int, detail: str) -> web.Response:
    body = {"title": "error", "status": status, "detail": detail}
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


class FactoringServer:
    def __init__(self) -> None:
        self.api_key = "factor-api-key"
        self.limit = 1_000_000  # approve up to this amount
        self.declined: dict[str, str] = {}  # buyer name -> reason
        self.reject_purchases: str | None = None
        self.checks: list[dict[str, Any]] = []
        self.purchases: dict[str, dict[str, Any]] = {}  # idempotency key -> request
        self.answers: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/credit-checks", self._check)
        app.router.add_post("/v1/purchases", self._purchase)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _body(self, request: web.Request, validator: Any) -> dict[str, Any] | web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _problem(401, "wrong API key")
        body = await request.json()
        errors = [error.message for error in validator.iter_errors(body)]
        if errors:
            return _problem(400, "; ".join(errors))
        assert isinstance(body, dict)
        return body

    async def _check(self, request: web.Request) -> web.Response:
        body = await self._body(request, CHECK)
        if isinstance(body, web.Response):
            return body
        self.checks.append(body)
        name = body["customer"]["name"]
        if name in self.declined:
            answer = {
                "approved": False,
                "reason": self.declined[name],
                "limit": "0",
                "check_id": secrets.token_hex(6),
            }
        else:
            approved = float(body["amount"]) <= self.limit
            reason = "within the buyer's limit" if approved else "above the buyer's limit"
            answer = {
                "approved": approved,
                "reason": reason,
                "limit": str(self.limit),
                "check_id": secrets.token_hex(6),
            }
        assert DECISION.is_valid(answer)
        return web.json_response(answer)

    async def _purchase(self, request: web.Request) -> web.Response:
        body = await self._body(request, PURCHASE)
        if isinstance(body, web.Response):
            return body
        key = body["idempotency_key"]
        if key in self.answers:
            return web.json_response(self.answers[key], status=200)
        base64.b64decode(body["ubl_base64"], validate=True)
        self.purchases[key] = body
        if self.reject_purchases:
            answer = {
                "purchase_id": secrets.token_hex(6),
                "status": "rejected",
                "reason": self.reject_purchases,
            }
        else:
            answer = {"purchase_id": secrets.token_hex(6), "status": "accepted"}
        assert ANSWER.is_valid(answer)
        self.answers[key] = answer
        return web.json_response(answer, status=201)
