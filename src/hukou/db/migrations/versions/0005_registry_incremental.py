"""registry: blocking keys, persisted linkage model, outbox and its cursors

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registry_record_key",
        sa.Column("record_id", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("needs_link", sa.Boolean(), nullable=False),
        *(
            sa.Column(name, sa.String(length=16), nullable=True)
            for name in (
                "k_birth",
                "k_hanzi_year",
                "k_n14",
                "k_n7_18",
                "k_n6_15",
                "k_py6",
                "k_py15",
            )
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["registry_record.id"],
            name=op.f("fk_registry_record_key_record_id_registry_record"),
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_registry_record_key")),
    )
    op.create_table(
        "registry_linkage_model",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("term_frequencies", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_linkage_model")),
    )
    op.create_table(
        "registry_outbox",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=24), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_registry_outbox_dedupe_key")),
    )
    with op.batch_alter_table("registry_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_registry_outbox_person_id", ["person_id"], unique=False)
    op.create_table(
        "registry_outbox_cursor",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("last_id", _BIG_ID, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_registry_outbox_cursor")),
    )


def downgrade() -> None:
    op.drop_table("registry_outbox_cursor")
    with op.batch_alter_table("registry_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_outbox_person_id")
    op.drop_table("registry_outbox")
    op.drop_table("registry_linkage_model")
    op.drop_table("registry_record_key")
