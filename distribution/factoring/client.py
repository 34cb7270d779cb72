"""Client of our factoring partner contract (schemas/factoring-partner-api.json): credit check and
purchase, with ``Authorization: Bearer <api key>``.

A 4xx answer is permanent (the partner looked and said no, or our request is wrong); 408, 425, 429,
5xx, time-outs and broken connections are transient. Answers are read with a size limit, requests
have a time limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from distribution.partner_http import PartnerCallError, call_json, clip, refusal

WHO = "the factoring partner"
PartnerError = PartnerCallError  # what the partner's calls raise; ``permanent`` says whether to retry


@dataclass(frozen=True, slots=True)
class CreditDecision:
    approved: bool
    reason: str
    check_id: str
    limit: Decimal | None


@dataclass(frozen=True, slots=True)
class Purchase:
    purchase_id: str
    status: str  # accepted | rejected
    reason: str


class FactoringPartner:
    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, api_key: str, *, timeout_seconds: float = 30.0
    ) -> None:
        self._session, self._base, self._api_key = session, base_url.rstrip("/"), api_key
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def credit_check(
        self, customer: dict[str, Any], amount: Decimal, currency: str, due_date: dt.date | None
    ) -> CreditDecision:
        body = {
            "customer": customer,
            "amount": str(amount),
            "currency": currency,
            "due_date": due_date.isoformat() if due_date else None,
        }
        data = await self._post("/credit-checks", body)
        approved, check_id = data.get("approved"), data.get("check_id")
        if not isinstance(approved, bool) or not isinstance(check_id, str) or not check_id:
            raise PartnerError("the credit check answer lacks approved/check_id", permanent=False)
        limit = data.get("limit")
        return CreditDecision(
            approved,
            clip(str(data.get("reason") or ("approved" if approved else "declined"))),
            check_id,
            Decimal(str(limit)) if isinstance(limit, int | float | str) and str(limit) else None,
        )

    async def purchase(self, body: dict[str, Any]) -> Purchase:
        data = await self._post("/purchases", body)
        purchase_id, status = data.get("purchase_id"), data.get("status")
        if not isinstance(purchase_id, str) or status not in ("accepted", "rejected"):
            # Not retried blindly: the idempotency key makes a retry safe, but say what was wrong.
            raise PartnerError("the purchase answer lacks purchase_id/status", permanent=False)
        return Purchase(purchase_id, status, clip(str(data.get("reason") or "")))

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, data = await call_json(
            self._session,
            "POST",
            self._base + path,
            api_key=self._api_key,
            body=body,
            time_limit=self._timeout,
            who=WHO,
        )
        if not 200 <= status < 300:
            raise refusal(status, data, WHO)
        return data
