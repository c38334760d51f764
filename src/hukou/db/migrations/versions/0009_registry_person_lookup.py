"""registry: find a golden person by name and birth date

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registry_person_name_birth_date", ["name", "birth_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_person_name_birth_date")
