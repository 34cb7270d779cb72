"""Wake an invoice's run now, e.g. when a provider's callback says a PENDING delivery has moved on,
or when the access point has finished the outbound document an EHF delivery waits for."""

from __future__ import annotations

import sqlalchemy as sa

from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from accesspoint.store.schema import jobs
from distribution.methods.base import Outcome
from distribution.run.engine import JOB_KIND
from distribution.storage.schema import invoice_attempts, invoices


async def wake(store: Store, invoice_id: str) -> bool:
    """Make the invoice's waiting job due now; False when it has none (finished, or never queued).

    A job leased at this moment is left to its worker, which is already looking at the invoice.
    """
    at = now()
    async with store.begin() as conn:
        result = await conn.execute(
            jobs.update()
            .where(
                jobs.c.kind == JOB_KIND,
                jobs.c.ref == invoice_id,
                jobs.c.done.is_(False),
                (jobs.c.lease_until.is_(None)) | (jobs.c.lease_until < at),
            )
            .values(run_at=at)
        )
    return result.rowcount > 0


async def wake_waiting_on(store: Store, tenant_id: str, reference: str) -> bool:
    """Wake the run of the tenant's invoice whose PENDING delivery has ``reference`` (for EHF, the
    outbound document's id); False when no run waits on it."""
    async with store.connect() as conn:
        invoice_id = (
            await conn.execute(
                sa.select(invoice_attempts.c.invoice_id)
                .join(invoices, invoices.c.id == invoice_attempts.c.invoice_id)
                .where(
                    invoice_attempts.c.reference == reference,
                    invoice_attempts.c.outcome == Outcome.PENDING.value,
                    invoices.c.tenant_id == tenant_id,
                )
                .limit(1)
            )
        ).scalar()
    return invoice_id is not None and await wake(store, invoice_id)
