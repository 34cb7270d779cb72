"""What the e-mail and CloudPrint methods share: the tenant's sender, signing, sending, and the
:class:`Result` with its evidence (Message-ID, recipients, the server's reply)."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import Any

from accesspoint.config import Config
from distribution.mail.address import Sender, SenderMissing, resolve_sender
from distribution.mail.compose import ComposedMessage
from distribution.mail.dkim import DkimError, DkimSigner
from distribution.mail.smtp import SmtpFailure, send_raw
from distribution.methods.base import InvoiceContext, Outcome, Result, Tenant
from distribution.storage.designs import StoredDesign


def sender_for(config: Config, design: StoredDesign, tenant: Tenant) -> Sender | Result:
    """The tenant's :class:`Sender`, or the PERMANENT result to answer when there is none."""
    email_from = design.settings.get("email_from")
    try:
        return resolve_sender(
            config.distribution, email_from if isinstance(email_from, str) else None, tenant.name
        )
    except SenderMissing as exc:
        return Result(Outcome.PERMANENT, str(exc))


def serialise(message: ComposedMessage, config: Config) -> bytes:
    """The bytes to send: CRLF line ends, DKIM-signed when configured; raises DkimError."""
    raw = message.as_bytes()
    signer = DkimSigner.from_config(config.smtp)
    return signer.sign(raw) if signer is not None else raw


async def transmit(
    ctx: InvoiceContext,
    message: ComposedMessage,
    *,
    sender: Sender,
    recipients: Sequence[str],
    evidence: dict[str, Any],
    raw: bytes | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> Result:
    """Send and map the outcome; ``evidence`` is extended with what SMTP said."""
    config = ctx.services.config
    message_id = message.message_id
    facts: dict[str, Any] = {
        **evidence,
        "message_id": message_id,
        "from": sender.address,
        "reply_to": sender.reply_to,
        "recipients": list(recipients),
    }
    if raw is None:
        try:
            raw = serialise(message, config)
        except DkimError as exc:
            return Result(Outcome.PERMANENT, str(exc), evidence=facts)
    facts["dkim"] = DkimSigner.from_config(config.smtp) is not None
    facts["bytes"] = len(raw)
    try:
        accepted = await send_raw(
            raw, sender=sender.address, recipients=recipients, smtp=config.smtp, tls_context=tls_context
        )
    except SmtpFailure as exc:
        facts["reply"] = exc.reply
        return Result(Outcome.PERMANENT if exc.permanent else Outcome.TRANSIENT, exc.reason, evidence=facts)
    facts["reply"] = accepted.reply
    if accepted.refused:
        facts["refused"] = accepted.refused
    taken = [address for address in recipients if address not in accepted.refused]
    reason = f"accepted by the SMTP server for {', '.join(taken)}"
    return Result(Outcome.DELIVERED, reason, reference=message_id, evidence=facts)
