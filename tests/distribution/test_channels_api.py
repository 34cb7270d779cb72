"""The channel set-up API on a real server, on SQLite and PostgreSQL: secrets are write-only and
stored sealed, tenants see only their own set-up, bad settings are 422, and the OpenAPI fragment
describes exactly these routes and the Vipps callback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient

from accesspoint.config import Config, load_config
from accesspoint.config.model import SecretsConfig
from accesspoint.pipeline.doorbell import Doorbell
from accesspoint.server import create_app
from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import create_api_key, create_tenant
from distribution.api import channels, vipps_callbacks
from distribution.run.app_keys import BELL
from distribution.storage.payments_schema import tenant_secrets
from tests.conftest import REPO_ROOT

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
FRAGMENT = REPO_ROOT / "schemas" / "openapi-distribution-channels.json"
URL = "/api/v1/distribution/channels"
VIPPS: dict[str, dict[str, Any]] = {
    "settings": {
        "base_url": "https://apitest.vipps.no",
        "merchant_serial_number": "123456",
        "long_living": False,
    },
    "secrets": {
        "client_id": "cid",
        "client_secret": "very-secret-client-value",
        "subscription_key": "sub-key-value",
    },
}


class ChannelRoutes:
    name = "distribution-channels"

    def setup(self, app: web.Application) -> None:
        app[BELL] = Doorbell()
        app.router.add_routes(channels.routes)
        app.router.add_routes(vipps_callbacks.routes)

    def openapi_fragments(self) -> tuple[Path, ...]:
        return (FRAGMENT,)


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Config:
    base = load_config()
    return dataclasses.replace(
        base,
        secrets=SecretsConfig(key="channels-test-secrets-key-0123456789abcdef"),
        server=dataclasses.replace(base.server, data_dir=tmp_path / "var"),
        store=dataclasses.replace(base.store, url=store_url),
        outbound=dataclasses.replace(base.outbound, workers=0),
    )


@pytest.fixture
async def keys(config: Config) -> tuple[dict[str, str], dict[str, str]]:
    store = Store(config.store_url)
    await upgrade(store)
    async with store.begin() as conn:
        first = await create_api_key(conn, await create_tenant(conn, "acme"))
        second = await create_api_key(conn, await create_tenant(conn, "globex"))
    await store.close()
    return {"Authorization": f"Bearer {first}"}, {"Authorization": f"Bearer {second}"}


@pytest.fixture
async def client(aiohttp_client: Client, config: Config, keys: Any) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(config, extensions=[ChannelRoutes()]))


async def test_secrets_are_write_only_and_sealed(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]], config: Config
) -> None:
    acme, _ = keys
    response = await client.put(f"{URL}/vipps", json=VIPPS, headers=acme)
    assert response.status == 200
    text = await response.text()
    assert "very-secret-client-value" not in text and "sub-key-value" not in text
    body = json.loads(text)
    assert body["secrets"] == {"client_id": "set", "client_secret": "set", "subscription_key": "set"}
    assert body["settings"] == VIPPS["settings"]

    # The webhook secret comes later; the others stay.
    later = {"settings": VIPPS["settings"], "secrets": {"webhook_secret": "hook-secret-value"}}
    response = await client.put(f"{URL}/vipps", json=later, headers=acme)
    assert (await response.json())["secrets"] == {
        "client_id": "set",
        "client_secret": "set",
        "subscription_key": "set",
        "webhook_secret": "set",
    }
    got = await client.get(f"{URL}/vipps", headers=acme)
    assert "hook-secret-value" not in await got.text()

    store = Store(config.store_url)
    async with store.connect() as conn:
        sealed = [bytes(row) for row in (await conn.execute(sa.select(tenant_secrets.c.sealed))).scalars()]
    await store.close()
    assert len(sealed) == 1
    assert b"very-secret-client-value" not in sealed[0] and b"hook-secret-value" not in sealed[0]


async def test_a_body_that_arrives_in_pieces_is_read_whole(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]]
) -> None:
    acme, _ = keys
    raw = json.dumps(VIPPS).encode()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 16):  # chunked, with pauses: the server sees several reads
            yield raw[start : start + 16]
            await asyncio.sleep(0.005)

    headers = {**acme, "Content-Type": "application/json"}
    response = await client.put(f"{URL}/vipps", data=pieces(), headers=headers)
    assert response.status == 200, await response.text()
    assert (await response.json())["settings"] == VIPPS["settings"]


async def test_tenants_see_only_their_own(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]]
) -> None:
    acme, globex = keys
    assert (await client.put(f"{URL}/vipps", json=VIPPS, headers=acme)).status == 200
    other = await (await client.get(f"{URL}/vipps", headers=globex)).json()
    assert other == {"name": "vipps", "settings": None, "secrets": {}}
    mine = await (await client.get(f"{URL}/vipps", headers=acme)).json()
    assert mine["settings"]["merchant_serial_number"] == "123456"


@pytest.mark.parametrize(
    ("name", "body", "word"),
    [
        ("vipps", {"settings": {**VIPPS["settings"], "base_url": "http://vipps.example"}}, "base_url"),
        (
            "vipps",
            {"settings": {**VIPPS["settings"], "merchant_serial_number": "12"}},
            "merchant_serial_number",
        ),
        ("vipps", {"settings": VIPPS["settings"], "secrets": {"client_id": "x"}}, "client_secret"),
        ("factoring", {"settings": {"base_url": "https://f.example"}}, "factor"),
        ("efaktura", {"settings": {"base_url": "ftp://e.example"}}, "base_url"),
        ("efaktura", {"settings": {"base_url": "https://e.example"}, "secrets": {"api_key": ""}}, "api_key"),
        ("efaktura", {"nothing": 1}, "settings"),
    ],
)
async def test_bad_settings_are_422(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]], name: str, body: Any, word: str
) -> None:
    acme, _ = keys
    response = await client.put(f"{URL}/{name}", json=body, headers=acme)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    assert word in (await response.json())["detail"]
    assert (await (await client.get(f"{URL}/{name}", headers=acme)).json())["settings"] is None


async def test_unknown_channel_and_no_key(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]]
) -> None:
    acme, _ = keys
    assert (await client.get(f"{URL}/paypal", headers=acme)).status == 404
    assert (await client.get(f"{URL}/vipps")).status == 401
    loopback = {"settings": {"base_url": "http://127.0.0.1:8080"}, "secrets": {"api_key": "k"}}
    assert (await client.put(f"{URL}/efaktura", json=loopback, headers=acme)).status == 200


def test_openapi_fragment_describes_exactly_these_routes() -> None:
    fragment = json.loads(FRAGMENT.read_text())
    assert fragment["openapi"].startswith("3.1")
    documented = {
        (path, method)
        for path, item in fragment["paths"].items()
        for method in item
        if method != "parameters"
    }
    routes = {
        (route.path, route.method.lower())
        for table in (channels.routes, vipps_callbacks.routes)
        for route in table
        if isinstance(route, web.RouteDef)
    }
    assert documented == {(path.replace("{name}", "{name}"), method) for path, method in routes}
    core = json.loads((REPO_ROOT / "schemas" / "openapi.json").read_text())["components"]["schemas"]
    taken = set(core)
    for other in REPO_ROOT.glob("schemas/openapi-distribution*.json"):
        if other != FRAGMENT:
            taken |= set(json.loads(other.read_text()).get("components", {}).get("schemas", {}))
    assert not set(fragment["components"]["schemas"]) & taken
    text = json.dumps(fragment)
    for name in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert name in core or name in fragment["components"]["schemas"], name


async def test_openapi_document_includes_the_fragment(
    client: TestClient[Any, Any], keys: tuple[dict[str, str], dict[str, str]]
) -> None:
    response = await client.get("/api/v1/openapi.json", headers=keys[0])
    assert response.status == 200
    assert f"{URL}/{{name}}" in (await response.json())["paths"]
