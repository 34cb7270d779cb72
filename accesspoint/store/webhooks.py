"""Tenant webhooks and their deliveries: rows only; signing and sending live in ``pipeline.webhooks``.

No signing secret is stored: each is derived from ``webhooks.secret_key`` and the webhook id when
needed, so the database alone cannot forge a signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import new_id, now
from accesspoint.store.schema import webhook_deliveries, webhooks


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered webhook as shown to its tenant (deliberately without the secret)."""

    id: str
    tenant_id: str
    url: str
    events: list[str]
    active: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: str
    webhook_id: str
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: float
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class DeliveryTarget:
    """What one delivery attempt needs: the delivery and its webhook's URL and tenant."""

    delivery: WebhookDelivery
    tenant_id: str
    url: str
    active: bool


def _webhook(row: Any) -> Webhook:
    return Webhook(row.id, row.tenant_id, row.url, list(row.events), bool(row.active), row.created_at)


def _delivery(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        row.id,
        row.webhook_id,
        row.event,
        dict(row.payload),
        row.status,
        row.attempts,
        row.last_status,
        row.last_error,
        row.created_at,
        row.delivered_at,
    )


_PUBLIC = (
    webhooks.c.id,
    webhooks.c.tenant_id,
    webhooks.c.url,
    webhooks.c.events,
    webhooks.c.active,
    webhooks.c.created_at,
)


async def insert_webhook(conn: AsyncConnection, tenant_id: str, url: str, events: list[str]) -> str:
    webhook_id = new_id("wh")
    await conn.execute(
        webhooks.insert().values(
            id=webhook_id,
            tenant_id=tenant_id,
            url=url,
            events=list(events),
            active=True,
            created_at=now(),
        )
    )
    return webhook_id


async def tenant_webhooks(
    conn: AsyncConnection, tenant_id: str, *, active_only: bool = False
) -> list[Webhook]:
    query = sa.select(*_PUBLIC).where(webhooks.c.tenant_id == tenant_id).order_by(webhooks.c.created_at)
    if active_only:
        query = query.where(webhooks.c.active.is_(True))
    return [_webhook(row) for row in (await conn.execute(query)).all()]


async def insert_delivery(conn: AsyncConnection, webhook_id: str, event: str, payload: dict[str, Any]) -> str:
    delivery_id = new_id("whd")
    await conn.execute(
        webhook_deliveries.insert().values(
            id=delivery_id,
            webhook_id=webhook_id,
            event=event,
            payload=payload,
            status="pending",
            attempts=0,
            created_at=now(),
        )
    )
    return delivery_id


async def get_delivery(conn: AsyncConnection, delivery_id: str) -> WebhookDelivery | None:
    row = (
        await conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id))
    ).first()
    return None if row is None else _delivery(row)


async def webhook_deliveries_of(conn: AsyncConnection, webhook_id: str) -> list[WebhookDelivery]:
    query = (
        sa.select(webhook_deliveries)
        .where(webhook_deliveries.c.webhook_id == webhook_id)
        .order_by(webhook_deliveries.c.created_at)
    )
    return [_delivery(row) for row in (await conn.execute(query)).all()]


async def delivery_target(conn: AsyncConnection, delivery_id: str) -> DeliveryTarget | None:
    query = (
        sa.select(
            webhook_deliveries,
            webhooks.c.tenant_id,
            webhooks.c.url,
            webhooks.c.active,
        )
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .where(webhook_deliveries.c.id == delivery_id)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return DeliveryTarget(_delivery(row), row.tenant_id, row.url, bool(row.active))


async def update_delivery(conn: AsyncConnection, delivery_id: str, **values: Any) -> None:
    await conn.execute(
        webhook_deliveries.update().where(webhook_deliveries.c.id == delivery_id).values(**values)
    )
