"""Accounts: departments, staff and resident accounts, roles, login, second factor, sessions.

Every other capability asks this package one question, *who is calling and may
they do this?*, through :class:`AccountStore.session_for` and :func:`require`.
The rules are plain values first (pure, tested without a database) and the store
applies them on the database:

- :mod:`~hukou.accounts.roles`: departments, roles, permissions, 三权分立;
- :mod:`~hukou.accounts.passwords`: argon2id hashing, the password policy;
- :mod:`~hukou.accounts.totp`: RFC 6238 codes, the second factor;
- :mod:`~hukou.accounts.lockout`: lockout and sliding-window rate limits;
- :mod:`~hukou.accounts.sessions`: session ids, timeouts, CSRF tokens;
- :mod:`~hukou.accounts.access`: the logged-in caller and the permission check;
- :mod:`~hukou.accounts.store`: the tables' side of all of it, and the login flow;
- :mod:`~hukou.accounts.web`: the route dependencies (:func:`current_session`,
  :func:`require_permission`); :mod:`~hukou.accounts.routes`: ``/api/v1/auth``.

Nothing here logs or returns in a repr a password, a TOTP secret, a session id or
an identity number. See ``docs/accounts.md`` for the design and its reasons.
"""

from hukou.accounts.access import ActiveSession, require
from hukou.accounts.clock import Clock, utc_now
from hukou.accounts.errors import (
    AccessError,
    AccountsError,
    CsrfError,
    DepartmentExistsError,
    InvalidUsernameError,
    Message,
    NotAuthenticatedError,
    PasswordPolicyError,
    PermissionDeniedError,
    ResidentAccountExistsError,
    RoleError,
    RoleKindError,
    SelfGrantError,
    SeparationOfDutiesError,
    UnknownDepartmentError,
    UnknownUserError,
    UsernameTakenError,
)
from hukou.accounts.events import AccountEvent, EventSink
from hukou.accounts.lockout import LockoutPolicy, RateLimit, RateLimits
from hukou.accounts.passwords import (
    RESIDENT_POLICY,
    STAFF_POLICY,
    PasswordHashing,
    PasswordPolicy,
)
from hukou.accounts.roles import (
    ADMIN_ROLES,
    PERMISSION_DESCRIPTIONS,
    ROLE_PERMISSIONS,
    SECOND_FACTOR_ROLES,
    AccountKind,
    Department,
    Level,
    Permission,
    Role,
    check_roles,
    permissions_of,
    requires_second_factor,
)
from hukou.accounts.sessions import SessionPolicy
from hukou.accounts.store import Account, AccountStore, LoginOutcome, LoginResult
from hukou.accounts.totp import TotpEnrolment
from hukou.accounts.web import (
    CurrentSession,
    OptionalSession,
    current_session,
    get_account_store,
    optional_session,
    require_permission,
)

__all__ = [
    "ADMIN_ROLES",
    "PERMISSION_DESCRIPTIONS",
    "RESIDENT_POLICY",
    "ROLE_PERMISSIONS",
    "SECOND_FACTOR_ROLES",
    "STAFF_POLICY",
    "AccessError",
    "Account",
    "AccountEvent",
    "AccountKind",
    "AccountStore",
    "AccountsError",
    "ActiveSession",
    "Clock",
    "CsrfError",
    "CurrentSession",
    "Department",
    "DepartmentExistsError",
    "EventSink",
    "InvalidUsernameError",
    "Level",
    "LockoutPolicy",
    "LoginOutcome",
    "LoginResult",
    "Message",
    "NotAuthenticatedError",
    "OptionalSession",
    "PasswordHashing",
    "PasswordPolicy",
    "PasswordPolicyError",
    "Permission",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimits",
    "ResidentAccountExistsError",
    "Role",
    "RoleError",
    "RoleKindError",
    "SelfGrantError",
    "SeparationOfDutiesError",
    "SessionPolicy",
    "TotpEnrolment",
    "UnknownDepartmentError",
    "UnknownUserError",
    "UsernameTakenError",
    "check_roles",
    "current_session",
    "get_account_store",
    "optional_session",
    "permissions_of",
    "require",
    "require_permission",
    "requires_second_factor",
    "utc_now",
]
