"""Wake an invoice's run now, e.g. when a provider's callback says a PENDING delivery has moved on."""

from __future__ import annotations

from accesspoint.store.engine import Store
from accesspoint.store.ids import now
from accesspoint.store.schema import jobs
from distribution.run.engine import JOB_KIND


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
