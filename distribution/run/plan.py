"""The order an invoice tries delivery methods, fixed when the invoice is accepted.

Fixing it at acceptance (``invoices.plan``) means a tenant editing its run later never changes what
an invoice already in flight does next, and ``explain`` can show exactly the order the run follows.

Rules: a per-invoice override sends by that method only; otherwise the customer's preferred method
goes first when the tenant's run enables it (else it is skipped, with the reason recorded), then
the tenant's run in order; each method at most once. A method the server does not offer is skipped
with a reason too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The product's default run for a tenant that has never saved one.
DEFAULT_RUN: tuple[Mapping[str, Any], ...] = ({"method": "ehf"}, {"method": "email"}, {"method": "autopost"})


@dataclass(frozen=True, slots=True)
class Step:
    """One method the invoice will try, with its settings from the tenant's run."""

    method: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, **self.settings}

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Step:
        return cls(str(entry["method"]), {k: v for k, v in entry.items() if k != "method"})


@dataclass(frozen=True, slots=True)
class Skip:
    """A method left out of the plan, and why (recorded with the invoice's attempts)."""

    method: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    skipped: tuple[Skip, ...] = ()

    def to_json(self) -> list[dict[str, Any]]:
        return [step.to_json() for step in self.steps]


def run_steps(run: Sequence[Mapping[str, Any]] | None) -> tuple[Step, ...]:
    """The tenant's saved run as steps; the default run when none was saved."""
    return tuple(Step.from_json(entry) for entry in (DEFAULT_RUN if run is None else run))


def make_plan(
    run: Sequence[Mapping[str, Any]] | None,
    *,
    available: Collection[str],
    preferred: str | None = None,
    override: str | None = None,
) -> Plan:
    """The plan for one invoice. ``available`` are the methods this server offers."""
    steps = run_steps(run)
    enabled = {step.method: step for step in steps}
    if override is not None:
        if override not in available:
            return Plan((), (Skip(override, f"method {override!r} is not available on this server"),))
        return Plan((enabled.get(override, Step(override)),))
    ordered: list[Step] = []
    skipped: list[Skip] = []
    if preferred is not None:
        if preferred not in enabled:
            skipped.append(
                Skip(preferred, f"preferred method {preferred!r} is not enabled in the tenant's run")
            )
        else:
            ordered.append(enabled[preferred])
    for step in steps:
        if all(step.method != chosen.method for chosen in ordered):
            ordered.append(step)
    kept: list[Step] = []
    for step in ordered:
        if step.method in available:
            kept.append(step)
        else:
            skipped.append(Skip(step.method, f"method {step.method!r} is not available on this server"))
    return Plan(tuple(kept), tuple(skipped))
