"""Shared fixtures: where the shared corpus lives, and small helpers for tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from accesspoint.store.engine import Store
from accesspoint.store.migrate import upgrade
from tests.storage import fresh_store_url, postgres_reason

__all__ = ["postgres_reason"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared test material beside the repository (override with EHFGATE_SHARED_DIR)."""
    override = os.environ.get("EHFGATE_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not path.is_dir():
        pytest.fail(f"shared test material not found at {path}; set EHFGATE_SHARED_DIR")
    return path


@pytest.fixture(scope="session")
def corpus(shared: Path) -> Path:
    return shared / "corpus"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_reason: str | None
) -> AsyncIterator[str]:
    """An empty database URL, once per engine."""
    async for url in fresh_store_url(request.param, tmp_path, postgres_reason):
        yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """A migrated store on each engine."""
    opened = Store(store_url)
    await upgrade(opened)
    try:
        yield opened
    finally:
        await opened.close()
