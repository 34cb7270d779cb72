"""eFaktura: the invoice to a private customer's online bank, through our eFaktura adapter.

Eligible only for a private customer with an invoice e-mail whose consumer lookup says the payer
accepts eFaktura from all issuers ("Ja takk til alle", eFaktura 2.0); a consumer not found, or one
who has not given that consent, cannot receive. ``deliver`` submits the invoice (KID, amount, due
date, PDF, the UBL) to the consumer's eFaktura identifier and stays PENDING; the bank network's
answer, read back by ``status``, is DELIVERED (accepted) or PERMANENT (rejected: the run falls
through).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from accesspoint.config import Config
from accesspoint.secretbox import SecretBox
from distribution.efaktura.client import AdapterError, Consumer, EfakturaAdapter
from distribution.efaktura.settings import NAME, efaktura_secrets, efaktura_settings
from distribution.methods.base import InvoiceContext, Outcome, Result, SettingsError, Verdict
from distribution.storage.channels import box_for, load_channel


class EfakturaMethod:
    name: ClassVar[str] = "efaktura"

    def __init__(
        self, *, timeout_seconds: float = 30.0, box: Callable[[Config], SecretBox] = box_for
    ) -> None:
        self.timeout_seconds, self._box = timeout_seconds, box

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        if settings:
            raise SettingsError(
                f"unknown setting {sorted(settings)[0]!r} (eFaktura is set up under "
                "/distribution/channels/efaktura)"
            )

    async def _adapter(self, ctx: InvoiceContext) -> EfakturaAdapter | str:
        channel = await load_channel(ctx.services.store, self._box(ctx.services.config), ctx.tenant.id, NAME)
        if channel.settings is None or channel.secrets is None:
            return "eFaktura is not set up for this tenant"
        try:
            settings, api_key = efaktura_settings(channel.settings), efaktura_secrets(channel.secrets)
        except SettingsError as exc:
            return f"the eFaktura set-up is unusable: {exc}"
        return EfakturaAdapter(
            ctx.services.http, settings.base_url, api_key, timeout_seconds=self.timeout_seconds
        )

    async def _consumer(self, ctx: InvoiceContext) -> tuple[EfakturaAdapter, Consumer] | Result:
        if ctx.customer.kind != "private":
            return Result(
                Outcome.CANNOT_RECEIVE, "eFaktura B2C is for private customers; this customer is a business"
            )
        if ctx.invoice.is_credit_note:
            return Result(Outcome.CANNOT_RECEIVE, "a credit note is not sent by eFaktura")
        email = ctx.customer.invoice_email
        if not email:
            return Result(Outcome.CANNOT_RECEIVE, "no invoice e-mail to look the consumer up by")
        adapter = await self._adapter(ctx)
        if isinstance(adapter, str):
            return Result(Outcome.CANNOT_RECEIVE, adapter)
        try:
            consumer = await adapter.lookup(email)
        except AdapterError as exc:
            return Result(
                Outcome.PERMANENT if exc.permanent else Outcome.TRANSIENT, f"lookup failed: {exc.reason}"
            )
        if consumer is None:
            return Result(Outcome.CANNOT_RECEIVE, "no eFaktura consumer with the invoice e-mail")
        if not consumer.accepts_all_issuers:
            return Result(Outcome.CANNOT_RECEIVE, "the consumer does not accept eFaktura from all issuers")
        return adapter, consumer

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        found = await self._consumer(ctx)
        if isinstance(found, Result):
            return Verdict(False, found.reason)
        return Verdict(True, "eFaktura consumer accepting all issuers")

    async def deliver(self, ctx: InvoiceContext) -> Result:
        found = await self._consumer(ctx)
        if isinstance(found, Result):
            return found
        adapter, consumer = found
        invoice = ctx.invoice
        pdf = await ctx.pdf()
        body = {
            "efaktura_identifier": consumer.efaktura_identifier,
            "invoice_number": invoice.number,
            "kid": invoice.kid,
            "amount": str(invoice.totals.payable),
            "currency": invoice.currency or "NOK",
            "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
            "issuer_name": invoice.seller.display_name if invoice.seller else ctx.tenant.name,
            "pdf_base64": base64.b64encode(pdf).decode("ascii"),
            "ubl_base64": base64.b64encode(ctx.document).decode("ascii"),
            "idempotency_key": ctx.attempt_key,
        }
        try:
            submission = await adapter.submit(body)
        except AdapterError as exc:
            return Result(
                Outcome.PERMANENT if exc.permanent else Outcome.TRANSIENT, f"submission failed: {exc.reason}"
            )
        return Result(
            Outcome.PENDING,
            f"submitted to eFaktura as {submission}",
            submission,
            {"submission_id": submission},
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        adapter = await self._adapter(ctx)
        if isinstance(adapter, str):
            return Result(Outcome.PENDING, f"status unknown: {adapter}", reference)
        try:
            state, reason = await adapter.status(reference)
        except AdapterError as exc:
            if exc.status == 404:
                return Result(Outcome.PERMANENT, f"the adapter has no submission {reference}", reference)
            return Result(Outcome.PENDING, f"status unknown: {exc.reason}", reference)
        if state == "accepted":
            return Result(
                Outcome.DELIVERED, "the bank network accepted the eFaktura", reference, {"status": state}
            )
        if state == "rejected":
            return Result(
                Outcome.PERMANENT,
                f"eFaktura rejected: {reason or 'no reason given'}",
                reference,
                {"status": state},
            )
        return Result(Outcome.PENDING, "eFaktura is pending", reference, {"status": state})
