from __future__ import annotations

import pytest

from accesspoint.config import load_config
from accesspoint.validation.engine import Validator
from accesspoint.validation.setup import ValidationUnavailable, locate


@pytest.fixture(scope="session")
def validator() -> Validator:
    """One engine for the session, on the artifacts installed by `ehfgate artifacts fetch`."""
    try:
        root, catalogue = locate(load_config())
    except ValidationUnavailable as exc:
        pytest.fail(str(exc))
    return Validator(root, catalogue)
