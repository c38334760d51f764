"""Tables of accounts: departments, users, their roles, sessions, login counters and attempts.

What is stored, and what deliberately is not:

- passwords only as argon2id PHC strings;
- TOTP secrets only as SM4-GCM tokens (:class:`~hukou.security.FieldCipher`,
  context ``accounts.user.totp_secret``): unlike a password, the server needs the
  secret itself to check a code, so it is encrypted, not hashed;
- session ids only as SM3 digests;
- the user names and client addresses of login attempts only as keyed HMAC-SM3
  digests: people type passwords into the user-name field, and addresses are
  personal data, so neither is kept in the clear just to be counted.

三权分立 is also a database rule: a partial unique index allows one user at most
one row whose role is an administrator role, so two concurrent grants that each
passed the check in Python cannot both commit.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hukou.db.base import Base

__all__ = [
    "ADMIN_ROLE_SQL",
    "DepartmentRow",
    "LoginAttemptRow",
    "LoginCounterRow",
    "SessionRow",
    "UserRoleRow",
    "UserRow",
]

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for many rows.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

ADMIN_ROLE_SQL = "role IN ('audit_admin', 'security_admin', 'system_admin')"
"""The administrator roles of 三权分立 as SQL (a test checks it against ``roles.ADMIN_ROLES``)."""


class DepartmentRow(Base):
    """A department (部门) staff accounts belong to."""

    __tablename__ = "accounts_department"
    __table_args__ = (
        CheckConstraint("level IN ('province', 'city', 'district', 'street')", name="level"),
    )

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    """An account: staff of one department, or a resident linked to one registry person."""

    __tablename__ = "accounts_user"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'staff' AND department_code IS NOT NULL AND person_id IS NULL)"
            " OR (kind = 'resident' AND department_code IS NULL AND person_id IS NOT NULL)",
            name="kind",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # staff | resident
    username: Mapped[str] = mapped_column(String(64), unique=True)  # normalised
    display_name: Mapped[str] = mapped_column(String(120))
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("accounts_department.code"), index=True
    )
    person_id: Mapped[str | None] = mapped_column(String(24), unique=True)  # registry person
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    totp_secret: Mapped[str | None] = mapped_column(Text)  # SM4-GCM token
    totp_confirmed: Mapped[bool] = mapped_column(Boolean)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # replay protection
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class UserRoleRow(Base):
    """One role held by one account."""

    __tablename__ = "accounts_user_role"
    __table_args__ = (
        Index(
            "uq_accounts_user_role_one_admin",
            "user_id",
            unique=True,
            sqlite_where=text(ADMIN_ROLE_SQL),
            postgresql_where=text(ADMIN_ROLE_SQL),
        ),
    )

    user_id: Mapped[str] = mapped_column(
        ForeignKey("accounts_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str | None] = mapped_column(String(36))  # None: bootstrap


class SessionRow(Base):
    """A server-side session, keyed by the SM3 digest of its id."""

    __tablename__ = "accounts_session"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("accounts_user.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(16))  # second_factor | active
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class LoginCounterRow(Base):
    """Consecutive failures of one typed user name (account or not), and its lock."""

    __tablename__ = "accounts_login_counter"

    username_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class LoginAttemptRow(Base):
    """One login or second-factor attempt, counted by the sliding-window rate limits."""

    __tablename__ = "accounts_login_attempt"
    __table_args__ = (
        Index("ix_accounts_login_attempt_username_key_at", "username_key", "at"),
        Index("ix_accounts_login_attempt_address_key_at", "address_key", "at"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    username_key: Mapped[str] = mapped_column(String(64))
    address_key: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
