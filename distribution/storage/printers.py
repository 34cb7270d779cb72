"""The tenant's CloudPrint printers (``printers``): a name, the printer's e-mail address and the
largest e-mail it takes. Every query names the tenant, so another tenant's printer is not found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import new_id, now
from distribution.storage.schema import printers


class PrinterExists(ValueError):
    """The tenant already has a printer of that name."""


@dataclass(frozen=True, slots=True)
class Printer:
    id: str
    name: str
    email: str
    max_bytes: int | None
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "max_bytes": self.max_bytes,
            "created_at": self.created_at,
        }


_COLUMNS = (printers.c.id, printers.c.name, printers.c.email, printers.c.max_bytes, printers.c.created_at)


def _printer(row: Any) -> Printer:
    return Printer(row.id, row.name, row.email, row.max_bytes, row.created_at)


async def add_printer(
    conn: AsyncConnection, tenant_id: str, name: str, email: str, max_bytes: int | None
) -> Printer:
    """Register a printer; raises :class:`PrinterExists` when the name is taken."""
    if await get_printer_by_name(conn, tenant_id, name) is not None:
        raise PrinterExists(name)
    printer = Printer(new_id("prn"), name, email, max_bytes, now())
    try:
        await conn.execute(
            printers.insert().values(
                id=printer.id,
                tenant_id=tenant_id,
                name=name,
                email=email,
                max_bytes=max_bytes,
                created_at=printer.created_at,
            )
        )
    except IntegrityError:  # a concurrent registration of the same name
        raise PrinterExists(name) from None
    return printer


async def list_printers(conn: AsyncConnection, tenant_id: str) -> list[Printer]:
    rows = await conn.execute(
        sa.select(*_COLUMNS).where(printers.c.tenant_id == tenant_id).order_by(printers.c.name)
    )
    return [_printer(row) for row in rows]


async def get_printer_by_name(conn: AsyncConnection, tenant_id: str, name: str) -> Printer | None:
    row = (
        await conn.execute(
            sa.select(*_COLUMNS).where(printers.c.tenant_id == tenant_id, printers.c.name == name)
        )
    ).first()
    return _printer(row) if row is not None else None


async def delete_printer(conn: AsyncConnection, tenant_id: str, printer_id: str) -> bool:
    deleted = await conn.execute(
        printers.delete().where(printers.c.tenant_id == tenant_id, printers.c.id == printer_id)
    )
    return deleted.rowcount > 0
