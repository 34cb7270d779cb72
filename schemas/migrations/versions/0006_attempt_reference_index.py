"""invoice attempt reference index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoice_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_attempts_reference", ["reference"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoice_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_attempts_reference")
