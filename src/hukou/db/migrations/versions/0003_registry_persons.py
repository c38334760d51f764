"""registry persons, links, review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:21:39.223000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_person",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("identity_token", sa.Text(), nullable=True),
        sa.Column("identity_index", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("golden", sa.Text(), nullable=False),
        sa.Column("conflicts", sa.Text(), nullable=True),
        sa.Column("flags", sa.Text(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_person")),
    )
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.create_index("ix_registry_person_identity_index", ["identity_index"], unique=False)

    op.create_table(
        "registry_link",
        sa.Column(
            "record_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("person_id", sa.String(length=24), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["registry_person.id"],
            name=op.f("fk_registry_link_person_id_registry_person"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["registry_record.id"],
            name=op.f("fk_registry_link_record_id_registry_record"),
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_registry_link")),
    )
    with op.batch_alter_table("registry_link", schema=None) as batch_op:
        batch_op.create_index("ix_registry_link_person_id", ["person_id"], unique=False)

    op.create_table(
        "registry_review",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_l", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_r", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_l"],
            ["registry_record.id"],
            name=op.f("fk_registry_review_record_l_registry_record"),
        ),
        sa.ForeignKeyConstraint(
            ["record_r"],
            ["registry_record.id"],
            name=op.f("fk_registry_review_record_r_registry_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_review")),
        sa.UniqueConstraint(
            "record_l", "record_r", name=op.f("uq_registry_review_record_l_record_r")
        ),
    )


def downgrade() -> None:
    op.drop_table("registry_review")
    with op.batch_alter_table("registry_link", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_link_person_id")

    op.drop_table("registry_link")
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_person_identity_index")

    op.drop_table("registry_person")
