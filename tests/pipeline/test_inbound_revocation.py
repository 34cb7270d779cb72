"""An AS4 message signed with a revoked certificate is refused (EBMS:0101) and nothing is stored; the
same sender with a good OCSP answer is received. The OCSP responder is real, on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from accesspoint import sbdh
from accesspoint.as4 import ErrorSignal, read_response
from accesspoint.identity import APIdentity
from accesspoint.pipeline.delivery import build
from accesspoint.pipeline.inbound import InboundSettings, receive
from accesspoint.pki.chain import issuing_cas_under
from accesspoint.pki.checker import CertificateChecker
from accesspoint.pki.devpki import DevPki, create_dev_pki
from accesspoint.pki.revocation import RevocationChecker
from accesspoint.store.engine import Store
from accesspoint.store.schema import inbound
from accesspoint.store.tenants import add_participant, create_tenant
from tests.pki.responders import Responders, serve

INVOICE = "supplement/docs/004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return create_dev_pki(("POP000001", "POP000002"))


@pytest.fixture
async def responders(pki: DevPki) -> AsyncIterator[Responders]:
    async with serve(Responders(ca=pki.ap_ca, signer=pki.ap_ca)) as running:
        yield running


def identity(pki: DevPki, seat: str, policy: str = "soft") -> APIdentity:
    issuers = issuing_cas_under(pki.anchors, [pki.ap_ca.certificate], "dev")
    revocation = RevocationChecker(unknown_ttl=dt.timedelta(0), timeout=5)
    checker = CertificateChecker(issuers, revocation=policy, revocation_checker=revocation)  # type: ignore[arg-type]
    return APIdentity(pki.ap(seat), seat, checker.as4_trust(), checker)


async def stored(store: Store) -> int:
    async with store.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(inbound))).scalar_one())


@pytest.mark.parametrize("policy", ["soft", "hard"])
async def test_revoked_sender_is_refused_and_nothing_stored(
    store: Store, corpus: Path, pki: DevPki, responders: Responders, policy: str
) -> None:
    envelope = sbdh.envelope_for_ubl((corpus / INVOICE).read_bytes())
    recipient = sbdh.read_envelope(envelope).receiver
    assert recipient is not None and recipient.value
    async with store.begin() as conn:
        await add_participant(conn, await create_tenant(conn, "buyer"), recipient.value)
    sender_credentials = pki.issue("POP000001", ocsp_url=responders.ocsp_url)
    sender = APIdentity(sender_credentials, "POP000001", identity(pki, "POP000001").trust)
    receiver = identity(pki, "POP000002", policy)
    assert receiver.checker is not None

    good = build(sender, envelope, pki.ap("POP000002").certificate, None)
    answer = await receive(store, receiver, good.content_type, good.body, InboundSettings())
    assert answer.kind == "receipt" and await stored(store) == 1
    assert responders.ocsp_requests == 1

    responders.revoke(sender_credentials.certificate)
    fresh = identity(pki, "POP000002", policy)  # a new checker: no cached "good"
    refused = build(sender, envelope, pki.ap("POP000002").certificate, None)
    answer = await receive(store, fresh, refused.content_type, refused.body, InboundSettings())
    assert answer.kind == "error"
    signal = read_response(answer.content_type, answer.body, refused, trust=sender.trust)
    assert isinstance(signal, ErrorSignal)
    assert signal.errors[0].code == "EBMS:0101"
    assert "revoked" in (signal.errors[0].description or "")
    assert await stored(store) == 1  # the refused message left nothing behind
    await receiver.checker.aclose()
    assert fresh.checker is not None
    await fresh.checker.aclose()
