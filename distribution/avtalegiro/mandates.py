"""AvtaleGiro mandates: which payers (by KID) let the tenant claim invoices from their account.

The bank reports agreements in agreement files (assignment type 24, one agreement record per KID:
registration type 0 = this is the full list of active agreements, 1 = new or changed, 2 = deleted;
``J``/``N`` = the payer wants the bank's notice). A tenant may also register a mandate it learned
elsewhere through the API. One row per tenant and KID; a deletion by the bank keeps the row
inactive, so the history of why a claim was not made stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import netsgiro
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import new_id, now
from distribution.storage.payments_schema import mandates

Registration = Literal["active", "new-or-changed", "deleted"]
Source = Literal["file", "api"]
_REGISTRATIONS: dict[int, Registration] = {0: "active", 1: "new-or-changed", 2: "deleted"}
MAX_CUSTOMER = 200


class AgreementFileError(ValueError):
    """The upload is not an AvtaleGiro agreement file; the message says why."""


@dataclass(frozen=True, slots=True)
class Mandate:
    id: str
    kid: str
    customer: str | None
    notify: bool
    active: bool
    source: str
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kid": self.kid,
            "customer": self.customer,
            "notify": self.notify,
            "active": self.active,
            "source": self.source,
            "updated_at": self.updated_at,
        }


def _mandate(row: Any) -> Mandate:
    return Mandate(
        id=row.id,
        kid=row.kid,
        customer=row.customer,
        notify=bool(row.notify),
        active=bool(row.active),
        source=row.source,
        updated_at=row.updated_at,
    )


_COLUMNS = (
    mandates.c.id,
    mandates.c.kid,
    mandates.c.customer,
    mandates.c.notify,
    mandates.c.active,
    mandates.c.source,
    mandates.c.updated_at,
)


async def get_mandate(conn: AsyncConnection, tenant_id: str, mandate_id: str) -> Mandate | None:
    row = (
        await conn.execute(
            sa.select(*_COLUMNS).where(mandates.c.tenant_id == tenant_id, mandates.c.id == mandate_id)
        )
    ).first()
    return _mandate(row) if row is not None else None


async def mandate_for_kid(conn: AsyncConnection, tenant_id: str, kid: str) -> Mandate | None:
    row = (
        await conn.execute(
            sa.select(*_COLUMNS).where(mandates.c.tenant_id == tenant_id, mandates.c.kid == kid)
        )
    ).first()
    return _mandate(row) if row is not None else None


async def active_mandate(conn: AsyncConnection, tenant_id: str, kid: str) -> Mandate | None:
    found = await mandate_for_kid(conn, tenant_id, kid)
    return found if found is not None and found.active else None


async def list_mandates(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    active: bool | None = None,
    limit: int = 200,
    after: str | None = None,
) -> list[Mandate]:
    """Ordered by KID; ``after`` is the last KID of the previous page."""
    query = sa.select(*_COLUMNS).where(mandates.c.tenant_id == tenant_id)
    if active is not None:
        query = query.where(mandates.c.active == active)
    if after is not None:
        query = query.where(mandates.c.kid > after)
    rows = await conn.execute(query.order_by(mandates.c.kid).limit(limit))
    return [_mandate(row) for row in rows]


async def register_mandate(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    kid: str,
    customer: str | None = None,
    notify: bool = False,
    source: Source = "api",
) -> tuple[Mandate, bool]:
    """Create, or update and reactivate, the tenant's mandate for ``kid``; True when created."""
    existing = await mandate_for_kid(conn, tenant_id, kid)
    stamp = now()
    if existing is not None:
        values: dict[str, Any] = {"notify": notify, "active": True, "source": source, "updated_at": stamp}
        if customer is not None:
            values["customer"] = customer
        await conn.execute(mandates.update().where(mandates.c.id == existing.id).values(**values))
        updated = await get_mandate(conn, tenant_id, existing.id)
        assert updated is not None
        return updated, False
    mandate_id = new_id("mdt")
    await conn.execute(
        mandates.insert().values(
            id=mandate_id,
            tenant_id=tenant_id,
            kid=kid,
            customer=customer,
            notify=notify,
            active=True,
            source=source,
            updated_at=stamp,
        )
    )
    created = await get_mandate(conn, tenant_id, mandate_id)
    assert created is not None
    return created, True


async def delete_mandate(conn: AsyncConnection, tenant_id: str, mandate_id: str) -> bool:
    result = await conn.execute(
        mandates.delete().where(mandates.c.tenant_id == tenant_id, mandates.c.id == mandate_id)
    )
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class AgreementChange:
    kid: str
    registration: Registration
    notify: bool


def read_agreement_file(data: bytes) -> list[AgreementChange]:
    """The agreement records of an agreement file, in file order (later records win)."""
    try:
        transmission = netsgiro.parse(data.decode("iso-8859-1"))
    except (ValueError, AssertionError, TypeError) as exc:
        raise AgreementFileError(f"not an OCR/AvtaleGiro file: {exc}") from exc
    changes: list[AgreementChange] = []
    for assignment in transmission.assignments:
        if assignment.type is not netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS:
            raise AgreementFileError(
                f"assignment {assignment.number} is not an AvtaleGiro agreement assignment (type 24)"
            )
        for item in assignment.transactions:
            if not isinstance(item, netsgiro.Agreement):
                raise AgreementFileError(
                    f"assignment {assignment.number} holds a record that is no agreement"
                )
            kid = (item.kid or "").strip()
            if not kid:
                raise AgreementFileError(f"agreement {item.number} has no KID")
            changes.append(AgreementChange(kid, _REGISTRATIONS[int(item.registration_type)], item.notify))
    if not changes:
        raise AgreementFileError("the file holds no agreement records")
    return changes


@dataclass(slots=True)
class AgreementImport:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "unchanged": self.unchanged,
        }


async def apply_agreements(
    conn: AsyncConnection, tenant_id: str, changes: list[AgreementChange]
) -> AgreementImport:
    """Apply an agreement file in order. A file with registration type 0 lists *all* active
    agreements, so mandates learned from earlier files that it no longer lists are deactivated
    (mandates registered through the API are the tenant's own word and stay as they are)."""
    counts = AgreementImport()
    for change in changes:
        existing = await mandate_for_kid(conn, tenant_id, change.kid)
        if change.registration == "deleted":
            if existing is not None and existing.active:
                await conn.execute(
                    mandates.update()
                    .where(mandates.c.id == existing.id)
                    .values(active=False, updated_at=now())
                )
                counts.deactivated += 1
            else:
                counts.unchanged += 1
            continue
        if existing is not None and existing.active and existing.notify == change.notify:
            counts.unchanged += 1
            continue
        _, created = await register_mandate(
            conn, tenant_id, kid=change.kid, notify=change.notify, source="file"
        )
        if created:
            counts.created += 1
        else:
            counts.updated += 1
    if any(change.registration == "active" for change in changes):
        listed = {change.kid for change in changes if change.registration != "deleted"}
        stale = await conn.execute(
            sa.select(mandates.c.id, mandates.c.kid).where(
                mandates.c.tenant_id == tenant_id,
                mandates.c.source == "file",
                mandates.c.active.is_(True),
            )
        )
        gone = [row.id for row in stale if row.kid not in listed]
        for start in range(0, len(gone), 500):
            await conn.execute(
                mandates.update()
                .where(mandates.c.id.in_(gone[start : start + 500]))
                .values(active=False, updated_at=now())
            )
        counts.deactivated += len(gone)
    return counts
