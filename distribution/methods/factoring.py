"""Factoring: sell the invoice to the tenant's factoring partner, who sends and follows it up.

Eligible when the partner's credit check approves this buyer for this amount; a decline is "cannot
receive" with the partner's reason, and the run falls through. ``eligible`` must stay cheap and free
of side effects, but the only way to know is to ask the partner: the contract makes a credit check
a read (no reservation, no purchase), and its answer is kept per invoice and amount for
``CHECK_TTL_SECONDS``, so the run's explanation and ``deliver`` cost one partner call, not two. The
trade-off: a decision can be up to that old when the purchase is made; the partner then still has
the last word (a rejected purchase is PERMANENT).

``deliver`` rewrites the UBL with the factor as payee (BG-10), its account (BT-84), its KID when it
makes one and the assignment notice (the one document note), then hands the rewritten invoice and
its PDF to the partner with the attempt key as idempotency key. An accepted purchase is DELIVERED
with ``{"sold": true}``: the run marks the invoice sold.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from accesspoint.config import Config
from accesspoint.secretbox import SecretBox
from distribution.factoring.assign import AssignError, assign_to_factor
from distribution.factoring.client import CreditDecision, FactoringPartner, PartnerError
from distribution.factoring.settings import (
    NAME,
    FactoringSecrets,
    FactoringSettings,
    factoring_secrets,
    factoring_settings,
)
from distribution.methods.base import InvoiceContext, Outcome, Result, SettingsError, Verdict
from distribution.payments.kid import make_kid
from distribution.storage.channels import box_for, load_channel

CHECK_TTL_SECONDS = 600.0


class FactoringMethod:
    name: ClassVar[str] = "factoring"

    def __init__(
        self,
        *,
        timeout_seconds: float = 30.0,
        check_ttl_seconds: float = CHECK_TTL_SECONDS,
        box: Callable[[Config], SecretBox] = box_for,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_seconds, self.check_ttl = timeout_seconds, check_ttl_seconds
        self._box, self._clock = box, clock
        self._checks: dict[tuple[str, str, str], tuple[CreditDecision, float]] = {}

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        if settings:
            raise SettingsError(
                f"unknown setting {sorted(settings)[0]!r} (factoring is set up under "
                "/distribution/channels/factoring)"
            )

    async def _channel(self, ctx: InvoiceContext) -> tuple[FactoringSettings, FactoringSecrets] | str:
        channel = await load_channel(ctx.services.store, self._box(ctx.services.config), ctx.tenant.id, NAME)
        if channel.settings is None or channel.secrets is None:
            return "no factoring partner is set up for this tenant"
        try:
            return factoring_settings(channel.settings), factoring_secrets(channel.secrets)
        except SettingsError as exc:
            return f"the factoring set-up is unusable: {exc}"

    def _partner(
        self, ctx: InvoiceContext, settings: FactoringSettings, secrets: FactoringSecrets
    ) -> FactoringPartner:
        return FactoringPartner(
            ctx.services.http, settings.base_url, secrets.api_key, timeout_seconds=self.timeout_seconds
        )

    def _customer(self, ctx: InvoiceContext) -> dict[str, Any]:
        buyer = ctx.invoice.buyer
        customer: dict[str, Any] = {
            "name": (buyer.display_name if buyer else None) or ctx.customer.name or "",
            "country": (buyer.address.country_code if buyer and buyer.address else None) or "NO",
            "kind": ctx.customer.kind,
        }
        if buyer is not None and buyer.organisation_number:
            customer["organisation_number"] = buyer.organisation_number
        return customer

    async def _decision(
        self, ctx: InvoiceContext, settings: FactoringSettings, secrets: FactoringSecrets
    ) -> CreditDecision | Result:
        invoice = ctx.invoice
        if invoice.is_credit_note:
            return Result(Outcome.CANNOT_RECEIVE, "a credit note cannot be sold")
        payable = invoice.totals.payable
        if payable is None or payable <= 0:
            return Result(Outcome.CANNOT_RECEIVE, "nothing to pay: nothing to sell")
        key = (ctx.tenant.id, ctx.invoice_id, str(payable))
        at = self._clock()
        cached = self._checks.get(key)
        if cached is not None and cached[1] > at:
            return cached[0]
        try:
            decision = await self._partner(ctx, settings, secrets).credit_check(
                self._customer(ctx), payable, invoice.currency or "NOK", invoice.due_date
            )
        except PartnerError as exc:
            return Result(
                Outcome.PERMANENT if exc.permanent else Outcome.TRANSIENT,
                f"credit check failed: {exc.reason}",
            )
        self._checks = {k: v for k, v in self._checks.items() if v[1] > at}  # drop the stale ones
        self._checks[key] = (decision, at + self.check_ttl)
        return decision

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        channel = await self._channel(ctx)
        if isinstance(channel, str):
            return Verdict(False, channel)
        decision = await self._decision(ctx, *channel)
        if isinstance(decision, Result):
            return Verdict(False, decision.reason)
        if not decision.approved:
            return Verdict(False, f"the factor declined the credit check: {decision.reason}")
        return Verdict(True, f"the factor approved the credit check ({decision.check_id})")

    def _kid(self, ctx: InvoiceContext, settings: FactoringSettings) -> str | None:
        algorithm = settings.factor.kid_algorithm
        digits = re.sub(r"\D", "", ctx.invoice.number or "")
        if algorithm is None or not digits:
            return None
        return make_kid(digits[-20:], algorithm=algorithm)

    async def deliver(self, ctx: InvoiceContext) -> Result:
        channel = await self._channel(ctx)
        if isinstance(channel, str):
            return Result(Outcome.CANNOT_RECEIVE, channel)
        settings, secrets = channel
        decision = await self._decision(ctx, settings, secrets)
        if isinstance(decision, Result):
            return decision
        if not decision.approved:
            return Result(Outcome.CANNOT_RECEIVE, f"the factor declined the credit check: {decision.reason}")
        kid = self._kid(ctx, settings)
        try:
            rewritten = assign_to_factor(ctx.document, settings.factor, settings.notice(), kid)
        except (AssignError, ValueError) as exc:
            return Result(Outcome.PERMANENT, f"cannot mark the invoice as sold: {exc}")
        pdf = await ctx.pdf()
        body = {
            "check_id": decision.check_id,
            "invoice_number": ctx.invoice.number,
            "amount": str(ctx.invoice.totals.payable),
            "currency": ctx.invoice.currency or "NOK",
            "due_date": ctx.invoice.due_date.isoformat() if ctx.invoice.due_date else None,
            "kid": kid or ctx.invoice.kid,
            "ubl_base64": base64.b64encode(rewritten).decode("ascii"),
            "pdf_base64": base64.b64encode(pdf).decode("ascii"),
            "idempotency_key": ctx.attempt_key,
        }
        try:
            purchase = await self._partner(ctx, settings, secrets).purchase(body)
        except PartnerError as exc:
            return Result(
                Outcome.PERMANENT if exc.permanent else Outcome.TRANSIENT, f"purchase failed: {exc.reason}"
            )
        evidence = {
            "purchase_id": purchase.purchase_id,
            "factor": settings.factor.name,
            "check_id": decision.check_id,
        }
        if purchase.status != "accepted":
            because = purchase.reason or "no reason given"
            return Result(
                Outcome.PERMANENT, f"the factor rejected the purchase: {because}", evidence=evidence
            )
        return Result(
            Outcome.DELIVERED,
            f"sold to {settings.factor.name} (purchase {purchase.purchase_id})",
            purchase.purchase_id,
            {"sold": True, **evidence, "kid": kid or ctx.invoice.kid},
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        """A purchase is final when answered; nothing of ours is left pending with the factor."""
        return Result(Outcome.DELIVERED, f"purchase {reference} was accepted", reference, {"sold": True})
