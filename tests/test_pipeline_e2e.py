"""Outbound to inbound end to end: two `ehfgate serve` processes, A routing statically to B.

Documents posted to A's API are validated, stored, queued, sent by A's worker, received by B (stored
before the receipt), validated into B's inbox, and `delivered` in A with the receipt as evidence.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import Server, ap_env, dev_pki, ehfgate

SELLER, BUYER = "0192:123456785", "0192:987654325"


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


def tenant_with_key(env: dict[str, str], name: str, participant: str) -> str:
    assert ehfgate("tenant", "create", name, env=env).returncode == 0
    assert ehfgate("participant", "add", "--tenant", name, participant, env=env).returncode == 0
    created = ehfgate("apikey", "create", "--tenant", name, env=env)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


@pytest.fixture(scope="module")
def invoice(corpus: Path) -> bytes:
    return (
        corpus / "supplement" / "docs" / "004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"
    ).read_bytes()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, str, Server, str]]:
    pki = tmp_path / "pki"
    dev_pki(pki, "POP000001", "POP000002")
    env_b = ap_env(pki, "POP000002", tmp_path / "b")
    key_b = tenant_with_key(env_b, "buyer", BUYER)
    b = Server(env_b).start(ready=True)
    route = [{"participant": BUYER, "url": b.url + "/as4", "cert": str(pki / "POP000002.cert.pem")}]
    env_a = {
        **ap_env(pki, "POP000001", tmp_path / "a"),
        "EHFGATE_ROUTING_STATIC": json.dumps(route),
        "EHFGATE_OUTBOUND_RETRY_SCHEDULE": "1,1,1",
    }
    key_a = tenant_with_key(env_a, "seller", SELLER)
    a = Server(env_a).start(ready=True)
    yield a, key_a, b, key_b
    a.stop()
    b.stop()


def wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError("condition not reached")


def test_documents_posted_to_a_arrive_once_in_b(
    pair: tuple[Server, str, Server, str], invoice: bytes
) -> None:
    a, key_a, b, key_b = pair
    ids = []
    for i in range(10):
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
        return len(items) == 10 and all(item["status"] == "accepted" for item in items)

    wait_for(inbox_complete)
    items = api(b, "GET", "/api/v1/inbox?limit=4", key_b)[1]
    assert len(items["items"]) == 4 and items["next_cursor"]
    rest = api(b, "GET", f"/api/v1/inbox?limit=100&after={items['next_cursor']}", key_b)[1]
    assert len(rest["items"]) == 6
    assert len({i["message_id"] for i in items["items"] + rest["items"]}) == 10
    first = items["items"][0]["id"]
    status, payload = api(b, "GET", f"/api/v1/inbox/{first}/document", key_b)
    assert status == 200 and b"StandardBusinessDocument" in payload and b"987654325" in payload
    status, acked = api(b, "POST", f"/api/v1/inbox/{first}/ack", key_b)
    assert status == 200 and acked["acked_at"]


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
