"""The API against its own OpenAPI document, on a real ``ehfgate serve`` (SQLite and PostgreSQL).

Schemathesis generates requests, valid and invalid, for every documented operation and sends them with
a tenant's API key; every answer must be no server error, carry a documented status code and content
type, and match the documented schema. The run is seeded and derandomized, so CI sends the same requests
every time. Fixed cases add what generation rarely reaches: real documents in both directions, missing
or odd credentials, oversized bodies and text no database can hold.

Operations are collected from ``schemas/openapi.json`` (pytest collects before any server runs); the
first test checks the server serves that document.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import add_participant, create_api_key, create_tenant
from tests.conftest import REPO_ROOT
from tests.processes import Server, ap_env, dev_pki, ehfgate
from tests.storage import create_postgres_database, drop_postgres_database

SPEC = REPO_ROOT / "schemas" / "openapi.json"
SEAT = "POP000001"
SELLER, BUYER = "0192:123456785", "0192:987654325"
INVOICE = "supplement/docs/004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"
MAX_BODY = 512 * 1024
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PROBLEM = "application/problem+json"
ApiCase = schemathesis.Case[Any]

schema = schemathesis.openapi.from_path(
    SPEC, config=schemathesis.Config.from_dict({"seed": 20250101, "generation": {"max-examples": 25}})
)


@dataclass(frozen=True)
class Live:
    """A running server with one tenant (seller and buyer), one outbound and one inbound document."""

    server: Server
    key: str
    outbound_id: str
    inbound_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    dev_pki(directory, SEAT)
    return directory


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest,
    pki: Path,
    corpus: Path,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_reason: str | None,
) -> Iterator[Live]:
    env = {
        **ap_env(pki, SEAT, tmp_path_factory.mktemp(request.param)),
        "EHFGATE_OUTBOUND_WORKERS": "0",  # keep what the test queued where it is
        "EHFGATE_SERVER_MAX_BODY_BYTES": str(MAX_BODY),
    }
    database = create_postgres_database(postgres_reason) if request.param == "postgresql" else None
    if database:
        env["EHFGATE_STORE_URL"] = database
    server = Server(env)
    try:
        key = asyncio.run(_tenant_key(env["EHFGATE_STORE_URL"]))
        server.start(ready=True)
        yield Live(server, key, *_documents(server, env, key, corpus / INVOICE))
    finally:
        server.stop()
        if database:
            drop_postgres_database(database)


async def _tenant_key(store_url: str) -> str:
    """A tenant receiving for seller and buyer, and its key (in-process: faster than three CLI runs)."""
    store = Store(store_url)
    try:
        await upgrade(store)
        async with store.begin() as conn:
            tenant = await create_tenant(conn, "acme")
            for participant in (SELLER, BUYER):
                await add_participant(conn, tenant, participant)
            return await create_api_key(conn, tenant)
    finally:
        await store.close()


def _documents(server: Server, env: dict[str, str], key: str, invoice: Path) -> tuple[str, str]:
    """Queue the invoice (seller to buyer) and receive it over AS4 from this very AP."""
    auth = {"Authorization": f"Bearer {key}"}
    queued = requests.post(
        f"{server.url}/api/v1/documents",
        data=invoice.read_bytes(),
        headers={**auth, "Content-Type": "application/xml"},
        timeout=60,
    )
    assert queued.status_code == 202, queued.text
    cert = str(env["EHFGATE_AP_CERT"])
    sent = ehfgate("send", str(invoice), "--to-url", f"{server.url}/as4", "--to-cert", cert, env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    inbox = requests.get(f"{server.url}/api/v1/inbox", headers=auth, timeout=30).json()
    return queued.json()["id"], inbox["items"][0]["id"]


def _operations() -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    return operations


def _case(path: str, method: str, **kwargs: Any) -> ApiCase:
    case: ApiCase = schema[path][method].Case(**kwargs)
    return case


def _xml(path: str, body: bytes, **headers: str) -> ApiCase:
    return _case(path, "POST", body=body, media_type="application/xml", headers=headers or None)


def _hook(url: str, **fields: Any) -> ApiCase:
    return _case("/api/v1/webhooks", "POST", body={"url": url, **fields}, media_type="application/json")


def _call(live: Live, case: ApiCase, **headers: str) -> schemathesis.Response:
    return case.call(base_url=live.server.url, headers=headers, timeout=60)


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _header(response: schemathesis.Response, name: str) -> str:
    return response.headers[name.lower()][0]


def test_the_server_serves_the_document_under_test(live: Live) -> None:
    """Served as written (server extensions may add paths and components of their own)."""
    response = requests.get(f"{live.server.url}/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    served, document = response.json(), json.loads(SPEC.read_text())
    assert {path: served["paths"].get(path) for path in document["paths"]} == document["paths"]
    for section, entries in document["components"].items():
        assert {name: served["components"][section].get(name) for name in entries} == entries
    served = schemathesis.openapi.from_url(f"{live.server.url}/api/v1/openapi.json")
    assert all(isinstance(result, Ok) for result in served.get_all_operations())  # no invalid definitions


@schema.parametrize()
@hypothesis.settings(derandomize=True, deadline=None)
def test_every_operation_answers_as_documented(case: ApiCase, live: Live) -> None:
    case.call_and_validate(base_url=live.server.url, headers=live.auth, checks=CHECKS, timeout=60)


def test_real_documents_answer_as_documented(live: Live, corpus: Path) -> None:
    invoice = (corpus / INVOICE).read_bytes()
    outbound, inbound = {"id": live.outbound_id}, {"id": live.inbound_id}
    cases = [
        (_xml("/api/v1/validate", invoice), 200),
        (_xml("/api/v1/documents", invoice, **{"Idempotency-Key": "k1"}), 202),
        (_xml("/api/v1/documents", invoice, **{"Idempotency-Key": "k1"}), 200),
        (_case("/api/v1/documents/{id}", "GET", path_parameters=outbound), 200),
        (_case("/api/v1/documents/{id}/events", "GET", path_parameters=outbound), 200),
        (_case("/api/v1/inbox", "GET", query={"limit": 1}), 200),
        (_case("/api/v1/inbox/{id}", "GET", path_parameters=inbound), 200),
        (_case("/api/v1/inbox/{id}/document", "GET", path_parameters=inbound), 200),
        (_case("/api/v1/inbox/{id}/ack", "POST", path_parameters=inbound), 200),
        (_hook("http://127.0.0.1:9/hook", events=["inbound.received"]), 201),
        (_case("/api/v1/webhooks", "GET"), 200),
    ]
    for case, status in cases:
        response = _call(live, case, **live.auth)
        assert response.status_code == status, (case.operation.label, response.text[:500])
        case.validate_response(response, checks=CHECKS)
    page = _call(live, _case("/api/v1/inbox", "GET", query={"limit": 1}), **live.auth).json()
    assert [item["acked_at"] is not None for item in page["items"]] == [True]
    following = _case("/api/v1/inbox", "GET", query={"after": page["next_cursor"]})
    response = _call(live, following, **live.auth)
    assert response.status_code == 200 and response.json() == {"items": [], "next_cursor": None}
    following.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer ehfg_0123456789abcdef_wrong", "Basic YTpi", "Bearer ehfg_" + "ÿ" * 16 + "_k"],
    ids=["none", "empty", "wrong-key", "basic", "not-utf8"],
)
def test_every_api_route_but_the_document_needs_a_key(live: Live, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    spec = json.loads(SPEC.read_text())
    for operation in _operations():
        public = spec["paths"][operation.path][operation.method.lower()].get("security") == []
        case = operation.Case(path_parameters={"id": live.inbound_id} if "{id}" in operation.path else None)
        response = _call(live, case, **headers)
        if public:
            assert response.status_code == 200, operation.label
            continue
        assert response.status_code == 401, (operation.label, response.text[:300])
        assert _header(response, "Content-Type").startswith(PROBLEM)
        assert _header(response, "WWW-Authenticate").startswith("Bearer")
        assert response.json()["code"] == "unauthorized"
        case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize(
    "text",
    ["\x00", "a\x00b", "\udcff", "é" * 70, "x" * 300],
    ids=["nul", "inner-nul", "surrogate", "é", "long"],
)
def test_text_no_store_can_hold_is_a_client_error(live: Live, text: str) -> None:
    """NUL, lone surrogates and over-long values are refused before they reach PostgreSQL."""
    storable = text.isprintable()
    cases = [(_hook(f"http://x/{text}"), 201 if storable else 422)]
    if _is_utf8(text):  # else no URL can carry it
        cases += [
            (_case(op.path, op.method.upper(), path_parameters={"id": text}), 404)
            for op in _operations()
            if "{id}" in op.path
        ]
        cases += [
            (_case("/api/v1/inbox", "GET", query={"after": f"1.5,{text}"}), 400),
            (_case("/api/v1/inbox", "GET", query={"status": text}), 400),
        ]
    if storable:  # a header carries Latin-1; the server reads what is beyond ASCII as surrogates
        cases.append((_xml("/api/v1/documents", b"<Invoice/>", **{"Idempotency-Key": text}), 400))
    for case, status in cases:
        response = _call(live, case, **live.auth)
        assert response.status_code == status, (case.operation.label, text, response.text[:300])
        case.validate_response(response, checks=CHECKS)


def test_bodies_over_the_limit_are_413(live: Live) -> None:
    big = b"<a>" + b"x" * MAX_BODY + b"</a>"
    cases = [
        _xml("/api/v1/validate", big),
        _xml("/api/v1/documents", big),
        _hook("http://x/" + "y" * MAX_BODY),
    ]
    for case in cases:
        response = _call(live, case, **live.auth)
        assert response.status_code == 413, (case.operation.label, response.text[:300])
        case.validate_response(response, checks=CHECKS)


def test_a_wrong_method_is_405_with_allow(live: Live) -> None:
    response = requests.delete(f"{live.server.url}/api/v1/webhooks", headers=live.auth, timeout=10)
    assert response.status_code == 405
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert set(response.headers["Allow"].split(",")) >= {"GET", "POST"}
