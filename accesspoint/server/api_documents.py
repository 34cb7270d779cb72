"""Outbound documents and the inbox: thin handlers over the pipeline and the store, tenant-scoped.

Another tenant's id is answered exactly like an unknown id (404), so ids cannot be probed.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from accesspoint import sbdh
from accesspoint.pipeline.outbound import DocumentRejected, SubmissionError, submit
from accesspoint.server.api_validate import is_xml_content_type
from accesspoint.server.keys import DOORBELL, STORE, TENANT, VALIDATION
from accesspoint.server.problems import problem
from accesspoint.store.blobs import get_blob
from accesspoint.store.documents import (
    Inbound,
    Outbound,
    evidence_of,
    get_inbound,
    get_outbound,
    list_inbound,
    update_inbound,
)
from accesspoint.store.events import history
from accesspoint.store.ids import now
from accesspoint.validation.setup import ValidationUnavailable
from accesspoint.xml import XMLError, XMLSizeError

MAX_PAGE = 200
INBOUND_STATUSES = frozenset({"received", "accepted", "rejected"})
MAX_IDEMPOTENCY_KEY = 200
# What the store's ids look like (``doc_<hex>``); any other path id is answered 404 without a query, so
# text the database cannot hold (NUL, lone surrogates) never reaches it.
ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _outbound(doc: Outbound) -> dict[str, Any]:
    return {
        "id": doc.id,
        "status": doc.status,
        "sender": doc.sender,
        "receiver": doc.receiver,
        "document_type": doc.document_type,
        "process": doc.process,
        "message_id": doc.message_id,
        "attempts": doc.attempts,
        "last_error": doc.last_error,
        "endpoint_url": doc.endpoint_url,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


def _inbound(doc: Inbound, *, with_report: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": doc.id,
        "status": doc.status,
        "message_id": doc.message_id,
        "from_party": doc.from_party,
        "sender": doc.sender,
        "receiver": doc.receiver,
        "document_type": doc.document_type,
        "process": doc.process,
        "created_at": doc.created_at,
        "acked_at": doc.acked_at,
    }
    if with_report:
        data["report"] = doc.report
    return data


def _not_found(kind: str) -> web.Response:
    return problem(404, "Not Found", f"no such {kind}", code="not-found")


def _path_id(request: web.Request) -> str | None:
    """The ``{id}`` of the path, or None when it cannot be an id of ours."""
    value = request.match_info["id"]
    return value if ID_SHAPE.fullmatch(value) else None


def _cursor(text: str) -> tuple[float, str] | None:
    """``(created_at, id)`` from a ``next_cursor``, or None when it is not one."""
    stamp, _, last_id = text.partition(",")
    try:
        created = float(stamp)
    except ValueError:
        return None
    return (created, last_id) if ID_SHAPE.fullmatch(last_id) else None


def _is_idempotency_key(value: str) -> bool:
    """Printable ASCII that fits the store's column (anything else would fail in the database)."""
    return len(value) <= MAX_IDEMPOTENCY_KEY and value.isascii() and value.isprintable()


def _bad_request(detail: str) -> web.Response:
    return problem(400, "Bad Request", detail, code="bad-request")


async def submit_document(request: web.Request) -> web.Response:
    if not is_xml_content_type(request.content_type):
        detail = f"send the document as application/xml, not {request.content_type!r}"
        return problem(415, "Unsupported Media Type", detail, code="unsupported-media-type")
    idempotency_key = request.headers.get("Idempotency-Key") or None
    if idempotency_key is not None and not _is_idempotency_key(idempotency_key):
        return _bad_request(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    body = await request.read()
    try:
        submission = await submit(
            request.app[STORE],
            request[TENANT],
            body,
            request.app[VALIDATION].validate,
            idempotency_key=idempotency_key,
        )
    except XMLSizeError as exc:
        return problem(413, "Payload Too Large", str(exc), code=exc.code)
    except XMLError as exc:
        return problem(400, "Not acceptable XML", str(exc), code=exc.code)
    except ValidationUnavailable as exc:
        return problem(503, "Validation unavailable", str(exc), code="artifacts-not-installed")
    except DocumentRejected as exc:
        return problem(
            422,
            "Invalid document",
            "the document failed validation",
            code="invalid",
            report=exc.report.to_dict(),
        )
    except (SubmissionError, sbdh.EnvelopeReadError, ValueError) as exc:
        return problem(422, "Cannot send this document", str(exc), code="not-sendable")
    document = submission.document
    if submission.created:
        request.app[DOORBELL].ring()  # its send job is committed
    return web.json_response(
        {"id": document.id, "status": document.status}, status=202 if submission.created else 200
    )


async def get_document(request: web.Request) -> web.Response:
    document_id = _path_id(request)
    if document_id is None:
        return _not_found("document")
    async with request.app[STORE].connect() as conn:
        document = await get_outbound(conn, document_id, request[TENANT].id)
        if document is None:
            return _not_found("document")
        data = _outbound(document)
        data["evidence"] = [
            e for e in await evidence_of(conn, document.id) if e["kind"] != "as4-message-sent"
        ]
    return web.json_response(data)


async def document_events(request: web.Request) -> web.Response:
    tenant = request[TENANT]
    document_id = _path_id(request)
    if document_id is None:
        return _not_found("document")
    async with request.app[STORE].connect() as conn:
        document = await get_outbound(conn, document_id, tenant.id)
        if document is None:
            return _not_found("document")
        events = await history(conn, document.id, tenant.id)
        evidence = await evidence_of(conn, document.id)
    return web.json_response(
        {
            "id": document.id,
            "events": [{"kind": e.kind, "actor": e.actor, "at": e.at, "detail": e.detail} for e in events],
            "evidence": [e for e in evidence if e["kind"] != "as4-message-sent"],
        }
    )


async def inbox(request: web.Request) -> web.Response:
    status = request.query.get("status")
    if status is not None and status not in INBOUND_STATUSES:
        return _bad_request(f"status must be one of {sorted(INBOUND_STATUSES)}")
    try:
        limit = max(1, min(MAX_PAGE, int(request.query.get("limit", "50"))))
    except ValueError:
        return _bad_request("limit must be an integer")
    cursor = request.query.get("after")
    after = _cursor(cursor) if cursor else None
    if cursor and after is None:
        return _bad_request("after must be the next_cursor of a previous page")
    async with request.app[STORE].connect() as conn:
        page = await list_inbound(conn, request[TENANT].id, status=status, after=after, limit=limit)
    next_cursor = f"{page[-1].created_at!r},{page[-1].id}" if len(page) == limit else None
    return web.json_response({"items": [_inbound(doc) for doc in page], "next_cursor": next_cursor})


async def inbox_item(request: web.Request) -> web.Response:
    document_id = _path_id(request)
    if document_id is None:
        return _not_found("inbound document")
    async with request.app[STORE].connect() as conn:
        document = await get_inbound(conn, document_id, request[TENANT].id)
    if document is None:
        return _not_found("inbound document")
    return web.json_response(_inbound(document, with_report=True))


async def inbox_document(request: web.Request) -> web.Response:
    document_id = _path_id(request)
    if document_id is None:
        return _not_found("inbound document")
    async with request.app[STORE].connect() as conn:
        document = await get_inbound(conn, document_id, request[TENANT].id)
        if document is None:
            return _not_found("inbound document")
        content, media_type = await get_blob(conn, document.payload_blob)
    return web.Response(body=content, content_type=media_type)


async def inbox_ack(request: web.Request) -> web.Response:
    tenant = request[TENANT]
    document_id = _path_id(request)
    if document_id is None:
        return _not_found("inbound document")
    async with request.app[STORE].begin() as conn:
        document = await get_inbound(conn, document_id, tenant.id)
        if document is None:
            return _not_found("inbound document")
        if document.acked_at is None:
            await update_inbound(conn, document.id, acked_at=now())
        document = await get_inbound(conn, document.id, tenant.id)
    assert document is not None
    return web.json_response(_inbound(document))
