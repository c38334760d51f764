"""accounts: departments, users, roles (三权分立 as a partial unique index), sessions, logins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen here on purpose: a migration records the schema of its day, not today's enum.
_ADMIN_ROLE_SQL = "role IN ('audit_admin', 'security_admin', 'system_admin')"


def upgrade() -> None:
    op.create_table(
        "accounts_department",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('province', 'city', 'district', 'street')",
            name=op.f("ck_accounts_department_level"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_accounts_department")),
    )
    op.create_table(
        "accounts_user",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("person_id", sa.String(length=24), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'staff' AND department_code IS NOT NULL AND person_id IS NULL)"
            " OR (kind = 'resident' AND department_code IS NULL AND person_id IS NOT NULL)",
            name=op.f("ck_accounts_user_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["accounts_department.code"],
            name=op.f("fk_accounts_user_department_code_accounts_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts_user")),
        sa.UniqueConstraint("person_id", name=op.f("uq_accounts_user_person_id")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_user_username")),
    )
    op.create_index(op.f("ix_accounts_user_department_code"), "accounts_user", ["department_code"])
    op.create_table(
        "accounts_user_role",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts_user.id"],
            name=op.f("fk_accounts_user_role_user_id_accounts_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_accounts_user_role")),
    )
    op.create_index(
        "uq_accounts_user_role_one_admin",
        "accounts_user_role",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text(_ADMIN_ROLE_SQL),
        postgresql_where=sa.text(_ADMIN_ROLE_SQL),
    )
    op.create_table(
        "accounts_session",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts_user.id"],
            name=op.f("fk_accounts_session_user_id_accounts_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_accounts_session")),
    )
    op.create_index(op.f("ix_accounts_session_user_id"), "accounts_session", ["user_id"])
    op.create_table(
        "accounts_login_counter",
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username_key", name=op.f("pk_accounts_login_counter")),
    )
    op.create_table(
        "accounts_login_attempt",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts_login_attempt")),
    )
    op.create_index(
        "ix_accounts_login_attempt_username_key_at",
        "accounts_login_attempt",
        ["username_key", "at"],
    )
    op.create_index(
        "ix_accounts_login_attempt_address_key_at",
        "accounts_login_attempt",
        ["address_key", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_login_attempt_address_key_at", table_name="accounts_login_attempt")
    op.drop_index("ix_accounts_login_attempt_username_key_at", table_name="accounts_login_attempt")
    op.drop_table("accounts_login_attempt")
    op.drop_table("accounts_login_counter")
    op.drop_index(op.f("ix_accounts_session_user_id"), table_name="accounts_session")
    op.drop_table("accounts_session")
    op.drop_index("uq_accounts_user_role_one_admin", table_name="accounts_user_role")
    op.drop_table("accounts_user_role")
    op.drop_index(op.f("ix_accounts_user_department_code"), table_name="accounts_user")
    op.drop_table("accounts_user")
    op.drop_table("accounts_department")
