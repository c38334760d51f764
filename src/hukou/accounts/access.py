"""The authenticated caller of a request, and the permission check routes make on it.

A route gets an :class:`ActiveSession` from ``AccountStore.session_for`` and asks
:func:`require` (or :meth:`ActiveSession.require`) for the permission it needs;
a missing session raises :class:`NotAuthenticatedError` (HTTP 401), a missing
permission :class:`PermissionDeniedError` (HTTP 403), a state-changing request
without the session's CSRF token :class:`CsrfError` (HTTP 403). Permissions are
computed from the roles held *now*, at every request, so a revoked role stops
working at the next click rather than at the next login.
"""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass, field

from hukou.accounts.errors import CsrfError, NotAuthenticatedError, PermissionDeniedError
from hukou.accounts.roles import AccountKind, Permission, Role

__all__ = ["ActiveSession", "require"]


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A logged-in account, as a request sees it; holds no password or session id."""

    session_key: str
    """The SM3 digest of the session id (what the database stores), not the id itself."""
    user_id: str
    username: str
    display_name: str
    kind: AccountKind
    department_code: str | None
    person_id: str | None
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    created_at: datetime.datetime
    expires_at: datetime.datetime
    password_change_due: bool
    csrf_token: str = field(repr=False)
    """Put it in every form and htmx request header; check it with :meth:`check_csrf`."""

    def has(self, permission: Permission | str) -> bool:
        """Whether this session's roles grant ``permission``."""
        return Permission(permission) in self.permissions

    def require(self, permission: Permission | str) -> ActiveSession:
        """This session if it has ``permission``, else :class:`PermissionDeniedError`."""
        if not self.has(permission):
            raise PermissionDeniedError(permission)
        return self

    def check_csrf(self, presented: str | None) -> None:
        """Raise :class:`CsrfError` unless ``presented`` is this session's token."""
        if not presented or not hmac.compare_digest(
            self.csrf_token.encode("ascii"), presented.encode("utf-8")
        ):
            raise CsrfError


def require(actor: ActiveSession | None, permission: Permission | str) -> ActiveSession:
    """``actor`` if it is logged in and holds ``permission``; the error for 401/403 if not.

    >>> require(None, Permission.PERSON_READ)
    Traceback (most recent call last):
    ...
    hukou.accounts.errors.NotAuthenticatedError: Please log in (the session has ended or does \
not exist).
    """
    if actor is None:
        raise NotAuthenticatedError
    return actor.require(permission)
