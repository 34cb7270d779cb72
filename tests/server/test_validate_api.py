"""HTTP: POST /api/v1/validate, health, readiness and metrics on a real aiohttp server."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from accesspoint.config import Config, load_config
from accesspoint.server import create_app
from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import create_api_key, create_tenant

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    base = load_config()
    server = dataclasses.replace(base.server, max_body_bytes=2 * 1024 * 1024, data_dir=tmp_path / "var")
    store = dataclasses.replace(base.store, url=f"sqlite:///{tmp_path / 'var' / 'ehfgate.db'}")
    outbound = dataclasses.replace(base.outbound, workers=0)
    return dataclasses.replace(base, server=server, store=store, outbound=outbound)


@pytest.fixture
async def auth(config: Config) -> dict[str, str]:
    """Headers with a fresh tenant's API key (the store is migrated here and again by the app)."""
    store = Store(config.store_url)
    await upgrade(store)
    async with store.begin() as conn:
        key = await create_api_key(conn, await create_tenant(conn, "acme"))
    await store.close()
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def invoice(corpus: Path) -> bytes:
    return (corpus / "perf" / "invoice-501-lines.xml").read_bytes()


async def test_valid_invoice_report(
    aiohttp_client: Client, config: Config, auth: dict[str, str], invoice: bytes
) -> None:
    client = await aiohttp_client(create_app(config))
    response = await client.post(
        "/api/v1/validate", data=invoice, headers={**auth, "Content-Type": "application/xml"}
    )
    assert response.status == 200
    report = await response.json()
    assert report["valid"] is True
    assert report["document"]["profile"] == "peppol-bis-billing-3"
    assert [r["name"] for r in report["rulesets"]] == ["en16931", "peppol"]
    assert report["xsd"] == {"schema": "UBL-Invoice-2.1.xsd", "valid": True}


async def test_invalid_invoice_lists_findings(
    aiohttp_client: Client, config: Config, auth: dict[str, str], invoice: bytes
) -> None:
    broken = invoice.replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>not-a-date", 1)
    client = await aiohttp_client(create_app(config))
    response = await client.post(
        "/api/v1/validate", data=broken, headers={**auth, "Content-Type": "text/xml"}
    )
    assert response.status == 200
    report = await response.json()
    assert report["valid"] is False
    assert report["counts"]["fatal"] >= 1
    assert {"rule", "flag", "location", "message", "ruleset"} <= set(report["findings"][0])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"not xml", "application/xml", 400, "xml-not-well-formed"),
        (b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>", "application/xml", 400, "xml-dtd-forbidden"),
        (b"<a/>", "application/json", 415, "unsupported-media-type"),
        (b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>", "application/xml", 413, "too-large"),
    ],
)
async def test_bad_requests_are_problem_json(
    aiohttp_client: Client,
    config: Config,
    auth: dict[str, str],
    body: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    client = await aiohttp_client(create_app(config))
    response = await client.post(
        "/api/v1/validate", data=body, headers={**auth, "Content-Type": content_type}
    )
    assert response.status == status
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["status"] == status and problem["code"] == code


async def test_health_ready_metrics(
    aiohttp_client: Client, config: Config, auth: dict[str, str], invoice: bytes
) -> None:
    client = await aiohttp_client(create_app(config))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200, await ready.text()
    await client.post("/api/v1/validate", data=invoice, headers={**auth, "Content-Type": "application/xml"})
    metrics = await (await client.get("/metrics")).text()
    assert 'ehfgate_validations_total{verdict="valid"} 1.0' in metrics
    assert "ehfgate_validation_seconds_bucket" in metrics
    assert 'ehfgate_queue_depth{kind="send"} 0.0' in metrics
    days = next(
        line for line in metrics.splitlines() if line.startswith("ehfgate_certificate_days_to_expiry ")
    )
    assert float(days.split()[1]) > 300
    assert (await ready.json())["checks"] == {"store": "ok", "validation": "ok", "keys": "ok"}
    missing = await client.get("/no/such/route")
    assert missing.status == 404 and missing.content_type == "application/problem+json"


async def test_not_ready_without_artifacts(
    aiohttp_client: Client, config: Config, auth: dict[str, str], tmp_path: Path
) -> None:
    empty = dataclasses.replace(
        config, artifacts=dataclasses.replace(config.artifacts, dir=tmp_path, mirror=None)
    )
    client = await aiohttp_client(create_app(empty))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "ehfgate artifacts fetch" in (await ready.json())["checks"]["validation"]
    response = await client.post(
        "/api/v1/validate", data=b"<a/>", headers={**auth, "Content-Type": "application/xml"}
    )
    assert response.status == 503
    assert "ehfgate artifacts fetch" in (await response.json())["detail"]


async def test_openapi_describes_exactly_the_api_routes(aiohttp_client: Client, config: Config) -> None:
    app = create_app(config)
    client = await aiohttp_client(app)
    response = await client.get("/api/v1/openapi.json")  # no key needed
    assert response.status == 200
    spec = await response.json()
    assert spec["openapi"].startswith("3.1")
    verbs = {"get", "put", "post", "delete", "patch"}
    documented = {
        (path, method.upper()) for path, ops in spec["paths"].items() for method in ops if method in verbs
    }
    served = {
        (route.resource.canonical, route.method)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    api = {(path, method) for path, method in served if path.startswith("/api/v1/")}
    assert {(path, method) for path, method in documented if path.startswith("/api/v1/")} == api
    assert documented <= served  # callbacks for providers are documented where they are served
    refs = json.dumps(spec).count('"$ref"')
    assert refs > 10
    for path, ops in spec["paths"].items():
        for method, operation in ops.items():
            if method not in verbs:
                continue
            for status, answer in operation["responses"].items():
                assert status.isdigit(), (path, status)
                assert "$ref" in answer or "description" in answer
