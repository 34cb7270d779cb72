"""Build the MIME message: HTML with a plain-text alternative (or no body at all, for a printer), then
the files as attachments in the order given, each byte-identical under its own MIME type."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from distribution.mail.address import Sender
from distribution.methods.base import AttachmentFile

FALLBACK_TYPE = ("application", "octet-stream")


def message_id_for(attempt_key: str, domain: str) -> str:
    """The same Message-ID for every send of one attempt, so a resend after a crash is recognisable."""
    digest = hashlib.sha256(attempt_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _mime_type(value: str) -> tuple[str, str]:
    maintype, _, subtype = value.strip().lower().partition("/")
    if not maintype or not subtype or maintype == "multipart":
        return FALLBACK_TYPE
    return maintype, subtype.split(";", 1)[0].strip() or FALLBACK_TYPE[1]


def compose(
    *,
    sender: Sender,
    recipients: Sequence[str],
    subject: str,
    message_id: str,
    files: Sequence[AttachmentFile],
    text: str | None = None,
    html: str | None = None,
    sent_at: float | None = None,
) -> EmailMessage:
    """One message; ``text=None`` and ``html=None`` leave only the attachments (what a printer prints)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender.from_header
    message["To"] = ", ".join(recipients)
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    message["Subject"] = subject
    message["Date"] = formatdate(sent_at if sent_at is not None else time.time())
    message["Message-ID"] = message_id
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for file in files:
        maintype, subtype = _mime_type(file.mime_type)
        message.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.filename)
    if "MIME-Version" not in message:
        message["MIME-Version"] = "1.0"
    return message
