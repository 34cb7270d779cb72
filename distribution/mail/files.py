"""The invoice PDF as an attachment, and the evidence kept about every file sent."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from distribution.methods.base import AttachmentFile, InvoiceContext
from distribution.render.design import Language
from distribution.render.labels import LABELS

_UNSAFE = re.compile(r"[^\w.-]+")


async def invoice_pdf(ctx: InvoiceContext, language: Language) -> AttachmentFile:
    """``Faktura-10045.pdf`` / ``Credit-note-77.pdf``: the rendered invoice, named for the reader."""
    labels = LABELS[language]
    title = labels.credit_note if ctx.invoice.is_credit_note else labels.invoice
    stem = _UNSAFE.sub("-", f"{title}-{ctx.invoice.number or ctx.invoice_id}").strip("-.")[:120]
    return AttachmentFile(f"{stem or 'invoice'}.pdf", "application/pdf", await ctx.pdf())


def files_evidence(files: Sequence[AttachmentFile]) -> list[dict[str, Any]]:
    return [
        {
            "filename": file.filename,
            "mime_type": file.mime_type,
            "bytes": len(file.content),
            "sha256": hashlib.sha256(file.content).hexdigest(),
        }
        for file in files
    ]
