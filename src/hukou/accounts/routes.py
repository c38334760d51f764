"""Login, second factor, logout and "who am I" over HTTP: ``/api/v1/auth``.

The store decides (:meth:`AccountStore.login` and friends); this module only
turns its answers into HTTP. A login that succeeds sets the session cookie
(see :mod:`hukou.accounts.web`) and answers with the CSRF token the page must
send back; the session id itself is never in a response body, so page scripts
cannot read it. API clients take it from the ``Set-Cookie`` header and send it
as a bearer token.

Refusals are HTTP errors in the app's JSON shape (``error``, ``detail``,
``correlation_id``): 401 ``refused``, 423 ``locked``, 429 ``rate_limited``, the
last two with ``Retry-After``. A refused login answers the same whether or not
the account exists; this module adds nothing that could tell them apart. The
store's transaction commits *before* the error is raised, so failure counters
and attempts are kept.
"""

from __future__ import annotations

import datetime
from email.utils import format_datetime
from typing import Any, Final, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hukou.accounts.access import ActiveSession
from hukou.accounts.errors import NotAuthenticatedError
from hukou.accounts.roles import AccountKind, Permission, Role
from hukou.accounts.store import LoginOutcome, LoginResult
from hukou.accounts.web import (
    SESSION_COOKIE,
    CurrentSession,
    OptionalSession,
    clear_session_cookie,
    get_account_store,
    message_detail,
    presented_token,
    set_session_cookie,
)
from hukou.db import session_scope

__all__ = [
    "EnrolmentBody",
    "LoggedInBody",
    "LoginRequest",
    "MeBody",
    "MessageBody",
    "SecondFactorBody",
    "SecondFactorRequest",
    "UserBody",
    "router",
]

router = APIRouter(prefix="/api/v1/auth", tags=["accounts"])

_REFUSAL_STATUS: Final = {
    LoginOutcome.REFUSED: 401,
    LoginOutcome.LOCKED: 423,
    LoginOutcome.RATE_LIMITED: 429,
}
_ERROR: Final[dict[str, Any]] = {
    "content": {
        "application/json": {
            "example": {"error": "…", "detail": "…", "correlation_id": "0123456789abcdef…"}
        }
    }
}
_REFUSALS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "refused: wrong user name, password or code", **_ERROR},
    415: {"description": "the body is not declared application/json", **_ERROR},
    423: {"description": "locked: too many failures for this user name", **_ERROR},
    429: {"description": "rate_limited: too many attempts", **_ERROR},
}


# --------------------------------------------------------------------------- bodies


class LoginRequest(BaseModel):
    """A user name and password; both are kept out of every log and error."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=256)
    password: SecretStr = Field(
        min_length=1,
        max_length=1024,  # bounds the argon2 input; a real password is far shorter
    )


class SecondFactorRequest(BaseModel):
    """The challenge a login answered with, and the authenticator app's current code."""

    model_config = ConfigDict(extra="forbid")

    challenge: SecretStr = Field(min_length=1, max_length=256)
    code: SecretStr = Field(min_length=1, max_length=16, description="6 digits; spaces ignored")


class MessageBody(BaseModel):
    """A sentence for the user: a stable code, English and Chinese."""

    model_config = ConfigDict(extra="forbid")

    code: str
    en: str
    zh: str


class UserBody(BaseModel):
    """The logged-in account: no hash, no secret, no registry person id."""

    model_config = ConfigDict(extra="forbid")

    id: str
    username: str
    display_name: str
    kind: AccountKind
    department: str | None = Field(description="the department code; none for residents")
    roles: list[Role]


class LoggedInBody(BaseModel):
    """A finished login; the session id is in the ``hukou_session`` cookie, not here."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["ok"] = "ok"
    csrf_token: str = Field(description="send as X-CSRF-Token (or csrf_token) with every change")
    expires_at: datetime.datetime = Field(description="when the session ends if unused")
    password_change_due: bool
    user: UserBody


class EnrolmentBody(BaseModel):
    """A new authenticator secret, shown once to its owner (first login only)."""

    model_config = ConfigDict(extra="forbid")

    secret: str = Field(description="base32, for typing into the app")
    uri: str = Field(description="otpauth:// URI, for a QR code")


class SecondFactorBody(BaseModel):
    """The password was right; the authenticator code goes to ``/second-factor``."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["needs_second_factor"] = "needs_second_factor"
    challenge: str = Field(description="for POST /api/v1/auth/second-factor; nothing else")
    expires_at: datetime.datetime
    message: MessageBody
    enrolment: EnrolmentBody | None = Field(
        description="set only when the account has no authenticator yet"
    )


class MeBody(BaseModel):
    """The caller's account, what it may do, and the CSRF token of this session."""

    model_config = ConfigDict(extra="forbid")

    user: UserBody
    permissions: list[Permission]
    csrf_token: str
    expires_at: datetime.datetime
    password_change_due: bool


# --------------------------------------------------------------------------- helpers


def _json_only(request: Request) -> None:
    """415 unless the body is declared JSON: the login's defence against login CSRF.

    FastAPI also reads a body *without* a content type as JSON, and a cross-site
    page can send one of those without a CORS preflight; it cannot send
    ``application/json`` without one, which this app never grants.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, "send the body as application/json")


def _client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _user(actor: ActiveSession) -> UserBody:
    return UserBody(
        id=actor.user_id,
        username=actor.username,
        display_name=actor.display_name,
        kind=actor.kind,
        department=actor.department_code,
        roles=sorted(actor.roles),
    )


def _no_store(response: Response) -> None:
    # These answers carry a CSRF token or an authenticator secret: no cache keeps them.
    response.headers["Cache-Control"] = "no-store"


def _refusal(result: LoginResult) -> HTTPException:
    """The HTTP error for a refused, locked or rate-limited step: the store's words only."""
    status = _REFUSAL_STATUS.get(result.outcome, 401)
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if result.retry_after is not None:
        headers["Retry-After"] = format_datetime(
            result.retry_after.astimezone(datetime.UTC), usegmt=True
        )
    return HTTPException(status, message_detail(result.message), headers=headers)


def _logged_in(
    request: Request,
    response: Response,
    result: LoginResult,
    actor: ActiveSession | None,
) -> LoggedInBody:
    if result.token is None or result.csrf_token is None or actor is None:
        # Only if the account was disabled between the two reads of one transaction.
        raise HTTPException(401, message_detail(NotAuthenticatedError().message))
    set_session_cookie(request, response, result.token)
    _no_store(response)
    return LoggedInBody(
        csrf_token=result.csrf_token,
        expires_at=actor.expires_at,
        password_change_due=result.password_change_due,
        user=_user(actor),
    )


# --------------------------------------------------------------------------- routes


@router.post(
    "/login",
    dependencies=[Depends(_json_only)],
    summary="Log in with a user name and password",
    response_model=LoggedInBody | SecondFactorBody,
    responses=_REFUSALS,
)
def login(
    body: LoginRequest, request: Request, response: Response
) -> LoggedInBody | SecondFactorBody:
    """``ok`` (cookie set) or ``needs_second_factor``; else 401, 423 or 429.

    Whatever session id the browser held is deleted first (a fresh id at every
    login defeats session fixation), even when the login then fails.
    """
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        result = store.login(
            db,
            body.username,
            body.password.get_secret_value(),
            client_address=_client_address(request),
            previous_token=request.cookies.get(SESSION_COOKIE),
        )
        actor = store.session_for(db, result.token) if result.ok else None
    # Committed: the failure counters count even when an error is raised below.
    if result.outcome is LoginOutcome.OK:
        return _logged_in(request, response, result, actor)
    pending, expires = result.token, result.expires_at
    if result.outcome is LoginOutcome.NEEDS_SECOND_FACTOR and pending and expires:
        _no_store(response)
        enrolment = result.enrolment
        return SecondFactorBody(
            challenge=pending,
            expires_at=expires,
            message=MessageBody(
                code=result.message.code, en=result.message.en, zh=result.message.zh
            ),
            enrolment=None
            if enrolment is None
            else EnrolmentBody(secret=enrolment.secret_base32, uri=enrolment.uri),
        )
    raise _refusal(result)


@router.post(
    "/second-factor",
    dependencies=[Depends(_json_only)],
    summary="Finish a login with the authenticator app's code",
    response_model=LoggedInBody,
    responses=_REFUSALS,
)
def second_factor(body: SecondFactorRequest, request: Request, response: Response) -> LoggedInBody:
    """``ok`` (cookie set) or 401/423/429; a wrong code counts towards the lockout."""
    store = get_account_store(request)
    with session_scope(request.app.state.engine) as db:
        result = store.verify_second_factor(
            db,
            body.challenge.get_secret_value(),
            body.code.get_secret_value(),
            client_address=_client_address(request),
        )
        actor = store.session_for(db, result.token) if result.ok else None
    if result.outcome is LoginOutcome.OK:
        return _logged_in(request, response, result, actor)
    raise _refusal(result)


@router.post(
    "/logout",
    summary="End this session",
    status_code=204,
    responses={403: {"description": "a cookie session without its CSRF token", **_ERROR}},
)
def logout(request: Request, _actor: OptionalSession) -> Response:
    """End the session the request carries and clear the cookie; 204 even if none was live.

    A live cookie session must show its CSRF token like any other change (the
    dependency checks it); a dead one has nothing left to protect.
    """
    token, _source = presented_token(request)
    if token is not None:
        store = get_account_store(request)
        with session_scope(request.app.state.engine) as db:
            store.logout(db, token)
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response


@router.get(
    "/me",
    summary="The logged-in account, its roles and permissions",
    response_model=MeBody,
    responses={401: {"description": "not logged in, or the session has ended", **_ERROR}},
)
def me(actor: CurrentSession, response: Response) -> MeBody:
    """Who the session belongs to, what it may do, and the CSRF token to send with changes."""
    _no_store(response)
    return MeBody(
        user=_user(actor),
        permissions=sorted(actor.permissions),
        csrf_token=actor.csrf_token,
        expires_at=actor.expires_at,
        password_change_due=actor.password_change_due,
    )
