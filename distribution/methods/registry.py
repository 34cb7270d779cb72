"""The delivery methods this server offers, by CONTRACT name (``ehf``, ``email``, ``autopost``, ...)."""

from __future__ import annotations

from collections.abc import Callable

from accesspoint.config import Config
from accesspoint.pipeline.routing import Router
from distribution.methods.autopost import AutopostMethod
from distribution.methods.avtalegiro import AvtaleGiroMethod
from distribution.methods.base import DeliveryMethod
from distribution.methods.cloudprint import CloudPrintMethod
from distribution.methods.efaktura import EfakturaMethod
from distribution.methods.ehf import EhfMethod, Validate
from distribution.methods.email import EmailMethod
from distribution.methods.factoring import FactoringMethod
from distribution.methods.vipps import VippsMethod


def default_methods(
    config: Config, *, router: Callable[[], Router], validate: Validate
) -> dict[str, DeliveryMethod]:
    """Every method built into ehfgate; the run offers exactly these. ``router`` and ``validate`` are the
    running server's (the EHF method sends through the access point's own pipeline)."""
    methods: list[DeliveryMethod] = [
        EhfMethod(router, validate),
        EmailMethod(),
        CloudPrintMethod(),
        AutopostMethod(),
        AvtaleGiroMethod(),
        FactoringMethod(),
        VippsMethod(),
        EfakturaMethod(),
    ]
    return {method.name: method for method in methods}
