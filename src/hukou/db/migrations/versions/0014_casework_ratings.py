"""casework: ratings and rectification

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:49:28.557917
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "casework_rating",
        sa.Column("case_id", sa.String(length=24), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("rated_by", sa.String(length=64), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["casework_case.id"], name=op.f("fk_casework_rating_case_id_casework_case")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_casework_rating")),
    )
    op.create_table(
        "casework_rectification",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=24), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["casework_case.id"],
            name=op.f("fk_casework_rectification_case_id_casework_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_rectification")),
        sa.UniqueConstraint("case_id", name=op.f("uq_casework_rectification_case_id")),
    )
    with op.batch_alter_table("casework_rectification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_casework_rectification_department", ["department", "closed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("casework_rectification", schema=None) as batch_op:
        batch_op.drop_index("ix_casework_rectification_department")

    op.drop_table("casework_rectification")
    op.drop_table("casework_rating")
