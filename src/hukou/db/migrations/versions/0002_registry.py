"""registry: batches, accepted source records, quarantine

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:05:59.052764
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_batch",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_in", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_quarantined", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_batch")),
        sa.UniqueConstraint(
            "department", "content_sha256", name=op.f("uq_registry_batch_department_content_sha256")
        ),
    )
    op.create_table(
        "registry_quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("raw_token", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["registry_batch.id"],
            name=op.f("fk_registry_quarantine_batch_id_registry_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_quarantine")),
        sa.UniqueConstraint(
            "batch_id", "position", name=op.f("uq_registry_quarantine_batch_id_position")
        ),
    )
    op.create_table(
        "registry_record",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=80), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("identity_token", sa.Text(), nullable=True),
        sa.Column("identity_index", sa.String(length=64), nullable=True),
        sa.Column("identity_status", sa.String(length=48), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("issues", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["registry_batch.id"],
            name=op.f("fk_registry_record_batch_id_registry_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_record")),
        sa.UniqueConstraint(
            "batch_id", "position", name=op.f("uq_registry_record_batch_id_position")
        ),
    )
    with op.batch_alter_table("registry_record", schema=None) as batch_op:
        batch_op.create_index("ix_registry_record_identity_index", ["identity_index"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registry_record", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_record_identity_index")

    op.drop_table("registry_record")
    op.drop_table("registry_quarantine")
    op.drop_table("registry_batch")
