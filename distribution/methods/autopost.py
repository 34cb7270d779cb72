"""AutoPost: the invoice printed and posted by a print provider that speaks our HTTP contract.

Eligible with a complete postal address and a configured provider. ``deliver`` builds the print
file (address sheet on the back of page 1, PDF attachments after the invoice) and submits it with
the attempt key as idempotency key, so a resumed run cannot print twice; the job then stays PENDING
until the provider says dispatched (DELIVERED) or failed/returned (PERMANENT), by polling or by a
signed callback that wakes the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin

from distribution.invoice import Invoice
from distribution.methods.base import (
    InvoiceContext,
    Outcome,
    PostalAddress,
    Result,
    SettingsError,
    Verdict,
)
from distribution.print.address import Recipient, customer_address, incomplete, recipient_of
from distribution.print.printfile import PrintFile, PrintFileError, build_print_file
from distribution.print.provider import (
    CALLBACK_PATH,
    JobStatus,
    PrintJob,
    PrintProvider,
    ProviderError,
)
from distribution.print.rules import PrintRules

CHOICES: dict[str, tuple[str, ...]] = {
    "post_class": ("A", "B"),
    "color": ("MONOCHROME", "COLORS"),
    "nondeliverable": ("RETURN_TO_SENDER", "SHRED"),
}
DEFAULTS: dict[str, Any] = {
    "post_class": "B",
    "color": "MONOCHROME",
    "duplex": True,
    "nondeliverable": "RETURN_TO_SENDER",
}
KNOWN = frozenset({*DEFAULTS, "return_address"})


def _return_address(value: Any) -> Recipient:
    if not isinstance(value, Mapping):
        raise SettingsError("return_address must be an object with name, lines, postcode, city, country")
    lines = value.get("lines", [])
    texts = [value.get(key) for key in ("name", "postcode", "city", "country")]
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise SettingsError("return_address.lines must be a list of strings")
    if not all(text is None or isinstance(text, str) for text in texts):
        raise SettingsError("return_address fields must be strings")
    name, postcode, city, country = texts
    address = PostalAddress(tuple(lines), postcode, city, country)
    why = incomplete(name, address)
    if why is not None or name is None:
        raise SettingsError(f"return_address: {why}")
    return recipient_of(name, address)


def _seller_address(invoice: Invoice) -> Recipient | None:
    """The seller in the UBL document as return address, when complete enough to post to."""
    seller = invoice.seller
    if seller is None or seller.address is None:
        return None
    ubl = seller.address
    lines = tuple(line for line in (ubl.street, ubl.additional_street, ubl.address_line) if line)
    address = PostalAddress(lines, ubl.postal_zone, ubl.city, ubl.country_code)
    name = seller.display_name
    if name is None or incomplete(name, address) is not None:
        return None
    return recipient_of(name, address)


def _job_result(job: JobStatus, evidence: Mapping[str, Any]) -> Result:
    facts = {**evidence, "job_id": job.job_id, "provider_status": job.status, "updated_at": job.updated_at}
    if job.status == "dispatched":
        return Result(Outcome.DELIVERED, f"print job {job.job_id} was dispatched", job.job_id, facts)
    if job.status in ("failed", "returned"):
        because = job.reason or "the provider gave no reason"
        return Result(Outcome.PERMANENT, f"print job {job.job_id} {job.status}: {because}", job.job_id, facts)
    return Result(Outcome.PENDING, f"print job {job.job_id} is {job.status}", job.job_id, facts)


def _describe(printed: PrintFile) -> str:
    parts = [f"{printed.pages} pages"]
    if printed.scaled:
        parts.append("scaled to A4: " + ", ".join(printed.scaled))
    if printed.skipped:
        parts.append("not printed: " + "; ".join(f"{s.filename} ({s.reason})" for s in printed.skipped))
    return ", ".join(parts)


class AutopostMethod:
    """``rules`` are the provider's printability figures (one provider per server)."""

    name: ClassVar[str] = "autopost"

    def __init__(self, rules: PrintRules | None = None, *, timeout_seconds: float = 60.0) -> None:
        self.rules = rules or PrintRules()
        self.timeout_seconds = timeout_seconds

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        unknown = sorted(set(settings) - KNOWN)
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(KNOWN))})")
        for key, allowed in CHOICES.items():
            if key in settings and settings[key] not in allowed:
                raise SettingsError(f"{key} must be one of {', '.join(allowed)}")
        if "duplex" in settings and not isinstance(settings["duplex"], bool):
            raise SettingsError("duplex must be true or false")
        if settings.get("return_address") is not None:
            _return_address(settings["return_address"])

    def _unconfigured(self, ctx: InvoiceContext) -> str | None:
        section = ctx.services.config.autopost
        if not section.url:
            return "AutoPost is not configured on this server (no autopost.url)"
        if not section.api_key:
            return "AutoPost is not configured on this server (no autopost.api_key)"
        return None

    def _recipient(self, ctx: InvoiceContext) -> tuple[Recipient | None, str]:
        name, address, source = customer_address(ctx.customer, ctx.invoice)
        why = incomplete(name, address)
        if why is not None or name is None or address is None:
            return None, f"{why} (from {source})"
        return recipient_of(name, address), f"complete postal address (from {source})"

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        unconfigured = self._unconfigured(ctx)
        if unconfigured is not None:
            return Verdict(False, unconfigured)
        recipient, reason = self._recipient(ctx)
        return Verdict(recipient is not None, reason)

    def _provider(self, ctx: InvoiceContext) -> PrintProvider:
        section = ctx.services.config.autopost
        assert section.url is not None and section.api_key is not None
        return PrintProvider(
            ctx.services.http, section.url, section.api_key, timeout_seconds=self.timeout_seconds
        )

    async def deliver(self, ctx: InvoiceContext) -> Result:
        unconfigured = self._unconfigured(ctx)
        if unconfigured is not None:
            return Result(Outcome.CANNOT_RECEIVE, unconfigured)
        recipient, reason = self._recipient(ctx)
        if recipient is None:
            return Result(Outcome.CANNOT_RECEIVE, reason)
        settings = {**DEFAULTS, **ctx.settings}
        try:
            self.check_settings(ctx.settings)
            pdf = await ctx.pdf()
            printed = await asyncio.to_thread(
                build_print_file, pdf, recipient, ctx.attachments, self.rules, duplex=bool(settings["duplex"])
            )
        except (SettingsError, PrintFileError) as exc:
            return Result(Outcome.PERMANENT, f"cannot make the print file: {exc}")
        returns = settings.get("return_address")
        public_url = ctx.services.config.server.public_url
        job = PrintJob(
            reference=ctx.invoice_id,
            idempotency_key=ctx.attempt_key,
            pdf=printed.pdf,
            recipient=recipient,
            return_address=_return_address(returns) if returns is not None else _seller_address(ctx.invoice),
            post_class=settings["post_class"],
            duplex=bool(settings["duplex"]),
            color=settings["color"],
            nondeliverable=settings["nondeliverable"],
            callback_url=urljoin(public_url, CALLBACK_PATH.lstrip("/")) if public_url else None,
        )
        evidence = {
            "pages": printed.pages,
            "address_page": printed.address_page,
            "printed_attachments": list(printed.printed),
            "scaled_attachments": list(printed.scaled),
            "skipped_attachments": [{"filename": s.filename, "reason": s.reason} for s in printed.skipped],
        }
        try:
            status = await self._provider(ctx).submit(job)
        except ProviderError as exc:
            outcome = Outcome.PERMANENT if exc.permanent else Outcome.TRANSIENT
            return Result(outcome, exc.reason, evidence=evidence)
        result = _job_result(status, evidence)
        return Result(
            result.outcome, f"{result.reason} ({_describe(printed)})", result.reference, result.evidence
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        unconfigured = self._unconfigured(ctx)
        if unconfigured is not None:
            return Result(Outcome.PENDING, f"status unknown: {unconfigured}", reference)
        try:
            job = await self._provider(ctx).status(reference)
        except ProviderError as exc:
            if exc.status in (404, 410):
                return Result(
                    Outcome.PERMANENT, f"the provider has no job {reference}: {exc.reason}", reference
                )
            # Anything else leaves the job as it was: ask again on the next poll.
            return Result(Outcome.PENDING, f"status unknown: {exc.reason}", reference)
        return _job_result(job, {})
