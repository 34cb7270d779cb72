"""``/api/v1/invoices``: hand an invoice to the run, follow it, and ask why it goes the way it goes.

Handlers check the request, call :func:`distribution.run.accept.accept` or read the store, and map
typed errors to problem+json. Another tenant's invoice is answered exactly like an unknown id (404).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from aiohttp import web

from accesspoint.server.keys import CONFIG, STORE, TENANT, VALIDATION
from accesspoint.server.problems import problem
from accesspoint.store.ids import new_id
from accesspoint.validation.setup import ValidationUnavailable
from distribution.api.runs import json_object, unprocessable
from distribution.invoice import InvoiceReadError
from distribution.methods.base import AttachmentFile, Services
from distribution.payments.booking import payments_of_invoice
from distribution.payments.kid import KidError
from distribution.run.accept import InvoiceRejected, NewInvoice, accept
from distribution.run.app_keys import BELL, HTTP, METHODS
from distribution.run.context import invoice_context, load_invoice
from distribution.run.customer import CustomerError, customer_from_json
from distribution.run.engine import SKIPPED
from distribution.run.plan import Step
from distribution.storage.invoices import InvoiceRow, attempts_of, get_invoice

routes = web.RouteTableDef()

# Every method name of the CONTRACT: a customer may prefer one this server does not offer (the run
# then skips it with a reason); anything else is a typo worth refusing.
CONTRACT_METHODS = frozenset(
    {"ehf", "email", "cloudprint", "autopost", "factoring", "vipps", "efaktura", "avtalegiro"}
)
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024
MAX_IDEMPOTENCY_KEY = 200
MAX_FILENAME = 255
MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _bad_request(detail: str, code: str) -> web.Response:
    return problem(400, "Bad Request", detail, code=code)


def _too_large(detail: str, code: str) -> web.Response:
    return problem(413, "Payload Too Large", detail, code=code)


def _not_found() -> web.Response:
    return problem(404, "Not Found", "no such invoice", code="not-found")


def _attachments(items: Any) -> tuple[AttachmentFile, ...] | web.Response:
    if items is None:
        return ()
    if not isinstance(items, list):
        return _bad_request("attachments must be a list", "bad-request")
    if len(items) > MAX_ATTACHMENTS:
        return _too_large(f"at most {MAX_ATTACHMENTS} attachments per invoice", "too-many-attachments")
    files: list[AttachmentFile] = []
    total = 0
    for index, item in enumerate(items):
        where = f"attachments[{index}]"
        if not isinstance(item, dict):
            return _bad_request(f"{where} must be an object", "bad-request")
        filename, mime_type, content = item.get("filename"), item.get("mime_type"), item.get("content_base64")
        if (
            not isinstance(filename, str)
            or not 0 < len(filename) <= MAX_FILENAME
            or not filename.isprintable()
        ):
            return unprocessable(
                f"{where}.filename: 1 to {MAX_FILENAME} printable characters", "invalid-attachment"
            )
        if "/" in filename or "\\" in filename:
            return unprocessable(f"{where}.filename must not contain a path", "invalid-attachment")
        if not isinstance(mime_type, str) or not MIME_TYPE.fullmatch(mime_type.lower()):
            return unprocessable(
                f"{where}.mime_type must be a MIME type like application/pdf", "invalid-attachment"
            )
        if not isinstance(content, str):
            return _bad_request(f"{where}.content_base64 must be a base64 string", "bad-base64")
        if len(content) > (MAX_ATTACHMENT_BYTES * 4) // 3 + 4:
            return _too_large(f"{where} is larger than {MAX_ATTACHMENT_BYTES} bytes", "attachment-too-large")
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            return _bad_request(f"{where}.content_base64 is not valid base64", "bad-base64")
        if len(data) > MAX_ATTACHMENT_BYTES:
            return _too_large(f"{where} is larger than {MAX_ATTACHMENT_BYTES} bytes", "attachment-too-large")
        total += len(data)
        if total > MAX_ATTACHMENTS_BYTES:
            return _too_large(
                f"attachments add up to more than {MAX_ATTACHMENTS_BYTES} bytes", "attachments-too-large"
            )
        files.append(AttachmentFile(filename, mime_type.lower(), data))
    return tuple(files)


def _new_invoice(request: web.Request, body: dict[str, Any]) -> NewInvoice | web.Response:
    document = body.get("document")
    if not isinstance(document, str) or not document.strip():
        return _bad_request("document must be the UBL Invoice or CreditNote as a string", "bad-request")
    data = document.encode("utf-8", errors="surrogatepass")
    limit = request.app[CONFIG].validation.max_document_bytes
    if len(data) > limit:
        return _too_large(f"the document is larger than {limit} bytes", "too-large")
    try:
        customer = customer_from_json(body.get("customer"))
    except CustomerError as exc:
        return unprocessable(str(exc), "invalid-customer")
    registry = request.app[METHODS]
    method = body.get("method")
    if method is not None and (not isinstance(method, str) or method not in registry):
        known = ", ".join(sorted(registry)) or "none"
        return unprocessable(f"unknown method {method!r} (this server offers: {known})", "unknown-method")
    preferred = customer.preferred_method
    if preferred is not None and preferred not in CONTRACT_METHODS and preferred not in registry:
        return unprocessable(f"unknown preferred_method {preferred!r}", "unknown-method")
    attachments = _attachments(body.get("attachments"))
    if isinstance(attachments, web.Response):
        return attachments
    return NewInvoice(data, customer, attachments, method)


@routes.post("/api/v1/invoices")
async def submit_invoice(request: web.Request) -> web.Response:
    idempotency_key = request.headers.get("Idempotency-Key") or None
    if idempotency_key is not None and not (
        len(idempotency_key) <= MAX_IDEMPOTENCY_KEY
        and idempotency_key.isascii()
        and idempotency_key.isprintable()
    ):
        detail = f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
        return _bad_request(detail, "bad-request")
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    new = _new_invoice(request, body)
    if isinstance(new, web.Response):
        return new
    try:
        accepted = await accept(
            request.app[STORE],
            request[TENANT].id,
            new,
            request.app[VALIDATION].validate,
            available=request.app[METHODS].keys(),
            idempotency_key=idempotency_key,
        )
    except InvoiceReadError as exc:
        return unprocessable(str(exc), "not-an-invoice")
    except KidError as exc:
        return unprocessable(f"cannot give the invoice a KID: {exc}", "kid-not-possible")
    except ValidationUnavailable as exc:
        return problem(503, "Validation unavailable", str(exc), code="validation-unavailable")
    except InvoiceRejected as exc:
        return problem(
            422,
            "Invalid document",
            "the document failed validation",
            code="invalid",
            report=exc.report.to_dict(),
        )
    if accepted.created:
        request.app[BELL].ring()  # its job is committed
    return web.json_response(
        {"id": accepted.id, "status": accepted.status}, status=202 if accepted.created else 200
    )


async def _tenant_invoice(request: web.Request) -> InvoiceRow | None:
    invoice_id = request.match_info["id"]
    if not ID_SHAPE.fullmatch(invoice_id):
        return None
    async with request.app[STORE].connect() as conn:
        return await get_invoice(conn, invoice_id, request[TENANT].id)


@routes.get("/api/v1/invoices/{id}")
async def get_invoice_handler(request: web.Request) -> web.Response:
    row = await _tenant_invoice(request)
    if row is None:
        return _not_found()
    async with request.app[STORE].connect() as conn:
        attempts = await attempts_of(conn, row.id)
        paid = await payments_of_invoice(conn, row.tenant_id, row.id)
    return web.json_response(
        {
            "id": row.id,
            "status": row.status,
            "method": row.method,
            "number": row.number,
            "kind": row.kind,
            "amount": row.amount,
            "currency": row.currency,
            "due_date": row.due_date,
            "kid": row.kid,
            "customer": row.customer,
            "attempts": [
                {"method": a.method, "outcome": a.outcome, "reason": a.reason, "at": a.at} for a in attempts
            ],
            "payments": paid,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


@routes.get("/api/v1/invoices/{id}/explain")
async def explain_invoice(request: web.Request) -> web.Response:
    """Each planned method's eligibility now, in plan order, up to the first that would deliver.

    Side-effect free: only ``eligible`` runs, and nothing is recorded.
    """
    row = await _tenant_invoice(request)
    if row is None:
        return _not_found()
    async with request.app[STORE].connect() as conn:
        loaded = await load_invoice(conn, row)
        attempts = await attempts_of(conn, row.id)
    registry = request.app[METHODS]
    services = Services(request.app[STORE], request.app[CONFIG], request.app[HTTP])
    checks: list[dict[str, Any]] = []
    chosen: str | None = None
    for entry in row.plan:
        step = Step.from_json(entry)
        method = registry.get(step.method)
        if method is None:
            checks.append(
                {"method": step.method, "eligible": False, "reason": "not available on this server"}
            )
            continue
        ctx = invoice_context(loaded, new_id("explain"), step.settings, services)
        try:
            verdict = await method.eligible(ctx)
            eligible, reason = verdict.eligible, verdict.reason
        except Exception as exc:
            eligible, reason = False, f"eligibility check failed: {type(exc).__name__}: {exc}"
        checks.append({"method": step.method, "eligible": eligible, "reason": reason})
        if eligible:
            chosen = step.method
            break
    skipped = [{"method": a.method, "reason": a.reason} for a in attempts if a.outcome == SKIPPED]
    return web.json_response(
        {"id": row.id, "status": row.status, "method": chosen, "checks": checks, "skipped": skipped}
    )
