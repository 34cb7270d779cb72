"""Vipps: the invoice as an ePayment payment request pushed to a private customer's app.

Eligible: a private customer (a business never) with a mobile number Vipps can address, an invoice
(not a credit note) in NOK with something to pay, and the tenant's Vipps settings and credentials.
Whether the number belongs to a Vipps user only Vipps knows: it says so by refusing the request,
which is CANNOT_RECEIVE, and the run falls through. ``deliver`` creates the request with the
attempt key as ``Idempotency-Key`` (a resumed run cannot ask twice) and stays PENDING; ``status``
(by polling, or woken by a signed webhook) captures an AUTHORIZED payment, books it as a payment of
the invoice and answers DELIVERED; ABORTED, EXPIRED or TERMINATED are PERMANENT.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from accesspoint.config import Config
from accesspoint.secretbox import SecretBox
from distribution.methods.base import InvoiceContext, Outcome, Result, SettingsError, Verdict
from distribution.payments.booking import book_payment
from distribution.storage.channels import box_for, load_channel
from distribution.vipps.client import TokenCache, VippsClient, VippsError
from distribution.vipps.request import msisdn, ore, payment_reference, payment_request
from distribution.vipps.settings import NAME, VippsSecrets, VippsSettings, vipps_secrets, vipps_settings

FAILED_STATES = frozenset({"ABORTED", "EXPIRED", "TERMINATED"})
_OUTCOMES = {
    "cannot-receive": Outcome.CANNOT_RECEIVE,
    "permanent": Outcome.PERMANENT,
    "transient": Outcome.TRANSIENT,
}


def _amount_value(data: Any) -> int:
    if isinstance(data, dict) and isinstance(data.get("value"), int):
        return int(data["value"])
    return 0


class VippsMethod:
    name: ClassVar[str] = "vipps"

    def __init__(
        self,
        *,
        timeout_seconds: float = 30.0,
        box: Callable[[Config], SecretBox] = box_for,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.tokens = TokenCache()
        self._box, self._clock = box, clock

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        if settings:
            raise SettingsError(
                f"unknown setting {sorted(settings)[0]!r} (Vipps is set up under "
                "/distribution/channels/vipps)"
            )

    async def _channel(self, ctx: InvoiceContext) -> tuple[VippsSettings, VippsSecrets] | str:
        channel = await load_channel(ctx.services.store, self._box(ctx.services.config), ctx.tenant.id, NAME)
        if channel.settings is None or channel.secrets is None:
            return "Vipps is not set up for this tenant (settings and credentials)"
        try:
            return vipps_settings(channel.settings), vipps_secrets(channel.secrets)
        except SettingsError as exc:
            return f"the Vipps set-up is unusable: {exc}"

    def _refusal(self, ctx: InvoiceContext) -> str | None:
        """Why this customer and invoice cannot go by Vipps, from what we know ourselves."""
        if ctx.customer.kind != "private":
            return "Vipps is for private customers; this customer is a business"
        if ctx.invoice.is_credit_note:
            return "a credit note is not a payment request"
        if msisdn(ctx.customer.mobile) is None:
            return "the customer has no usable mobile number" if ctx.customer.mobile else "no mobile number"
        if (ctx.invoice.currency or "").upper() != "NOK":
            return f"Vipps payment requests are in NOK, the invoice is in {ctx.invoice.currency}"
        payable = ctx.invoice.totals.payable
        if payable is None or payable <= 0:
            return "nothing to pay"
        return None

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        refusal = self._refusal(ctx)
        if refusal is not None:
            return Verdict(False, refusal)
        channel = await self._channel(ctx)
        if isinstance(channel, str):
            return Verdict(False, channel)
        return Verdict(True, "private customer with a mobile number; Vipps decides when asked")

    def _client(self, ctx: InvoiceContext, settings: VippsSettings, secrets: VippsSecrets) -> VippsClient:
        return VippsClient(
            ctx.services.http,
            settings,
            secrets,
            self.tokens,
            timeout_seconds=self.timeout_seconds,
            clock=self._clock,
        )

    async def deliver(self, ctx: InvoiceContext) -> Result:
        refusal = self._refusal(ctx)
        if refusal is not None:
            return Result(Outcome.CANNOT_RECEIVE, refusal)
        channel = await self._channel(ctx)
        if isinstance(channel, str):
            return Result(Outcome.CANNOT_RECEIVE, channel)
        settings, secrets = channel
        phone = msisdn(ctx.customer.mobile)
        payable = ctx.invoice.totals.payable
        assert phone is not None and payable is not None
        reference = payment_reference(ctx.invoice_id, ctx.attempt_key)
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        body = payment_request(
            ctx.invoice,
            reference=reference,
            phone=phone,
            amount=ore(payable),
            long_living=settings.long_living,
            now=now,
        )
        evidence = {"reference": reference, "amount": body["amount"], "expires_at": body.get("expiresAt")}
        try:
            await self._client(ctx, settings, secrets).create_payment(body, ctx.attempt_key)
        except VippsError as exc:
            return Result(_OUTCOMES[exc.kind], exc.reason, evidence=evidence)
        return Result(
            Outcome.PENDING, f"payment request {reference} pushed to the Vipps app", reference, evidence
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        channel = await self._channel(ctx)
        if isinstance(channel, str):
            return Result(Outcome.PENDING, f"status unknown: {channel}", reference)
        client = self._client(ctx, *channel)
        try:
            payment = await client.get_payment(reference)
        except VippsError as exc:
            if exc.status == 404:
                return Result(Outcome.PERMANENT, f"Vipps has no payment {reference}", reference)
            return Result(Outcome.PENDING, f"status unknown: {exc.reason}", reference)
        state = str(payment.get("state", ""))
        facts = {"state": state, "psp_reference": payment.get("pspReference")}
        if state in FAILED_STATES:
            return Result(Outcome.PERMANENT, f"the Vipps payment was {state.lower()}", reference, facts)
        if state != "AUTHORIZED":
            return Result(
                Outcome.PENDING, f"the Vipps payment is {state.lower() or 'unknown'}", reference, facts
            )
        return await self._capture_and_book(ctx, client, reference, payment, facts)

    async def _capture_and_book(
        self,
        ctx: InvoiceContext,
        client: VippsClient,
        reference: str,
        payment: Mapping[str, Any],
        facts: dict[str, Any],
    ) -> Result:
        aggregate = payment.get("aggregate") if isinstance(payment.get("aggregate"), dict) else {}
        assert isinstance(aggregate, dict)
        authorized = _amount_value(aggregate.get("authorizedAmount")) or _amount_value(payment.get("amount"))
        captured = _amount_value(aggregate.get("capturedAmount"))
        cancelled = _amount_value(aggregate.get("cancelledAmount"))
        remaining = authorized - captured - cancelled
        if remaining > 0:
            try:
                # Same key on every poll: a capture that went through but whose answer was lost is
                # not captured twice.
                done = await client.capture(reference, remaining, f"{ctx.attempt_key}-capture")
            except VippsError as exc:
                outcome = (
                    Outcome.PERMANENT if exc.kind != "transient" and exc.status != 409 else Outcome.PENDING
                )
                return Result(outcome, f"capture failed: {exc.reason}", reference, facts)
            done_aggregate = done.get("aggregate")
            if isinstance(done_aggregate, dict):
                captured = _amount_value(done_aggregate.get("capturedAmount")) or captured + remaining
            else:
                captured += remaining
        if captured <= 0:
            return Result(
                Outcome.PENDING, "the Vipps payment is authorized, nothing captured yet", reference, facts
            )
        amount = Decimal(captured) / 100
        paid_on = dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()
        async with ctx.services.store.begin() as conn:
            booking = await book_payment(
                conn,
                ctx.tenant.id,
                channel="vipps",
                reference=reference,
                amount=amount,
                currency="NOK",
                paid_on=paid_on,
                kid=ctx.invoice.kid,
                invoice_id=ctx.invoice_id,
                detail={"psp_reference": facts.get("psp_reference"), "text": ctx.invoice.number},
            )
        evidence = {
            **facts,
            "captured": captured,
            "payment_id": booking.payment_id,
            "booked_before": booking.duplicate,
        }
        return Result(Outcome.DELIVERED, f"paid by Vipps: NOK {amount:.2f} captured", reference, evidence)
