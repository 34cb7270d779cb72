"""AvtaleGiro claims and the files they travel in: rows, state changes, and (re)building a file.

A claim moves ``queued`` → ``in-file`` → ``sent``; it may be ``cancelled`` until its file is sent,
and a queued claim whose due date came too close to be claimed in time becomes ``expired``. A file
is ``written`` → ``sending`` → ``sent`` (or ``void`` when every claim in it was cancelled).

Every state change is a conditional update (``... WHERE state = <expected>``) so the batch and a
cancellation racing each other cannot both win: on PostgreSQL the row lock orders them, on SQLite
the database write lock does. A cancellation only rewrites a file that is ``written``; once the
batch has marked it ``sending`` the claim is on its way and the cancellation is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.blobs import get_blob, put_blob
from accesspoint.store.ids import new_id, now
from distribution.avtalegiro.claims_file import ClaimLine, FileHeader, build_claims_file
from distribution.avtalegiro.settings import AvtaleGiroSettings, load_settings, lock_tenant
from distribution.storage.payments_schema import claim_files, claims
from distribution.storage.schema import invoices

QUEUED, IN_FILE, SENT, CANCELLED, EXPIRED = "queued", "in-file", "sent", "cancelled", "expired"
WRITTEN, SENDING, VOID = "written", "sending", "void"
LIVE = (QUEUED, IN_FILE, SENT)
MEDIA_TYPE = "text/plain; charset=iso-8859-1"
MAX_MONTHS_AHEAD = 12


class ClaimNotFound(LookupError):
    pass


class ClaimNotCancellable(RuntimeError):
    """The claim has left (or is leaving) for the bank; the message says where it is."""


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    tenant_id: str
    invoice_id: str
    kid: str
    amount: Decimal
    due_date: dt.date
    notify: bool
    state: str
    claim_file_id: str | None
    transaction_number: int | None
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "invoice_id": self.invoice_id,
            "kid": self.kid,
            "amount": f"{self.amount:.2f}",
            "due_date": self.due_date.isoformat(),
            "notify": self.notify,
            "state": self.state,
            "claim_file_id": self.claim_file_id,
            "transaction_number": self.transaction_number,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class ClaimFile:
    id: str
    tenant_id: str
    transmission_number: str
    blob_id: str
    state: str
    attempts: int
    last_error: str | None
    created_at: float
    sent_at: float | None


def _claim(row: Any) -> Claim:
    return Claim(
        id=row.id,
        tenant_id=row.tenant_id,
        invoice_id=row.invoice_id,
        kid=row.kid,
        amount=Decimal(row.amount),
        due_date=dt.date.fromisoformat(row.due_date),
        notify=bool(row.notify),
        state=row.state,
        claim_file_id=row.claim_file_id,
        transaction_number=row.transaction_number,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _file(row: Any) -> ClaimFile:
    return ClaimFile(
        id=row.id,
        tenant_id=row.tenant_id,
        transmission_number=row.transmission_number,
        blob_id=row.blob_id,
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, kept within the month (31 January + 1 month = 28/29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def claim_window(today: dt.date, cutoff_days: int) -> tuple[dt.date, dt.date]:
    """Due dates a file written on ``today`` may carry: at least ``cutoff_days`` ahead, at most
    12 months ahead (the bank refuses both other cases)."""
    return today + dt.timedelta(days=cutoff_days), add_months(today, MAX_MONTHS_AHEAD)


async def get_claim(conn: AsyncConnection, claim_id: str, tenant_id: str | None = None) -> Claim | None:
    query = sa.select(claims).where(claims.c.id == claim_id)
    if tenant_id is not None:
        query = query.where(claims.c.tenant_id == tenant_id)
    row = (await conn.execute(query)).first()
    return _claim(row) if row is not None else None


async def get_file(conn: AsyncConnection, file_id: str) -> ClaimFile | None:
    row = (await conn.execute(sa.select(claim_files).where(claim_files.c.id == file_id))).first()
    return _file(row) if row is not None else None


async def claims_in_file(conn: AsyncConnection, file_id: str) -> list[Claim]:
    rows = await conn.execute(
        sa.select(claims)
        .where(claims.c.claim_file_id == file_id, claims.c.state.in_((IN_FILE, SENT)))
        .order_by(claims.c.transaction_number)
    )
    return [_claim(row) for row in rows]


async def queue_claim(
    conn: AsyncConnection,
    tenant_id: str,
    invoice_id: str,
    *,
    kid: str,
    amount: Decimal,
    due_date: dt.date,
    notify: bool,
) -> tuple[Claim, bool]:
    """The invoice's live claim, or a new queued one; True when created (a repeat is idempotent)."""
    existing = (
        await conn.execute(
            sa.select(claims)
            .where(
                claims.c.tenant_id == tenant_id, claims.c.invoice_id == invoice_id, claims.c.state.in_(LIVE)
            )
            .order_by(claims.c.created_at)
        )
    ).first()
    if existing is not None:
        return _claim(existing), False
    claim_id = new_id("clm")
    stamp = now()
    await conn.execute(
        claims.insert().values(
            id=claim_id,
            tenant_id=tenant_id,
            invoice_id=invoice_id,
            kid=kid,
            amount=f"{amount:.2f}",
            due_date=due_date.isoformat(),
            notify=notify,
            state=QUEUED,
            created_at=stamp,
            updated_at=stamp,
        )
    )
    created = await get_claim(conn, claim_id)
    assert created is not None
    return created, True


def _line(claim: Claim, number: str | None, customer: dict[str, Any] | None) -> ClaimLine:
    """The request as the payer sees it: the invoice number on the statement and, when the payer
    asked the bank to notify, a short notice. Derived from stored facts only, so a rebuilt file
    repeats it exactly."""
    label = f"Faktura {number}" if number else f"KID {claim.kid}"
    name = (customer or {}).get("name")
    notice = None
    if claim.notify:
        amount = f"{claim.amount:.2f}".replace(".", ",")
        notice = "\n".join(
            (label, f"Forfall {claim.due_date:%d.%m.%Y}", f"Beløp kr {amount}", f"KID {claim.kid}")
        )
    return ClaimLine(
        kid=claim.kid,
        due_date=claim.due_date,
        amount=claim.amount,
        reference=label,
        payer_name=name if isinstance(name, str) else None,
        notice=notice,
    )


async def _write_file(
    conn: AsyncConnection, settings: AvtaleGiroSettings, number: str, members: list[Claim]
) -> tuple[str, list[int]]:
    """Build the file for ``members`` (in that order), store it, and number the claims."""
    invoice_ids = [claim.invoice_id for claim in members]
    facts = {
        row.id: (row.number, row.customer)
        for row in await conn.execute(
            sa.select(invoices.c.id, invoices.c.number, invoices.c.customer).where(
                invoices.c.id.in_(invoice_ids)
            )
        )
    }
    lines = [_line(claim, *facts.get(claim.invoice_id, (None, None))) for claim in members]
    header = FileHeader(
        data_transmitter=settings.data_transmitter,
        agreement_id=settings.agreement_id,
        account=settings.account,
        transmission_number=number,
        assignment_number=number,
    )
    data, numbers = build_claims_file(header, lines)
    blob_id = await put_blob(conn, data, MEDIA_TYPE)
    for claim, transaction in zip(members, numbers, strict=True):
        await conn.execute(
            claims.update()
            .where(claims.c.id == claim.id)
            .values(transaction_number=transaction, updated_at=now())
        )
    return blob_id, numbers


async def _next_transmission_number(conn: AsyncConnection, tenant_id: str) -> str:
    latest = (
        await conn.execute(
            sa.select(sa.func.max(claim_files.c.transmission_number)).where(
                claim_files.c.tenant_id == tenant_id
            )
        )
    ).scalar_one_or_none()
    following = int(latest) + 1 if latest else 1
    if following > 9_999_999:
        raise RuntimeError("transmission numbers are used up (7 digits)")
    return f"{following:07d}"


@dataclass(frozen=True, slots=True)
class NewFile:
    file: ClaimFile | None  # None: nothing in the window (claims may still have expired)
    claims: list[Claim]
    expired: int


async def expire_late_claims(conn: AsyncConnection, tenant_id: str, earliest: dt.date) -> int:
    result = await conn.execute(
        claims.update()
        .where(
            claims.c.tenant_id == tenant_id,
            claims.c.state == QUEUED,
            claims.c.due_date < earliest.isoformat(),
        )
        .values(state=EXPIRED, updated_at=now())
    )
    return int(result.rowcount or 0)


async def create_file(
    conn: AsyncConnection, tenant_id: str, settings: AvtaleGiroSettings, today: dt.date
) -> NewFile:
    """Move every queued claim whose due date is within reach into one new file (``written``).

    Claims that can no longer reach the bank before their due date become ``expired``; claims due
    more than 12 months ahead wait for a later run.
    """
    if not await lock_tenant(conn, tenant_id):
        return NewFile(file=None, claims=[], expired=0)
    earliest, latest = claim_window(today, settings.cutoff_days)
    expired = await expire_late_claims(conn, tenant_id, earliest)
    file_id = new_id("cfl")
    stamp = now()
    await conn.execute(
        claims.update()
        .where(
            claims.c.tenant_id == tenant_id,
            claims.c.state == QUEUED,
            claims.c.due_date >= earliest.isoformat(),
            claims.c.due_date <= latest.isoformat(),
        )
        .values(state=IN_FILE, claim_file_id=file_id, updated_at=stamp)
    )
    rows = await conn.execute(
        sa.select(claims)
        .where(claims.c.claim_file_id == file_id, claims.c.state == IN_FILE)
        .order_by(claims.c.due_date, claims.c.created_at, claims.c.id)
    )
    members = [_claim(row) for row in rows]
    if not members:
        return NewFile(file=None, claims=[], expired=expired)
    number = await _next_transmission_number(conn, tenant_id)
    blob_id, _ = await _write_file(conn, settings, number, members)
    await conn.execute(
        claim_files.insert().values(
            id=file_id,
            tenant_id=tenant_id,
            transmission_number=number,
            blob_id=blob_id,
            state=WRITTEN,
            attempts=0,
            created_at=stamp,
        )
    )
    written = await get_file(conn, file_id)
    assert written is not None
    return NewFile(file=written, claims=await claims_in_file(conn, file_id), expired=expired)


async def rebuild_file(conn: AsyncConnection, tenant_id: str, file_id: str) -> ClaimFile | None:
    """Rewrite a ``written`` file from the claims still in it (same transmission number, so the
    bank would refuse a second file if the first had somehow arrived); ``void`` when none are left."""
    current = await get_file(conn, file_id)
    if current is None or current.state != WRITTEN:
        return current
    members = await claims_in_file(conn, file_id)
    if not members:
        await conn.execute(
            claim_files.update().where(claim_files.c.id == file_id).values(state=VOID, last_error=None)
        )
        return await get_file(conn, file_id)
    settings = await load_settings(conn, tenant_id)
    if settings is None:
        raise RuntimeError("AvtaleGiro is no longer set up for this tenant")
    blob_id, _ = await _write_file(conn, settings, current.transmission_number, members)
    await conn.execute(claim_files.update().where(claim_files.c.id == file_id).values(blob_id=blob_id))
    return await get_file(conn, file_id)


async def cancel_claim(conn: AsyncConnection, tenant_id: str, claim_id: str) -> Claim:
    """Cancel a claim that has not left: a queued one simply, one in a written file by rewriting
    that file without it. Raises :class:`ClaimNotCancellable` once its file is being sent or sent."""
    claim = await get_claim(conn, claim_id, tenant_id)
    if claim is None:
        raise ClaimNotFound(claim_id)
    if claim.state == CANCELLED:
        return claim
    stamp = now()
    if claim.state == QUEUED:
        done = await conn.execute(
            claims.update()
            .where(claims.c.id == claim_id, claims.c.state == QUEUED)
            .values(state=CANCELLED, updated_at=stamp)
        )
        if done.rowcount == 1:
            return await _reread(conn, claim_id)
        claim = await _reread(conn, claim_id)  # the batch took it meanwhile
    if claim.state == IN_FILE and claim.claim_file_id is not None:
        file_id = claim.claim_file_id
        held = await conn.execute(
            claim_files.update()
            .where(claim_files.c.id == file_id, claim_files.c.state == WRITTEN)
            .values(attempts=claim_files.c.attempts)
        )
        if held.rowcount == 1:
            await conn.execute(
                claims.update()
                .where(claims.c.id == claim_id, claims.c.state == IN_FILE, claims.c.claim_file_id == file_id)
                .values(state=CANCELLED, claim_file_id=None, transaction_number=None, updated_at=stamp)
            )
            await rebuild_file(conn, tenant_id, file_id)
            return await _reread(conn, claim_id)
        raise ClaimNotCancellable("the claim's file is being sent to the bank")
    if claim.state == SENT:
        raise ClaimNotCancellable("the claim's file was sent to the bank")
    raise ClaimNotCancellable(f"the claim is {claim.state}")


async def _reread(conn: AsyncConnection, claim_id: str) -> Claim:
    claim = await get_claim(conn, claim_id)
    assert claim is not None
    return claim


async def unsent_files(conn: AsyncConnection, tenant_id: str, *, stale_before: float) -> list[ClaimFile]:
    """Files waiting for upload: ``written`` ones, and ``sending`` ones whose sender vanished."""
    rows = await conn.execute(
        sa.select(claim_files)
        .where(
            claim_files.c.tenant_id == tenant_id,
            (claim_files.c.state == WRITTEN)
            | ((claim_files.c.state == SENDING) & (claim_files.c.sent_at < stale_before)),
        )
        .order_by(claim_files.c.transmission_number)
    )
    return [_file(row) for row in rows]


async def take_for_sending(conn: AsyncConnection, file: ClaimFile, *, stale_before: float) -> bytes | None:
    """Mark the file ``sending`` (``sent_at`` = when this send began) and return its bytes; None when
    another sender or a cancellation got there first."""
    taken = await conn.execute(
        claim_files.update()
        .where(
            claim_files.c.id == file.id,
            (claim_files.c.state == WRITTEN)
            | ((claim_files.c.state == SENDING) & (claim_files.c.sent_at < stale_before)),
        )
        .values(state=SENDING, attempts=claim_files.c.attempts + 1, sent_at=now())
    )
    if taken.rowcount != 1:
        return None
    current = await get_file(conn, file.id)
    assert current is not None
    data, _ = await get_blob(conn, current.blob_id)
    return data


async def mark_sent(conn: AsyncConnection, file_id: str) -> None:
    stamp = now()
    await conn.execute(
        claim_files.update()
        .where(claim_files.c.id == file_id, claim_files.c.state == SENDING)
        .values(state=SENT, sent_at=stamp, last_error=None)
    )
    await conn.execute(
        claims.update()
        .where(claims.c.claim_file_id == file_id, claims.c.state == IN_FILE)
        .values(state=SENT, updated_at=stamp)
    )


async def mark_failed(conn: AsyncConnection, file_id: str, error: str) -> None:
    await conn.execute(
        claim_files.update()
        .where(claim_files.c.id == file_id, claim_files.c.state == SENDING)
        .values(state=WRITTEN, last_error=error[:2000], sent_at=None)
    )
