"""Templates and printers over HTTP on a real server, on SQLite and PostgreSQL: two tenants with real
API keys, isolation (another tenant's object is 404), and every refusal as problem+json."""

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
from distribution.api import printers, templates
from distribution.templates import CATALOGUE
from distribution.templates.sandbox import MAX_BODY_CHARS
from tests.conftest import REPO_ROOT

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
Headers = dict[str, str]
PROBLEM = "application/problem+json"
FRAGMENT = REPO_ROOT / "schemas" / "openapi-distribution-mail.json"
TEMPLATES = "/api/v1/distribution/templates"
PRINTERS = "/api/v1/distribution/printers"
REMINDER = {
    "subject": "Påminnelse: {{ document_title }} {{ invoice_number }}",
    "html": "<p>Hei {{ customer_name }}, {{ amount }} {{ currency }} forfalt {{ due_date }}.</p>",
    "text": "Hei {{ customer_name }}, {{ amount }} {{ currency }} forfalt {{ due_date }}.",
}


class MailRoutes:
    """The template and printer routes as a server extension, the way distribution plugs in."""

    name = "distribution-mail"

    def setup(self, app: web.Application) -> None:
        app.router.add_routes(templates.routes)
        app.router.add_routes(printers.routes)

    def openapi_fragments(self) -> tuple[Path, ...]:
        return (FRAGMENT,)


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Config:
    base = load_config()
    server = dataclasses.replace(base.server, max_body_bytes=512 * 1024, data_dir=tmp_path / "var")
    store = dataclasses.replace(base.store, url=store_url)
    outbound = dataclasses.replace(base.outbound, workers=0)
    return dataclasses.replace(base, server=server, store=store, outbound=outbound)


@pytest.fixture
async def keys(config: Config) -> tuple[Headers, Headers]:
    store = Store(config.store_url)
    await upgrade(store)
    async with store.begin() as conn:
        first = await create_api_key(conn, await create_tenant(conn, "acme"))
        second = await create_api_key(conn, await create_tenant(conn, "globex"))
    await store.close()
    return {"Authorization": f"Bearer {first}"}, {"Authorization": f"Bearer {second}"}


@pytest.fixture
async def client(aiohttp_client: Client, config: Config) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(config, extensions=[MailRoutes()]))


async def problem_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


async def test_built_in_templates_and_the_catalogue_are_listed(
    client: TestClient[Any, Any], keys: tuple[Headers, Headers]
) -> None:
    acme, _ = keys
    listing = await (await client.get(TEMPLATES, headers=acme)).json()
    assert [(t["name"], t["language"], t["source"]) for t in listing["templates"]] == [
        ("invoice", "en", "built-in"),
        ("invoice", "nb", "built-in"),
    ]
    assert [f["name"] for f in listing["fields"]] == [f.name for f in CATALOGUE]
    built_in = await (await client.get(f"{TEMPLATES}/invoice?language=en", headers=acme)).json()
    assert built_in["source"] == "built-in" and "{{ invoice_number }}" in built_in["subject"]


async def test_templates_are_tenant_scoped(
    client: TestClient[Any, Any], keys: tuple[Headers, Headers]
) -> None:
    acme, globex = keys
    saved = await client.put(f"{TEMPLATES}/reminder?language=nb", json=REMINDER, headers=acme)
    assert saved.status == 200, await saved.text()
    assert (await saved.json())["source"] == "tenant"
    mine = await (await client.get(f"{TEMPLATES}/reminder?language=nb", headers=acme)).json()
    assert {key: mine[key] for key in REMINDER} == REMINDER
    await problem_of(await client.get(f"{TEMPLATES}/reminder?language=nb", headers=globex), 404, "not-found")
    await problem_of(
        await client.delete(f"{TEMPLATES}/reminder?language=nb", headers=globex), 404, "not-found"
    )
    await problem_of(await client.get(f"{TEMPLATES}/reminder?language=en", headers=acme), 404, "not-found")
    theirs = await (await client.get(TEMPLATES, headers=globex)).json()
    assert "reminder" not in {t["name"] for t in theirs["templates"]}

    override = {**REMINDER, "subject": "Invoice {{ invoice_number }}"}
    assert (await client.put(f"{TEMPLATES}/invoice?language=en", json=override, headers=acme)).status == 200
    acme_invoice = await (await client.get(f"{TEMPLATES}/invoice?language=en", headers=acme)).json()
    globex_invoice = await (await client.get(f"{TEMPLATES}/invoice?language=en", headers=globex)).json()
    assert (acme_invoice["source"], acme_invoice["subject"]) == ("tenant", "Invoice {{ invoice_number }}")
    assert globex_invoice["source"] == "built-in"

    replaced = await client.put(
        f"{TEMPLATES}/reminder?language=nb", json={**REMINDER, "text": "Ny"}, headers=acme
    )
    assert (await replaced.json())["text"] == "Ny"
    assert (await client.delete(f"{TEMPLATES}/reminder?language=nb", headers=acme)).status == 204
    await problem_of(await client.get(f"{TEMPLATES}/reminder?language=nb", headers=acme), 404, "not-found")


REFUSED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("html", "{{ ''.__class__ }}", "template-forbidden", {"construct": ".__class__", "line": 1}),
    ("html", "{{ ''.__class__.__mro__ }}", "template-forbidden", {"construct": ".__mro__"}),
    ("text", "x\n{% include 'x' %}", "template-forbidden", {"construct": "include", "line": 2}),
    ("subject", "{{ cycler }}", "template-unknown-field", {"fields": ["cycler"]}),
    ("text", "{{ customer_email }}", "template-unknown-field", {"fields": ["customer_email"]}),
    ("text", "{% if kid %}", "template-syntax", {"line": 1}),
    ("html", "x" * (MAX_BODY_CHARS + 1), "template-too-large", {}),
]


async def test_unsafe_or_broken_templates_are_refused(
    client: TestClient[Any, Any], keys: tuple[Headers, Headers]
) -> None:
    acme, _ = keys
    for part, source, code, extra in REFUSED:
        response = await client.put(
            f"{TEMPLATES}/reminder?language=nb", json={**REMINDER, part: source}, headers=acme
        )
        body = await problem_of(response, 422, code)
        assert body["part"] == part, source
        assert extra.items() <= body.items(), (source, body)
        assert body["detail"].startswith(part), source
    await problem_of(await client.get(f"{TEMPLATES}/reminder?language=nb", headers=acme), 404, "not-found")


INVALID_REQUESTS: list[tuple[str, dict[str, Any], str | None, int, str]] = [
    (f"{TEMPLATES}/reminder?language=sv", REMINDER, None, 422, "invalid-language"),
    (f"{TEMPLATES}/Not%20A%20Name?language=nb", REMINDER, None, 422, "invalid-template-name"),
    (f"{TEMPLATES}/reminder", {"subject": "x", "html": "x"}, None, 422, "invalid-template"),
    (f"{TEMPLATES}/reminder", {**REMINDER, "from": "x@y.no"}, None, 422, "invalid-template"),
    (f"{TEMPLATES}/reminder", {**REMINDER, "html": 5}, None, 422, "invalid-template"),
    (f"{TEMPLATES}/reminder", REMINDER, "text/plain", 415, "unsupported-media-type"),
]


async def test_template_requests_are_validated(
    client: TestClient[Any, Any], keys: tuple[Headers, Headers]
) -> None:
    acme, _ = keys
    for path, body, content_type, status, code in INVALID_REQUESTS:
        headers = {**acme, "Content-Type": content_type or "application/json"}
        await problem_of(await client.put(path, data=json.dumps(body), headers=headers), status, code)
    for response in (await client.get(TEMPLATES), await client.post(PRINTERS, json={})):
        assert response.status == 401 and response.content_type == PROBLEM  # no API key


async def test_printers_are_tenant_scoped(
    client: TestClient[Any, Any], keys: tuple[Headers, Headers]
) -> None:
    acme, globex = keys
    created = await client.post(
        PRINTERS,
        json={"name": "Resepsjon", "email": "resepsjon@hpeprint.example", "max_bytes": 10_000_000},
        headers=acme,
    )
    assert created.status == 201, await created.text()
    printer = await created.json()
    assert (printer["name"], printer["email"], printer["max_bytes"]) == (
        "Resepsjon",
        "resepsjon@hpeprint.example",
        10_000_000,
    )
    await problem_of(
        await client.post(PRINTERS, json={"name": "Resepsjon", "email": "x@hpeprint.example"}, headers=acme),
        409,
        "printer-exists",
    )
    same_name = await client.post(
        PRINTERS, json={"name": "Resepsjon", "email": "g@hpeprint.example"}, headers=globex
    )
    assert same_name.status == 201  # names are per tenant
    assert [p["email"] for p in (await (await client.get(PRINTERS, headers=acme)).json())["printers"]] == [
        "resepsjon@hpeprint.example"
    ]
    await problem_of(await client.delete(f"{PRINTERS}/{printer['id']}", headers=globex), 404, "not-found")
    assert len((await (await client.get(PRINTERS, headers=acme)).json())["printers"]) == 1
    assert (await client.delete(f"{PRINTERS}/{printer['id']}", headers=acme)).status == 204
    assert (await (await client.get(PRINTERS, headers=acme)).json())["printers"] == []
    await problem_of(await client.delete(f"{PRINTERS}/{printer['id']}", headers=acme), 404, "not-found")


INVALID_PRINTERS: list[dict[str, Any]] = [
    {"name": "P", "email": "not-an-address"},
    {"name": "", "email": "p@hpeprint.example"},
    {"name": "P", "email": "p@hpeprint.example", "max_bytes": 0},
    {"name": "P", "email": "p@hpeprint.example", "max_bytes": True},
    {"name": "P", "email": "p@hpeprint.example", "colour": "yes"},
    {"email": "p@hpeprint.example"},
]


async def test_printer_registration_is_validated(
    client: TestClient[Any, Any], keys: tuple[Headers, Headers]
) -> None:
    acme, _ = keys
    for body in INVALID_PRINTERS:
        await problem_of(await client.post(PRINTERS, json=body, headers=acme), 422, "invalid-printer")
    assert (await (await client.get(PRINTERS, headers=acme)).json())["printers"] == []


def _route_paths() -> set[tuple[str, str]]:
    found = set()
    for table in (templates.routes, printers.routes):
        for route in table:
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
    for kind in ("schemas", "responses"):
        known = {**core[kind], **fragment["components"].get(kind, {})}
        for name in {part.split('"')[0] for part in text.split(f'"$ref": "#/components/{kind}/')[1:]}:
            assert name in known, name
    others = set(
        json.loads((REPO_ROOT / "schemas" / "openapi-distribution.json").read_text())["components"]["schemas"]
    )
    assert not set(fragment["components"]["schemas"]) & (
        set(core["schemas"]) | others
    )  # merging loses nothing
    field_names = fragment["components"]["schemas"]["MergeField"]["properties"]["name"]["enum"]
    assert field_names == [field.name for field in CATALOGUE]
