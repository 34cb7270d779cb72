"""Sealed credentials open only with the same key and for the same purpose; tampering is detected."""

from __future__ import annotations

import pytest

from accesspoint.secretbox import SecretBox, SecretBoxError
from accesspoint.store.engine import Store
from accesspoint.store.tenants import create_tenant
from distribution.storage.secrets import read_secret, secret_names, write_secret


def test_seal_and_open() -> None:
    box = SecretBox(b"k" * 32)
    sealed = box.seal(b"client-secret", "tenant:t1:vipps")
    assert b"client-secret" not in sealed
    assert box.open(sealed, "tenant:t1:vipps") == b"client-secret"
    assert box.seal(b"client-secret", "tenant:t1:vipps") != sealed  # fresh nonce each time
    with pytest.raises(SecretBoxError, match="cannot open"):
        box.open(sealed, "tenant:t2:vipps")  # copied to another tenant
    with pytest.raises(SecretBoxError, match=r"another secrets\.key"):
        SecretBox(b"z" * 32).open(sealed, "tenant:t1:vipps")
    damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SecretBoxError):
        box.open(damaged, "tenant:t1:vipps")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SecretBox(b"short")


async def test_stored_secrets_are_sealed_and_tenant_bound(store: Store) -> None:
    box = SecretBox(b"k" * 32)
    async with store.begin() as conn:
        one = (await create_tenant(conn, "one")).id
        two = (await create_tenant(conn, "two")).id
        await write_secret(conn, box, one, "vipps", {"client_secret": "s3cr3t-value"})
        await write_secret(conn, box, one, "vipps", {"client_secret": "rotated-value"})
    async with store.connect() as conn:
        assert await read_secret(conn, box, one, "vipps") == {"client_secret": "rotated-value"}
        assert await read_secret(conn, box, two, "vipps") is None
        assert await secret_names(conn, one) == ["vipps"]
        raw = (await conn.exec_driver_sql("SELECT sealed FROM tenant_secrets")).scalars().all()
    assert len(raw) == 1 and b"rotated-value" not in bytes(raw[0])
