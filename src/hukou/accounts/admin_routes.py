"""Administering accounts over HTTP: departments, staff accounts, roles, lockouts.

The JSON side of the console's admin page (:mod:`hukou.accounts.admin_pages`); both
call the actions below, which call :class:`~hukou.accounts.store.AccountStore` — the
store decides (policies, 三权分立, no self-grant), these only check who may ask.

Each duty has its own permission, so each operation has exactly one: the system
administrator manages departments and accounts (``department.manage``,
``user.manage``), the security administrator grants roles and lifts lockouts
(``role.grant``, ``account.unlock``). Creating an account and giving it rights stay
two people's acts: an account is created with no role.

No administrator reads personal data: a resident's display name (their name) is
never answered, and residents are never listed, only found one at a time by user
name in a request body (a user name may be a phone number, which has no place in
a URL that proxies and access logs keep). Nothing here is logged.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hukou.accounts.access import ActiveSession
from hukou.accounts.errors import (
    AccountsError,
    DepartmentExistsError,
    Message,
    SeparationOfDutiesError,
    UnknownUserError,
    UsernameTakenError,
)
from hukou.accounts.roles import AccountKind, Department, Level, Permission, Role
from hukou.accounts.store import Account, AccountStore
from hukou.accounts.web import get_account_store, message_detail, require_permission
from hukou.db import session_scope

__all__ = [
    "PAGE_SIZE",
    "AccountEntry",
    "ErrorBody",
    "SelfDisableError",
    "change_role",
    "create_department",
    "create_staff",
    "error_status",
    "find_account",
    "listed_accounts",
    "reset_password",
    "router",
    "set_disabled",
    "unlock",
]

PAGE_SIZE: Final = 200
"""Staff accounts per page (a city has thousands of staff, not millions)."""

_CODE: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_TEXT: Final = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"  # printable, not blank
_USER_ID: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_Strict: Final = ConfigDict(extra="forbid")


class SelfDisableError(AccountsError):
    """An administrator disabling their own account would lock the door behind them."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "user.self_disable",
                "An administrator cannot disable their own account.",
                "管理员不能停用本人账号。",
            )
        )


_CONFLICTS: Final = (
    DepartmentExistsError,
    UsernameTakenError,
    SeparationOfDutiesError,
    SelfDisableError,
)


def error_status(error: Exception) -> int:
    """The HTTP status of a refused administrative act: 404 for no such account, 409 when
    the act conflicts with what exists (a taken name, 三权分立), 422 for the rest (a
    password the policy refuses, an unknown department, a role of the wrong kind)."""
    if isinstance(error, UnknownUserError):
        return 404
    if isinstance(error, _CONFLICTS):
        return 409
    return 422


def _message(error: Exception) -> Message:
    if isinstance(error, AccountsError):
        return error.message
    # The model's own ValueErrors (a blank name) carry no personal data.
    return Message("admin.invalid", str(error), str(error))


def _refused(error: Exception) -> HTTPException:
    return HTTPException(error_status(error), message_detail(_message(error)))


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """An account as an administrator sees it, and until when its user name is locked."""

    account: Account
    locked_until: datetime.datetime | None

    @property
    def display_name(self) -> str | None:
        """The display name; a resident's is their name, which administrators do not read."""
        resident = self.account.kind is AccountKind.RESIDENT
        return None if resident else self.account.display_name


def _entries(store: AccountStore, db: Any, accounts: tuple[Account, ...]) -> list[AccountEntry]:
    locks = store.lockouts(db, (a.username for a in accounts))
    return [AccountEntry(a, locks.get(a.username)) for a in accounts]


def listed_accounts(
    request: Request, *, department: str | None = None, offset: int = 0
) -> tuple[list[AccountEntry], bool]:
    """A page of staff accounts with their locks, and whether more follow."""
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        found = store.staff_accounts(
            db, department_code=department, limit=PAGE_SIZE + 1, offset=offset
        )
        return _entries(store, db, found[:PAGE_SIZE]), len(found) > PAGE_SIZE


def find_account(request: Request, username: str) -> AccountEntry | None:
    """The account with this user name, staff or resident, or ``None``."""
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        account = store.find_account(db, username)
        return None if account is None else _entries(store, db, (account,))[0]


def create_department(
    request: Request, actor: ActiveSession, code: str, name: str, level: str
) -> Department:
    """A new department (``department.manage``)."""
    actor.require(Permission.DEPARTMENT_MANAGE)
    with session_scope(request.app.state.engine) as db:
        return get_account_store(request).create_department(
            db, code, name, Level(level), actor_id=actor.user_id
        )


def create_staff(
    request: Request,
    actor: ActiveSession,
    *,
    username: str,
    display_name: str,
    department: str,
    password: str,
) -> Account:
    """A staff account with no role (``user.manage``); its password must be changed at
    first login, since the administrator knows it."""
    actor.require(Permission.USER_MANAGE)
    with session_scope(request.app.state.engine) as db:
        return get_account_store(request).create_user(
            db,
            kind=AccountKind.STAFF,
            username=username,
            password=password,
            display_name=display_name,
            department_code=department,
            created_by=actor.user_id,
        )


def set_disabled(request: Request, actor: ActiveSession, user_id: str, disabled: bool) -> Account:
    """Disable (ending its sessions) or enable an account (``user.manage``)."""
    actor.require(Permission.USER_MANAGE)
    if disabled and user_id == actor.user_id:
        raise SelfDisableError
    with session_scope(request.app.state.engine) as db:
        return get_account_store(request).set_disabled(
            db, user_id, disabled, actor_id=actor.user_id
        )


def reset_password(request: Request, actor: ActiveSession, user_id: str, password: str) -> Account:
    """Set a password to be changed at next login (``user.manage``)."""
    actor.require(Permission.USER_MANAGE)
    with session_scope(request.app.state.engine) as db:
        return get_account_store(request).reset_password(
            db, user_id, password, actor_id=actor.user_id
        )


def change_role(
    request: Request, actor: ActiveSession, user_id: str, role: str, *, grant: bool
) -> Account:
    """Grant or revoke a role (``role.grant``); the store refuses 三权分立 breaches,
    self-grants and roles of the wrong account kind."""
    actor.require(Permission.ROLE_GRANT)
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        if grant:
            return store.grant_role(db, user_id, Role(role), granted_by=actor.user_id)
        return store.revoke_role(db, user_id, Role(role), revoked_by=actor.user_id)


def end_sessions(request: Request, actor: ActiveSession, user_id: str) -> Account:
    """Forced logout: end every session of an account (``session.revoke``), e.g. a
    stolen laptop; the account stays enabled and may log in again."""
    actor.require(Permission.SESSION_REVOKE)
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        account = store.account(db, user_id)  # an unknown id is a 404, not "0 ended"
        store.logout_all(db, user_id, actor_id=actor.user_id)
        return account


def unlock(request: Request, actor: ActiveSession, username: str) -> bool:
    """Lift a user name's lockout (``account.unlock``); whether it had failures."""
    actor.require(Permission.ACCOUNT_UNLOCK)
    with session_scope(request.app.state.engine) as db:
        return get_account_store(request).unlock(db, username, actor_id=actor.user_id)


# --------------------------------------------------------------------------- bodies


class ErrorBody(BaseModel):
    """A refusal: a title, the store's words in English then Chinese, a correlation id."""

    error: str
    detail: str | list[dict[str, Any]] | None = None
    correlation_id: str


class DepartmentIn(BaseModel):
    model_config = _Strict
    code: str = Field(pattern=_CODE, description="ASCII: e.g. public_security")
    name: str = Field(min_length=1, max_length=200, pattern=_TEXT)
    level: Level


class DepartmentOut(BaseModel):
    model_config = _Strict
    code: str
    name: str
    level: Level


class DepartmentList(BaseModel):
    model_config = _Strict
    departments: list[DepartmentOut]


class StaffIn(BaseModel):
    """A new staff account; the password is kept out of every log and error."""

    model_config = _Strict
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=120, pattern=_TEXT)
    department: str = Field(pattern=_CODE)
    password: SecretStr = Field(min_length=1, max_length=1024)


class PasswordIn(BaseModel):
    model_config = _Strict
    password: SecretStr = Field(min_length=1, max_length=1024)


class RoleIn(BaseModel):
    model_config = _Strict
    role: Role


class UsernameIn(BaseModel):
    """A user name, in a body: it may be a resident's phone number."""

    model_config = _Strict
    username: str = Field(min_length=1, max_length=256)


class UnlockOut(BaseModel):
    model_config = _Strict
    had_failures: bool = Field(description="whether the user name had failures on record")


class AccountOut(BaseModel):
    """An account: no hash, no secret, no registry person id, no resident's name."""

    model_config = _Strict
    id: str
    username: str
    display_name: str | None = Field(description="none for residents")
    kind: AccountKind
    department: str | None
    roles: list[Role]
    disabled: bool
    second_factor_enrolled: bool
    must_change_password: bool
    locked_until: datetime.datetime | None


class AccountList(BaseModel):
    model_config = _Strict
    accounts: list[AccountOut]
    more: bool = Field(description="more accounts follow: ask again with offset")


def _department_out(department: Department) -> DepartmentOut:
    return DepartmentOut(code=department.code, name=department.name, level=department.level)


def _account_out(entry: AccountEntry) -> AccountOut:
    account = entry.account
    return AccountOut(
        id=account.id,
        username=account.username,
        display_name=entry.display_name,
        kind=account.kind,
        department=account.department_code,
        roles=sorted(account.roles),
        disabled=account.disabled,
        second_factor_enrolled=account.second_factor_enrolled,
        must_change_password=account.must_change_password,
        locked_until=entry.locked_until,
    )


def _changed(request: Request, account: Account) -> AccountOut:
    """The account after a change, with its lock as it stands."""
    entry = find_account(request, account.username)
    return _account_out(entry or AccountEntry(account, None))


# --------------------------------------------------------------------------- routes

_REFUSALS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"model": ErrorBody, "description": "not logged in"},
    403: {"model": ErrorBody, "description": "not permitted"},
    404: {"model": ErrorBody, "description": "no such account"},
    409: {"model": ErrorBody, "description": "taken, exists, or 三权分立 refuses it"},
    422: {"model": ErrorBody, "description": "malformed, or refused by a policy"},
}

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=_REFUSALS)

Departments = Annotated[ActiveSession, Depends(require_permission(Permission.DEPARTMENT_MANAGE))]
Users = Annotated[ActiveSession, Depends(require_permission(Permission.USER_MANAGE))]
Grants = Annotated[ActiveSession, Depends(require_permission(Permission.ROLE_GRANT))]
Unlocks = Annotated[ActiveSession, Depends(require_permission(Permission.ACCOUNT_UNLOCK))]
Revokes = Annotated[ActiveSession, Depends(require_permission(Permission.SESSION_REVOKE))]
UserId = Annotated[str, Path(pattern=_USER_ID)]
DepartmentFilter = Annotated[str | None, Query(pattern=_CODE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/departments", response_model=DepartmentList)
def departments(request: Request, actor: Departments) -> DepartmentList:
    """Every department, by code."""
    del actor
    with session_scope(request.app.state.engine) as db:
        found = get_account_store(request).departments(db)
    return DepartmentList(departments=[_department_out(d) for d in found])


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def add_department(request: Request, body: DepartmentIn, actor: Departments) -> DepartmentOut:
    """A new department; 409 if the code is taken."""
    try:
        made = create_department(request, actor, body.code, body.name, body.level)
    except (AccountsError, ValueError) as error:
        raise _refused(error) from None
    return _department_out(made)


def _account_list(request: Request, department: str | None, offset: int) -> AccountList:
    entries, more = listed_accounts(request, department=department, offset=offset)
    return AccountList(accounts=[_account_out(e) for e in entries], more=more)


@router.get("/users", response_model=AccountList)
def users(
    request: Request, actor: Users, department: DepartmentFilter = None, offset: Offset = 0
) -> AccountList:
    """Staff accounts by user name, 200 at a time (residents: ``POST /users/find``)."""
    del actor
    return _account_list(request, department, offset)


@router.get("/grants", response_model=AccountList)
def grants(
    request: Request, actor: Grants, department: DepartmentFilter = None, offset: Offset = 0
) -> AccountList:
    """The same staff accounts with the roles they hold, for the security administrator."""
    del actor
    return _account_list(request, department, offset)


@router.post("/users", response_model=AccountOut, status_code=201)
def add_user(request: Request, body: StaffIn, actor: Users) -> AccountOut:
    """A staff account with no role (the security administrator grants roles)."""
    try:
        account = create_staff(
            request,
            actor,
            username=body.username,
            display_name=body.display_name,
            department=body.department,
            password=body.password.get_secret_value(),
        )
    except (AccountsError, ValueError) as error:
        raise _refused(error) from None
    return _changed(request, account)


@router.post("/users/find", response_model=AccountOut)
def find_user(request: Request, body: UsernameIn, actor: Users) -> AccountOut:
    """One account, staff or resident, by user name; 404 if none."""
    del actor
    entry = find_account(request, body.username)
    if entry is None:
        raise _refused(UnknownUserError())
    return _account_out(entry)


def _act(
    request: Request, change: Callable[..., Account], *arguments: Any, **options: Any
) -> AccountOut:
    """Run an action on an account; its refusal as the matching HTTP error."""
    try:
        account = change(request, *arguments, **options)
    except (AccountsError, ValueError) as error:
        raise _refused(error) from None
    return _changed(request, account)


@router.post("/users/{user_id}/disable", response_model=AccountOut)
def disable_user(request: Request, user_id: UserId, actor: Users) -> AccountOut:
    """Disable an account and end its sessions (never one's own)."""
    return _act(request, set_disabled, actor, user_id, True)


@router.post("/users/{user_id}/enable", response_model=AccountOut)
def enable_user(request: Request, user_id: UserId, actor: Users) -> AccountOut:
    """Enable a disabled account."""
    return _act(request, set_disabled, actor, user_id, False)


@router.post("/users/{user_id}/password", response_model=AccountOut)
def set_password(request: Request, user_id: UserId, body: PasswordIn, actor: Users) -> AccountOut:
    """Reset the password; it must be changed at next login, and the sessions end."""
    return _act(request, reset_password, actor, user_id, body.password.get_secret_value())


@router.post("/users/{user_id}/roles", response_model=AccountOut)
def grant(request: Request, user_id: UserId, body: RoleIn, actor: Grants) -> AccountOut:
    """Grant a role; 409 for a second administrator role (三权分立)."""
    return _act(request, change_role, actor, user_id, body.role, grant=True)


@router.delete("/users/{user_id}/roles/{role}", response_model=AccountOut)
def revoke(request: Request, user_id: UserId, role: Role, actor: Grants) -> AccountOut:
    """Revoke a role; effective at the account's next request."""
    return _act(request, change_role, actor, user_id, role, grant=False)


@router.post("/users/{user_id}/logout", response_model=AccountOut)
def force_logout(request: Request, user_id: UserId, actor: Revokes) -> AccountOut:
    """End every session of the account (forced logout); a ledger entry."""
    return _act(request, end_sessions, actor, user_id)


@router.post("/unlock", response_model=UnlockOut)
def unlock_user(request: Request, body: UsernameIn, actor: Unlocks) -> UnlockOut:
    """Lift the lockout of a user name (an account's or not: lockouts count typed names)."""
    return UnlockOut(had_failures=unlock(request, actor, body.username))
