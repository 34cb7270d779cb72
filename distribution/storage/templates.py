"""The tenant's e-mail templates (``email_templates``): one row per name and language.

Every query names the tenant, so another tenant's template is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import new_id, now
from distribution.storage.schema import email_templates
from distribution.templates.sandbox import EmailTemplate


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    name: str
    language: str
    template: EmailTemplate
    updated_at: float


def _stored(row: Any) -> StoredTemplate:
    return StoredTemplate(
        row.name, row.language, EmailTemplate(row.subject, row.html, row.text), row.updated_at
    )


_COLUMNS = (
    email_templates.c.name,
    email_templates.c.language,
    email_templates.c.subject,
    email_templates.c.html,
    email_templates.c.text,
    email_templates.c.updated_at,
)


async def list_templates(conn: AsyncConnection, tenant_id: str) -> list[StoredTemplate]:
    rows = await conn.execute(
        sa.select(*_COLUMNS)
        .where(email_templates.c.tenant_id == tenant_id)
        .order_by(email_templates.c.name, email_templates.c.language)
    )
    return [_stored(row) for row in rows]


async def get_template(
    conn: AsyncConnection, tenant_id: str, name: str, language: str
) -> StoredTemplate | None:
    row = (
        await conn.execute(
            sa.select(*_COLUMNS).where(
                email_templates.c.tenant_id == tenant_id,
                email_templates.c.name == name,
                email_templates.c.language == language,
            )
        )
    ).first()
    return _stored(row) if row is not None else None


async def save_template(
    conn: AsyncConnection, tenant_id: str, name: str, language: str, template: EmailTemplate
) -> StoredTemplate:
    """Insert or replace; the caller has checked the template (``check_template``)."""
    updated_at = now()
    values = {
        "subject": template.subject,
        "html": template.html,
        "text": template.text,
        "updated_at": updated_at,
    }
    updated = await conn.execute(
        email_templates.update()
        .where(
            email_templates.c.tenant_id == tenant_id,
            email_templates.c.name == name,
            email_templates.c.language == language,
        )
        .values(**values)
    )
    if updated.rowcount == 0:
        await conn.execute(
            email_templates.insert().values(
                id=new_id("tpl"), tenant_id=tenant_id, name=name, language=language, **values
            )
        )
    return StoredTemplate(name, language, template, updated_at)


async def delete_template(conn: AsyncConnection, tenant_id: str, name: str, language: str) -> bool:
    deleted = await conn.execute(
        email_templates.delete().where(
            email_templates.c.tenant_id == tenant_id,
            email_templates.c.name == name,
            email_templates.c.language == language,
        )
    )
    return deleted.rowcount > 0
