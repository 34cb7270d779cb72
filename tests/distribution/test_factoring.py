"""Factoring against a loopback partner of our contract, on SQLite and PostgreSQL: an approved
invoice is rewritten (factor as payee, its account, its KID, the assignment notice), still validates
with the official rules, and is sold; a declined credit check cannot receive with the factor's
reason; a rejected purchase is permanent."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from accesspoint.config import load_config
from accesspoint.validation.engine import Validator
from accesspoint.validation.setup import ValidationUnavailable, locate
from distribution.factoring.assign import AssignError, assign_to_factor
from distribution.factoring.settings import Factor, factoring_settings
from distribution.invoice import read_invoice
from distribution.methods.base import Customer, Outcome, SettingsError
from distribution.methods.factoring import FactoringMethod
from distribution.payments.kid import is_valid_kid
from distribution.storage.channels import box_for, save_settings
from distribution.storage.secrets import write_secret
from tests.distribution import test_vipps
from tests.distribution.factoring_server import FactoringServer
from tests.distribution.test_vipps import World

world = test_vipps.world  # the shared fixture: a tenant, an invoice, a store
FACTOR = {"name": "Nordic Finans AS", "organisation_number": "987654325", "account": "12345678903"}
NOTICE = "Fakturaen er overdratt til {factor} og kan bare betales til konto {account}."
BUYER = Customer(kind="business", name="Buyercompany ASA")
CREDIT_NOTE = "docs/08e0ad82-rules_examples_base-creditnote-correction.xml"


@pytest.fixture(scope="module")
def validator() -> Validator:
    try:
        root, catalogue = locate(load_config())
    except ValidationUnavailable as exc:
        pytest.fail(str(exc))
    return Validator(root, catalogue)


@pytest.fixture
async def partner() -> AsyncIterator[FactoringServer]:
    server = FactoringServer()
    await server.start()
    yield server
    await server.close()


async def configure(world: World, partner: FactoringServer, **factor: str) -> None:
    async with world.store.begin() as conn:
        settings = {"base_url": partner.url, "factor": {**FACTOR, **factor}, "assignment_text": NOTICE}
        await save_settings(conn, world.tenant.id, "factoring", settings)
        await write_secret(
            conn,
            box_for(world.config),
            world.tenant.id,
            "factoring",
            {"api_key": partner.api_key, "callback_secret": "cb"},
        )


def test_settings_are_checked() -> None:
    good = {"base_url": "https://factor.example/v1", "factor": FACTOR}
    assert factoring_settings(good).factor.account == "12345678903"
    bad = [
        ({**good, "base_url": "http://factor.example"}, "base_url"),
        ({**good, "factor": {**FACTOR, "organisation_number": "987654321"}}, "organisation_number"),
        ({**good, "factor": {**FACTOR, "account": "12"}}, "account"),
        ({**good, "factor": {**FACTOR, "kid_algorithm": "luhn"}}, "kid_algorithm"),
        ({**good, "extra": 1}, "extra"),
    ]
    for value, word in bad:
        with pytest.raises(SettingsError, match=word):
            factoring_settings(value)


def test_a_credit_note_is_not_sold(corpus: Path) -> None:
    with pytest.raises(AssignError, match="only an Invoice"):
        assign_to_factor((corpus / CREDIT_NOTE).read_bytes(), Factor("F", "987654325", "12345678903"), "n")


def test_the_corpus_factoring_example_is_the_model(corpus: Path, validator: Validator) -> None:
    """The example predates today's Peppol rules (its Swedish numbers fail them); the rewrite of it
    must add no error of its own, and carry the factor the way the example does."""
    model = (corpus / "docs/55f68ea3-test_testfiles_BIS_Billing_30-Factoring.xml").read_bytes()
    before = {finding.rule for finding in validator.validate(model).fatal}
    rewritten = assign_to_factor(model, Factor("Nordic Finans AS", "987654325", "12345678903"), "Assigned.")
    after = {finding.rule for finding in validator.validate(rewritten).fatal}
    assert after <= before
    invoice = read_invoice(rewritten)
    assert invoice.payee is not None and invoice.payee.name == "Nordic Finans AS"
    assert len(invoice.notes) == 1 and invoice.notes[0].startswith("Assigned.")
    assert [means.account_id for means in invoice.payment_means] == ["12345678903"]


async def test_approved_invoice_is_rewritten_validated_and_sold(
    world: World, partner: FactoringServer, validator: Validator
) -> None:
    await configure(world, partner, kid_algorithm="mod10")
    method = FactoringMethod()
    ctx = world.ctx(BUYER)
    verdict = await method.eligible(ctx)
    assert verdict.eligible, verdict.reason
    result = await method.deliver(ctx)
    assert result.outcome is Outcome.DELIVERED, result.reason
    assert result.evidence["sold"] is True and result.evidence["factor"] == "Nordic Finans AS"
    assert len(partner.checks) == 1  # the eligibility check's answer was reused
    assert partner.checks[0]["customer"]["name"] == "Buyercompany ASA"
    assert partner.checks[0]["amount"] == "802.00"

    (sent,) = partner.purchases.values()
    assert sent["idempotency_key"] == "att_0001" and sent["invoice_number"] == "TOSL108"
    assert base64.b64decode(sent["pdf_base64"]).startswith(b"%PDF")
    ubl = base64.b64decode(sent["ubl_base64"])
    report = validator.validate(ubl)
    assert report.valid, report.fatal
    sold = read_invoice(ubl)
    assert sold.payee is not None
    assert (sold.payee.name, sold.payee.organisation_number) == ("Nordic Finans AS", "987654325")
    assert {means.account_id for means in sold.payment_means} == {"12345678903"}
    assert sold.kid == sent["kid"] and sold.kid != world.invoice.kid and is_valid_kid(sold.kid or "")
    assert len(sold.notes) == 1
    assert sold.notes[0].startswith(
        "Fakturaen er overdratt til Nordic Finans AS og kan bare betales til konto 12345678903."
    )
    assert "Ordered in our booth" in sold.notes[0]  # the seller's own note is kept after it

    again = await method.deliver(ctx)  # a resumed run: the partner answers the first purchase
    assert again.reference == result.reference and len(partner.purchases) == 1


async def test_declined_credit_check_cannot_receive(world: World, partner: FactoringServer) -> None:
    await configure(world, partner)
    partner.declined["Buyercompany ASA"] = "payment remarks registered"
    method = FactoringMethod()
    verdict = await method.eligible(world.ctx(BUYER))
    assert not verdict.eligible and "payment remarks registered" in verdict.reason
    result = await method.deliver(world.ctx(BUYER))
    assert result.outcome is Outcome.CANNOT_RECEIVE and "payment remarks registered" in result.reason
    assert partner.purchases == {}


async def test_above_the_limit_cannot_receive(world: World, partner: FactoringServer) -> None:
    await configure(world, partner)
    partner.limit = 500
    result = await FactoringMethod().deliver(world.ctx(BUYER))
    assert result.outcome is Outcome.CANNOT_RECEIVE and "limit" in result.reason


async def test_rejected_purchase_is_permanent(world: World, partner: FactoringServer) -> None:
    await configure(world, partner)
    partner.reject_purchases = "the buyer is already fully financed"
    result = await FactoringMethod().deliver(world.ctx(BUYER))
    assert result.outcome is Outcome.PERMANENT and "fully financed" in result.reason
    assert "sold" not in result.evidence


async def test_unconfigured_and_unreachable(world: World, partner: FactoringServer) -> None:
    method = FactoringMethod()
    assert not (await method.eligible(world.ctx(BUYER))).eligible
    await configure(world, partner)
    await partner.close()
    result = await FactoringMethod().deliver(world.ctx(BUYER))
    assert result.outcome is Outcome.TRANSIENT
