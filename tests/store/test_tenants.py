"""Tenants, API keys and participants on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from accesspoint.store.engine import Store
from accesspoint.store.schema import api_keys
from accesspoint.store.tenants import (
    TenantError,
    add_participant,
    authenticate,
    create_api_key,
    create_tenant,
    get_tenant,
    tenant_for_participant,
)


async def test_tenant_key_round_trip(store: Store) -> None:
    async with store.begin() as conn:
        acme = await create_tenant(conn, "acme")
        key = await create_api_key(conn, acme)
    async with store.begin() as conn:
        assert await authenticate(conn, key) == acme
        stored = (await conn.execute(sa.select(api_keys.c.key_hash))).scalars().all()
        assert key not in stored and all(len(h) == 64 for h in stored)
        assert await authenticate(conn, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert await authenticate(conn, "ehfg_0000000000000000_nothing") is None
        assert await authenticate(conn, "garbage") is None


async def test_duplicate_tenant_and_unknown_tenant(store: Store) -> None:
    async with store.begin() as conn:
        await create_tenant(conn, "acme")
        with pytest.raises(TenantError, match="already exists"):
            await create_tenant(conn, "acme")
        with pytest.raises(TenantError, match="no tenant"):
            await get_tenant(conn, "nobody")


async def test_participants_belong_to_one_tenant(store: Store) -> None:
    async with store.begin() as conn:
        acme = await create_tenant(conn, "acme")
        other = await create_tenant(conn, "other")
        full = await add_participant(conn, acme, "0192:810418052")
        assert full == "iso6523-actorid-upis::0192:810418052"
        assert await add_participant(conn, acme, "iso6523-actorid-upis::0192:810418052") == full
        with pytest.raises(TenantError, match="another tenant"):
            await add_participant(conn, other, "ISO6523-ACTORID-UPIS::0192:810418052")
        assert await tenant_for_participant(conn, "0192:810418052") == acme.id
        assert await tenant_for_participant(conn, "0192:999999999") is None


async def test_blob_keeps_a_long_multipart_content_type(store: Store) -> None:
    from accesspoint.store.blobs import get_blob, put_blob

    media_type = 'multipart/related; boundary="----=_Part_' + "7" * 40 + '"; type="application/soap+xml"'
    async with store.begin() as conn:
        blob = await put_blob(conn, b"\x00\x01body", media_type)
    async with store.connect() as conn:
        assert await get_blob(conn, blob) == (b"\x00\x01body", media_type)
