"""A print provider on loopback that implements our contract (schemas/print-provider-api.json).

It checks what a real provider would: the API key, the request against the contract's schema, the
PDF (readable, not encrypted); it keeps jobs, answers a repeated idempotency key with the same job,
and lets a test move a job through its statuses, make the next answers fail, delay its answers,
and send a signed status callback.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema_rs
from aiohttp import web
from pypdf import PdfReader

from distribution.print.signature import HEADER, sign

CONTRACT = Path(__file__).resolve().parents[2] / "schemas" / "print-provider-api.json"


def _validator(name: str) -> Any:
    document = json.loads(CONTRACT.read_text())
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


REQUEST = _validator("JobRequest")
STATUS = _validator("JobStatus")


@dataclass
class Job:
    job_id: str
    reference: str
    idempotency_key: str
    digest: str
    request: dict[str, Any]
    pdf: bytes
    pages: int
    status: str = "accepted"
    reason: str | None = None
    updated_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "reference": self.reference,
            "status": self.status,
            "reason": self.reason,
            "updated_at": self.updated_at,
        }


def _problem(status: int, detail: str) -> web.Response:
    body = {"type": "about:blank", "title": "error", "status": status, "detail": detail}
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


class PrintProviderServer:
    def __init__(self, api_key: str = "provider-secret-key") -> None:
        self.api_key = api_key
        self.jobs: dict[str, Job] = {}
        self.by_key: dict[str, str] = {}
        self.submissions = 0  # POST /jobs requests that reached the job logic
        self.failures: list[int] = []  # status codes the next requests answer with, in order
        self.delay = 0.0  # seconds every answer waits
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/jobs", self._submit)
        app.router.add_get("/v1/jobs/{job_id}", self._get)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def move(self, job_id: str, status: str, reason: str | None = None) -> None:
        job = self.jobs[job_id]
        job.status, job.reason = status, reason
        job.updated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    async def callback(
        self,
        job_id: str,
        *,
        key: str | None = None,
        timestamp: int | None = None,
        body: bytes | None = None,
        url: str | None = None,
    ) -> aiohttp.ClientResponse:
        """POST the job's status to its callback URL, signed (with another key or time if given)."""
        job = self.jobs[job_id]
        payload = body if body is not None else json.dumps(job.to_json()).encode()
        headers = {"Content-Type": "application/json", HEADER: sign(key or self.api_key, payload, timestamp)}
        target = url or job.request["callback_url"]
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, data=payload, headers=headers) as response,
        ):
            await response.read()
            return response

    async def _gate(self, request: web.Request) -> web.Response | None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _problem(401, "missing or wrong API key")
        if self.failures:
            return _problem(self.failures.pop(0), "scripted failure")
        return None

    async def _submit(self, request: web.Request) -> web.Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        self.submissions += 1
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return _problem(400, "not JSON")
        errors = [error.message for error in REQUEST.iter_errors(body)]
        if errors:
            return _problem(400, "; ".join(errors))
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        existing = self.by_key.get(body["idempotency_key"])
        if existing is not None:
            job = self.jobs[existing]
            if job.digest != digest:
                return _problem(409, "idempotency key used with a different request")
            return web.json_response(job.to_json(), status=200)
        pdf = base64.b64decode(body["pdf_base64"], validate=True)
        try:
            reader = PdfReader(io.BytesIO(pdf))
            if reader.is_encrypted:
                return _problem(422, "the PDF is encrypted")
            pages = len(reader.pages)
        except Exception:
            return _problem(422, "the PDF cannot be read")
        job_id = f"job-{len(self.jobs) + 1}"
        job = Job(job_id, body["reference"], body["idempotency_key"], digest, body, pdf, pages)
        self.jobs[job_id] = job
        self.by_key[job.idempotency_key] = job_id
        return web.json_response(job.to_json(), status=201)

    async def _get(self, request: web.Request) -> web.Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        job = self.jobs.get(request.match_info["job_id"])
        if job is None:
            return _problem(404, "no such job")
        return web.json_response(job.to_json())
