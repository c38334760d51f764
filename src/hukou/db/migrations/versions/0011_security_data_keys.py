"""security: data keys (envelope encryption, crypto-shredding)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_data_key",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("master_key_id", sa.String(length=24), nullable=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_data_key")),
        sa.UniqueConstraint("scope", "subject", name=op.f("uq_security_data_key_scope_subject")),
    )
    with op.batch_alter_table("security_data_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_data_key_master_key_id"), ["master_key_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("security_data_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_data_key_master_key_id"))
    op.drop_table("security_data_key")
