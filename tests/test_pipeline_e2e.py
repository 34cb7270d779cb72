"""Outbound to inbound end to end: two `ehfgate serve` processes, A routing statically to B.

Documents posted to A's API are validated, stored, queued, sent by A's worker, received by B (stored
before the receipt), validated into B's inbox, and `delivered` in A with the receipt as evidence.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from accesspoint.pipeline.webhooks import verify_signature
from tests.processes import Server, ap_env, dev_pki, tenant_with_key
from tests.storage import create_postgres_database, drop_postgres_database

DOCUMENTS = 50
SELLER, BUYER, NOBODY = "0192:123456785", "0192:987654325", "0192:810418052"


def api(
    server: Server, method: str, path: str, key: str, body: bytes | None = None, **headers: str
) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        server.url + path, data=body, method=method, headers={"Authorization": f"Bearer {key}", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            raw = response.read()
            return response.status, json.loads(raw) if response.headers.get_content_type().endswith(
                "json"
            ) else raw
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def invoice(corpus: Path) -> bytes:
    return (
        corpus / "supplement" / "docs" / "004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"
    ).read_bytes()


def setup_pair(tmp_path: Path, a_store: str | None = None) -> tuple[Server, str, Server, str]:
    """B (receiver, SQLite) started; A configured to route to B (not started) with its key."""
    pki = tmp_path / "pki"
    dev_pki(pki, "POP000001", "POP000002")
    env_b = ap_env(pki, "POP000002", tmp_path / "b")
    key_b = tenant_with_key(env_b, "buyer", BUYER)
    b = Server(env_b).start(ready=True)
    cert_b = str(pki / "POP000002.cert.pem")
    # B serves BUYER only; NOBODY is routed to B too, so that B refuses it with NOT_SERVICED
    route = [{"participant": p, "url": b.url + "/as4", "cert": cert_b} for p in (BUYER, NOBODY)]
    env_a = {
        **ap_env(pki, "POP000001", tmp_path / "a"),
        "EHFGATE_ROUTING_STATIC": json.dumps(route),
        # short delays, but enough of them to outlast a receiver restart on a busy machine (~90 s)
        "EHFGATE_OUTBOUND_RETRY_SCHEDULE": "1,1,2,2,3,3,5,5,10,10,15,15,20",
        "EHFGATE_OUTBOUND_LEASE_SECONDS": "3",
    }
    if a_store:
        env_a["EHFGATE_STORE_URL"] = a_store
    key_a = tenant_with_key(env_a, "seller", SELLER)
    return Server(env_a), key_a, b, key_b


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, str, Server, str]]:
    a, key_a, b, key_b = setup_pair(tmp_path)
    a.start(ready=True)
    yield a, key_a, b, key_b
    a.stop()
    b.stop()


def post(a: Server, key: str, invoice: bytes) -> str:
    status, body = api(a, "POST", "/api/v1/documents", key, invoice, **{"Content-Type": "application/xml"})
    assert status == 202, body
    return str(body["id"])


def status_of(a: Server, key: str, document_id: str) -> str:
    return str(api(a, "GET", f"/api/v1/documents/{document_id}", key)[1]["status"])


def inbox_size(b: Server, key: str) -> int:
    return len(api(b, "GET", "/api/v1/inbox?limit=200", key)[1]["items"])


def wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError("condition not reached")


class Hooks(http.server.BaseHTTPRequestHandler):
    """A webhook receiver on loopback that keeps what it was sent."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_documents_posted_to_a_arrive_once_in_b(
    pair: tuple[Server, str, Server, str], invoice: bytes
) -> None:
    a, key_a, b, key_b = pair
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{hooks.server_address[1]}/ledger"
    body = json.dumps({"url": hook_url, "events": ["inbound.received"]}).encode()
    status, hook = api(b, "POST", "/api/v1/webhooks", key_b, body, **{"Content-Type": "application/json"})
    assert status == 201 and hook["secret"]
    assert "secret" not in api(b, "GET", "/api/v1/webhooks", key_b)[1]["items"][0]
    ids = []
    for i in range(DOCUMENTS):
        status, body = api(
            a,
            "POST",
            "/api/v1/documents",
            key_a,
            invoice,
            **{"Content-Type": "application/xml", "Idempotency-Key": f"k{i}"},
        )
        assert status == 202, body
        ids.append(body["id"])
    again = api(
        a,
        "POST",
        "/api/v1/documents",
        key_a,
        invoice,
        **{"Content-Type": "application/xml", "Idempotency-Key": "k0"},
    )
    assert again[1]["id"] == ids[0]

    wait_for(
        lambda: all(api(a, "GET", f"/api/v1/documents/{i}", key_a)[1]["status"] == "delivered" for i in ids)
    )
    status, document = api(a, "GET", f"/api/v1/documents/{ids[0]}/events", key_a)
    assert status == 200
    kinds = [e["kind"] for e in document["events"]]
    assert kinds[0] == "accepted" and kinds[-1] == "delivered" and "attempt" in kinds
    assert [e["kind"] for e in document["evidence"]] == ["receipt"]

    def inbox_complete() -> bool:
        items = api(b, "GET", "/api/v1/inbox?limit=100", key_b)[1]["items"]
        return len(items) == DOCUMENTS and all(item["status"] == "accepted" for item in items)

    wait_for(inbox_complete)
    items = api(b, "GET", "/api/v1/inbox?limit=4", key_b)[1]
    assert len(items["items"]) == 4 and items["next_cursor"]
    rest = api(b, "GET", f"/api/v1/inbox?limit=100&after={items['next_cursor']}", key_b)[1]
    assert len(rest["items"]) == DOCUMENTS - 4
    assert len({i["message_id"] for i in items["items"] + rest["items"]}) == DOCUMENTS
    first = items["items"][0]["id"]
    status, payload = api(b, "GET", f"/api/v1/inbox/{first}/document", key_b)
    assert status == 200 and b"StandardBusinessDocument" in payload and b"987654325" in payload
    status, acked = api(b, "POST", f"/api/v1/inbox/{first}/ack", key_b)
    assert status == 200 and acked["acked_at"]

    wait_for(lambda: len(Hooks.received) >= DOCUMENTS)
    hooks.shutdown()
    told = set()
    for headers, raw in Hooks.received:
        assert verify_signature(hook["secret"], headers.get("Ehfgate-Signature"), raw)
        event = json.loads(raw)
        assert event["event"] == "inbound.received" and event["data"]["status"] == "accepted"
        told.add(event["data"]["id"])
    assert told == {item["id"] for item in items["items"] + rest["items"]}

    sent = metric_samples(a)
    assert sent[("ehfgate_outbound_documents_total", 'status="delivered"')] == DOCUMENTS
    assert sent[("ehfgate_send_seconds_count", 'outcome="delivered"')] == DOCUMENTS
    assert sent[("ehfgate_delivery_seconds_count", 'status="delivered"')] == DOCUMENTS
    # the repeated Idempotency-Key is answered without validating again
    assert sent[("ehfgate_validations_total", 'verdict="valid"')] == DOCUMENTS
    received = metric_samples(b)
    assert received[("ehfgate_inbound_documents_total", 'status="accepted"')] == DOCUMENTS
    assert received[("ehfgate_as4_messages_total", 'direction="in",outcome="receipt"')] == DOCUMENTS


def metric_samples(server: Server) -> dict[tuple[str, str], float]:
    """The Prometheus text of ``/metrics`` as {(name, labels): value}."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    samples: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            name, _, labels = series.partition("{")
            samples[(name, labels.rstrip("}"))] = float(value)
    return samples


def test_api_refusals(pair: tuple[Server, str, Server, str], invoice: bytes) -> None:
    a, key_a, b, key_b = pair
    assert api(a, "GET", "/api/v1/inbox", "wrong-key")[0] == 401
    status, body = api(a, "POST", "/api/v1/documents", key_a, invoice, **{"Content-Type": "application/xml"})
    assert status == 202
    assert api(b, "GET", f"/api/v1/documents/{body['id']}", key_b)[0] == 404  # another tenant's id
    broken = invoice.replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>x", 1)
    status, problem = api(
        a, "POST", "/api/v1/documents", key_a, broken, **{"Content-Type": "application/xml"}
    )
    assert status == 422 and problem["report"]["valid"] is False
    assert api(a, "POST", "/api/v1/documents", key_a, b"<a", **{"Content-Type": "application/xml"})[0] == 400


def test_receiver_down_then_back(pair: tuple[Server, str, Server, str], invoice: bytes) -> None:
    a, key_a, b, key_b = pair
    b.stop()
    document = post(a, key_a, invoice)
    wait_for(lambda: status_of(a, key_a, document) == "retrying")
    b.start(ready=True)
    wait_for(lambda: status_of(a, key_a, document) == "delivered")
    assert inbox_size(b, key_b) == 1
    events = [e["kind"] for e in api(a, "GET", f"/api/v1/documents/{document}/events", key_a)[1]["events"]]
    assert "retry" in events and events[-1] == "delivered"


def test_permanent_refusal_fails_without_retries(
    pair: tuple[Server, str, Server, str], invoice: bytes
) -> None:
    a, key_a, _b, _key_b = pair
    unknown = invoice.replace(b">987654325<", b">810418052<")  # valid, routed to B, but B serves nobody by it
    document = post(a, key_a, unknown)
    assert status_of(a, key_a, document) in ("queued", "sending", "retrying", "failed")
    wait_for(lambda: status_of(a, key_a, document) == "failed")
    details = api(a, "GET", f"/api/v1/documents/{document}", key_a)[1]
    assert "PEPPOL:NOT_SERVICED" in details["last_error"]
    assert [e["kind"] for e in details["evidence"]] == ["error-signal"]
    time.sleep(1.5)
    events = [e["kind"] for e in api(a, "GET", f"/api/v1/documents/{document}/events", key_a)[1]["events"]]
    assert "retry" not in events and events.count("failed") == 1


def test_sender_killed_after_sending_resends_and_receiver_keeps_one(tmp_path: Path, invoice: bytes) -> None:
    a, key_a, b, key_b = setup_pair(tmp_path)
    try:
        a.start({"EHFGATE_FAILPOINTS": "outbound.after_transmit"}, ready=True)
        post(a, key_a, invoice)
        assert a.process is not None and a.process.wait(30) == 137  # died after B stored and receipted it
        wait_for(lambda: inbox_size(b, key_b) == 1)
        a.start(ready=True)
        document = api(a, "GET", "/api/v1/documents/none", key_a)  # A answers again
        assert document[0] == 404
        ids = [row for row in _outbound_ids(a)]
        wait_for(lambda: all(status_of(a, key_a, i) == "delivered" for i in ids))
        assert inbox_size(b, key_b) == 1
    finally:
        a.stop()
        b.stop()


def _outbound_ids(a: Server) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(a.env.get("EHFGATE_STORE_URL", ""))
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM outbound_documents"))]
    engine.dispose()
    return ids


def test_two_senders_on_one_postgresql_send_each_document_once(
    tmp_path: Path, invoice: bytes, postgres_reason: str | None
) -> None:
    url = create_postgres_database(postgres_reason)
    a1, key_a, b, key_b = setup_pair(tmp_path, a_store=url)
    a2 = Server(dict(a1.env))
    try:
        a1.start(ready=True)
        a2.start(ready=True)
        documents = [post(a1 if i % 2 else a2, key_a, invoice) for i in range(200)]
        wait_for(lambda: inbox_size(b, key_b) == 200, timeout=240)
        wait_for(lambda: all(status_of(a1, key_a, d) == "delivered" for d in documents), timeout=120)
        events = {d: api(a1, "GET", f"/api/v1/documents/{d}/events", key_a)[1]["events"] for d in documents}
        sent_twice = {d: e for d, e in events.items() if [x["kind"] for x in e].count("attempt") != 1}
        assert not sent_twice
        items = api(b, "GET", "/api/v1/inbox?limit=200", key_b)[1]["items"]
        assert len({item["message_id"] for item in items}) == 200
    finally:
        a1.stop()
        a2.stop()
        b.stop()

        drop_postgres_database(url)
