"""webhook secrets derived from webhooks.secret_key, not stored; keyring of key fingerprints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each webhook's signing secret is now HMAC(webhooks.secret_key, webhook id): nothing to keep.
    # Webhooks registered before this revision now sign with a secret never shown: register them again.
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("secret")
    op.create_table(
        "keyring",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_keyring")),
    )


def downgrade() -> None:
    op.drop_table("keyring")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.Text(), nullable=False, server_default=""))
