"""Duplicate detection over time, on both engines: a resend inside the retention window gets the
original receipt; past the window the key is forgotten, yet the document is never delivered twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from accesspoint import sbdh
from accesspoint.as4 import ErrorSignal, read_response
from accesspoint.as4.trust import AnchorTrust
from accesspoint.identity import APIdentity
from accesspoint.pipeline.delivery import build
from accesspoint.pipeline.inbound import InboundSettings, forget_expired_message_ids, receive
from accesspoint.pki.devpki import DevPki, create_dev_pki
from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from accesspoint.store.schema import inbound, received_messages
from accesspoint.store.tenants import add_participant, create_tenant

INVOICE = "supplement/docs/004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return create_dev_pki(("POP000001", "POP000002"))


def identity(pki: DevPki, seat: str) -> APIdentity:
    return APIdentity(pki.ap(seat), seat, AnchorTrust(pki.anchors, pki.intermediates))


@pytest.fixture
def envelope(corpus: Path) -> bytes:
    return sbdh.envelope_for_ubl((corpus / INVOICE).read_bytes())


async def serve_receiver(store: Store, envelope: bytes) -> None:
    receiver = sbdh.read_envelope(envelope).receiver
    assert receiver is not None and receiver.value
    async with store.begin() as conn:
        tenant = await create_tenant(conn, "buyer")
        await add_participant(conn, tenant, receiver.value)


async def count(store: Store, table: sa.Table) -> int:
    async with store.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_resend_inside_the_window_gets_the_original_receipt(
    store: Store, pki: DevPki, envelope: bytes
) -> None:
    await serve_receiver(store, envelope)
    sender, receiver = identity(pki, "POP000001"), identity(pki, "POP000002")
    message = build(sender, envelope, pki.ap("POP000002").certificate, None)
    settings = InboundSettings(duplicate_retention_seconds=3600)
    first = await receive(store, receiver, message.content_type, message.body, settings)
    again = await receive(store, receiver, message.content_type, message.body, settings)
    assert first.kind == again.kind == "receipt"
    assert again.body == first.body
    assert await count(store, inbound) == 1
    assert await forget_expired_message_ids(store) == 0  # nothing expired yet
    assert await count(store, received_messages) == 1


async def test_past_the_window_the_key_goes_and_a_reused_message_id_is_refused(
    store: Store, pki: DevPki, envelope: bytes
) -> None:
    await serve_receiver(store, envelope)
    sender, receiver = identity(pki, "POP000001"), identity(pki, "POP000002")
    settings = InboundSettings(duplicate_retention_seconds=3600)
    old = build(sender, envelope, pki.ap("POP000002").certificate, None)
    fresh = build(sender, envelope, pki.ap("POP000002").certificate, None)
    assert (await receive(store, receiver, old.content_type, old.body, settings)).kind == "receipt"
    assert (await receive(store, receiver, fresh.content_type, fresh.body, settings)).kind == "receipt"

    # Only the first key is past its retention: housekeeping removes exactly that one.
    async with store.begin() as conn:
        await conn.execute(
            received_messages.update()
            .where(received_messages.c.message_id == old.message_id)
            .values(expires_at=now() - 1)
        )
    assert await forget_expired_message_ids(store, batch=1) == 1
    async with store.connect() as conn:
        kept = (await conn.execute(sa.select(received_messages.c.message_id))).scalars().all()
    assert kept == [fresh.message_id]

    answer = await receive(store, receiver, old.content_type, old.body, settings)
    assert answer.kind == "error"
    signal = read_response(answer.content_type, answer.body, old, trust=sender.trust)
    assert isinstance(signal, ErrorSignal)
    assert signal.errors[0].code == "EBMS:0004"
    assert "duplicate-detection window" in (signal.errors[0].description or "")
    assert await count(store, inbound) == 2  # no second copy of the old document
