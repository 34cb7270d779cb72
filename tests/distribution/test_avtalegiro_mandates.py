"""Mandates from agreement files and the API, and the AvtaleGiro method's eligibility and claims
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import netsgiro
import pytest
import sqlalchemy as sa

from accesspoint.config import Config
from accesspoint.store.blobs import put_blob
from accesspoint.store.engine import Store
from accesspoint.store.tenants import Tenant, create_tenant
from distribution.avtalegiro.claims import get_claim
from distribution.avtalegiro.mandates import (
    AgreementFileError,
    apply_agreements,
    list_mandates,
    mandate_for_kid,
    read_agreement_file,
    register_mandate,
)
from distribution.avtalegiro.settings import save_settings, settings_from_json
from distribution.invoice import Invoice, PaymentMeans, read_invoice
from distribution.methods.avtalegiro import AvtaleGiroMethod
from distribution.methods.base import Customer, InvoiceContext, Outcome, Services
from distribution.methods.base import Tenant as MethodTenant
from distribution.payments.kid import is_valid_kid, make_kid
from distribution.storage.schema import invoices
from tests.distribution.corpus import NORWEGIAN_EXAMPLE

OSLO_MORNING = dt.datetime(2030, 1, 7, 5, 0, tzinfo=dt.UTC)  # 06:00 in Oslo, before the 06:30 run
TODAY = dt.date(2030, 1, 7)
KID_A = make_kid("100001", algorithm="mod10")
KID_B = make_kid("100002", algorithm="mod10")
KID_C = make_kid("100003", algorithm="mod11")
DUMMY_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def settings_json(sftp: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "data_transmitter": "01234567",
        "agreement_id": "000123456",
        "account": "99998877777",
        "cutoff_days": 4,
        "schedule": "06:30",
        "sftp": sftp
        or {
            "host": "127.0.0.1",
            "port": 2222,
            "username": "payee",
            "path": "/inbox",
            "known_host_key": DUMMY_HOST_KEY,
        },
        **extra,
    }


def agreement_file(records: list[tuple[str, int, bool]]) -> bytes:
    """An agreement file as the bank sends it: (KID, registration type, notify) per record."""
    transmission = netsgiro.Transmission(
        number="0000001",
        data_transmitter=netsgiro.NETS_ID,
        data_recipient="01234567",
        date=dt.date(2030, 1, 2),
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO,
        assignment_type=netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS,
        number="0000001",
        account="99998877777",
    )
    for number, (kid, registration, notify) in enumerate(records, 1):
        assignment.transactions.append(
            netsgiro.Agreement(
                service_code=netsgiro.ServiceCode.AVTALEGIRO,
                number=number,
                registration_type=registration,
                kid=kid,
                notify=notify,
            )
        )
    return (transmission.to_ocr() + "\n").encode("iso-8859-1")


async def new_tenant(store: Store, name: str, *, configured: bool = True, **settings: Any) -> Tenant:
    async with store.begin() as conn:
        tenant = await create_tenant(conn, name)
        if configured:
            await save_settings(conn, tenant.id, settings_from_json(settings_json(**settings)))
    return tenant


async def new_invoice(
    store: Store,
    tenant: Tenant,
    number: str,
    amount: str,
    kid: str,
    due: dt.date,
    name: str = "Kari Nordmann",
) -> str:
    async with store.begin() as conn:
        blob = await put_blob(conn, b"<Invoice/>", "application/xml")
        invoice_id = f"inv_{tenant.name}_{number}"
        await conn.execute(
            invoices.insert().values(
                id=invoice_id,
                tenant_id=tenant.id,
                status="pending",
                customer={"kind": "private", "name": name},
                document_blob=blob,
                kind="invoice",
                number=number,
                kid=kid,
                amount=amount,
                currency="NOK",
                due_date=due.isoformat(),
                created_at=1_700_000_000.0,
                updated_at=1_700_000_000.0,
            )
        )
    return invoice_id


class Contexts:
    """What the run hands the method, for an invoice row and the read model of a real EHF document."""

    def __init__(self, store: Store, http: aiohttp.ClientSession, base: Invoice) -> None:
        self.store, self.http, self.base = store, http, base

    def __call__(
        self,
        tenant: Tenant,
        invoice_id: str,
        *,
        kid: str | None,
        amount: str,
        due: dt.date | None,
        currency: str = "NOK",
        key: str = "attempt-1",
    ) -> InvoiceContext:
        means = PaymentMeans("30", "99998877777", None, None, kid, due)
        invoice = dataclasses.replace(
            self.base,
            due_date=due,
            currency=currency,
            payment_means=(means,),
            totals=dataclasses.replace(self.base.totals, payable=Decimal(amount)),
        )
        return InvoiceContext(
            invoice_id=invoice_id,
            attempt_key=key,
            tenant=MethodTenant(tenant.id, tenant.name),
            document=b"<Invoice/>",
            invoice=invoice,
            customer=Customer(kind="private", name="Kari Nordmann"),
            attachments=(),
            settings={},
            services=Services(self.store, Config(), self.http),
            render=lambda: asyncio.sleep(0, b"%PDF-"),  # a PDF ready at once
        )


@pytest.fixture
async def contexts(store: Store, corpus: Path) -> AsyncIterator[Contexts]:
    async with aiohttp.ClientSession() as http:
        yield Contexts(store, http, read_invoice((corpus / NORWEGIAN_EXAMPLE).read_bytes()))


async def test_agreement_files_create_update_and_delete_mandates(store: Store) -> None:
    acme = await new_tenant(store, "acme")
    globex = await new_tenant(store, "globex")
    async with store.begin() as conn:
        counts = await apply_agreements(
            conn, acme.id, read_agreement_file(agreement_file([(KID_A, 1, True), (KID_B, 1, False)]))
        )
    assert counts.to_json() == {"created": 2, "updated": 0, "deactivated": 0, "unchanged": 0}
    async with store.begin() as conn:
        changes = read_agreement_file(
            agreement_file([(KID_A, 1, False), (KID_B, 2, False), (KID_C, 1, False)])
        )
        assert [(c.kid, c.registration) for c in changes] == [
            (KID_A, "new-or-changed"),
            (KID_B, "deleted"),
            (KID_C, "new-or-changed"),
        ]
        counts = await apply_agreements(conn, acme.id, changes)
        assert counts.to_json() == {"created": 1, "updated": 1, "deactivated": 1, "unchanged": 0}
        mandates = {m.kid: (m.active, m.notify, m.source) for m in await list_mandates(conn, acme.id)}
        assert mandates == {
            KID_A: (True, False, "file"),
            KID_B: (False, False, "file"),
            KID_C: (True, False, "file"),
        }
        assert await list_mandates(conn, globex.id) == []  # another tenant's file is not ours

    # A full listing (registration type 0) replaces what earlier files said; API mandates stay.
    kid_api = make_kid("200001", algorithm="mod10")
    async with store.begin() as conn:
        await register_mandate(conn, acme.id, kid=kid_api, customer="10042", notify=True)
        counts = await apply_agreements(
            conn, acme.id, read_agreement_file(agreement_file([(KID_C, 0, True)]))
        )
        assert (counts.updated, counts.deactivated) == (1, 1)  # C now notified, A no longer listed
        active = {m.kid for m in await list_mandates(conn, acme.id, active=True)}
        assert active == {KID_C, kid_api}
        again = await apply_agreements(conn, acme.id, read_agreement_file(agreement_file([(KID_C, 0, True)])))
        assert again.to_json() == {"created": 0, "updated": 0, "deactivated": 0, "unchanged": 1}
        # Re-registering a mandate the bank deleted brings it back.
        revived, created = await register_mandate(conn, acme.id, kid=KID_B)
        assert not created and revived.active and revived.source == "api"


def test_agreement_file_refusals() -> None:
    with pytest.raises(AgreementFileError, match="not an OCR"):
        read_agreement_file(b"NY0000 garbage\n")
    claims = netsgiro.Transmission(
        number="0000001", data_transmitter="01234567", data_recipient=netsgiro.NETS_ID
    )
    assignment = claims.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        number="0000001",
        account="99998877777",
        agreement_id="000123456",
    )
    assignment.add_payment_request(kid=KID_A, due_date=dt.date(2030, 1, 1), amount=Decimal(1))
    with pytest.raises(AgreementFileError, match="type 24"):
        read_agreement_file(claims.to_ocr().encode("iso-8859-1"))


async def test_eligibility_needs_an_active_mandate(store: Store, contexts: Contexts) -> None:
    method = AvtaleGiroMethod(clock=lambda: OSLO_MORNING)
    acme = await new_tenant(store, "acme")
    unset = await new_tenant(store, "initech", configured=False)
    due = TODAY + dt.timedelta(days=10)
    invoice_id = await new_invoice(store, acme, "1001", "1250.00", KID_A, due)

    def ctx(tenant: Tenant = acme, **changes: Any) -> InvoiceContext:
        values: dict[str, Any] = {"kid": KID_A, "amount": "1250.00", "due": due, **changes}
        return contexts(tenant, invoice_id, **values)

    without = await method.eligible(ctx())
    assert (
        not without.eligible
        and without.reason == f"the payer has no active AvtaleGiro agreement for KID {KID_A}"
    )
    refused = await method.deliver(ctx())
    assert refused.outcome is Outcome.CANNOT_RECEIVE and "no active AvtaleGiro agreement" in refused.reason

    async with store.begin() as conn:
        await apply_agreements(conn, acme.id, read_agreement_file(agreement_file([(KID_A, 1, True)])))
    verdict = await method.eligible(ctx())
    assert verdict.eligible, verdict.reason
    assert (await method.eligible(ctx(unset))).reason == "AvtaleGiro is not set up for this tenant"
    bad_kid = next(k for k in (KID_A[:-1] + d for d in "0123456789") if not is_valid_kid(k))
    cases = {
        "the invoice has no KID": ctx(kid=None),
        f"KID '{bad_kid}' is not a valid KID": ctx(kid=bad_kid),
        "nothing to claim": ctx(amount="0.00"),
        "AvtaleGiro claims are in NOK": ctx(currency="EUR"),
        "the invoice has no due date": ctx(due=None),
        "is too close": ctx(due=TODAY + dt.timedelta(days=3)),
    }
    for expected, case in cases.items():
        answer = await method.eligible(case)
        assert not answer.eligible and expected in answer.reason, (expected, answer.reason)
    assert (await method.eligible(ctx(due=TODAY + dt.timedelta(days=4)))).eligible  # exactly the cut-off
    # After today's run (06:30 Oslo) the claim waits for tomorrow's file: four days is one too few.
    late = AvtaleGiroMethod(clock=lambda: dt.datetime(2030, 1, 7, 5, 45, tzinfo=dt.UTC))
    assert not (await late.eligible(ctx(due=TODAY + dt.timedelta(days=4)))).eligible
    assert (await late.eligible(ctx(due=TODAY + dt.timedelta(days=5)))).eligible
    # A run after the bank's 14:00 cut-off counts from the next day.
    async with store.begin() as conn:
        await save_settings(conn, acme.id, settings_from_json(settings_json(schedule="15:00")))
    assert not (await method.eligible(ctx(due=TODAY + dt.timedelta(days=4)))).eligible
    assert (await method.eligible(ctx(due=TODAY + dt.timedelta(days=5)))).eligible
    async with store.begin() as conn:
        await save_settings(conn, acme.id, settings_from_json(settings_json()))

    async with store.begin() as conn:
        await apply_agreements(conn, acme.id, read_agreement_file(agreement_file([(KID_A, 2, False)])))
        gone = await mandate_for_kid(conn, acme.id, KID_A)
        assert gone is not None and not gone.active
    assert not (await method.eligible(ctx())).eligible


async def test_deliver_queues_one_claim_per_invoice(store: Store, contexts: Contexts) -> None:
    method = AvtaleGiroMethod(clock=lambda: OSLO_MORNING)
    acme = await new_tenant(store, "acme")
    due = TODAY + dt.timedelta(days=20)
    invoice_id = await new_invoice(store, acme, "1001", "1250.00", KID_A, due)
    async with store.begin() as conn:
        await register_mandate(conn, acme.id, kid=KID_A, notify=True)
    ctx = contexts(acme, invoice_id, kid=KID_A, amount="1250.00", due=due)
    first = await method.deliver(ctx)
    assert first.outcome is Outcome.PENDING and first.reference
    again = await method.deliver(
        contexts(acme, invoice_id, kid=KID_A, amount="1250.00", due=due, key="attempt-2")
    )
    assert again.reference == first.reference  # a resumed run does not claim twice
    async with store.connect() as conn:
        claim = await get_claim(conn, first.reference, acme.id)
        count = (await conn.execute(sa.text("SELECT count(*) FROM claims"))).scalar_one()
    assert claim is not None and count == 1
    assert (claim.kid, claim.amount, claim.due_date, claim.notify, claim.state) == (
        KID_A,
        Decimal("1250.00"),
        due,
        True,
        "queued",
    )
    status = await method.status(ctx, first.reference)
    assert status.outcome is Outcome.PENDING and status.evidence["state"] == "queued"
    other = await new_tenant(store, "globex")
    foreign = await method.status(
        contexts(other, invoice_id, kid=KID_A, amount="1", due=due), first.reference
    )
    assert foreign.outcome is Outcome.PERMANENT  # another tenant's claim does not exist for it
