"""Client of our print-provider HTTP contract (schemas/print-provider-api.json).

Outcomes are classified for the run: a 4xx answer is permanent (the provider has looked at the job
and will not print it, e.g. an unprintable PDF), while 408, 429, 5xx, time-outs and broken
connections are transient (the same job may go through later). Every answer is read with a size
limit and every request has a time limit.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import quote

import aiohttp

from accesspoint.httpio import TooLarge, read_bounded, transient_status
from distribution.print.address import Recipient
from distribution.print.signature import HEADER, SignatureError, sign, verify

__all__ = [
    "CALLBACK_PATH",
    "HEADER",
    "JobState",
    "JobStatus",
    "PermanentProviderError",
    "PrintJob",
    "PrintProvider",
    "ProviderError",
    "SignatureError",
    "TransientProviderError",
    "sign",
    "verify",
]

JobState = Literal["accepted", "printed", "dispatched", "failed", "returned"]
JOB_STATES: frozenset[str] = frozenset(get_args(JobState))
PostClass = Literal["A", "B"]
Color = Literal["MONOCHROME", "COLORS"]
Nondeliverable = Literal["RETURN_TO_SENDER", "SHRED"]
CALLBACK_PATH = "/callbacks/print"  # where this server takes signed status callbacks
MAX_RESPONSE_BYTES = 64 * 1024
MAX_REASON = 500


class ProviderError(Exception):
    """The provider did not take or answer the request; ``permanent`` says whether to try again."""

    permanent = False

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class PermanentProviderError(ProviderError):
    permanent = True


class TransientProviderError(ProviderError):
    permanent = False


@dataclass(frozen=True, slots=True)
class PrintJob:
    reference: str  # our invoice id
    idempotency_key: str
    pdf: bytes
    recipient: Recipient
    return_address: Recipient | None = None
    post_class: PostClass = "B"
    duplex: bool = True
    color: Color = "MONOCHROME"
    nondeliverable: Nondeliverable = "RETURN_TO_SENDER"
    callback_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "reference": self.reference,
            "idempotency_key": self.idempotency_key,
            "pdf_base64": base64.b64encode(self.pdf).decode("ascii"),
            "recipient": self.recipient.to_json(),
            "post_class": self.post_class,
            "duplex": self.duplex,
            "color": self.color,
            "nondeliverable": self.nondeliverable,
        }
        if self.return_address is not None:
            body["return_address"] = self.return_address.to_json()
        if self.callback_url is not None:
            body["callback_url"] = self.callback_url
        return body


@dataclass(frozen=True, slots=True)
class JobStatus:
    job_id: str
    status: JobState
    reason: str | None = None
    updated_at: str | None = None
    reference: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> JobStatus:
        """Raises ValueError when ``data`` is not a job status of the contract."""
        if not isinstance(data, dict):
            raise ValueError("the job status is not a JSON object")
        job_id, status = data.get("job_id"), data.get("status")
        if not isinstance(job_id, str) or not job_id or len(job_id) > 200:
            raise ValueError("the job status has no usable job_id")
        if status not in JOB_STATES:
            raise ValueError(f"the job status {status!r} is not one of the contract's")
        optional = {key: data.get(key) for key in ("reason", "updated_at", "reference")}
        for key, value in optional.items():
            if value is not None and not isinstance(value, str):
                raise ValueError(f"the job status field {key} is not a string")
        return cls(job_id, status, optional["reason"], optional["updated_at"], optional["reference"])

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "reference": self.reference,
            "status": self.status,
            "reason": self.reason,
            "updated_at": self.updated_at,
        }


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    try:
        return await read_bounded(response, limit)
    except TooLarge:
        raise TransientProviderError(
            f"the provider's answer is larger than {limit} bytes", response.status
        ) from None


def _error_reason(status: int, body: bytes) -> str:
    """The provider's own words (problem+json ``detail``/``title``, else text), clipped."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        words = data.get("detail") or data.get("title") or data.get("reason")
        if isinstance(words, str):
            text = words
    return _clip(
        f"print provider answered {status}: {text}" if text.strip() else f"print provider answered {status}"
    )


class PrintProvider:
    """One provider at ``base_url``, spoken to through the caller's ``session``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        timeout_seconds: float = 60.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._limit = max_response_bytes

    async def submit(self, job: PrintJob) -> JobStatus:
        """Hand the job over; the same idempotency key answers the job made the first time."""
        return await self._call("POST", f"{self._base}/jobs", job.to_json(), expect=(200, 201))

    async def status(self, job_id: str) -> JobStatus:
        return await self._call("GET", f"{self._base}/jobs/{quote(job_id, safe='')}", None, expect=(200,))

    async def _call(
        self, method: str, url: str, body: dict[str, Any] | None, *, expect: tuple[int, ...]
    ) -> JobStatus:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        try:
            async with self._session.request(
                method, url, json=body, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as response:
                payload = await _read_bounded(response, self._limit)
                status = response.status
        except ProviderError:
            raise
        except TimeoutError:
            raise TransientProviderError(
                f"the print provider did not answer within {self._timeout.total:g} s"
            ) from None
        except aiohttp.ClientError as exc:
            raise TransientProviderError(
                f"cannot reach the print provider: {type(exc).__name__}: {exc}"
            ) from None
        if status in expect:
            try:
                return JobStatus.from_json(json.loads(payload))
            except ValueError as exc:
                # Not retried: the provider may have made the job, and a retry could print it twice.
                raise PermanentProviderError(
                    f"the print provider's answer is not a job status: {exc}", status
                ) from None
        if 400 <= status < 500 and not transient_status(status):
            raise PermanentProviderError(_error_reason(status, payload), status)
        raise TransientProviderError(_error_reason(status, payload), status)
