"""The login pages: user name and password, then the authenticator's code, and logout.

The same store as the JSON API (:mod:`hukou.accounts.routes`) decides; these pages only
turn its answers into HTML. The login form is protected against login CSRF (a site
logging the visitor into the attacker's account) by a double-submitted token: a random
value in a cookie of its own and in the form, which another site can neither read nor
set. A refusal says the same whether or not the account exists.
"""

from __future__ import annotations

import secrets
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hukou.accounts.store import LoginOutcome, LoginResult
from hukou.accounts.web import (
    SESSION_COOKIE,
    CurrentSession,
    clear_session_cookie,
    get_account_store,
    presented_token,
    set_session_cookie,
)
from hukou.db import session_scope
from hukou.web import page_language, render
from hukou.web.session import first, form_fields, landing_page, safe_next

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE: Final = "hukou_login"
"""The login form's double-submit token (not a session: it proves nothing but origin)."""


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _login_page(
    request: Request, *, message: str | None = None, status_code: int = 200, username: str = ""
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "login_token": token,
            "message": message,
            "username": username,
            "next": safe_next(request.query_params.get("next")) or "",
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.env == "production",
    )
    response.headers["cache-control"] = "no-store"
    return response


def _words(request: Request, result: LoginResult) -> str:
    return result.message.zh if page_language(request) == "zh-CN" else result.message.en


def _signed_in(request: Request, result: LoginResult, next_path: str | None) -> Response:
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        actor = store.session_for(db, result.token) if result.token else None
    if actor is None or result.token is None:
        return _login_page(request, status_code=401)
    response = RedirectResponse(next_path or landing_page(actor), status_code=303)
    set_session_cookie(request, response, result.token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    """The login form (both staff and residents: the account says which it is)."""
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form_fields(request)
    sent, kept = first(fields, "login_token"), request.cookies.get(LOGIN_COOKIE, "")
    username = first(fields, "username")
    if not sent or not secrets.compare_digest(sent, kept):
        return _login_page(request, status_code=403, username=username)
    next_path = safe_next(first(fields, "next"))
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        result = store.login(
            db,
            username,
            first(fields, "password"),
            client_address=_client(request),
            previous_token=request.cookies.get(SESSION_COOKIE),
        )
    if result.outcome is LoginOutcome.OK:
        return _signed_in(request, result, next_path)
    if result.outcome is LoginOutcome.NEEDS_SECOND_FACTOR and result.token:
        enrolment = result.enrolment
        response = render(
            request,
            "login_code.html",
            {
                "challenge": result.token,
                "next": next_path or "",
                "message": _words(request, result),
                "enrol_secret": None if enrolment is None else enrolment.secret_base32,
            },
        )
        response.headers["cache-control"] = "no-store"
        return response
    status = 423 if result.outcome is LoginOutcome.LOCKED else 401
    if result.outcome is LoginOutcome.RATE_LIMITED:
        status = 429
    return _login_page(
        request, message=_words(request, result), status_code=status, username=username
    )


@router.post("/login/code")
async def second_factor(request: Request) -> Response:
    fields = await form_fields(request)
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        result = store.verify_second_factor(
            db, first(fields, "challenge"), first(fields, "code"), client_address=_client(request)
        )
    next_path = safe_next(first(fields, "next"))
    if result.outcome is LoginOutcome.OK:
        return _signed_in(request, result, next_path)
    if result.outcome is LoginOutcome.REFUSED and first(fields, "challenge"):
        response = render(
            request,
            "login_code.html",
            {
                "challenge": first(fields, "challenge"),
                "next": next_path or "",
                "message": _words(request, result),
                "enrol_secret": None,
            },
            status_code=401,
        )
        response.headers["cache-control"] = "no-store"
        return response
    return _login_page(request, message=_words(request, result), status_code=401)


@router.post("/logout")
def logout(request: Request, actor: CurrentSession) -> Response:
    """End the session (the form carries its CSRF token, checked by the dependency)."""
    del actor
    token, _source = presented_token(request)
    if token is not None:
        with session_scope(request.app.state.engine) as db:
            get_account_store(request).logout(db, token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response
