"""Inbound: verify the AS4 message, store it with its raw bytes and evidence in one transaction, and
only then answer the receipt. A MessageId seen before gets the original receipt again; a final
recipient no tenant receives for gets PEPPOL:NOT_SERVICED before anything is stored."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from accesspoint import failpoints
from accesspoint.as4 import (
    EbmsError,
    ReceivedMessage,
    build_error_signal,
    build_receipt,
    not_serviced,
    read_user_message,
)
from accesspoint.as4.errors import FAILED_AUTHENTICATION, OTHER
from accesspoint.identity import APIdentity
from accesspoint.peppol.identifiers import IdentifierError, participant
from accesspoint.pipeline.answer import Answer
from accesspoint.pki.chain import CertificateRefused
from accesspoint.store import queue
from accesspoint.store.blobs import get_blob, put_blob
from accesspoint.store.documents import add_evidence
from accesspoint.store.engine import Store
from accesspoint.store.events import record
from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import inbound, received_messages
from accesspoint.store.tenants import tenant_for_participant

VALIDATE_JOB = "validate_inbound"
log = logging.getLogger("ehfgate.inbound")


@dataclass(frozen=True, slots=True)
class InboundSettings:
    duplicate_retention_seconds: float = 30 * 86400


def _full(participant_id: str | None) -> str:
    """The participant id in its full ``scheme::value`` form (as received when it does not parse)."""
    try:
        return str(participant(participant_id or ""))
    except IdentifierError:
        return participant_id or ""


async def _original_receipt(store: Store, message_id: str) -> Answer | None:
    async with store.connect() as conn:
        row = (
            await conn.execute(
                sa.select(received_messages.c.receipt_blob).where(
                    received_messages.c.message_id == message_id, received_messages.c.expires_at > now()
                )
            )
        ).first()
        if row is None:
            return None
        content, media_type = await get_blob(conn, row.receipt_blob)
    return Answer("receipt", media_type, content)


async def _received_before(store: Store, message_id: str) -> bool:
    async with store.connect() as conn:
        found = await conn.execute(sa.select(inbound.c.id).where(inbound.c.message_id == message_id))
        return found.first() is not None


def _error(identity: APIdentity, error: EbmsError) -> Answer:
    signal = build_error_signal(
        [error], ref_to_message_id=error.ref_to_message_id, signer=identity.credentials
    )
    return Answer("error", signal.content_type, signal.body)


async def receive(
    store: Store, identity: APIdentity, content_type: str, body: bytes, settings: InboundSettings
) -> Answer:
    """The HTTP answer to one POST /as4: a receipt once stored, or an error signal."""
    try:
        message = read_user_message(
            content_type,
            body,
            keys=[identity.credentials],
            trust=identity.trust,
            receiver_party=identity.seat_id,
        )
    except EbmsError as exc:
        log.info(
            "refused AS4 message: %s %s", exc.code, exc.reason, extra={"message_id": exc.ref_to_message_id}
        )
        return _error(identity, exc)
    if identity.checker is not None:
        # The AS4 layer checked the chain; revocation needs I/O, so it happens here, before storing.
        try:
            verdict = await identity.checker.check(message.signer, "ap", message.header.from_party.value)
        except CertificateRefused as exc:
            log.info("refused AS4 message: %s", exc, extra={"message_id": message.message_id})
            refusal = EbmsError(
                FAILED_AUTHENTICATION, str(exc), ref_to_message_id=message.message_id, reason=exc.reason
            )
            return _error(identity, refusal)
        log.debug("sender certificate: %s", verdict.explain(), extra={"message_id": message.message_id})
    if message.is_ping:
        ping = build_receipt(message, signer=identity.credentials)
        return Answer("receipt", ping.content_type, ping.body)
    stored = await _original_receipt(store, message.message_id)
    if stored is not None:
        log.info(
            "duplicate message answered with its original receipt", extra={"message_id": message.message_id}
        )
        return stored
    recipient = message.final_recipient or ""
    async with store.connect() as conn:
        try:
            tenant_id = await tenant_for_participant(conn, recipient)
        except IdentifierError:
            tenant_id = None
    if tenant_id is None:
        return _error(
            identity,
            not_serviced(
                f"final recipient {recipient!r} is not served here", ref_to_message_id=message.message_id
            ),
        )
    receipt = build_receipt(message, signer=identity.credentials)  # signed only for what is stored
    try:
        await _store(
            store, tenant_id, message, body, content_type, receipt.content_type, receipt.body, settings
        )
    except IntegrityError:  # the same MessageId committed concurrently: its receipt is the answer
        stored = await _original_receipt(store, message.message_id)
        if stored is not None:
            return stored
        if not await _received_before(store, message.message_id):
            raise
        # Received long ago, beyond the duplicate-detection window: never deliver a second copy.
        log.warning("MessageId reused after its retention window", extra={"message_id": message.message_id})
        return _error(
            identity,
            EbmsError(
                OTHER,
                f"MessageId {message.message_id} was received before, beyond the duplicate-detection window",
                ref_to_message_id=message.message_id,
                reason="message-id-reused",
            ),
        )
    failpoints.hit("inbound.after_commit")
    return Answer("receipt", receipt.content_type, receipt.body)


async def _store(
    store: Store,
    tenant_id: str,
    message: ReceivedMessage,
    raw: bytes,
    raw_type: str,
    receipt_type: str,
    receipt: bytes,
    settings: InboundSettings,
) -> None:
    header = message.header
    document_id = new_id("in")
    stamp = now()
    async with store.begin() as conn:
        raw_blob = await put_blob(conn, raw, raw_type)
        payload_blob = await put_blob(conn, message.payload, "application/xml")
        receipt_blob = await put_blob(conn, receipt, receipt_type)
        # A key kept past its retention no longer counts; the message is new again.
        await conn.execute(
            received_messages.delete().where(
                received_messages.c.message_id == header.message_id, received_messages.c.expires_at <= stamp
            )
        )
        await conn.execute(
            received_messages.insert().values(
                message_id=header.message_id,
                inbound_id=document_id,
                receipt_blob=receipt_blob,
                received_at=stamp,
                expires_at=stamp + settings.duplicate_retention_seconds,
            )
        )
        await conn.execute(
            inbound.insert().values(
                id=document_id,
                tenant_id=tenant_id,
                status="received",
                message_id=header.message_id,
                conversation_id=header.conversation_id,
                from_party=header.from_party.value,
                sender=_full(message.original_sender),
                receiver=_full(message.final_recipient),
                document_type=header.action,
                process=header.service,
                payload_blob=payload_blob,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        for kind, blob in (("as4-message", raw_blob), ("receipt", receipt_blob)):
            await add_evidence(conn, "in", document_id, kind, blob)
        await queue.enqueue(conn, VALIDATE_JOB, document_id)
        await record(
            conn, document_id, "received", tenant_id=tenant_id, actor=header.from_party.value,
            message_id=header.message_id,
        )  # fmt: skip


async def forget_expired_message_ids(store: Store, *, at: float | None = None, batch: int = 1000) -> int:
    """Delete duplicate-detection keys past their retention, in batches; returns how many went.

    The documents and their receipts stay: only the MessageId's power to short-circuit a resend ends.
    """
    cutoff = now() if at is None else at
    removed = 0
    while True:
        async with store.begin() as conn:
            expired = (
                sa.select(received_messages.c.message_id)
                .where(received_messages.c.expires_at <= cutoff)
                .limit(batch)
                .scalar_subquery()
            )
            result = await conn.execute(
                received_messages.delete().where(received_messages.c.message_id.in_(expired))
            )
        removed += result.rowcount
        if result.rowcount < batch:
            return removed
