"""Store fixtures for both engines: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from EHFGATE_TEST_POSTGRES_URL (default: 127.0.0.1:5432, database test). Each test
gets a database of its own. Where PostgreSQL is missing the tests fail in CI (CI=true) and are skipped
with the reason elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    return os.environ.get("EHFGATE_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


async def _admin(sql: str) -> None:
    import asyncpg

    url = make_url(postgres_admin_url())
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_unavailable() -> str | None:
    try:
        asyncio.run(_admin("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL at {postgres_admin_url()} unreachable: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return postgres_unavailable()


async def fresh_store_url(kind: str, tmp_path: Path, reason: str | None) -> AsyncIterator[str]:
    """A URL for an empty database of ``kind``, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"ehfgate_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_postgres_database(reason: str | None) -> str:
    """A fresh PostgreSQL database for tests that share it between processes (drop it afterwards)."""
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"ehfgate_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
