"""eFaktura against a loopback adapter of our contract, on SQLite and PostgreSQL: a consumer accepting
all issuers is submitted and delivered after a status poll; not found, not accepting and businesses
cannot receive; a rejection is permanent."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from distribution.methods.base import Customer, Outcome
from distribution.methods.efaktura import EfakturaMethod
from distribution.storage.channels import box_for, save_settings
from distribution.storage.secrets import write_secret
from tests.distribution import test_vipps
from tests.distribution.efaktura_server import EfakturaServer
from tests.distribution.test_vipps import World

world = test_vipps.world  # the shared fixture: a tenant, an invoice, a store
KARI = Customer(kind="private", name="Kari Nordmann", invoice_email="kari@example.no")


@pytest.fixture
async def adapter() -> AsyncIterator[EfakturaServer]:
    server = EfakturaServer()
    server.consumers = {"kari@example.no": ("EF-1234", True), "ola@example.no": ("EF-5678", False)}
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def ready(world: World, adapter: EfakturaServer) -> World:
    async with world.store.begin() as conn:
        await save_settings(conn, world.tenant.id, "efaktura", {"base_url": adapter.url})
        await write_secret(
            conn, box_for(world.config), world.tenant.id, "efaktura", {"api_key": adapter.api_key}
        )
    return world


async def test_accepting_consumer_delivered_after_poll(ready: World, adapter: EfakturaServer) -> None:
    method = EfakturaMethod()
    ctx = ready.ctx(KARI)
    assert (await method.eligible(ctx)).eligible
    result = await method.deliver(ctx)
    assert result.outcome is Outcome.PENDING and result.reference is not None
    sent = adapter.submissions[result.reference]
    assert sent["efaktura_identifier"] == "EF-1234"
    assert (sent["invoice_number"], sent["kid"], sent["amount"], sent["due_date"]) == (
        "TOSL108",
        "0003434323213231",
        "802.00",
        "2013-07-20",
    )
    assert base64.b64decode(sent["pdf_base64"]).startswith(b"%PDF")
    assert (await method.status(ctx, result.reference)).outcome is Outcome.PENDING
    adapter.states[result.reference] = ("accepted", None)
    assert (await method.status(ctx, result.reference)).outcome is Outcome.DELIVERED
    again = await method.deliver(ctx)  # same attempt key: the same submission
    assert again.reference == result.reference and len(adapter.submissions) == 1


@pytest.mark.parametrize(
    ("customer", "reason"),
    [
        (Customer(kind="private", invoice_email="nobody@example.no"), "no eFaktura consumer"),
        (
            Customer(kind="private", invoice_email="ola@example.no"),
            "does not accept eFaktura from all issuers",
        ),
        (Customer(kind="private"), "no invoice e-mail"),
        (Customer(kind="business", invoice_email="kari@example.no"), "business"),
    ],
)
async def test_cannot_receive(ready: World, adapter: EfakturaServer, customer: Customer, reason: str) -> None:
    method = EfakturaMethod()
    verdict = await method.eligible(ready.ctx(customer))
    assert not verdict.eligible and reason in verdict.reason
    result = await method.deliver(ready.ctx(customer))
    assert result.outcome is Outcome.CANNOT_RECEIVE and reason in result.reason
    assert adapter.submissions == {}


async def test_rejection_is_permanent(ready: World, adapter: EfakturaServer) -> None:
    method = EfakturaMethod()
    result = await method.deliver(ready.ctx(KARI))
    assert result.reference is not None
    adapter.states[result.reference] = ("rejected", "the consumer blocked this issuer")
    final = await method.status(ready.ctx(KARI), result.reference)
    assert final.outcome is Outcome.PERMANENT and "blocked this issuer" in final.reason


async def test_not_set_up_cannot_receive(world: World) -> None:
    result = await EfakturaMethod().deliver(world.ctx(KARI))
    assert result.outcome is Outcome.CANNOT_RECEIVE and "not set up" in result.reason
