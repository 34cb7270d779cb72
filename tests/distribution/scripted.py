"""Scripted delivery methods for the run's tests: the real interface, outcomes chosen by the test.

They stand in for the channels (EHF, e-mail, print...) so the engine can be driven through every
path: eligible only when a customer field is set, ``deliver`` answering a scripted sequence, and
``status`` another. Like a real provider they honour the attempt key: a second ``deliver`` with the
same key is recognised as the same delivery and not made again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from distribution.methods.base import AttachmentFile, InvoiceContext, Outcome, Result, SettingsError, Verdict


class Crash(BaseException):
    """Stands for the process dying (not an ``Exception``: nothing in the run may catch it)."""


CRASH = "crash"  # script entry: the provider takes the delivery, then the process dies
RAISE = "raise"  # script entry: the method raises an ordinary exception


@dataclass
class Call:
    invoice_id: str
    attempt_key: str
    settings: Mapping[str, Any]
    attachments: tuple[AttachmentFile, ...] = ()


@dataclass
class Scripted:
    """``needs``: the customer field that must be set to be eligible (None: always eligible)."""

    name: ClassVar[str] = "scripted"
    needs: str | None = None
    script: Sequence[Outcome | str] = (Outcome.DELIVERED,)
    status_script: Sequence[Outcome | str] = (Outcome.DELIVERED,)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)  # invoice ids whose eligibility was asked
    calls: list[Call] = field(default_factory=list)  # every deliver call
    delivered: dict[str, int] = field(default_factory=dict)  # attempt key -> deliveries made (1 each)
    polls: list[str] = field(default_factory=list)  # references asked for status
    render: bool = False  # ask for the PDF on delivery, as document channels do
    pdfs: list[bytes] = field(default_factory=list)

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        if settings.get("broken"):
            raise SettingsError("broken: this setting cannot be used")

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        self.checks.append(ctx.invoice_id)
        if self.needs is None:
            return Verdict(True, f"{self.name} takes everything")
        if getattr(ctx.customer, self.needs):
            return Verdict(True, f"customer has {self.needs}")
        return Verdict(False, f"customer has no {self.needs}")

    def _next(self, script: Sequence[Outcome | str], used: int) -> Outcome | str:
        return script[min(used, len(script) - 1)]

    async def deliver(self, ctx: InvoiceContext) -> Result:
        self.calls.append(Call(ctx.invoice_id, ctx.attempt_key, dict(ctx.settings), ctx.attachments))
        if self.render:
            self.pdfs.append(await ctx.pdf())
        if ctx.attempt_key in self.delivered:  # the same attempt again: already done, say so
            return Result(Outcome.DELIVERED, "already delivered under this key", evidence=self.evidence)
        answer = self._next(self.script, len(self.calls) - 1)
        if answer == CRASH:
            self.delivered[ctx.attempt_key] = 1
            raise Crash
        if answer == RAISE:
            raise RuntimeError(f"{self.name} broke")
        outcome = Outcome(answer)
        if outcome in (Outcome.DELIVERED, Outcome.PENDING):
            self.delivered[ctx.attempt_key] = 1
        return Result(
            outcome, f"{self.name} said {outcome}", reference=f"ref-{ctx.attempt_key}", evidence=self.evidence
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        self.polls.append(reference)
        answer = self._next(self.status_script, len(self.polls) - 1)
        if answer == RAISE:
            raise RuntimeError("status service down")
        outcome = Outcome(answer)
        return Result(outcome, f"{self.name} status {outcome}", reference=reference, evidence=self.evidence)


def scripted(name: str, **options: Any) -> Scripted:
    """A scripted method called ``name`` (each name its own class, as real methods are)."""
    cls = type(f"Scripted_{name}", (Scripted,), {"name": name})
    method: Scripted = cls(**options)
    return method
