"""Client of our eFaktura adapter contract (schemas/efaktura-adapter-api.json).

The adapter stands in front of Mastercard Payment Services' issuer interfaces (an MPS agreement,
its SOAP services and test week are the adapter's business): consumer lookup by e-mail, submission
of an invoice, and its status. 404 on lookup means no eFaktura consumer; other 4xx are permanent;
408/425/429/5xx, time-outs and broken connections transient. Bounded answers, timed requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from distribution.partner_http import PartnerCallError, call_json, refusal

WHO = "the eFaktura adapter"
AdapterError = PartnerCallError  # what the adapter's calls raise; ``permanent`` says whether to retry


@dataclass(frozen=True, slots=True)
class Consumer:
    efaktura_identifier: str
    accepts_all_issuers: bool


class EfakturaAdapter:
    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, api_key: str, *, timeout_seconds: float = 30.0
    ) -> None:
        self._session, self._base, self._api_key = session, base_url.rstrip("/"), api_key
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def lookup(self, email: str) -> Consumer | None:
        status, data = await self._call("POST", "/consumers/lookup", {"email": email})
        if status == 404:
            return None
        self._raise_unless(status, data, (200,))
        identifier, accepts = data.get("efaktura_identifier"), data.get("accepts_all_issuers")
        if not isinstance(identifier, str) or not identifier or not isinstance(accepts, bool):
            raise AdapterError(
                "the lookup answer lacks efaktura_identifier/accepts_all_issuers", permanent=False
            )
        return Consumer(identifier, accepts)

    async def submit(self, body: dict[str, Any]) -> str:
        status, data = await self._call("POST", "/invoices", body)
        self._raise_unless(status, data, (200, 201))
        submission = data.get("submission_id")
        if not isinstance(submission, str) or not submission:
            raise AdapterError("the submission answer lacks submission_id", permanent=False)
        return submission

    async def status(self, submission_id: str) -> tuple[str, str | None]:
        status, data = await self._call("GET", f"/invoices/{quote(submission_id, safe='')}", None)
        self._raise_unless(status, data, (200,))
        state, reason = data.get("status"), data.get("reason")
        if state not in ("pending", "accepted", "rejected"):
            raise AdapterError(f"unknown submission status {state!r}", permanent=False)
        return state, reason if isinstance(reason, str) else None

    def _raise_unless(self, status: int, data: dict[str, Any], expect: tuple[int, ...]) -> None:
        if status not in expect:
            raise refusal(status, data, WHO)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        return await call_json(
            self._session,
            method,
            self._base + path,
            api_key=self._api_key,
            body=body,
            time_limit=self._timeout,
            who=WHO,
        )
