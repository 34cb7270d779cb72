"""An eFaktura adapter on loopback implementing schemas/efaktura-adapter-api.json: API key, request
schemas, consumers by e-mail, submissions by idempotency key, and statuses a test moves on."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import jsonschema_rs
from aiohttp import web

CONTRACT = Path(__file__).resolve().parents[2] / "schemas" / "efaktura-adapter-api.json"
_COMPONENTS = json.loads(CONTRACT.read_text())["components"]
LOOKUP = jsonschema_rs.validator_for({"$ref": "#/components/schemas/Lookup", "components": _COMPONENTS})
SUBMISSION = jsonschema_rs.validator_for(
    {"$ref": "#/components/schemas/Submission", "components": _COMPONENTS}
)


class EfakturaServer:
    def __init__(self) -> None:
        self.api_key = "efaktura-api-key"
        self.consumers: dict[str, tuple[str, bool]] = {}  # e-mail -> (identifier, accepts all issuers)
        self.submissions: dict[str, dict[str, Any]] = {}
        self.states: dict[str, tuple[str, str | None]] = {}
        self.by_key: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/consumers/lookup", self._lookup)
        app.router.add_post("/invoices", self._submit)
        app.router.add_get("/invoices/{submission_id}", self._status)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        return None

    async def _lookup(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        body = await request.json()
        if not LOOKUP.is_valid(body):
            return web.json_response({"title": "Bad Request", "status": 400}, status=400)
        found = self.consumers.get(body["email"].lower())
        if found is None:
            return web.json_response({"title": "Not Found", "status": 404}, status=404)
        return web.json_response({"efaktura_identifier": found[0], "accepts_all_issuers": found[1]})

    async def _submit(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        body = await request.json()
        errors = [error.message for error in SUBMISSION.iter_errors(body)]
        if errors:
            return web.json_response(
                {"title": "Bad Request", "detail": "; ".join(errors), "status": 400}, status=400
            )
        key = body["idempotency_key"]
        if key in self.by_key:
            return web.json_response({"submission_id": self.by_key[key]})
        submission = secrets.token_hex(6)
        self.by_key[key] = submission
        self.submissions[submission] = body
        self.states[submission] = ("pending", None)
        return web.json_response({"submission_id": submission}, status=201)

    async def _status(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        state = self.states.get(request.match_info["submission_id"])
        if state is None:
            return web.json_response({"title": "Not Found", "status": 404}, status=404)
        return web.json_response({"status": state[0], "reason": state[1]})
