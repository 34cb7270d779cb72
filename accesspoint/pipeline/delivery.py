"""One delivery attempt: build the AS4 message, POST it, and judge the answer.

Shared by ``ehfgate send`` and the outbound worker. The outcome says whether a retry can help:
connection problems, timeouts, HTTP 5xx and generic EBMS:0004 errors are transient; NOT_SERVICED,
policy and security errors, and a receipt that does not match are permanent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import aiohttp
from cryptography import x509

from accesspoint import sbdh
from accesspoint.as4 import (
    EbmsError,
    ErrorSignal,
    OutboundMessage,
    Receipt,
    Submission,
    build_user_message,
    read_response,
)
from accesspoint.identity import APIdentity
from accesspoint.pki.chain import CertificateRefused

Outcome = Literal["delivered", "transient", "permanent"]
TRANSIENT_CODES = frozenset({"EBMS:0004", "EBMS:0005", "EBMS:0006", "EBMS:0201", "EBMS:0202"})


@dataclass(frozen=True, slots=True)
class Delivery:
    outcome: Outcome
    message_id: str
    reason: str
    receipt: Receipt | None = None
    signal: ErrorSignal | None = None
    http_status: int | None = None
    sent: OutboundMessage | None = None


def submission_for(
    identity: APIdentity, envelope: bytes, receiver_cert: x509.Certificate, message_id: str | None
) -> Submission:
    """The AS4 header values for an SBDH document: parties from the certificates, ids from the envelope."""
    read = sbdh.read_envelope(envelope)
    to_party = receiver_cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if not to_party:
        raise ValueError("the receiver certificate has no CN (the receiving AP's seat id)")
    return Submission(
        from_party=identity.seat_id,
        to_party=str(to_party[0].value),
        original_sender=read.sender.value if read.sender and read.sender.value else "",
        final_recipient=read.receiver.value if read.receiver and read.receiver.value else "",
        document_type=read.document_type_id or "",
        process=read.process_id or "",
        message_id=message_id,
    )


def _judge_signal(signal: ErrorSignal, message_id: str, status: int) -> Delivery:
    errors = "; ".join(
        f"{e.code} {e.short_description or ''} {e.detail or e.description or ''}".strip()
        for e in signal.errors
    )
    transient = any(e.code in TRANSIENT_CODES and not e.is_not_serviced for e in signal.errors)
    return Delivery(
        "transient" if transient else "permanent",
        message_id,
        errors or "error signal",
        signal=signal,
        http_status=status,
    )


def build(
    identity: APIdentity, envelope: bytes, receiver_cert: x509.Certificate, message_id: str | None
) -> OutboundMessage:
    """The signed and encrypted AS4 message for an SBDH document."""
    submission = submission_for(identity, envelope, receiver_cert, message_id)
    return build_user_message(
        submission, envelope, signer=identity.credentials, receiver_certificate=receiver_cert
    )


async def deliver(
    identity: APIdentity,
    envelope: bytes,
    url: str,
    receiver_cert: x509.Certificate,
    *,
    message_id: str | None = None,
    session: aiohttp.ClientSession | None = None,
    timeout_seconds: float = 120.0,
) -> Delivery:
    sent = build(identity, envelope, receiver_cert, message_id)
    return await transmit(identity, sent, url, session=session, timeout_seconds=timeout_seconds)


async def transmit(
    identity: APIdentity,
    sent: OutboundMessage,
    url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    timeout_seconds: float = 120.0,
) -> Delivery:
    """POST a built message and judge the answer (a retry passes the very same ``sent``)."""
    own = session is None
    client = session or aiohttp.ClientSession()
    try:
        async with client.post(
            url,
            data=sent.body,
            headers=dict(sent.headers),
            timeout=aiohttp.ClientTimeout(total=timeout_seconds, connect=10),
        ) as response:
            status = response.status
            body = await response.read()
            content_type = response.headers.get("Content-Type", "")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return Delivery(
            "transient", sent.message_id, f"cannot reach {url}: {exc or type(exc).__name__}", sent=sent
        )
    finally:
        if own:
            await client.close()
    if status >= 500 and not body:
        return Delivery(
            "transient", sent.message_id, f"HTTP {status} from {url}", http_status=status, sent=sent
        )
    try:
        answer = read_response(content_type, body, sent, trust=identity.trust)
    except EbmsError as exc:
        outcome: Outcome = "transient" if status >= 500 else "permanent"
        reason = f"HTTP {status}; unacceptable answer: {exc.code} {exc.description}"
        return Delivery(outcome, sent.message_id, reason, http_status=status, sent=sent)
    if isinstance(answer, Receipt):
        if identity.checker is not None and answer.signer is not None:
            try:
                await identity.checker.check(answer.signer, "ap", None)
            except CertificateRefused as exc:
                reason = f"receipt signed by a certificate we cannot trust: {exc}"
                return Delivery("permanent", sent.message_id, reason, http_status=status, sent=sent)
        return Delivery(
            "delivered", sent.message_id, "verified receipt", receipt=answer, http_status=status, sent=sent
        )
    return _judge_signal(answer, sent.message_id, status)
