"""The AvtaleGiro API on a real server, on SQLite and PostgreSQL: settings with a write-only SFTP
secret, mandates (register, list, delete, agreement file import), claim cancellation, tenant
isolation, and the OpenAPI fragment matching the routes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient

from accesspoint.config import Config, load_config
from accesspoint.server import create_app
from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import Tenant, create_api_key, create_tenant
from distribution.api import avtalegiro
from distribution.avtalegiro.claims import queue_claim
from distribution.payments.kid import is_valid_kid, make_kid
from distribution.storage.payments_schema import claims, tenant_secrets
from tests.conftest import REPO_ROOT
from tests.distribution.test_avtalegiro_mandates import (
    DUMMY_HOST_KEY,
    agreement_file,
    new_invoice,
    settings_json,
)

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
FRAGMENT = REPO_ROOT / "schemas" / "openapi-distribution-avtalegiro.json"
PROBLEM = "application/problem+json"
SETTINGS = "/api/v1/distribution/avtalegiro"
MANDATES = "/api/v1/distribution/mandates"
ISO = {"Content-Type": "text/plain; charset=iso-8859-1"}
KID_A = make_kid("500001", algorithm="mod10")
KID_B = make_kid("500002", algorithm="mod11")


class AvtaleGiroRoutes:
    name = "distribution-avtalegiro"

    def setup(self, app: web.Application) -> None:
        app.router.add_routes(avtalegiro.routes)

    def openapi_fragments(self) -> tuple[Path, ...]:
        return (FRAGMENT,)


@dataclasses.dataclass
class Party:
    tenant: Tenant
    headers: dict[str, str]


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Config:
    base = load_config()
    server = dataclasses.replace(base.server, max_body_bytes=256 * 1024, data_dir=tmp_path / "var")
    store = dataclasses.replace(base.store, url=store_url)
    outbound = dataclasses.replace(base.outbound, workers=0)
    return dataclasses.replace(base, server=server, store=store, outbound=outbound)


@pytest.fixture
async def parties(config: Config) -> tuple[Party, Party]:
    store = Store(config.store_url)
    await upgrade(store)
    async with store.begin() as conn:
        acme, globex = await create_tenant(conn, "acme"), await create_tenant(conn, "globex")
        first, second = await create_api_key(conn, acme), await create_api_key(conn, globex)
    await store.close()
    return Party(acme, {"Authorization": f"Bearer {first}"}), Party(
        globex, {"Authorization": f"Bearer {second}"}
    )


@pytest.fixture
async def store(config: Config, parties: tuple[Party, Party]) -> AsyncIterator[Store]:
    opened = Store(config.store_url)
    yield opened
    await opened.close()


@pytest.fixture
async def client(aiohttp_client: Client, config: Config) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(config, extensions=[AvtaleGiroRoutes()]))


async def problem_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json()
    assert body["code"] == code
    return body


async def test_settings_never_return_the_secret(
    client: TestClient[Any, Any], parties: tuple[Party, Party], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    acme, globex = parties
    await problem_of(await client.get(SETTINGS, headers=acme.headers), 404, "not-found")
    key = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    secret_line = key.splitlines()[1]
    body = {**settings_json(), "sftp_secret": {"private_key": key, "password": "hunter2-hunter2"}}
    response = await client.put(SETTINGS, json=body, headers=acme.headers)
    assert response.status == 200, await response.text()
    saved = await response.json()
    assert saved == {**settings_json(), "sftp_secret": "set"}
    got = await client.get(SETTINGS, headers=acme.headers)
    text = await got.text()
    assert json.loads(text) == saved and secret_line not in text and "hunter2" not in text
    async with store.connect() as conn:
        sealed = (await conn.execute(sa.select(tenant_secrets.c.sealed))).scalar_one()
    assert secret_line.encode() not in bytes(sealed) and b"hunter2" not in bytes(sealed)

    # Without sftp_secret the stored one stays; a bad one is refused without echoing it.
    changed = {**settings_json(), "cutoff_days": 6}
    kept = await (await client.put(SETTINGS, json=changed, headers=acme.headers)).json()
    assert kept["cutoff_days"] == 6 and kept["sftp_secret"] == "set"
    refusal = await problem_of(
        await client.put(
            SETTINGS,
            json={**changed, "sftp_secret": {"private_key": "-----BEGIN nonsense-hunter3"}},
            headers=acme.headers,
        ),
        422,
        "invalid-avtalegiro-settings",
    )
    assert "hunter3" not in json.dumps(refusal)
    for bad, field in (
        ({"account": "123"}, "account"),
        ({"schedule": "25:00"}, "schedule"),
        ({"sftp": {"host": "h", "username": "u", "known_host_key": "not a key"}}, "known_host_key"),
        ({"unknown": 1}, "unknown"),
    ):
        refused = await problem_of(
            await client.put(SETTINGS, json={**settings_json(), **bad}, headers=acme.headers),
            422,
            "invalid-avtalegiro-settings",
        )
        assert field in refused["detail"]
    await problem_of(
        await client.put(SETTINGS, data=b"{", headers=acme.headers), 415, "unsupported-media-type"
    )

    # The other tenant sees none of it; its own settings are its own.
    await problem_of(await client.get(SETTINGS, headers=globex.headers), 404, "not-found")
    theirs = await client.put(SETTINGS, json=settings_json(schedule="05:00"), headers=globex.headers)
    assert (await theirs.json())["sftp_secret"] == "missing"
    assert (await (await client.get(SETTINGS, headers=acme.headers)).json())["schedule"] == "06:30"
    assert secret_line not in caplog.text and "hunter2" not in caplog.text and "hunter3" not in caplog.text
    await problem_of(await client.get(SETTINGS), 401, "unauthorized")


async def test_mandates(client: TestClient[Any, Any], parties: tuple[Party, Party]) -> None:
    acme, globex = parties
    created = await client.post(MANDATES, json={"kid": KID_A, "customer": "10042"}, headers=acme.headers)
    assert created.status == 201, await created.text()
    mandate = await created.json()
    assert (mandate["kid"], mandate["customer"], mandate["notify"], mandate["active"], mandate["source"]) == (
        KID_A,
        "10042",
        False,
        True,
        "api",
    )
    again = await client.post(MANDATES, json={"kid": KID_A, "notify": True}, headers=acme.headers)
    assert again.status == 200 and (await again.json())["id"] == mandate["id"]
    bad_kid = next(k for k in (KID_A[:-1] + d for d in "0123456789") if not is_valid_kid(k))
    for bad in ({"kid": "12a"}, {"kid": bad_kid}, {"kid": KID_A, "x": 1}, {"kid": KID_A, "notify": "yes"}):
        await problem_of(await client.post(MANDATES, json=bad, headers=acme.headers), 422, "invalid-mandate")

    imported = await client.post(
        f"{MANDATES}/import",
        data=agreement_file([(KID_B, 1, True), (KID_A, 2, False)]),
        headers={**acme.headers, **ISO},
    )
    assert imported.status == 200, await imported.text()
    assert await imported.json() == {
        "created": 1,
        "updated": 0,
        "deactivated": 1,
        "unchanged": 0,
        "records": 2,
    }
    await problem_of(
        await client.post(f"{MANDATES}/import", data=b"hello bank\n", headers={**acme.headers, **ISO}),
        400,
        "invalid-agreement-file",
    )
    await problem_of(
        await client.post(f"{MANDATES}/import", json={}, headers=acme.headers), 415, "unsupported-media-type"
    )
    await problem_of(
        await client.post(f"{MANDATES}/import", data=b"x" * 300_000, headers={**acme.headers, **ISO}),
        413,
        "too-large",
    )

    listing = await (await client.get(MANDATES, headers=acme.headers)).json()
    assert [(m["kid"], m["active"]) for m in listing["items"]] == sorted([(KID_A, False), (KID_B, True)])
    active = await (await client.get(f"{MANDATES}?active=true", headers=acme.headers)).json()
    assert [m["kid"] for m in active["items"]] == [KID_B]
    page = await (await client.get(f"{MANDATES}?limit=1", headers=acme.headers)).json()
    rest = await (
        await client.get(MANDATES, params={"after": page["next_cursor"]}, headers=acme.headers)
    ).json()
    assert len(page["items"]) == 1 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    await problem_of(await client.get(f"{MANDATES}?active=maybe", headers=acme.headers), 400, "bad-request")

    # Tenant isolation: globex sees nothing and cannot delete acme's mandate.
    assert (await (await client.get(MANDATES, headers=globex.headers)).json())["items"] == []
    await problem_of(
        await client.delete(f"{MANDATES}/{mandate['id']}", headers=globex.headers), 404, "not-found"
    )
    assert (await client.delete(f"{MANDATES}/{mandate['id']}", headers=acme.headers)).status == 204
    await problem_of(
        await client.delete(f"{MANDATES}/{mandate['id']}", headers=acme.headers), 404, "not-found"
    )


async def test_cancel_claims(
    client: TestClient[Any, Any], parties: tuple[Party, Party], store: Store
) -> None:
    acme, globex = parties
    due = dt.date(2030, 3, 1)
    ids = []
    for number in ("1", "2"):
        invoice_id = await new_invoice(store, acme.tenant, number, "100.00", KID_A, due)
        async with store.begin() as conn:
            claim, _ = await queue_claim(
                conn, acme.tenant.id, invoice_id, kid=KID_A, amount=Decimal(100), due_date=due, notify=False
            )
        ids.append(claim.id)
    queued, sent = ids
    async with store.begin() as conn:
        await conn.execute(claims.update().where(claims.c.id == sent).values(state="sent"))

    await problem_of(
        await client.post(f"/api/v1/distribution/claims/{queued}/cancel", headers=globex.headers),
        404,
        "not-found",
    )
    response = await client.post(f"/api/v1/distribution/claims/{queued}/cancel", headers=acme.headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["id"], body["state"], body["amount"], body["due_date"]) == (
        queued,
        "cancelled",
        "100.00",
        "2030-03-01",
    )
    repeat = await client.post(f"/api/v1/distribution/claims/{queued}/cancel", headers=acme.headers)
    assert repeat.status == 200 and (await repeat.json())["state"] == "cancelled"
    refused = await problem_of(
        await client.post(f"/api/v1/distribution/claims/{sent}/cancel", headers=acme.headers),
        409,
        "claim-not-cancellable",
    )
    assert "sent" in refused["detail"]
    await problem_of(
        await client.post("/api/v1/distribution/claims/clm_nope/cancel", headers=acme.headers),
        404,
        "not-found",
    )


def _route_paths() -> set[tuple[str, str]]:
    found = set()
    for route in avtalegiro.routes:
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
    settings = fragment["components"]["schemas"]["AvtaleGiroSettings"]["properties"]
    assert settings["sftp_secret"] == {
        **settings["sftp_secret"],
        "type": "string",
        "enum": ["set", "missing"],
    }
    assert fragment["components"]["schemas"]["AvtaleGiroSftp"]["properties"]["known_host_key"]
    assert DUMMY_HOST_KEY not in text


async def test_openapi_document_includes_the_fragment(
    client: TestClient[Any, Any], parties: tuple[Party, Party]
) -> None:
    acme, _ = parties
    document = await (await client.get("/api/v1/openapi.json", headers=acme.headers)).json()
    assert {path for path, _ in _route_paths()} <= set(document["paths"])
