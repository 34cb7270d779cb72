"""The payments API on a real server, on SQLite and PostgreSQL: OCR upload and re-upload, listings
paged and tenant-scoped, every refusal as problem+json, and the OpenAPI fragment matching the routes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from accesspoint.config import Config, load_config
from accesspoint.pipeline.webhooks import add_event
from accesspoint.server import create_app
from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import Tenant, create_api_key, create_tenant
from distribution.api import payments
from distribution.payments.booking import PAID_EVENT
from tests.conftest import REPO_ROOT
from tests.distribution.test_booking import KID_A, KID_B, UNKNOWN_KID, invoice_state, new_invoice
from tests.distribution.test_ocr import Giro, ocr_file

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
Headers = dict[str, str]
PROBLEM = "application/problem+json"
FRAGMENT = REPO_ROOT / "schemas" / "openapi-distribution-payments.json"
OCR = "/api/v1/payments/ocr"
ISO = {"Content-Type": "text/plain; charset=iso-8859-1"}
MAX_BODY = 64 * 1024


class PaymentRoutes:
    """The payment routes as a server extension, the way distribution plugs in."""

    name = "distribution-payments"

    def setup(self, app: web.Application) -> None:
        add_event(PAID_EVENT)
        app.router.add_routes(payments.routes)

    def openapi_fragments(self) -> tuple[Path, ...]:
        return (FRAGMENT,)


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Config:
    base = load_config()
    server = dataclasses.replace(base.server, max_body_bytes=MAX_BODY, data_dir=tmp_path / "var")
    store = dataclasses.replace(base.store, url=store_url)
    outbound = dataclasses.replace(base.outbound, workers=0)
    return dataclasses.replace(base, server=server, store=store, outbound=outbound)


@dataclasses.dataclass
class Party:
    tenant: Tenant
    headers: Headers


@pytest.fixture
async def parties(config: Config) -> tuple[Party, Party]:
    store = Store(config.store_url)
    await upgrade(store)
    async with store.begin() as conn:
        acme = await create_tenant(conn, "acme")
        globex = await create_tenant(conn, "globex")
        first = await create_api_key(conn, acme)
        second = await create_api_key(conn, globex)
    await store.close()
    return Party(acme, {"Authorization": f"Bearer {first}"}), Party(
        globex, {"Authorization": f"Bearer {second}"}
    )


@pytest.fixture
async def store(config: Config, parties: tuple[Party, Party]) -> Any:
    opened = Store(config.store_url)
    yield opened
    await opened.close()


@pytest.fixture
async def client(aiohttp_client: Client, config: Config) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(config, extensions=[PaymentRoutes()]))


async def problem_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


async def test_upload_then_list(
    client: TestClient[Any, Any], parties: tuple[Party, Party], store: Store
) -> None:
    acme, globex = parties
    paid = await new_invoice(store, acme.tenant, "1", "100.00", KID_A)
    partly = await new_invoice(store, acme.tenant, "2", "300.00", KID_B)
    data = ocr_file(
        [
            Giro(Decimal("100.00"), kid=KID_A),
            Giro(Decimal("120.00"), kid=KID_B),
            Giro(Decimal(7), kid=UNKNOWN_KID),
        ]
    )
    response = await client.post(OCR, data=data, headers={**acme.headers, **ISO})
    assert response.status == 201, await response.text()
    counts = await response.json()
    assert {key: counts[key] for key in ("matched", "unmatched", "duplicates", "full", "partial")} == {
        "matched": 2,
        "unmatched": 1,
        "duplicates": 0,
        "full": 1,
        "partial": 1,
    }
    assert await invoice_state(store, paid) == ("paid", "100.00")
    assert await invoice_state(store, partly) == ("delivered", "120.00")

    again = await client.post(OCR, data=data, headers={**acme.headers, **ISO})
    assert again.status == 200
    repeated = await again.json()
    assert (repeated["matched"], repeated["unmatched"], repeated["duplicates"]) == (0, 0, 3)
    assert repeated["already_imported"] and repeated["import_id"] == counts["import_id"]

    first = await (await client.get("/api/v1/payments?limit=2", headers=acme.headers)).json()
    assert [item["match"] for item in first["items"]] == ["full", "partial"] and first["next_cursor"]
    rest = await (
        await client.get(
            "/api/v1/payments", params={"limit": "2", "after": first["next_cursor"]}, headers=acme.headers
        )
    ).json()
    assert [item["match"] for item in rest["items"]] == ["unmatched"] and rest["next_cursor"] is None
    unmatched = await (await client.get("/api/v1/payments/unmatched", headers=acme.headers)).json()
    (item,) = unmatched["items"]
    assert (item["kid"], item["amount"], item["invoice_id"], item["reference"]) == (
        UNKNOWN_KID,
        "7.00",
        None,
        "1703231/4000086/3",
    )
    assert item["detail"]["unmatched_reason"] and item["paid_on"] == "2024-03-15"

    # The other tenant sees none of it, and its own upload of the same file is its own import.
    assert (await (await client.get("/api/v1/payments", headers=globex.headers)).json())["items"] == []
    assert (await (await client.get("/api/v1/payments/unmatched", headers=globex.headers)).json())[
        "items"
    ] == []
    theirs = await client.post(OCR, data=data, headers={**globex.headers, **ISO})
    assert theirs.status == 201 and (await theirs.json())["unmatched"] == 3
    assert await invoice_state(store, paid) == ("paid", "100.00")


async def test_refusals(client: TestClient[Any, Any], parties: tuple[Party, Party]) -> None:
    acme, _ = parties
    await problem_of(await client.post(OCR, data=ocr_file([]), headers=ISO), 401, "unauthorized")
    body = await problem_of(
        await client.post(OCR, data=b"Hello, bank!\n", headers={**acme.headers, **ISO}),
        400,
        "invalid-ocr-file",
    )
    assert "NY" in body["detail"]
    truncated = b"\n".join(ocr_file([Giro(Decimal(1), kid=KID_A)]).splitlines()[:-1])
    await problem_of(
        await client.post(OCR, data=truncated, headers={**acme.headers, **ISO}), 400, "invalid-ocr-file"
    )
    await problem_of(
        await client.post(OCR, json={"file": "x"}, headers=acme.headers), 415, "unsupported-media-type"
    )
    big = ocr_file([Giro(Decimal(1), kid=KID_A)] * 500)
    assert len(big) > MAX_BODY
    await problem_of(await client.post(OCR, data=big, headers={**acme.headers, **ISO}), 413, "too-large")

    async def chunks() -> Any:
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    # Without a Content-Length the bound is enforced while reading.
    await problem_of(await client.post(OCR, data=chunks(), headers={**acme.headers, **ISO}), 413, "too-large")
    for query in ("limit=x", "after=nonsense", "after=1.5,"):
        await problem_of(
            await client.get(f"/api/v1/payments?{query}", headers=acme.headers), 400, "bad-request"
        )
    assert (await client.get("/api/v1/payments?limit=100000", headers=acme.headers)).status == 200
    await problem_of(await client.get("/api/v1/payments"), 401, "unauthorized")


def _route_paths() -> set[tuple[str, str]]:
    found = set()
    for route in payments.routes:
        assert isinstance(route, web.RouteDef)
        found.add((route.path, route.method.lower()))
    return found


def test_openapi_fragment_describes_exactly_these_routes() -> None:
    fragment = json.loads(FRAGMENT.read_text())
    assert fragment["openapi"].startswith("3.1")
    documented = {(path, method) for path, item in fragment["paths"].items() for method in item}
    assert documented == _route_paths()
    core = json.loads((REPO_ROOT / "schemas" / "openapi.json").read_text())["components"]
    text = json.dumps(fragment)
    for kind in ("schemas", "responses", "parameters"):
        known = {**core.get(kind, {}), **fragment["components"].get(kind, {})}
        for name in {part.split('"')[0] for part in text.split(f'"$ref": "#/components/{kind}/')[1:]}:
            assert name in known, name
    taken: set[str] = set(core["schemas"])
    for other in REPO_ROOT.glob("schemas/openapi-distribution*.json"):
        if other != FRAGMENT:
            taken |= set(json.loads(other.read_text()).get("components", {}).get("schemas", {}))
    assert not set(fragment["components"]["schemas"]) & taken  # merging loses nothing
    match = fragment["components"]["schemas"]["Payment"]["properties"]["match"]["enum"]
    assert match == ["full", "partial", "over", "unmatched"]


async def test_openapi_document_includes_the_fragment(
    client: TestClient[Any, Any], parties: tuple[Party, Party]
) -> None:
    acme, _ = parties
    response = await client.get("/api/v1/openapi.json", headers=acme.headers)
    assert response.status == 200
    document = await response.json()
    assert {"/api/v1/payments/ocr", "/api/v1/payments", "/api/v1/payments/unmatched"} <= set(
        document["paths"]
    )
