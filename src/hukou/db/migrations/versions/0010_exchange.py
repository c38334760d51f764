"""exchange: sharing agreements, consents, reasons for unmasking

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "exchange_agreement",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_agreement")),
    )
    with op.batch_alter_table("exchange_agreement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_agreement_consumer", ["consumer", "status"], unique=False
        )
    op.create_table(
        "exchange_consent",
        sa.Column("id", big_key, autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=24), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_consent")),
    )
    with op.batch_alter_table("exchange_consent", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_consent_person", ["person_id", "department", "purpose"], unique=False
        )
    op.create_table(
        "exchange_unmask_reason",
        sa.Column("ledger_seq", big_key, autoincrement=False, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ledger_seq", name=op.f("pk_exchange_unmask_reason")),
    )


def downgrade() -> None:
    op.drop_table("exchange_unmask_reason")
    with op.batch_alter_table("exchange_consent", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_consent_person")
    op.drop_table("exchange_consent")
    with op.batch_alter_table("exchange_agreement", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_agreement_consumer")
    op.drop_table("exchange_agreement")
