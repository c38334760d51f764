"""registry: households (户) and their members; where a person's residence comes from

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("residence_source", sa.String(length=16), nullable=True))
    op.create_table(
        "registry_household",
        sa.Column("household_number", sa.String(length=40), nullable=False),
        sa.Column("registered_division", sa.String(length=6), nullable=True),
        sa.Column("registered_address", sa.Text(), nullable=True),
        sa.Column("head_person_id", sa.String(length=24), nullable=True),
        sa.Column("has_head", sa.Boolean(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("household_number", name=op.f("pk_registry_household")),
    )
    op.create_table(
        "registry_household_member",
        sa.Column("household_number", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=24), nullable=False),
        sa.Column("relationship", sa.String(length=2), nullable=True),
        sa.Column("is_head", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "household_number", "person_id", name=op.f("pk_registry_household_member")
        ),
    )
    with op.batch_alter_table("registry_household_member", schema=None) as batch_op:
        batch_op.create_index("ix_registry_household_member_person_id", ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registry_household_member", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_household_member_person_id")
    op.drop_table("registry_household_member")
    op.drop_table("registry_household")
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.drop_column("residence_source")
