"""The HTTP side of accounts that every capability's routes use: who is calling.

A route asks for the caller with a FastAPI dependency::

    Reader = Annotated[ActiveSession, Depends(require_permission(Permission.PERSON_READ))]

    @router.get("/api/v1/persons/{person_id}")
    def person(person_id: str, actor: Reader) -> PersonBody: ...

- :func:`current_session`: the logged-in account, else HTTP 401;
- :func:`optional_session`: the same, or ``None`` for an anonymous caller;
- :func:`require_permission`: a dependency that adds the permission check (403);
- :func:`get_account_store`: the app's one :class:`AccountStore`.

**Where the session id comes from.** A browser sends it in the ``hukou_session``
cookie (HttpOnly, so page scripts never see it; SameSite=Strict; Secure in
production). An API client sends it as ``Authorization: Bearer <id>``; a bearer
header wins over the cookie, and a bearer id that is not valid is refused
rather than retried with the cookie.

**CSRF.** A cookie is an ambient credential: the browser attaches it to a
request another site makes it send. So a cookie-authenticated request with a
state-changing method (anything but GET, HEAD, OPTIONS, TRACE) must also carry
the session's CSRF token, in the ``X-CSRF-Token`` header (htmx) or a
``csrf_token`` field of a urlencoded or multipart form (a file upload), else 403.
A bearer header is never attached by the browser on its own, so bearer requests
need no CSRF token.

Error details carry the message's English and Chinese text and nothing else: no
token, no user name, no stack frame.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Annotated, Final
from urllib.parse import parse_qs

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hukou.accounts.access import ActiveSession
from hukou.accounts.errors import (
    CsrfError,
    Message,
    NotAuthenticatedError,
    PermissionDeniedError,
)
from hukou.accounts.events import ignore_events
from hukou.accounts.roles import Permission
from hukou.accounts.store import TOTP_CONTEXT, AccountStore
from hukou.db import session_scope
from hukou.db.batcher import Batcher, BatcherClosedError
from hukou.keyring import data_cipher
from hukou.security import scope_of
from hukou.web.keys import request_keyring

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CurrentSession",
    "OptionalSession",
    "TokenSource",
    "clear_session_cookie",
    "current_session",
    "get_account_store",
    "message_detail",
    "optional_session",
    "presented_token",
    "require_permission",
    "set_session_cookie",
]

SESSION_COOKIE: Final = "hukou_session"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"

_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_CHALLENGE: Final = {"WWW-Authenticate": "Bearer"}
_HAS_MULTIPART: Final = importlib.util.find_spec("python_multipart") is not None
_build_lock = threading.Lock()

# Declared for the OpenAPI document (the "Authorize" button of /api/docs); the
# token itself is read by presented_token, so a direct call with only the request works.
_bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="session token",
    description="the session id, as the login set it in the hukou_session cookie",
)
_cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session cookie",
    description="set by POST /api/v1/auth/login; state-changing requests also need "
    "the X-CSRF-Token header",
)
_BearerDoc = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer_scheme)]
_CookieDoc = Annotated[str | None, Security(_cookie_scheme)]


class TokenSource(StrEnum):
    """Where a request's session id came from; only cookies need a CSRF token."""

    COOKIE = "cookie"
    BEARER = "bearer"


def message_detail(message: Message) -> str:
    """The ``detail`` of an HTTP error: the message in English, then in Chinese."""
    return f"{message.en} {message.zh}"


# --------------------------------------------------------------------------- the store


def get_account_store(request: Request) -> AccountStore:
    """The app's :class:`AccountStore`, built on first use and kept on ``app.state``.

    One per app, because it holds the derived CSRF and counter keys and the
    argon2 parameters; built lazily because it needs the field keys (TOTP secrets
    are encrypted), which a node may not need for anything else. Tests put their
    own store (cheap argon2, fake clock) on ``app.state.account_store`` first.
    It reads files the first time: call it from a thread, not the event loop.
    """
    store: AccountStore | None = getattr(request.app.state, "account_store", None)
    if store is not None:
        return store
    with _build_lock:  # two first requests at once build one store, not two
        store = getattr(request.app.state, "account_store", None)
        if store is None:
            settings = request.app.state.settings
            # The app composes where events go (the audit ledger); accounts knows no ledger.
            sink = getattr(request.app.state, "account_event_sink", None) or ignore_events
            store = AccountStore(
                data_cipher(
                    request.app.state.engine, request_keyring(request), scope_of(TOTP_CONTEXT)
                ),
                settings.secret_key.get_secret_value(),
                on_event=sink,
            )
            request.app.state.account_store = store
    return store


# --------------------------------------------------------------------------- cookies


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Put a new session id in the browser: HttpOnly, SameSite=Strict, Secure in production.

    No Max-Age: the cookie ends with the browser, and the server's idle and
    absolute timeouts decide how long the session itself lives.
    """
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.env == "production",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    """Tell the browser to drop the session cookie (same attributes, or it would not match)."""
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.env == "production",
    )


def presented_token(request: Request) -> tuple[str | None, TokenSource | None]:
    """The session id the request carries and where from: a bearer header wins over the cookie.

    An ``Authorization`` header with another scheme (Basic, say) is not ours and
    leaves the cookie in charge, CSRF check included.
    """
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None, TokenSource.BEARER
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, TokenSource.COOKIE
    return None, None


# --------------------------------------------------------------------------- dependencies


_lookups_lock = threading.Lock()


def session_lookups(request: Request) -> Batcher[str, ActiveSession | None]:
    """The app's session look-ups (:class:`~hukou.db.batcher.Batcher`), made on first use.

    Every request of a logged-in caller asks for its session first; asked one per
    thread and transaction, fifty callers at once spent most of the server's time there.
    Asked together, they are one query and one transaction, and every request is still
    checked against the stored session (a logout or a disabled account holds at once).
    """
    app = request.app
    lookups: Batcher[str, ActiveSession | None] | None = getattr(app.state, "session_lookups", None)
    if lookups is not None:
        return lookups
    with _lookups_lock:
        lookups = getattr(app.state, "session_lookups", None)
        if lookups is None:

            def serve(tokens: Sequence[str]) -> list[ActiveSession | None]:
                store: AccountStore = app.state.account_store  # read per batch: tests swap it
                with session_scope(app.state.engine) as db:
                    return store.sessions_for(db, tokens)

            lookups = Batcher(serve, name="hukou-session-lookups")
            app.state.session_lookups = lookups
    return lookups


async def _lookup(request: Request, token: str) -> ActiveSession | None:
    if getattr(request.app.state, "account_store", None) is None:
        # The store reads the key file the first time: off the event loop.
        await run_in_threadpool(get_account_store, request)
    try:
        return await asyncio.wrap_future(session_lookups(request).submit(token))
    except BatcherClosedError as error:  # the server is stopping
        raise HTTPException(503, str(error)) from None


async def _presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        # Parsed from the cached body: the page's own form parsing reads the same body.
        values = parse_qs((await request.body()).decode("utf-8", "replace")).get(CSRF_FIELD)
        return values[0] if values else None
    if _HAS_MULTIPART and content_type.startswith("multipart/form-data"):
        # Starlette caches the parsed form, so the route can still read its fields and files.
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def _session(request: Request) -> ActiveSession | None:
    """The caller's valid session or None; 403 for a cookie session failing its CSRF check."""
    token, source = presented_token(request)
    if token is None:
        return None
    actor = await _lookup(request, token)
    if actor is None:
        return None
    if source is TokenSource.COOKIE and request.method.upper() not in _SAFE_METHODS:
        try:
            actor.check_csrf(await _presented_csrf(request))
        except CsrfError as error:
            raise HTTPException(403, message_detail(error.message)) from None
    return actor


async def current_session(
    request: Request, _bearer: _BearerDoc = None, _cookie: _CookieDoc = None
) -> ActiveSession:
    """The logged-in caller; 401 if there is no valid session, 403 on a failed CSRF check.

    ``_bearer`` and ``_cookie`` only document the two ways in for OpenAPI; the
    token is read from the request itself.
    """
    actor = await _session(request)
    if actor is None:
        detail = message_detail(NotAuthenticatedError().message)
        raise HTTPException(401, detail, headers=_CHALLENGE)
    return actor


async def optional_session(
    request: Request, _bearer: _BearerDoc = None, _cookie: _CookieDoc = None
) -> ActiveSession | None:
    """The logged-in caller, or ``None`` for a caller with no valid session.

    For pages that anyone may see but that say more to a logged-in user. A
    valid cookie session is still held to the CSRF check (403) on a
    state-changing request: being optional must not make it forgeable.
    """
    return await _session(request)


CurrentSession = Annotated[ActiveSession, Depends(current_session)]
"""A route parameter of this type is the logged-in caller (401 otherwise)."""
OptionalSession = Annotated[ActiveSession | None, Depends(optional_session)]
"""A route parameter of this type is the logged-in caller or ``None``."""


def require_permission(
    permission: Permission | str,
) -> Callable[[ActiveSession], Awaitable[ActiveSession]]:
    """A dependency yielding the caller if their roles grant ``permission``, else 403.

    The permission is checked against :class:`Permission` now, so a misspelt
    one fails when the route module is imported, not at the first request.
    """
    wanted = Permission(permission)

    async def permitted(actor: CurrentSession) -> ActiveSession:
        try:
            return actor.require(wanted)
        except PermissionDeniedError as error:
            raise HTTPException(403, message_detail(error.message)) from None

    permitted.__name__ = f"require_{wanted.value.replace('.', '_')}"
    return permitted
