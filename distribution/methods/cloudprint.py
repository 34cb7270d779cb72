"""``cloudprint``: e-mail the invoice PDF, and only the PDF attachments, to a printer's address
(HP ePrint and the like print what arrives). One e-mail per invoice, invoice first, no body text,
so nothing but the documents is printed.

Settings: ``{"printer": "<name>"}``, a printer the tenant registered. A message larger than the
printer's ``max_bytes`` (the e-mail as sent, encoding included) is refused before sending.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import Any, ClassVar

from distribution.mail.compose import compose, message_id_for
from distribution.mail.deliver import sender_for, serialise, transmit
from distribution.mail.dkim import DkimError
from distribution.mail.files import files_evidence, invoice_pdf
from distribution.methods.base import AttachmentFile, InvoiceContext, Outcome, Result, SettingsError, Verdict
from distribution.methods.email import check_common, design_language
from distribution.render.labels import LABELS
from distribution.render.pool import RendererUnavailable
from distribution.storage.designs import get_design
from distribution.storage.printers import get_printer_by_name

log = logging.getLogger("ehfgate.distribution.cloudprint")

SETTINGS = ("printer",)
MAX_PRINTER_NAME = 100


def is_pdf(file: AttachmentFile) -> bool:
    """Declared as PDF and looks like one (a printer cannot print anything else we send)."""
    return file.mime_type.strip().lower() == "application/pdf" and b"%PDF-" in file.content[:1024]


class CloudPrintMethod:
    name: ClassVar[str] = "cloudprint"

    def __init__(self, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._tls_context = tls_context

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        check_common(settings, SETTINGS)
        printer = settings.get("printer")
        if not isinstance(printer, str) or not 0 < len(printer.strip()) <= MAX_PRINTER_NAME:
            raise SettingsError(f"printer must name a registered printer (1-{MAX_PRINTER_NAME} characters)")

    def _printer_name(self, ctx: InvoiceContext) -> str:
        return str(ctx.settings.get("printer") or "").strip()

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        name = self._printer_name(ctx)
        async with ctx.services.store.connect() as conn:
            printer = await get_printer_by_name(conn, ctx.tenant.id, name)
        if printer is None:
            return Verdict(False, f"no printer named {name!r} is registered")
        return Verdict(True, f"printer {printer.name!r} takes e-mail at {printer.email}")

    async def deliver(self, ctx: InvoiceContext) -> Result:
        name = self._printer_name(ctx)
        async with ctx.services.store.connect() as conn:
            printer = await get_printer_by_name(conn, ctx.tenant.id, name)
            design = ctx.design if ctx.design is not None else await get_design(conn, ctx.tenant.id)
        if printer is None:
            return Result(Outcome.PERMANENT, f"no printer named {name!r} is registered")
        sender = sender_for(ctx.services.config, design, ctx.tenant)
        if isinstance(sender, Result):
            return sender
        language = design_language(design)
        try:
            pdf = await invoice_pdf(ctx, language)
        except RendererUnavailable as exc:  # a worker process died: another try will have a new one
            return Result(Outcome.TRANSIENT, str(exc))
        except Exception as exc:  # the renderer is deterministic: a failure will not go away
            log.exception("invoice %s: PDF rendering failed", ctx.invoice_id)
            return Result(Outcome.PERMANENT, f"the invoice PDF could not be rendered: {type(exc).__name__}")
        printed = [file for file in ctx.attachments if is_pdf(file)]
        skipped = [
            {
                "filename": file.filename,
                "mime_type": file.mime_type,
                "reason": "not a PDF; printers get PDFs only",
            }
            for file in ctx.attachments
            if not is_pdf(file)
        ]
        files = (pdf, *printed)
        labels = LABELS[language]
        title = labels.credit_note if ctx.invoice.is_credit_note else labels.invoice
        message = compose(
            sender=sender,
            recipients=[printer.email],
            subject=f"{title} {ctx.invoice.number or ''}".strip(),
            message_id=message_id_for(ctx.attempt_key, sender.domain),
            files=files,
        )
        evidence: dict[str, Any] = {
            "printer": printer.name,
            "attachments": files_evidence(files),
            "skipped": skipped,
        }
        try:
            raw = serialise(message, ctx.services.config)
        except DkimError as exc:
            return Result(Outcome.PERMANENT, str(exc), evidence=evidence)
        if printer.max_bytes is not None and len(raw) > printer.max_bytes:
            reason = (
                f"the e-mail to printer {printer.name!r} would be {len(raw)} bytes; "
                f"it takes at most {printer.max_bytes}"
            )
            return Result(Outcome.PERMANENT, reason, evidence={**evidence, "bytes": len(raw)})
        return await transmit(
            ctx,
            message,
            sender=sender,
            recipients=[printer.email],
            evidence=evidence,
            raw=raw,
            tls_context=self._tls_context,
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        """Never pending: acceptance by the SMTP server is all a printer's mailbox tells."""
        return Result(Outcome.DELIVERED, "accepted by the SMTP server", reference=reference)
