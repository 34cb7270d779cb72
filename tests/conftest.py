"""Shared fixtures: where the shared corpus lives, and small helpers for tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
