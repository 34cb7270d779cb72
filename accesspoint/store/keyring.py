"""The store's memory of which keys its processes use (fingerprints only, never the keys)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from accesspoint.store.schema import keyring


class KeyMismatch(RuntimeError):
    """This process holds a different key than the one the store was first used with."""


async def agree_on_key(store: Store, name: str, fingerprint: str) -> None:
    """Remember ``fingerprint`` for ``name`` the first time; afterwards insist on the same one."""
    for _ in range(2):
        async with store.connect() as conn:
            known = (
                await conn.execute(sa.select(keyring.c.fingerprint).where(keyring.c.name == name))
            ).scalar()
        if known is not None:
            if known != fingerprint:
                raise KeyMismatch(
                    f"{name} differs from the key this database was first used with (fingerprint "
                    f"{known}, this process has {fingerprint}); every process sharing the database "
                    f"must be configured with the same {name}"
                )
            return
        try:
            async with store.begin() as conn:
                await conn.execute(
                    keyring.insert().values(name=name, fingerprint=fingerprint, created_at=now())
                )
            return
        except IntegrityError:  # another process registered it at the same moment: compare with theirs
            continue
