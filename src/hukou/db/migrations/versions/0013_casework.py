"""casework: cases, department tasks, facts, waits for material, notifications

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:01:07.639713
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "casework_case",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("applicant_id", sa.String(length=24), nullable=True),
        sa.Column("subject_id", sa.String(length=24), nullable=True),
        sa.Column("first_contact", sa.String(length=64), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("helper_id", sa.String(length=24), nullable=True),
        sa.Column("helper_relation", sa.String(length=32), nullable=True),
        sa.Column("employer_code", sa.String(length=18), nullable=True),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("limit_workdays", sa.Integer(), nullable=False),
        sa.Column("instant_decision", sa.Boolean(), nullable=False),
        sa.Column("decision_row", sa.Integer(), nullable=True),
        sa.Column("proposed", sa.String(length=16), nullable=True),
        sa.Column("reason_zh", sa.Text(), nullable=True),
        sa.Column("reason_en", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_case")),
    )
    with op.batch_alter_table("casework_case", schema=None) as batch_op:
        batch_op.create_index("ix_casework_case_applicant_id", ["applicant_id"], unique=False)
        batch_op.create_index(
            "ix_casework_case_state_first_contact", ["state", "first_contact"], unique=False
        )
        batch_op.create_index("ix_casework_case_subject_id", ["subject_id"], unique=False)

    op.create_table(
        "casework_fact",
        sa.Column("case_id", sa.String(length=24), nullable=False),
        sa.Column("fact", sa.String(length=64), nullable=False),
        sa.Column("holds", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column(
            "ledger_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["casework_case.id"], name=op.f("fk_casework_fact_case_id_casework_case")
        ),
        sa.PrimaryKeyConstraint("case_id", "fact", name=op.f("pk_casework_fact")),
    )
    op.create_table(
        "casework_notification",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=24), nullable=False),
        sa.Column("person_id", sa.String(length=24), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["casework_case.id"],
            name=op.f("fk_casework_notification_case_id_casework_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_notification")),
    )
    with op.batch_alter_table("casework_notification", schema=None) as batch_op:
        batch_op.create_index("ix_casework_notification_sent_at", ["sent_at"], unique=False)

    op.create_table(
        "casework_pause",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=24), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["casework_case.id"], name=op.f("fk_casework_pause_case_id_casework_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_pause")),
    )
    with op.batch_alter_table("casework_pause", schema=None) as batch_op:
        batch_op.create_index("ix_casework_pause_case_id", ["case_id"], unique=False)

    op.create_table(
        "casework_task",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=24), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["casework_case.id"], name=op.f("fk_casework_task_case_id_casework_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_task")),
        sa.UniqueConstraint(
            "case_id", "department", name=op.f("uq_casework_task_case_id_department")
        ),
    )
    with op.batch_alter_table("casework_task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_casework_task_department_state", ["department", "state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("casework_task", schema=None) as batch_op:
        batch_op.drop_index("ix_casework_task_department_state")

    op.drop_table("casework_task")
    with op.batch_alter_table("casework_pause", schema=None) as batch_op:
        batch_op.drop_index("ix_casework_pause_case_id")

    op.drop_table("casework_pause")
    with op.batch_alter_table("casework_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_casework_notification_sent_at")

    op.drop_table("casework_notification")
    op.drop_table("casework_fact")
    with op.batch_alter_table("casework_case", schema=None) as batch_op:
        batch_op.drop_index("ix_casework_case_subject_id")
        batch_op.drop_index("ix_casework_case_state_first_contact")
        batch_op.drop_index("ix_casework_case_applicant_id")

    op.drop_table("casework_case")
