"""The distribution API on a real server: two tenants with real API keys, real validation, the engine
running in the background with scripted methods standing in for the channels."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient

from accesspoint.config import Config, load_config
from accesspoint.server import create_app
from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import create_api_key, create_tenant
from distribution.extension import DistributionExtension
from distribution.methods.base import DeliveryMethod, Outcome
from distribution.storage.schema import invoices
from tests.conftest import REPO_ROOT
from tests.distribution.corpus import NORWEGIAN_EXAMPLE
from tests.distribution.scripted import scripted

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
INVALID = "docs/8bc336cb-rules_unit-UBL-NO_NO-R-001.xml_test2.xml"  # fires NO-R-001 (fatal)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def config(tmp_path: Path) -> Config:
    base = load_config()
    server = dataclasses.replace(base.server, max_body_bytes=4 * 1024 * 1024, data_dir=tmp_path / "var")
    store = dataclasses.replace(base.store, url=f"sqlite:///{tmp_path / 'var' / 'ehfgate.db'}")
    outbound = dataclasses.replace(base.outbound, workers=0)
    distribution = dataclasses.replace(
        base.distribution, retry_schedule=(0,), status_poll_seconds=0, workers=1
    )
    return dataclasses.replace(base, server=server, store=store, outbound=outbound, distribution=distribution)


@pytest.fixture
async def keys(config: Config) -> tuple[dict[str, str], dict[str, str]]:
    """Authorization headers of two tenants."""
    store = Store(config.store_url)
    await upgrade(store)
    async with store.begin() as conn:
        first = await create_api_key(conn, await create_tenant(conn, "acme"))
        second = await create_api_key(conn, await create_tenant(conn, "globex"))
    await store.close()
    return {"Authorization": f"Bearer {first}"}, {"Authorization": f"Bearer {second}"}


@pytest.fixture
def methods() -> dict[str, DeliveryMethod]:
    return {
        "ehf": scripted("ehf", needs="participant"),
        "email": scripted("email", needs="email", script=[Outcome.PENDING]),
        "autopost": scripted("autopost", needs="address"),
    }


@pytest.fixture
async def client(
    aiohttp_client: Client, config: Config, methods: dict[str, DeliveryMethod]
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(config, extensions=[DistributionExtension(methods=methods)]))


def body(corpus: Path, name: str = NORWEGIAN_EXAMPLE, **extra: Any) -> dict[str, Any]:
    return {"document": (corpus / name).read_text(), **extra}


async def wait_status(
    client: TestClient[Any, Any], auth: dict[str, str], invoice_id: str, status: str
) -> Any:
    for _ in range(200):
        data = await (await client.get(f"/api/v1/invoices/{invoice_id}", headers=auth)).json()
        if data["status"] == status:
            return data
        await asyncio.sleep(0.05)
    raise AssertionError(f"invoice stayed {data['status']}")


async def test_submit_then_follow_status(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]], corpus: Path
) -> None:
    acme, globex = keys
    customer = {"kind": "private", "name": "Kari Nordmann", "email": "kari@example.com"}
    attachment = {"filename": "timesheet.pdf", "mime_type": "application/pdf", "content_base64": "JVBERi0="}
    headers = {**acme, "Idempotency-Key": "order-17"}
    response = await client.post(
        "/api/v1/invoices", json=body(corpus, customer=customer, attachments=[attachment]), headers=headers
    )
    assert response.status == 202, await response.text()
    created = await response.json()
    assert created["status"] == "queued" and created["id"].startswith("inv_")
    again = await client.post("/api/v1/invoices", json=body(corpus, customer=customer), headers=headers)
    assert again.status == 200 and (await again.json())["id"] == created["id"]

    data = await wait_status(client, acme, created["id"], "delivered")
    assert data["method"] == "email"
    assert data["number"] and data["currency"] == "NOK" and data["amount"]
    assert data["kind"] == "invoice"
    assert data["customer"]["email"] == "kari@example.com"
    assert [(a["method"], a["outcome"]) for a in data["attempts"]] == [
        ("ehf", "not-eligible"),
        ("email", "delivered"),
    ]
    assert data["attempts"][0]["reason"] == "customer has no participant"

    other = await client.get(f"/api/v1/invoices/{created['id']}", headers=globex)
    assert other.status == 404 and (await other.json())["code"] == "not-found"
    assert (await client.get(f"/api/v1/invoices/{created['id']}/explain", headers=globex)).status == 404
    assert (await client.get("/api/v1/invoices/inv_nope", headers=acme)).status == 404

    explained = await (await client.get(f"/api/v1/invoices/{created['id']}/explain", headers=acme)).json()
    assert explained["method"] == "email"
    assert explained["checks"] == [
        {"method": "ehf", "eligible": False, "reason": "customer has no participant"},
        {"method": "email", "eligible": True, "reason": "customer has email"},
    ]


async def test_nothing_possible_is_undeliverable(
    client: TestClient[Any, Any],
    keys: tuple[dict[str, str], dict[str, str]],
    corpus: Path,
    methods: dict[str, DeliveryMethod],
) -> None:
    acme, _ = keys
    customer = {"preferred_method": "vipps"}
    response = await client.post("/api/v1/invoices", json=body(corpus, customer=customer), headers=acme)
    assert response.status == 202
    invoice_id = (await response.json())["id"]
    data = await wait_status(client, acme, invoice_id, "undeliverable")
    assert [(a["method"], a["outcome"]) for a in data["attempts"]] == [
        ("vipps", "skipped"),
        ("ehf", "not-eligible"),
        ("email", "not-eligible"),
        ("autopost", "not-eligible"),
    ]
    explained = await (await client.get(f"/api/v1/invoices/{invoice_id}/explain", headers=acme)).json()
    assert explained["method"] is None and len(explained["checks"]) == 3
    assert explained["skipped"][0]["method"] == "vipps"


async def test_invalid_ubl_is_refused_with_report(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]], corpus: Path, config: Config
) -> None:
    acme, _ = keys
    response = await client.post("/api/v1/invoices", json=body(corpus, INVALID), headers=acme)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["code"] == "invalid"
    assert "NO-R-001" in {finding["rule"] for finding in problem["report"]["findings"]}
    store = Store(config.store_url)
    try:
        async with store.connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(invoices))).scalar() == 0
    finally:
        await store.close()


BAD_SUBMISSIONS: list[tuple[dict[str, Any], int, str]] = [
    ({"method": "fax"}, 422, "unknown-method"),
    ({"customer": {"preferred_method": "pigeon"}}, 422, "unknown-method"),
    ({"customer": {"kind": "robot"}}, 422, "invalid-customer"),
    ({"document": "<Order xmlns='urn:x'/>"}, 422, "not-an-invoice"),
    ({"document": "not xml"}, 422, "not-an-invoice"),
    (
        {"attachments": [{"filename": "a.pdf", "mime_type": "application/pdf", "content_base64": "@@"}]},
        400,
        "bad-base64",
    ),
    (
        {"attachments": [{"filename": "../a", "mime_type": "application/pdf", "content_base64": ""}]},
        422,
        "invalid-attachment",
    ),
    (
        {"attachments": [{"filename": "a", "mime_type": "pdf", "content_base64": ""}]},
        422,
        "invalid-attachment",
    ),
    (
        {"attachments": [{"filename": "a", "mime_type": "text/plain", "content_base64": ""}] * 21},
        413,
        "too-many-attachments",
    ),
]


async def test_bad_submissions_are_problem_json(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]], corpus: Path
) -> None:
    for change, status, code in BAD_SUBMISSIONS:
        response = await client.post("/api/v1/invoices", json={**body(corpus), **change}, headers=keys[0])
        assert response.status == status, (change, await response.text())
        assert response.content_type == "application/problem+json"
        assert (await response.json())["code"] == code, change


async def test_bad_json_and_media_type(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]]
) -> None:
    acme, _ = keys
    json_headers = {**acme, "Content-Type": "application/json"}
    bad = await client.post("/api/v1/invoices", data=b"{nope", headers=json_headers)
    assert bad.status == 400 and (await bad.json())["code"] == "bad-json"
    xml = await client.post(
        "/api/v1/invoices", data=b"<a/>", headers={**acme, "Content-Type": "application/xml"}
    )
    assert xml.status == 415 and (await xml.json())["code"] == "unsupported-media-type"
    assert (await client.post("/api/v1/invoices", json={})).status == 401


async def test_validation_not_ready_is_503(
    aiohttp_client: Client,
    config: Config,
    keys: tuple[dict[str, str], dict[str, str]],
    methods: dict[str, DeliveryMethod],
    corpus: Path,
    tmp_path: Path,
) -> None:
    artifacts = dataclasses.replace(config.artifacts, dir=tmp_path / "no-artifacts", mirror=None)
    bare = dataclasses.replace(config, artifacts=artifacts)
    client = await aiohttp_client(create_app(bare, extensions=[DistributionExtension(methods=methods)]))
    response = await client.post("/api/v1/invoices", json=body(corpus), headers=keys[0])
    assert response.status == 503 and (await response.json())["code"] == "validation-unavailable"


async def test_run_round_trip_and_refusals(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]]
) -> None:
    acme, globex = keys
    default = await (await client.get("/api/v1/distribution/run", headers=acme)).json()
    assert default == {"methods": [{"method": "ehf"}, {"method": "email"}, {"method": "autopost"}]}
    run = {"methods": [{"method": "email", "template": "short"}, {"method": "ehf"}]}
    saved = await client.put("/api/v1/distribution/run", json=run, headers=acme)
    assert saved.status == 200 and await saved.json() == run
    assert await (await client.get("/api/v1/distribution/run", headers=acme)).json() == run
    assert await (await client.get("/api/v1/distribution/run", headers=globex)).json() == default
    refusals = [
        ({"methods": [{"method": "fax"}]}, "unknown-method"),
        ({"methods": [{"method": "ehf"}, {"method": "ehf"}]}, "duplicate-method"),
        ({"methods": [{"method": "ehf", "broken": True}]}, "invalid-settings"),
        ({"methods": []}, "invalid-run"),
        ({"methods": ["ehf"]}, "invalid-run"),
    ]
    for refused, code in refusals:
        response = await client.put("/api/v1/distribution/run", json=refused, headers=acme)
        assert response.status == 422 and (await response.json())["code"] == code, refused
    assert await (await client.get("/api/v1/distribution/run", headers=acme)).json() == run


async def test_design_round_trip_and_refusals(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]]
) -> None:
    acme, globex = keys
    default = await (await client.get("/api/v1/distribution/design", headers=acme)).json()
    assert default["language"] == "nb" and default["logo_base64"] is None and default["email_from"] is None
    design = {
        "primary_colour": "#112233",
        "accent_colour": "#445566",
        "footer_text": "Acme AS · Org.nr. 123456785",
        "language": "en",
        "email_from": "invoices@acme.example",
        "logo_base64": base64.b64encode(PNG).decode(),
    }
    saved = await client.put("/api/v1/distribution/design", json=design, headers=acme)
    assert saved.status == 200, await saved.text()
    assert await saved.json() == design
    assert await (await client.get("/api/v1/distribution/design", headers=acme)).json() == design
    assert await (await client.get("/api/v1/distribution/design", headers=globex)).json() == default
    refusals = [
        ({"primary_colour": "red"}, 422, "invalid-design"),
        ({"language": "de"}, 422, "invalid-design"),
        ({"email_from": "not an address"}, 422, "invalid-design"),
        ({"logo_base64": base64.b64encode(b"GIF89a").decode()}, 422, "invalid-design"),
        ({"logo_base64": "***"}, 400, "bad-base64"),
        ({"font": "Comic"}, 422, "invalid-design"),
    ]
    for refused, status, code in refusals:
        response = await client.put("/api/v1/distribution/design", json=refused, headers=acme)
        assert response.status == status and (await response.json())["code"] == code, refused
    assert await (await client.get("/api/v1/distribution/design", headers=acme)).json() == design


def test_openapi_fragment_describes_the_routes() -> None:
    fragment_path = DistributionExtension().openapi_fragments()[0]
    fragment = json.loads(fragment_path.read_text())
    assert fragment["openapi"].startswith("3.1")
    assert set(fragment["paths"]) == {
        "/api/v1/invoices",
        "/api/v1/invoices/{id}",
        "/api/v1/invoices/{id}/explain",
        "/api/v1/distribution/run",
        "/api/v1/distribution/design",
    }
    core = json.loads((REPO_ROOT / "schemas" / "openapi.json").read_text())["components"]
    text = json.dumps(fragment)
    for kind in ("schemas", "responses"):
        known = {**core[kind], **fragment["components"].get(kind, {})}
        for name in {part.split('"')[0] for part in text.split(f'"$ref": "#/components/{kind}/')[1:]}:
            assert name in known, name
    assert not set(fragment["components"]["schemas"]) & set(core["schemas"])  # merging loses nothing
