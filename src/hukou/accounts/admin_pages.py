"""The console's admin page (系统管理): departments, staff accounts, roles and lockouts.

One page for the system and the security administrator, each seeing the forms of
their own duty (三权分立): the system administrator creates departments and accounts,
disables and enables them and resets passwords; the security administrator grants and
revokes roles and lifts lockouts. Every form posts the session's CSRF token, checked by
the page's session dependency before the handler runs.

The actions are those of the JSON API (:mod:`hukou.accounts.admin_routes`, the page's
twin); a refusal of the store (三权分立, a taken name, the password policy) comes back
as a notice on the page with the matching status (409, 422, 404), and a change is
followed by a redirect, so that reloading the page repeats nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hukou.accounts import admin_routes as admin
from hukou.accounts.access import ActiveSession
from hukou.accounts.errors import AccountsError, PermissionDeniedError, UnknownUserError
from hukou.accounts.roles import STAFF_ROLES, Level, Permission
from hukou.accounts.web import get_account_store
from hukou.db import session_scope
from hukou.web import page_language, render
from hukou.web.session import PageActor, first, form_fields

__all__ = ["ADMIN_PERMISSIONS", "router"]

router = APIRouter(include_in_schema=False)

ADMIN_PERMISSIONS: Final = (
    Permission.USER_MANAGE,
    Permission.DEPARTMENT_MANAGE,
    Permission.ROLE_GRANT,
    Permission.ACCOUNT_UNLOCK,
)
"""Any of these opens the page; each form needs its own."""

_DONE: Final = frozenset(
    {
        "department",
        "user",
        "disabled",
        "enabled",
        "password",
        "granted",
        "revoked",
        "unlocked",
        "logged_out",
    }
)
_HOME: Final = "/console/admin"


def _require_admin(actor: ActiveSession) -> None:
    if not any(actor.has(p) for p in ADMIN_PERMISSIONS):
        raise PermissionDeniedError(Permission.USER_MANAGE)


def _department_names(request: Request) -> dict[str, str]:
    """Department code → name as stored (a department made here is in no catalogue)."""
    with session_scope(request.app.state.engine) as db:
        return {d.code: d.name for d in get_account_store(request).departments(db)}


def _page(
    request: Request,
    actor: ActiveSession,
    *,
    notice: str | None = None,
    found: admin.AccountEntry | None = None,
    status_code: int = 200,
) -> Response:
    department = request.query_params.get("department") or None
    offset = request.query_params.get("offset", "0")
    start = int(offset) if offset.isdigit() else 0
    entries, more = admin.listed_accounts(request, department=department, offset=start)
    done = request.query_params.get("done")
    return render(
        request,
        "admin.html",
        {
            "actor": actor,
            "departments": _department_names(request),
            "department": department or "",
            "levels": list(Level),
            "entries": entries,
            "more": more,
            "next_offset": start + admin.PAGE_SIZE,
            "roles": sorted(STAFF_ROLES),
            "found": found,
            "notice": notice,
            "done": done if done in _DONE else None,
        },
        status_code=status_code,
    )


@router.get(_HOME)
def admin_page(
    request: Request,
    actor: PageActor,
    department: str = Query(default="", max_length=64),
    offset: str = Query(default="0", max_length=9),
) -> Response:
    """Departments and staff accounts, with the forms of the visitor's duty."""
    del department, offset  # read by _page from the query
    _require_admin(actor)
    return _page(request, actor)


def _refused(request: Request, actor: ActiveSession, error: Exception) -> Response:
    """The page again with the refusal's words, in the page's language."""
    if isinstance(error, AccountsError):
        words = error.message.text(page_language(request))
    else:
        words = str(error)
    return _page(request, actor, notice=words, status_code=admin.error_status(error))


async def _apply(
    request: Request,
    actor: ActiveSession,
    done: str,
    action: Callable[[dict[str, list[str]]], Any],
) -> Response:
    """Run ``action`` on the posted form (in a thread: it may hash a password), then back
    to the page: redirected with ``done`` after a change, with the refusal otherwise."""
    fields = await form_fields(request)
    try:
        await run_in_threadpool(action, fields)
    except (AccountsError, ValueError) as error:
        return _refused(request, actor, error)
    return RedirectResponse(f"{_HOME}?done={done}", status_code=303)


@router.post(f"{_HOME}/departments")
async def add_department(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.DEPARTMENT_MANAGE)
    return await _apply(
        request,
        actor,
        "department",
        lambda f: admin.create_department(
            request, actor, first(f, "code"), first(f, "name"), first(f, "level")
        ),
    )


@router.post(f"{_HOME}/users")
async def add_user(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.USER_MANAGE)
    return await _apply(
        request,
        actor,
        "user",
        lambda f: admin.create_staff(
            request,
            actor,
            username=first(f, "username"),
            display_name=first(f, "display_name"),
            department=first(f, "department"),
            password=(f.get("password") or [""])[0],  # as typed: spaces count
        ),
    )


@router.post(f"{_HOME}/find")
async def find_user(request: Request, actor: PageActor) -> Response:
    """One account by user name (residents are found, never listed)."""
    actor.require(Permission.USER_MANAGE)
    fields = await form_fields(request)
    found = admin.find_account(request, first(fields, "username"))
    if found is None:
        return _refused(request, actor, UnknownUserError())
    return _page(request, actor, found=found)


@router.post(_HOME + "/users/{user_id}/disable")
async def disable_user(request: Request, user_id: str, actor: PageActor) -> Response:
    actor.require(Permission.USER_MANAGE)
    return await _apply(
        request, actor, "disabled", lambda _f: admin.set_disabled(request, actor, user_id, True)
    )


@router.post(_HOME + "/users/{user_id}/enable")
async def enable_user(request: Request, user_id: str, actor: PageActor) -> Response:
    actor.require(Permission.USER_MANAGE)
    return await _apply(
        request, actor, "enabled", lambda _f: admin.set_disabled(request, actor, user_id, False)
    )


@router.post(_HOME + "/users/{user_id}/password")
async def reset_password(request: Request, user_id: str, actor: PageActor) -> Response:
    actor.require(Permission.USER_MANAGE)
    return await _apply(
        request,
        actor,
        "password",
        lambda f: admin.reset_password(request, actor, user_id, (f.get("password") or [""])[0]),
    )


@router.post(_HOME + "/users/{user_id}/roles")
async def change_role(request: Request, user_id: str, actor: PageActor) -> Response:
    """Grant (``action=grant``) or revoke a role."""
    actor.require(Permission.ROLE_GRANT)
    fields = await form_fields(request)
    grant = first(fields, "action") != "revoke"
    return await _apply(
        request,
        actor,
        "granted" if grant else "revoked",
        lambda f: admin.change_role(request, actor, user_id, first(f, "role"), grant=grant),
    )


@router.post(_HOME + "/users/{user_id}/logout")
async def force_logout(request: Request, user_id: str, actor: PageActor) -> Response:
    actor.require(Permission.SESSION_REVOKE)
    return await _apply(
        request, actor, "logged_out", lambda _f: admin.end_sessions(request, actor, user_id)
    )


@router.post(f"{_HOME}/unlock")
async def unlock(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.ACCOUNT_UNLOCK)
    return await _apply(
        request, actor, "unlocked", lambda f: admin.unlock(request, actor, first(f, "username"))
    )
