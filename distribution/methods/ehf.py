"""``ehf``: the invoice as EHF (Peppol BIS Billing 3.0) through this access point's outbound pipeline.

Eligible when the buyer's Peppol id (the UBL's buyer EndpointID) has an endpoint for this document
type: a static route, or SML + SMP. A lookup outage does not make a Peppol receiver ineligible: the
delivery is handed to the pipeline, which retries lookups on its own schedule and reports ``failed``
when it gives up, and the run then falls through. Delivered means a verified AS4 receipt.

Setting ``embed_pdf`` (default false) embeds the rendered PDF and the attachments Peppol allows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from accesspoint import sbdh
from accesspoint.pipeline.outbound import DocumentRejected, SubmissionError, submit
from accesspoint.pipeline.routing import NoRoute, Router, RouteUnavailable
from accesspoint.store.documents import get_outbound
from accesspoint.store.tenants import Tenant as StoreTenant
from accesspoint.validation.report import Report
from distribution.ehf.embed import embed
from distribution.methods.base import InvoiceContext, Outcome, Result, SettingsError, Verdict

Validate = Callable[[bytes], Awaitable[Report]]


class EhfMethod:
    name: ClassVar[str] = "ehf"

    def __init__(self, router: Callable[[], Router], validate: Validate) -> None:
        # Both come from the running server (they exist only after start-up), hence the indirection.
        self._router = router
        self._validate = validate

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        unknown = set(settings) - {"method", "embed_pdf"}
        if unknown:
            raise SettingsError(f"ehf: unknown settings {sorted(unknown)}")
        if not isinstance(settings.get("embed_pdf", False), bool):
            raise SettingsError("ehf: embed_pdf must be true or false")

    def _route(self, ctx: InvoiceContext) -> tuple[str, str, str]:
        envelope = sbdh.read_envelope(sbdh.envelope_for_ubl(ctx.document))
        receiver = envelope.receiver.value if envelope.receiver and envelope.receiver.value else ""
        return receiver, envelope.document_type_id or "", envelope.process_id or ""

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        try:
            receiver, document_type, process = self._route(ctx)
        except (ValueError, sbdh.EnvelopeReadError) as exc:
            return Verdict(False, f"no Peppol receiver in the invoice: {exc}")
        if not receiver:
            return Verdict(False, "the invoice names no buyer EndpointID")
        try:
            endpoint = await self._router().resolve(receiver, document_type, process)
        except NoRoute as exc:
            return Verdict(False, f"{receiver} cannot receive this document over Peppol: {exc}")
        except RouteUnavailable as exc:
            return Verdict(True, f"{receiver}: lookup unavailable now ({exc}); the pipeline will retry it")
        how = "static route" if endpoint.source == "static" else "registered in SMP"
        return Verdict(True, f"{receiver} {how} for this document type ({endpoint.url})")

    async def deliver(self, ctx: InvoiceContext) -> Result:
        document, evidence = ctx.document, dict[str, Any]()
        if ctx.settings.get("embed_pdf"):
            embedded = embed(ctx.document, ctx.invoice.number, await ctx.pdf(), ctx.attachments)
            document = embedded.document
            evidence = {"embedded": list(embedded.embedded), "not_embedded": list(embedded.skipped)}
        tenant = StoreTenant(ctx.tenant.id, ctx.tenant.name)
        try:
            submission = await submit(
                ctx.services.store, tenant, document, self._validate, idempotency_key=ctx.attempt_key
            )
        except DocumentRejected as exc:
            rules = ", ".join(sorted({f.rule for f in exc.report.fatal}))[:300]
            return Result(Outcome.PERMANENT, f"the EHF document is not valid: {rules}")
        except SubmissionError as exc:
            return Result(Outcome.PERMANENT, f"cannot send over Peppol: {exc}")
        sent = submission.document
        evidence |= {"document_id": sent.id, "message_id": sent.message_id}
        return Result(
            Outcome.PENDING, f"queued for Peppol as {sent.id}", reference=sent.id, evidence=evidence
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        async with ctx.services.store.connect() as conn:
            document = await get_outbound(conn, reference)
        if document is None or document.tenant_id != ctx.tenant.id:
            return Result(Outcome.PERMANENT, f"outbound document {reference} is gone")
        facts = {"document_id": document.id, "message_id": document.message_id}
        if document.status == "delivered":
            return Result(Outcome.DELIVERED, "verified Peppol AS4 receipt", reference, facts)
        if document.status == "failed":
            return Result(
                Outcome.PERMANENT, f"Peppol delivery failed: {document.last_error}", reference, facts
            )
        return Result(Outcome.PENDING, f"Peppol delivery {document.status}", reference, facts)
