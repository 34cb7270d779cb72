"""Apply the schema migrations (``ehfgate db upgrade`` and, by default, ``serve`` at start)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.engine import Store


def migrations_dir() -> Path:
    """``schemas/migrations`` of the project (override with EHFGATE_MIGRATIONS)."""
    override = os.environ.get("EHFGATE_MIGRATIONS")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "schemas" / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the database to ``revision`` inside one connection."""
    config = alembic_config(store.url)

    def _upgrade(sync_connection: object) -> None:
        config.attributes["connection"] = sync_connection
        command.upgrade(config, revision)

    async with store.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(connection: AsyncConnection) -> str | None:
    def _current(sync_connection: object) -> str | None:
        return MigrationContext.configure(sync_connection).get_current_revision()  # type: ignore[arg-type]

    return await connection.run_sync(_current)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()
