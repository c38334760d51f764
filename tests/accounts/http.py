"""Log in over HTTP from any test: a cheap account store, staff accounts, bearer headers.

Route tests of every capability use it like this::

    from tests.accounts.http import install_store, logged_in_headers

    app = create_app(settings)
    install_store(app)  # cheap argon2id, so tests stay fast
    with TestClient(app) as client:
        headers = logged_in_headers(client, Role.WINDOW_CLERK)
        client.get("/api/v1/persons/…", headers=headers)

A bearer header needs no CSRF token. Roles that need a second factor (data officer,
the administrators) are enrolled on the way, with a TOTP code computed here; pass
``at=clock.now`` when the store runs on a fake clock.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from argon2 import Parameters, Type
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hukou.accounts import (
    Account,
    AccountKind,
    AccountStore,
    Clock,
    Level,
    PasswordHashing,
    Role,
    UnknownDepartmentError,
    utc_now,
)
from hukou.accounts.web import SESSION_COOKIE
from hukou.db import session_scope
from hukou.security import FieldCipher, KeyRing

__all__ = [
    "DEPARTMENT",
    "PASSWORD",
    "LoggedIn",
    "bearer",
    "cheap_store",
    "create_resident",
    "create_staff",
    "install_store",
    "log_in",
    "logged_in_headers",
    "totp_now",
]

PASSWORD = "Correct-Horse-7"  # meets the staff policy
DEPARTMENT = "public_security"
_SECRET_KEY = b"http-test-secret-key-of-32-bytes"
_CHEAP = Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=8, parallelism=1
)


def cheap_store(clock: Clock = utc_now, **options: Any) -> AccountStore:
    """An account store with argon2id at its minimum cost and a fresh key ring."""
    cipher = FieldCipher(KeyRing.generate())
    return AccountStore(
        cipher, _SECRET_KEY, hashing=PasswordHashing(_CHEAP), clock=clock, **options
    )


def install_store(app: FastAPI, store: AccountStore | None = None) -> AccountStore:
    """Make ``store`` (default: :func:`cheap_store`) the app's, before its first request."""
    app.state.account_store = store or cheap_store()
    return app.state.account_store  # type: ignore[no-any-return]


def create_staff(
    app: FastAPI,
    roles: Iterable[Role | str] = (Role.WINDOW_CLERK,),
    *,
    username: str | None = None,
    password: str = PASSWORD,
    department: str = DEPARTMENT,
) -> Account:
    """A staff account in ``department`` (created, city level, if missing); no forced change."""
    store: AccountStore = app.state.account_store
    with session_scope(app.state.engine) as db:
        try:
            store.department(db, department)
        except UnknownDepartmentError:
            store.create_department(db, department, department, Level.CITY)
        return store.create_user(
            db,
            kind=AccountKind.STAFF,
            username=username or f"staff-{uuid.uuid4().hex[:10]}",
            password=password,
            display_name="测试人员",
            department_code=department,
            roles=roles,
            must_change_password=False,
        )


def create_resident(app: FastAPI, person_id: str, *, password: str = PASSWORD) -> Account:
    """A resident account linked to the registry person ``person_id``; no forced change."""
    store: AccountStore = app.state.account_store
    with session_scope(app.state.engine) as db:
        return store.create_user(
            db,
            kind=AccountKind.RESIDENT,
            username=f"resident-{uuid.uuid4().hex[:10]}",
            password=password,
            display_name="居民",
            person_id=person_id,
            must_change_password=False,
        )


def totp_now(secret_base32: str, at: datetime.datetime | None = None) -> str:
    """The authenticator app's code at ``at`` (default now), by ``cryptography``'s TOTP."""
    secret = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    moment = at or datetime.datetime.now(datetime.UTC)
    return TOTP(secret, 6, SHA1(), 30).generate(moment.timestamp()).decode("ascii")


@dataclass(frozen=True)
class LoggedIn:
    """A logged-in session as a test holds it; the repr hides the secrets."""

    user_id: str
    token: str = field(repr=False)
    csrf_token: str = field(repr=False)
    totp_secret: str | None = field(default=None, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """The bearer header of this session."""
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    """``Authorization: Bearer <token>``: the API client's way in, no CSRF token needed."""
    return {"Authorization": f"Bearer {token}"}


def log_in(
    client: TestClient,
    username: str,
    password: str = PASSWORD,
    *,
    totp_secret: str | None = None,
    at: datetime.datetime | None = None,
    keep_cookie: bool = False,
) -> LoggedIn:
    """Log in through ``/api/v1/auth`` (second factor included) and return the session.

    The client's cookie is dropped before (a login ends the session whose cookie it
    carries, which would end another test user's) and, unless ``keep_cookie``,
    after, so that only the bearer header authenticates. An enrolled account needs
    its ``totp_secret``; a code works once, so log in again after the next 30 s step.
    """
    client.cookies.delete(SESSION_COOKIE)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    if body["outcome"] == "needs_second_factor":
        if body["enrolment"] is not None:
            totp_secret = body["enrolment"]["secret"]
        assert totp_secret is not None, "an enrolled account: pass its totp_secret"
        response = client.post(
            "/api/v1/auth/second-factor",
            json={"challenge": body["challenge"], "code": totp_now(totp_secret, at)},
        )
        assert response.status_code == 200, response.text
        body = response.json()
    assert body["outcome"] == "ok", body
    token = response.cookies[SESSION_COOKIE]
    if not keep_cookie:
        client.cookies.delete(SESSION_COOKIE)
    return LoggedIn(body["user"]["id"], token, body["csrf_token"], totp_secret)


def resident_headers(client: TestClient, person_id: str) -> dict[str, str]:
    """Bearer headers of a new resident account linked to ``person_id``."""
    app = client.app
    assert isinstance(app, FastAPI)
    return log_in(client, create_resident(app, person_id).username).headers


def logged_in_headers(
    client: TestClient,
    *roles: Role | str,
    department: str = DEPARTMENT,
    at: datetime.datetime | None = None,
) -> dict[str, str]:
    """Bearer headers of a new staff account holding ``roles`` (default: window clerk)."""
    app = client.app
    assert isinstance(app, FastAPI)
    account = create_staff(app, roles or (Role.WINDOW_CLERK,), department=department)
    return log_in(client, account.username, at=at).headers
