"""AvtaleGiro: the invoice is claimed from the payer's account by direct debit, for payers whose
KID has an active agreement (mandate) with the tenant.

``deliver`` queues a claim; the daily batch writes it into the tenant's claims file and uploads
it. The claim stays PENDING until its file was sent (DELIVERED, with the file as evidence); a claim
cancelled before that, or one that missed the cut-off, is PERMANENT and the run moves on. The
money itself arrives later in the bank's OCR giro file and is booked by KID.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from distribution.avtalegiro.claims import (
    CANCELLED,
    EXPIRED,
    SENT,
    Claim,
    claim_window,
    get_claim,
    get_file,
    queue_claim,
)
from distribution.avtalegiro.mandates import Mandate, active_mandate
from distribution.avtalegiro.scheduler import next_run_day
from distribution.avtalegiro.settings import AvtaleGiroSettings, load_settings
from distribution.methods.base import InvoiceContext, Outcome, Result, SettingsError, Verdict
from distribution.payments.kid import is_valid_kid

CURRENCY = "NOK"


@dataclass(frozen=True, slots=True)
class _Claimable:
    kid: str
    amount: Decimal
    due_date: dt.date
    mandate: Mandate


class AvtaleGiroMethod:
    name: ClassVar[str] = "avtalegiro"

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        if settings:
            raise SettingsError(
                f"unknown setting {sorted(settings)[0]!r}: AvtaleGiro is set up in /distribution/avtalegiro"
            )

    async def _assess(self, ctx: InvoiceContext) -> _Claimable | str:
        invoice = ctx.invoice
        if invoice.is_credit_note:
            return "a credit note cannot be claimed by AvtaleGiro"
        kid = invoice.kid
        if not kid:
            return "the invoice has no KID"
        if not (kid.isascii() and kid.isdigit()) or not is_valid_kid(kid):
            return f"KID {kid!r} is not a valid KID of digits (MOD10/MOD11)"
        async with ctx.services.store.connect() as conn:
            settings: AvtaleGiroSettings | None = await load_settings(conn, ctx.tenant.id)
            mandate = await active_mandate(conn, ctx.tenant.id, kid) if settings is not None else None
        if settings is None:
            return "AvtaleGiro is not set up for this tenant"
        if mandate is None:
            return f"the payer has no active AvtaleGiro agreement for KID {kid}"
        if (invoice.currency or CURRENCY) != CURRENCY:
            return f"AvtaleGiro claims are in NOK, the invoice is in {invoice.currency}"
        amount = invoice.totals.payable
        if amount is None or amount <= 0:
            return "nothing to claim: the amount payable is not positive"
        if amount != amount.quantize(Decimal("0.01")):
            return f"the amount payable {amount} has more than two decimals"
        due = invoice.due_date
        if due is None:
            return "the invoice has no due date"
        earliest, _ = claim_window(next_run_day(settings.schedule, self.clock()), settings.cutoff_days)
        if due < earliest:
            return (
                f"due date {due.isoformat()} is too close: the next AvtaleGiro claims file must reach the "
                f"bank {settings.cutoff_days} days before it (earliest due date now {earliest.isoformat()})"
            )
        return _Claimable(kid, amount, due, mandate)

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        found = await self._assess(ctx)
        if isinstance(found, str):
            return Verdict(False, found)
        return Verdict(True, f"the payer has an AvtaleGiro agreement for KID {found.kid}")

    async def deliver(self, ctx: InvoiceContext) -> Result:
        found = await self._assess(ctx)
        if isinstance(found, str):
            return Result(Outcome.CANNOT_RECEIVE, found)
        async with ctx.services.store.begin() as conn:
            claim, created = await queue_claim(
                conn,
                ctx.tenant.id,
                ctx.invoice_id,
                kid=found.kid,
                amount=found.amount,
                due_date=found.due_date,
                notify=found.mandate.notify,
            )
        if not created and claim.state != "queued":
            return await self._result(ctx, claim)
        reason = (
            f"claim {claim.id} queued for the next AvtaleGiro claims file (due {claim.due_date.isoformat()})"
        )
        return Result(Outcome.PENDING, reason, claim.id, _evidence(claim))

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        async with ctx.services.store.connect() as conn:
            claim = await get_claim(conn, reference, ctx.tenant.id)
        if claim is None:
            return Result(Outcome.PERMANENT, f"AvtaleGiro claim {reference} does not exist", reference)
        return await self._result(ctx, claim)

    async def _result(self, ctx: InvoiceContext, claim: Claim) -> Result:
        evidence = _evidence(claim)
        if claim.state == SENT and claim.claim_file_id is not None:
            async with ctx.services.store.connect() as conn:
                file = await get_file(conn, claim.claim_file_id)
            if file is not None:
                evidence.update(
                    file_id=file.id, transmission_number=file.transmission_number, sent_at=file.sent_at
                )
                reason = f"claim sent to the bank in claims file {file.transmission_number}"
                return Result(Outcome.DELIVERED, reason, claim.id, evidence)
        if claim.state == CANCELLED:
            return Result(Outcome.PERMANENT, "the AvtaleGiro claim was cancelled", claim.id, evidence)
        if claim.state == EXPIRED:
            reason = "the AvtaleGiro claim was not sent before the bank's cut-off for its due date"
            return Result(Outcome.PERMANENT, reason, claim.id, evidence)
        return Result(Outcome.PENDING, f"AvtaleGiro claim is {claim.state}", claim.id, evidence)


def _evidence(claim: Claim) -> dict[str, Any]:
    return {
        "claim_id": claim.id,
        "state": claim.state,
        "kid": claim.kid,
        "amount": f"{claim.amount:.2f}",
        "due_date": claim.due_date.isoformat(),
        "transaction_number": claim.transaction_number,
    }
