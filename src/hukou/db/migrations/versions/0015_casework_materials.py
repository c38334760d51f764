"""casework: material files

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "casework_material",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=24), nullable=False),
        sa.Column("material", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.Column("content_token", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["casework_case.id"],
            name=op.f("fk_casework_material_case_id_casework_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_material")),
    )
    with op.batch_alter_table("casework_material", schema=None) as batch_op:
        batch_op.create_index("ix_casework_material_case_id", ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("casework_material", schema=None) as batch_op:
        batch_op.drop_index("ix_casework_material_case_id")

    op.drop_table("casework_material")
