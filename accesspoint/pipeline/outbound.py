"""Outbound, first half: accept a document for sending. Nothing is queued unless it is valid, and
the API answers 202 only after the document, its job and its first event are committed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from accesspoint import sbdh
from accesspoint.peppol.identifiers import IdentifierError, participant
from accesspoint.store import queue
from accesspoint.store.blobs import put_blob
from accesspoint.store.documents import Outbound, get_outbound, outbound_by_idempotency_key
from accesspoint.store.engine import Store
from accesspoint.store.events import record
from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import outbound
from accesspoint.store.tenants import Tenant, tenant_for_participant
from accesspoint.validation.report import Report

SEND_JOB = "send"


class DocumentRejected(Exception):
    """The document failed validation: nothing was stored or queued."""

    def __init__(self, report: Report) -> None:
        super().__init__("the document is not valid")
        self.report = report


class SubmissionError(ValueError):
    """The document is valid but cannot be sent as given (e.g. a sender that is not the tenant's)."""


@dataclass(frozen=True, slots=True)
class Submission:
    document: Outbound
    created: bool


def new_message_id() -> str:
    """An AS4 MessageId, fixed at acceptance so that every retry reuses it (the receiver dedups on it)."""
    return f"{uuid.uuid4()}@ehfgate"


async def submit(
    store: Store,
    tenant: Tenant,
    body: bytes,
    validate: Callable[[bytes], Awaitable[Report]],
    *,
    idempotency_key: str | None = None,
) -> Submission:
    """Validate, store and queue a document. A repeated ``idempotency_key`` returns the first submission
    before any validation work (and even if the repeated body differs)."""
    if idempotency_key:
        async with store.connect() as conn:
            existing = await outbound_by_idempotency_key(conn, tenant.id, idempotency_key)
        if existing is not None:
            return Submission(existing, created=False)
    report = await validate(body)
    if not report.valid:
        raise DocumentRejected(report)
    envelope_bytes = body if report.document.envelope is not None else sbdh.envelope_for_ubl(body)
    envelope = sbdh.read_envelope(envelope_bytes)
    try:
        sender = str(participant(envelope.sender.value if envelope.sender and envelope.sender.value else ""))
        receiver = str(
            participant(envelope.receiver.value if envelope.receiver and envelope.receiver.value else "")
        )
    except IdentifierError as exc:
        raise SubmissionError(str(exc)) from None
    identification = envelope.document_identification
    document_id = new_id("doc")
    stamp = now()
    try:
        async with store.begin() as conn:
            owner = await tenant_for_participant(conn, sender)
            if owner is not None and owner != tenant.id:
                raise SubmissionError(f"sender {sender} is registered to another tenant")
            blob = await put_blob(conn, envelope_bytes, "application/xml")
            await conn.execute(
                outbound.insert().values(
                    id=document_id,
                    tenant_id=tenant.id,
                    status="queued",
                    idempotency_key=idempotency_key,
                    sender=sender,
                    receiver=receiver,
                    document_type=envelope.document_type_id or "",
                    process=envelope.process_id or "",
                    instance_id=identification.instance_identifier if identification else "",
                    message_id=new_message_id(),
                    payload_blob=blob,
                    attempts=0,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
            await queue.enqueue(conn, SEND_JOB, document_id)
            await record(conn, document_id, "accepted", tenant_id=tenant.id, actor="api", receiver=receiver)
            created = await get_outbound(conn, document_id)
    except IntegrityError:
        if not idempotency_key:
            raise
        async with store.connect() as conn:  # a concurrent request with the same key won the race
            existing = await outbound_by_idempotency_key(conn, tenant.id, idempotency_key)
        if existing is None:
            raise
        return Submission(existing, created=False)
    assert created is not None
    return Submission(created, created=True)
