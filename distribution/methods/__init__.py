"""The delivery methods this server offers, by CONTRACT name (``ehf``, ``email``, ``autopost``, ...)."""

from __future__ import annotations

from accesspoint.config import Config
from distribution.methods.base import DeliveryMethod


def default_methods(config: Config) -> dict[str, DeliveryMethod]:
    """Every method built into ehfgate, configured from ``config``; the run offers exactly these."""
    methods: list[DeliveryMethod] = []
    return {method.name: method for method in methods}
