"""The one small interface every delivery method implements, and what the run hands each of them.

A method answers two questions. ``eligible``: could this customer take this invoice by me at all?
Cheap and without side effects (no e-mail sent, no job submitted), so the run can also *explain*
itself. ``deliver``: do it, and say how it went:

- ``DELIVERED``: done, with evidence (a receipt, an SMTP Message-ID, a print job id).
- ``PENDING``: handed to someone who confirms later (the Peppol pipeline, a print provider); the run
  asks ``status(reference)`` again later, or is woken by a callback, until a final answer comes.
- ``CANNOT_RECEIVE``: this customer cannot take it this way (e.g. no mailbox, not a Peppol receiver):
  fall through to the next method at once.
- ``TRANSIENT``: try the same method again on the run's retry schedule, then fall through.
- ``PERMANENT``: this method failed for good for this invoice: fall through.

Methods never touch the run's state; the run records every check and attempt as an event.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import aiohttp

from accesspoint.config import Config
from accesspoint.store.engine import Store
from distribution.invoice import Invoice
from distribution.render.pool import PdfRenderer
from distribution.storage.designs import StoredDesign

CustomerKind = Literal["private", "business"]


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    PENDING = "pending"
    CANNOT_RECEIVE = "cannot-receive"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class SettingsError(ValueError):
    """A method's settings in the tenant's run are unusable; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Eligibility: ``reason`` says why (or why not) in words a finance team understands."""

    eligible: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    reason: str
    reference: str | None = None  # what ``status`` needs for a PENDING delivery
    evidence: Mapping[str, Any] = field(default_factory=dict)  # JSON-able facts kept with the attempt


@dataclass(frozen=True, slots=True)
class PostalAddress:
    lines: tuple[str, ...]
    postcode: str | None
    city: str | None
    country: str | None  # ISO 3166-1 alpha-2; None means NO


@dataclass(frozen=True, slots=True)
class Customer:
    """Contact data given with the invoice where the UBL does not carry it."""

    kind: CustomerKind = "business"
    name: str | None = None
    email: str | None = None
    invoice_email: str | None = None
    mobile: str | None = None
    participant: str | None = None
    preferred_method: str | None = None
    address: PostalAddress | None = None


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    filename: str
    mime_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Services:
    """What methods may use: the store, the configuration, one HTTP client session, the PDF renderer."""

    store: Store
    config: Config
    http: aiohttp.ClientSession
    renderer: PdfRenderer = field(default_factory=lambda: PdfRenderer(0))


@dataclass(slots=True)
class InvoiceContext:
    """One invoice as a method sees it. ``pdf()`` renders once, with the tenant's design, when first asked."""

    invoice_id: str
    # Stable for one try of one method on one invoice, recorded before ``deliver`` runs: a method
    # passes it as the idempotency key wherever the other side honours one, so a run resumed after
    # a crash cannot deliver twice through it (e-mail uses it for a stable Message-ID).
    attempt_key: str
    tenant: Tenant
    document: bytes = field(repr=False)  # the UBL Invoice or CreditNote as submitted
    invoice: Invoice
    customer: Customer
    attachments: tuple[AttachmentFile, ...]
    settings: Mapping[str, Any]  # this method's settings in the tenant's run
    services: Services
    render: Callable[[], Awaitable[bytes]] = field(repr=False)
    # The tenant's saved design as the run read it for this step (sender, language): a method need not
    # read it again. None: not read; a method that needs it reads it from the store.
    design: StoredDesign | None = field(default=None, repr=False)
    _pdf: bytes | None = field(default=None, repr=False)

    async def pdf(self) -> bytes:
        if self._pdf is None:
            self._pdf = await self.render()
        return self._pdf


class DeliveryMethod(Protocol):
    """A delivery method. Instances are shared by all tenants: keep per-invoice state in the context."""

    name: ClassVar[str]

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        """Raise :class:`SettingsError` unless ``settings`` are usable (called when a run is saved)."""

    async def eligible(self, ctx: InvoiceContext) -> Verdict: ...

    async def deliver(self, ctx: InvoiceContext) -> Result: ...

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        """The state of a PENDING delivery: PENDING again, or a final outcome."""
        ...
