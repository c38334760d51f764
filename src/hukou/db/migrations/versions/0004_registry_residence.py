"""registry: inferred residence of each person (人户分离)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 11:18:25.712868
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("residence_division", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("residence_confidence", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("residence_since", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("registered_elsewhere", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registry_person", schema=None) as batch_op:
        batch_op.drop_column("registered_elsewhere")
        batch_op.drop_column("residence_since")
        batch_op.drop_column("residence_confidence")
        batch_op.drop_column("residence_division")
