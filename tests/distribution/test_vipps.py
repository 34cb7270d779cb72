"""Vipps on a loopback Vipps (Access Token + ePayment API), on SQLite and PostgreSQL: a private
customer's payment request pushed, authorized, captured and booked; refusals; idempotency; the token
cache; and the request body the documentation asks for."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from accesspoint.config import Config
from accesspoint.config.model import SecretsConfig
from accesspoint.pipeline.webhooks import add_event
from accesspoint.store.engine import Store
from accesspoint.store.tenants import Tenant as StoredTenant
from accesspoint.store.tenants import create_tenant
from distribution.invoice import Invoice, read_invoice
from distribution.methods.base import Customer, InvoiceContext, Outcome, Services, SettingsError, Tenant
from distribution.methods.vipps import VippsMethod
from distribution.payments.booking import PAID_EVENT
from distribution.storage.channels import box_for, save_settings
from distribution.storage.payments_schema import payments
from distribution.storage.secrets import write_secret
from distribution.vipps.request import msisdn, payment_reference
from tests.distribution.corpus import NORWEGIAN_EXAMPLE
from tests.distribution.test_booking import new_invoice
from tests.distribution.vipps_server import VippsServer

SECRETS_KEY = "vipps-test-secrets-key-0123456789abcdef"
WEBHOOK_SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
KARI = Customer(kind="private", name="Kari Nordmann", mobile="+47 912 34 567")
UNKNOWN = Customer(kind="private", name="Ola Nordmann", mobile="98765432")
ACME_AS = Customer(kind="business", name="Acme AS", mobile="+4791234567")


def config_with_key(tmp_path: Path) -> Config:
    base = Config()
    return dataclasses.replace(
        base,
        secrets=SecretsConfig(key=SECRETS_KEY),
        server=dataclasses.replace(base.server, data_dir=tmp_path / "var"),
    )


@pytest.fixture
async def vipps() -> AsyncIterator[VippsServer]:
    server = VippsServer()
    await server.start()
    yield server
    await server.close()


@dataclasses.dataclass
class World:
    store: Store
    config: Config
    http: aiohttp.ClientSession
    tenant: StoredTenant
    document: bytes
    invoice: Invoice
    invoice_id: str

    def ctx(
        self, customer: Customer = KARI, *, key: str = "att_0001", invoice: Invoice | None = None
    ) -> InvoiceContext:
        chosen = invoice or self.invoice
        return InvoiceContext(
            invoice_id=self.invoice_id,
            attempt_key=key,
            tenant=Tenant(self.tenant.id, self.tenant.name),
            document=self.document,
            invoice=chosen,
            customer=customer,
            attachments=(),
            settings={},
            services=Services(self.store, self.config, self.http),
            render=lambda: asyncio.sleep(0, b"%PDF-1.4"),  # a PDF ready at once
        )


async def configure_vipps(world: World, server: VippsServer, *, long_living: bool = False) -> None:
    async with world.store.begin() as conn:
        await save_settings(
            conn,
            world.tenant.id,
            "vipps",
            {"base_url": server.url, "merchant_serial_number": server.msn, "long_living": long_living},
        )
        await write_secret(
            conn,
            box_for(world.config),
            world.tenant.id,
            "vipps",
            {
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "subscription_key": server.subscription_key,
                "webhook_secret": WEBHOOK_SECRET,
            },
        )


@pytest.fixture
async def world(store: Store, corpus: Path, tmp_path: Path) -> AsyncIterator[World]:
    add_event(PAID_EVENT)
    document = (corpus / NORWEGIAN_EXAMPLE).read_bytes()
    invoice = read_invoice(document)
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "acme")
    invoice_id = await new_invoice(
        store, tenant, invoice.number or "", str(invoice.totals.payable), invoice.kid
    )
    async with aiohttp.ClientSession() as http:
        yield World(store, config_with_key(tmp_path), http, tenant, document, invoice, invoice_id)


@pytest.fixture
async def ready(world: World, vipps: VippsServer) -> World:
    await configure_vipps(world, vipps)
    return world


async def booked(store: Store) -> list[Any]:
    async with store.connect() as conn:
        return list((await conn.execute(sa.select(payments))).all())


def test_phone_numbers_become_msisdn() -> None:
    assert msisdn("+47 912 34 567") == "4791234567"
    assert msisdn("91234567") == "4791234567"
    assert msisdn("0047 41234567") == "4741234567"
    assert msisdn("+45 12345678") == "4512345678"
    assert msisdn("22 33 44 55") is None  # a Norwegian landline: no app behind it
    assert msisdn("call me") is None
    assert msisdn(None) is None


def test_references_fit_the_api_and_differ_per_attempt() -> None:
    first = payment_reference("inv_0123456789abcdef01234567", "att_1")
    assert first.startswith("inv-0123456789abcdef01234567-")
    assert len(first) <= 50
    assert first == payment_reference("inv_0123456789abcdef01234567", "att_1")
    assert first != payment_reference("inv_0123456789abcdef01234567", "att_2")
    assert len(payment_reference("x" * 200, "att")) == 50


def test_run_settings_are_refused() -> None:
    VippsMethod().check_settings({})
    with pytest.raises(SettingsError, match="channels/vipps"):
        VippsMethod().check_settings({"msn": "1"})


async def test_pushed_authorized_captured_booked(ready: World, vipps: VippsServer) -> None:
    method = VippsMethod()
    ctx = ready.ctx()
    verdict = await method.eligible(ctx)
    assert verdict.eligible, verdict.reason
    result = await method.deliver(ctx)
    assert result.outcome is Outcome.PENDING, result.reason
    reference = result.reference
    assert reference is not None and reference in vipps.payments

    sent = vipps.payments[reference].request
    assert sent["userFlow"] == "PUSH_MESSAGE"
    assert sent["customer"] == {"phoneNumber": "4791234567"}
    assert sent["amount"] == {"currency": "NOK", "value": 80200}
    assert "TOSL108" in sent["paymentDescription"] and "0003434323213231" in sent["paymentDescription"]
    assert "expiresAt" not in sent  # the sales unit has no long-living payments
    lines = sent["receipt"]["orderLines"]
    assert [line["id"] for line in lines][:5] == ["1", "2", "3", "4", "5"]
    assert sent["receipt"]["bottomLine"] == {"currency": "NOK", "receiptNumber": "TOSL108"}

    polled = await method.status(ctx, reference)
    assert polled.outcome is Outcome.PENDING and "created" in polled.reason
    assert await booked(ready.store) == []

    vipps.set_state(reference, "AUTHORIZED")
    done = await method.status(ctx, reference)
    assert done.outcome is Outcome.DELIVERED, done.reason
    assert vipps.captures == [{"reference": reference, "value": 80200, "key": "att_0001-capture"}]
    rows = await booked(ready.store)
    assert len(rows) == 1
    row = rows[0]
    assert (row.channel, row.reference, row.invoice_id, Decimal(row.amount), row.currency, row.match) == (
        "vipps",
        reference,
        ready.invoice_id,
        Decimal("802.00"),
        "NOK",
        "full",
    )
    assert row.kid == "0003434323213231"

    # A later poll (or a repeated webhook) neither captures nor books again.
    again = await method.status(ctx, reference)
    assert again.outcome is Outcome.DELIVERED
    assert again.evidence["booked_before"] is True
    assert len(vipps.captures) == 1
    assert len(await booked(ready.store)) == 1


async def test_a_number_vipps_refuses_cannot_receive(ready: World, vipps: VippsServer) -> None:
    method = VippsMethod()
    ctx = ready.ctx(UNKNOWN)
    assert (await method.eligible(ctx)).eligible  # only Vipps knows its users
    result = await method.deliver(ctx)
    assert result.outcome is Outcome.CANNOT_RECEIVE
    assert "User unknown" in result.reason
    assert vipps.payments == {}


async def test_a_business_is_never_eligible(ready: World, vipps: VippsServer) -> None:
    method = VippsMethod()
    verdict = await method.eligible(ready.ctx(ACME_AS))
    assert not verdict.eligible and "business" in verdict.reason
    result = await method.deliver(ready.ctx(ACME_AS))
    assert result.outcome is Outcome.CANNOT_RECEIVE
    assert vipps.create_requests == 0 and vipps.token_requests == 0


async def test_not_eligible_without_mobile_or_set_up(world: World, vipps: VippsServer) -> None:
    method = VippsMethod()
    unset = await method.eligible(world.ctx())
    assert not unset.eligible and "not set up" in unset.reason
    await configure_vipps(world, vipps)
    no_mobile = await method.eligible(world.ctx(Customer(kind="private", name="Kari")))
    assert not no_mobile.eligible and "mobile" in no_mobile.reason
    euro = dataclasses.replace(world.invoice, currency="EUR")
    assert not (await method.eligible(world.ctx(invoice=euro))).eligible


async def test_same_attempt_key_makes_one_payment(ready: World, vipps: VippsServer) -> None:
    method = VippsMethod()
    first = await method.deliver(ready.ctx(key="att_same"))
    second = await VippsMethod().deliver(ready.ctx(key="att_same"))  # a resumed run, another process
    assert first.outcome is second.outcome is Outcome.PENDING
    assert first.reference == second.reference
    assert len(vipps.payments) == 1
    assert vipps.create_requests == 1


async def test_token_is_cached_until_it_expires(ready: World, vipps: VippsServer) -> None:
    clock = [1_800_000_000.0]
    method = VippsMethod(clock=lambda: clock[0])
    result = await method.deliver(ready.ctx(key="att_a"))
    assert result.reference is not None
    await method.status(ready.ctx(key="att_a"), result.reference)
    await method.deliver(ready.ctx(key="att_b"))
    assert vipps.token_requests == 1
    clock[0] += 3600  # expires_in 3600: renewed a minute early
    await method.status(ready.ctx(key="att_a"), result.reference)
    assert vipps.token_requests == 2
    vipps.tokens.clear()  # Vipps revoked it: one fresh token, and the call goes through
    polled = await method.status(ready.ctx(key="att_a"), result.reference)
    assert polled.outcome is Outcome.PENDING and "created" in polled.reason
    assert vipps.token_requests == 3


@pytest.mark.parametrize("state", ["ABORTED", "EXPIRED", "TERMINATED"])
async def test_failed_payments_are_permanent(ready: World, vipps: VippsServer, state: str) -> None:
    method = VippsMethod()
    result = await method.deliver(ready.ctx())
    assert result.reference is not None
    vipps.set_state(result.reference, state)
    final = await method.status(ready.ctx(), result.reference)
    assert final.outcome is Outcome.PERMANENT and state.lower() in final.reason
    assert final.evidence["state"] == state


async def test_server_errors_are_transient(ready: World, vipps: VippsServer) -> None:
    method = VippsMethod()
    await method.deliver(ready.ctx(key="att_warm"))  # token fetched
    vipps.failures = [503]
    result = await method.deliver(ready.ctx(key="att_x"))
    assert result.outcome is Outcome.TRANSIENT and "503" in result.reason
    retried = await method.deliver(ready.ctx(key="att_x"))
    assert retried.outcome is Outcome.PENDING


async def test_long_living_requests_expire_at_the_due_date(ready: World, vipps: VippsServer) -> None:
    await configure_vipps(ready, vipps, long_living=True)
    today = dt.datetime.now(dt.UTC).date()
    due = today + dt.timedelta(days=10)
    result = await VippsMethod().deliver(ready.ctx(invoice=dataclasses.replace(ready.invoice, due_date=due)))
    assert result.reference is not None
    expires = vipps.payments[result.reference].request["expiresAt"]
    assert expires.startswith(due.isoformat()) and expires.endswith("Z")
    past = await VippsMethod().deliver(ready.ctx(key="att_past"))  # due date 2013: nothing to wait for
    assert past.reference is not None
    assert "expiresAt" not in vipps.payments[past.reference].request
