"""Whole runs through the payment channels, on SQLite and PostgreSQL: the real run engine and the real
methods against the loopback servers of each channel's own tests (Vipps, the eFaktura adapter, the
factoring partner, an SMTP server) and the access point's own outbound pipeline for EHF.

[vipps, efaktura, email] for a private customer with and without a Vipps-capable number, and for a
business (never Vipps or eFaktura); [factoring, ehf] with the factor approving (sold, the UBL the
factor gets validates and names it payee) and declining (EHF is tried next)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding

from accesspoint.config import Config, DistributionConfig, SmtpConfig, StaticRoute, load_config
from accesspoint.config.model import SecretsConfig
from accesspoint.peppol.identifiers import participant
from accesspoint.pipeline.routing import Router, StaticRouting
from accesspoint.pki.devpki import create_dev_pki
from accesspoint.store.engine import Store
from accesspoint.store.schema import outbound, webhook_deliveries
from accesspoint.store.tenants import Tenant, create_tenant
from accesspoint.validation.engine import Validator
from accesspoint.validation.report import Report
from accesspoint.validation.setup import ValidationUnavailable, locate
from distribution.invoice import read_invoice
from distribution.methods.base import Customer, DeliveryMethod
from distribution.methods.efaktura import EfakturaMethod
from distribution.methods.ehf import EhfMethod
from distribution.methods.email import EmailMethod
from distribution.methods.factoring import FactoringMethod
from distribution.methods.vipps import VippsMethod
from distribution.run.engine import Engine, EngineSettings
from distribution.run.wake import wake
from distribution.storage.channels import box_for, save_settings
from distribution.storage.invoices import AttemptRow, attempts_of
from distribution.storage.payments_schema import payments
from distribution.storage.secrets import write_secret
from tests.distribution.corpus import NORWEGIAN_EXAMPLE
from tests.distribution.efaktura_server import EfakturaServer
from tests.distribution.factoring_server import FactoringServer
from tests.distribution.smtp_server import SmtpServer, running_smtp_server
from tests.distribution.test_engine import Harness, run_of
from tests.distribution.vipps_server import VippsServer

SECRETS_KEY = "payment-runs-secrets-key-0123456789abcdef"
GATEWAY = "faktura@gateway.example"
BUYER_PARTICIPANT = "0192:987654325"  # the corpus invoice's buyer EndpointID
FACTOR = {"name": "Nordic Finans AS", "organisation_number": "987654325", "account": "12345678903"}
NOTICE = "Fakturaen er overdratt til {factor} og kan bare betales til konto {account}."
# Retries at once, but a PENDING delivery is asked again only when woken (as a callback would).
SETTINGS = EngineSettings(retry_schedule=(0, 0), status_poll_seconds=3600, lease_seconds=30, workers=1)

KARI = Customer(
    kind="private", name="Kari Nordmann", mobile="+47 912 34 567", invoice_email="kari@example.no"
)
OLA = Customer(kind="private", name="Ola Nordmann", mobile="98765432", invoice_email="ola@example.no")
ACME = Customer(kind="business", name="Acme AS", mobile="+4791234567", invoice_email="faktura@acme.example")
BUYER = Customer(kind="business", name="Buyercompany ASA")


# -- shared set-up ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> Validator:
    try:
        root, catalogue = locate(load_config())
    except ValidationUnavailable as exc:
        pytest.fail(str(exc))
    return Validator(root, catalogue)


@pytest.fixture(scope="module")
def buyer_route(tmp_path_factory: pytest.TempPathFactory) -> StaticRoute:
    """A static route for the buyer, its AP certificate from a dev PKI written to a file."""
    pki = create_dev_pki(("POP000002",))
    cert = tmp_path_factory.mktemp("pki") / "buyer-ap.pem"
    cert.write_bytes(pki.ap("POP000002").certificate.public_bytes(Encoding.PEM))
    # Nothing listens there: the pipeline's sender is not run, the document stays queued.
    return StaticRoute(BUYER_PARTICIPANT, "https://127.0.0.1:9/as4", cert)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
async def vipps() -> AsyncIterator[VippsServer]:
    server = VippsServer()  # knows 4791234567 (Kari) only
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def adapter() -> AsyncIterator[EfakturaServer]:
    server = EfakturaServer()
    # Every customer's invoice e-mail is an eFaktura consumer accepting all issuers, the business's
    # too: only the customer's kind can keep eFaktura out.
    server.consumers = {
        "kari@example.no": ("EF-1234", True),
        "ola@example.no": ("EF-5678", True),
        "faktura@acme.example": ("EF-9999", True),
    }
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def partner() -> AsyncIterator[FactoringServer]:
    server = FactoringServer()
    await server.start()
    yield server
    await server.close()


@dataclasses.dataclass
class Runs:
    """The engine harness (store, tenant, corpus invoice) with one Config for every channel."""

    harness: Harness
    config: Config

    @property
    def store(self) -> Store:
        return self.harness.store

    @property
    def tenant(self) -> Tenant:
        return self.harness.tenant

    def engine(self, methods: Mapping[str, DeliveryMethod]) -> Engine:
        return Engine(self.store, methods, self.config, self.harness.http, SETTINGS)

    async def run(self, methods: Mapping[str, DeliveryMethod], customer: Customer) -> tuple[str, Engine]:
        """Submit the corpus invoice with the run ``methods`` (in order) and take it as far as it goes."""
        invoice_id = await self.harness.submit(methods, customer, run=run_of(*methods))
        engine = self.engine(methods)
        await self.harness.drain(engine)
        return invoice_id, engine

    async def resume(self, engine: Engine, invoice_id: str) -> None:
        """A callback arrived: wake the waiting run and let it finish."""
        assert await wake(self.store, invoice_id)
        await self.harness.drain(engine)

    async def attempts(self, invoice_id: str) -> list[AttemptRow]:
        async with self.store.connect() as conn:
            return await attempts_of(conn, invoice_id)

    async def secret(self, name: str, value: dict[str, Any]) -> None:
        async with self.store.begin() as conn:
            await write_secret(conn, box_for(self.config), self.tenant.id, name, value)

    async def settings(self, name: str, value: dict[str, Any]) -> None:
        async with self.store.begin() as conn:
            await save_settings(conn, self.tenant.id, name, value)


@pytest.fixture
async def runs(store: Store, corpus: Path, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[Runs]:
    base = Config()
    config = dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, data_dir=tmp_path / "var"),
        secrets=SecretsConfig(key=SECRETS_KEY),
        smtp=SmtpConfig(host=smtp.host, port=smtp.port, security="none", timeout_seconds=5),
        distribution=DistributionConfig(sender=f"Gateway <{GATEWAY}>"),
    )
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "acme")
    async with aiohttp.ClientSession() as http:
        yield Runs(Harness(store, tenant, (corpus / NORWEGIAN_EXAMPLE).read_bytes(), http), config)


@pytest.fixture
async def private_channels(runs: Runs, vipps: VippsServer, adapter: EfakturaServer) -> dict[str, Any]:
    """Vipps and eFaktura set up for the tenant; the run [vipps, efaktura, email]."""
    await runs.settings(
        "vipps", {"base_url": vipps.url, "merchant_serial_number": vipps.msn, "long_living": False}
    )
    await runs.secret(
        "vipps",
        {
            "client_id": vipps.client_id,
            "client_secret": vipps.client_secret,
            "subscription_key": vipps.subscription_key,
            "webhook_secret": "webhook-secret-0123456789",
        },
    )
    await runs.settings("efaktura", {"base_url": adapter.url})
    await runs.secret("efaktura", {"api_key": adapter.api_key})
    return {"vipps": VippsMethod(), "efaktura": EfakturaMethod(), "email": EmailMethod()}


@pytest.fixture
async def business_channels(
    runs: Runs, partner: FactoringServer, validator: Validator, buyer_route: StaticRoute
) -> dict[str, Any]:
    """A factoring partner set up for the tenant; the run [factoring, ehf] with the real pipeline."""
    await runs.settings(
        "factoring",
        {"base_url": partner.url, "factor": {**FACTOR, "kid_algorithm": "mod10"}, "assignment_text": NOTICE},
    )
    await runs.secret("factoring", {"api_key": partner.api_key, "callback_secret": "cb"})
    router = Router(StaticRouting((buyer_route,)), None, None)

    async def validate(data: bytes) -> Report:
        return validator.validate(data)

    return {"factoring": FactoringMethod(), "ehf": EhfMethod(lambda: router, validate)}


def evidence(attempt: AttemptRow) -> dict[str, Any]:
    assert attempt.evidence is not None, f"{attempt.method}: no evidence recorded"
    return attempt.evidence


async def booked(store: Store) -> list[Any]:
    async with store.connect() as conn:
        return list((await conn.execute(sa.select(payments))).all())


async def outbound_documents(store: Store, tenant: Tenant) -> list[Any]:
    async with store.connect() as conn:
        query = sa.select(outbound).where(outbound.c.tenant_id == tenant.id)
        return list((await conn.execute(query)).all())


# -- [vipps, efaktura, email] ----------------------------------------------------------------------


async def test_private_customer_with_vipps_pays_in_the_app(
    runs: Runs,
    private_channels: dict[str, Any],
    vipps: VippsServer,
    adapter: EfakturaServer,
    smtp: SmtpServer,
) -> None:
    await runs.harness.subscribe()  # a webhook for invoice.final
    invoice_id, engine = await runs.run(private_channels, KARI)
    [pushed] = await runs.attempts(invoice_id)
    assert (pushed.method, pushed.outcome) == ("vipps", "pending")
    assert (await runs.harness.invoice(invoice_id)).status == "delivering"
    reference = pushed.reference
    assert reference is not None and list(vipps.payments) == [reference]
    assert vipps.payments[reference].request["customer"] == {"phoneNumber": "4791234567"}

    vipps.set_state(reference, "AUTHORIZED")  # Kari approved it in the app
    await runs.resume(engine, invoice_id)

    assert await runs.harness.attempts(invoice_id) == [("vipps", "delivered")]
    row = await runs.harness.invoice(invoice_id)
    # The capture was booked and paid the invoice; the run's "delivered" does not undo "paid".
    assert (row.status, row.method) == ("paid", "vipps")
    assert vipps.captures == [{"reference": reference, "value": 80200, "key": f"{pushed.id}-capture"}]
    [payment] = await booked(runs.store)
    assert (payment.invoice_id, payment.channel, payment.reference, payment.match) == (
        invoice_id,
        "vipps",
        reference,
        "full",
    )
    assert (Decimal(payment.amount), payment.kid) == (Decimal("802.00"), "0003434323213231")
    assert adapter.submissions == {} and smtp.messages == []
    async with runs.store.connect() as conn:
        told = (await conn.execute(sa.select(webhook_deliveries.c.payload))).scalars().all()
    assert [p["status"] for p in told if p.get("id") == invoice_id] == ["paid"]  # not "delivered"


async def test_private_customer_without_vipps_gets_efaktura(
    runs: Runs,
    private_channels: dict[str, Any],
    vipps: VippsServer,
    adapter: EfakturaServer,
    smtp: SmtpServer,
) -> None:
    invoice_id, engine = await runs.run(private_channels, OLA)
    first = await runs.attempts(invoice_id)
    assert [(a.method, a.outcome) for a in first] == [("vipps", "cannot-receive"), ("efaktura", "pending")]
    assert "User unknown" in first[0].reason
    assert vipps.create_requests == 1 and vipps.payments == {}
    [submission] = adapter.submissions
    assert first[1].reference == submission
    assert adapter.submissions[submission]["efaktura_identifier"] == "EF-5678"

    adapter.states[submission] = ("accepted", None)  # the bank network took it
    await runs.resume(engine, invoice_id)

    assert await runs.harness.attempts(invoice_id) == [
        ("vipps", "cannot-receive"),
        ("efaktura", "delivered"),
    ]
    row = await runs.harness.invoice(invoice_id)
    assert (row.status, row.method) == ("delivered", "efaktura")
    assert len(adapter.submissions) == 1
    assert await booked(runs.store) == [] and smtp.messages == []


async def test_business_customer_never_goes_to_vipps_or_efaktura(
    runs: Runs,
    private_channels: dict[str, Any],
    vipps: VippsServer,
    adapter: EfakturaServer,
    smtp: SmtpServer,
) -> None:
    invoice_id, _ = await runs.run(private_channels, ACME)
    attempts = await runs.attempts(invoice_id)
    assert [(a.method, a.outcome) for a in attempts] == [
        ("vipps", "not-eligible"),
        ("efaktura", "not-eligible"),
        ("email", "delivered"),
    ]
    assert attempts[0].reason == "Vipps is for private customers; this customer is a business"
    assert attempts[1].reason == "eFaktura B2C is for private customers; this customer is a business"
    row = await runs.harness.invoice(invoice_id)
    assert (row.status, row.method) == ("delivered", "email")
    # Neither channel was even asked, though the mobile is Kari's and the e-mail an eFaktura consumer.
    assert (vipps.token_requests, vipps.create_requests) == (0, 0)
    assert adapter.submissions == {}
    [received] = smtp.messages
    assert received.rcpt_tos == ["faktura@acme.example"] and received.mail_from == GATEWAY
    assert received.message["Message-ID"] == evidence(attempts[2])["message_id"]
    assert "TOSL108" in received.message["Subject"]


# -- [factoring, ehf] -------------------------------------------------------------------------------


async def test_approved_invoice_is_sold_with_a_valid_factored_ubl(
    runs: Runs, business_channels: dict[str, Any], partner: FactoringServer, validator: Validator
) -> None:
    invoice_id, _ = await runs.run(business_channels, BUYER)
    attempts = await runs.attempts(invoice_id)
    assert [(a.method, a.outcome) for a in attempts] == [("factoring", "delivered")]
    assert evidence(attempts[0])["sold"] is True and evidence(attempts[0])["factor"] == "Nordic Finans AS"
    row = await runs.harness.invoice(invoice_id)
    assert (row.status, row.method) == ("sold", "factoring")
    assert len(partner.checks) == 1  # eligibility's credit check served the purchase too

    [sent] = partner.purchases.values()
    assert sent["idempotency_key"] == attempts[0].id
    ubl = base64.b64decode(sent["ubl_base64"])
    report = validator.validate(ubl)
    assert report.valid, report.fatal
    sold = read_invoice(ubl)
    assert sold.payee is not None
    assert (sold.payee.name, sold.payee.organisation_number) == ("Nordic Finans AS", "987654325")
    assert {means.account_id for means in sold.payment_means} == {"12345678903"}
    assert sold.notes[0].startswith("Fakturaen er overdratt til Nordic Finans AS")
    assert sold.kid == sent["kid"] == evidence(attempts[0])["kid"]
    assert await outbound_documents(runs.store, runs.tenant) == []  # EHF was never needed


async def test_declined_invoice_goes_by_ehf(
    runs: Runs, business_channels: dict[str, Any], partner: FactoringServer
) -> None:
    partner.limit = 500  # the invoice is 802.00
    invoice_id, _ = await runs.run(business_channels, BUYER)
    attempts = await runs.attempts(invoice_id)
    assert [(a.method, a.outcome) for a in attempts] == [("factoring", "not-eligible"), ("ehf", "pending")]
    assert attempts[0].reason == "the factor declined the credit check: above the buyer's limit"
    assert partner.purchases == {}
    row = await runs.harness.invoice(invoice_id)
    assert (row.status, row.method) == ("delivering", None)

    [document] = await outbound_documents(runs.store, runs.tenant)
    assert attempts[1].reference == document.id
    assert evidence(attempts[1])["document_id"] == document.id
    assert (document.status, document.receiver, document.idempotency_key) == (
        "queued",
        str(participant(BUYER_PARTICIPANT)),
        attempts[1].id,
    )
