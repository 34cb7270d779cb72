"""Outbound documents and the inbox: thin handlers over the pipeline and the store, tenant-scoped.

Another tenant's id is answered exactly like an unknown id (404), so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from accesspoint import sbdh
from accesspoint.pipeline.outbound import DocumentRejected, SubmissionError, submit
from accesspoint.server.api_validate import is_xml_content_type
from accesspoint.server.keys import STORE, TENANT, VALIDATION
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


async def submit_document(request: web.Request) -> web.Response:
    if not is_xml_content_type(request.content_type):
        detail = f"send the document as application/xml, not {request.content_type!r}"
        return problem(415, "Unsupported Media Type", detail, code="unsupported-media-type")
    body = await request.read()
    try:
        submission = await submit(
            request.app[STORE],
            request[TENANT],
            body,
            request.app[VALIDATION].validate,
            idempotency_key=request.headers.get("Idempotency-Key"),
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
    return web.json_response(
        {"id": document.id, "status": document.status}, status=202 if submission.created else 200
    )


async def get_document(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        document = await get_outbound(conn, request.match_info["id"], request[TENANT].id)
        if document is None:
            return _not_found("document")
        data = _outbound(document)
        data["evidence"] = [
            e for e in await evidence_of(conn, document.id) if e["kind"] != "as4-message-sent"
        ]
    return web.json_response(data)


async def document_events(request: web.Request) -> web.Response:
    tenant = request[TENANT]
    async with request.app[STORE].connect() as conn:
        document = await get_outbound(conn, request.match_info["id"], tenant.id)
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
    try:
        limit = max(1, min(MAX_PAGE, int(request.query.get("limit", "50"))))
    except ValueError:
        return problem(400, "Bad Request", "limit must be an integer", code="bad-request")
    after = None
    cursor = request.query.get("after")
    if cursor:
        stamp, _, last_id = cursor.partition(",")
        try:
            after = (float(stamp), last_id)
        except ValueError:
            return problem(
                400, "Bad Request", "after must be the next_cursor of a previous page", code="bad-request"
            )
    async with request.app[STORE].connect() as conn:
        page = await list_inbound(conn, request[TENANT].id, status=status, after=after, limit=limit)
    next_cursor = f"{page[-1].created_at!r},{page[-1].id}" if len(page) == limit else None
    return web.json_response({"items": [_inbound(doc) for doc in page], "next_cursor": next_cursor})


async def inbox_item(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        document = await get_inbound(conn, request.match_info["id"], request[TENANT].id)
    if document is None:
        return _not_found("inbound document")
    return web.json_response(_inbound(document, with_report=True))


async def inbox_document(request: web.Request) -> web.Response:
    async with request.app[STORE].connect() as conn:
        document = await get_inbound(conn, request.match_info["id"], request[TENANT].id)
        if document is None:
            return _not_found("inbound document")
        content, media_type = await get_blob(conn, document.payload_blob)
    return web.Response(body=content, content_type=media_type)


async def inbox_ack(request: web.Request) -> web.Response:
    tenant = request[TENANT]
    async with request.app[STORE].begin() as conn:
        document = await get_inbound(conn, request.match_info["id"], tenant.id)
        if document is None:
            return _not_found("inbound document")
        if document.acked_at is None:
            await update_inbound(conn, document.id, acked_at=now())
        document = await get_inbound(conn, document.id, tenant.id)
    assert document is not None
    return web.json_response(_inbound(document))
