"""``/api/v1/auth`` and the session dependencies, over HTTP on SQLite and PostgreSQL.

What a browser and an API client see: the cookie's attributes, one answer for
every refused login, lockout and rate limits as 423 and 429, the second factor,
CSRF on cookie requests only, logout, fresh ids at login, permission checks, and
errors that never show a stack frame or repeat what was typed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from hukou.accounts import (
    AccountStore,
    ActiveSession,
    CurrentSession,
    OptionalSession,
    Permission,
    RateLimit,
    RateLimits,
    Role,
    require_permission,
)
from hukou.accounts.web import CSRF_HEADER, SESSION_COOKIE
from hukou.app import create_app
from hukou.config import Settings
from hukou.security import KeyRing

from .conftest import FakeClock
from .http import PASSWORD, bearer, create_staff, install_store, log_in, totp_now

pytestmark = pytest.mark.storage

LOGIN = "/api/v1/auth/login"
SECOND_FACTOR = "/api/v1/auth/second-factor"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
ECHO = "/api/v1/test/echo"
LEDGER = "/api/v1/test/ledger"
WRONG = "Wrong-Horse-8x"

Ledger = Annotated[ActiveSession, Depends(require_permission(Permission.LEDGER_READ))]


def _settings(engine: Engine, tmp_path: Path) -> Settings:
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "data_dir": tmp_path,
        "keys": SecretStr(KeyRing.generate().to_json()),
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _add_test_routes(app: FastAPI) -> None:
    """Routes standing for another capability's: any change, and a permission check."""

    @app.api_route(ECHO, methods=["POST", "PUT", "PATCH", "DELETE", "GET"])
    def echo(actor: CurrentSession) -> dict[str, str]:
        return {"username": actor.username}

    @app.get(LEDGER)
    def ledger(actor: Ledger) -> dict[str, str]:
        return {"username": actor.username}

    @app.post("/api/v1/test/maybe")
    def maybe(actor: OptionalSession) -> dict[str, str | None]:
        return {"username": None if actor is None else actor.username}


@pytest.fixture
def app(engine: Engine, tmp_path: Path, store: AccountStore) -> FastAPI:
    app = create_app(_settings(engine, tmp_path))
    install_store(app, store)  # the accounts conftest's: cheap argon2id, a fake clock
    _add_test_routes(app)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(LOGIN, json={"username": username, "password": password})


def _friendly(response: Any, status: int, *secrets: str) -> dict[str, Any]:
    """An error in the app's JSON shape, with no stack frame and nothing the caller typed."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    for secret in secrets:
        assert secret not in response.text
    body: dict[str, Any] = response.json()
    assert len(body["correlation_id"]) == 32
    return body


def _without_id(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "correlation_id"}


# --------------------------------------------------------------------------- login


def test_login_sets_a_strict_http_only_cookie_and_returns_the_user(
    app: FastAPI, client: TestClient
) -> None:
    account = create_staff(app, [Role.WINDOW_CLERK], username="wang.li")
    response = _login(client, "Wang.Li")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "ok"
    assert body["user"] == {
        "id": account.id,
        "username": "wang.li",
        "display_name": "测试人员",
        "kind": "staff",
        "department": "public_security",
        "roles": ["window_clerk"],
    }
    assert body["password_change_due"] is False
    assert body["csrf_token"]
    assert response.headers["cache-control"] == "no-store"

    token = response.cookies[SESSION_COOKIE]
    assert token not in response.text  # the session id is in the cookie only
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "path=/" in cookie.lower()
    assert "secure" not in attributes  # development serves plain http
    assert "max-age" not in attributes  # ends with the browser; the server times it out

    me = client.get(ME)  # the cookie alone authenticates a read
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == account.id
    assert me.json()["csrf_token"] == body["csrf_token"]
    assert me.json()["permissions"] == ["case.file", "case.read", "insight.read", "person.read"]


def test_the_cookie_is_secure_in_production(app: FastAPI, client: TestClient) -> None:
    app.state.settings = app.state.settings.model_copy(update={"env": "production"})
    create_staff(app, username="wang.li")
    client.base_url = "https://testserver"  # type: ignore[assignment]
    response = _login(client, "wang.li")
    assert response.status_code == 200, response.text
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


def test_refused_is_the_same_for_an_unknown_user_and_a_wrong_password(
    app: FastAPI, client: TestClient
) -> None:
    create_staff(app, username="wang.li")
    wrong = _friendly(_login(client, "wang.li", WRONG), 401, WRONG)
    unknown = _friendly(_login(client, "nobody.here", WRONG), 401, WRONG, "nobody.here")
    assert _without_id(wrong) == _without_id(unknown)
    assert "用户名或密码错误" in wrong["detail"]
    assert "Wrong user name or password." in wrong["detail"]
    wrong_headers = _login(client, "wang.li", WRONG).headers
    unknown_headers = _login(client, "nobody.here", WRONG).headers
    for name in ("www-authenticate", "cache-control", "content-type", "set-cookie"):
        assert wrong_headers.get(name) == unknown_headers.get(name)


def test_repeated_failures_lock_the_name_then_rate_limits_apply(
    app: FastAPI, client: TestClient
) -> None:
    create_staff(app, username="wang.li")
    for _ in range(4):
        _friendly(_login(client, "wang.li", WRONG), 401)
    locked = _friendly(_login(client, "wang.li", WRONG), 423, WRONG)
    assert "try again in 15 minute(s)" in locked["detail"]
    # Locked means locked: the right password is not even checked.
    again = _login(client, "wang.li")
    _friendly(again, 423)
    assert again.headers["retry-after"].endswith("GMT")

    # A name without an account locks after the same five failures.
    for _ in range(4):
        _friendly(_login(client, "nobody.here", WRONG), 401)
    _friendly(_login(client, "nobody.here", WRONG), 423)

    # 20 attempts per name in 15 minutes; the 21st is refused before anything else.
    for _ in range(14):
        _friendly(_login(client, "wang.li"), 423)
    limited = _friendly(_login(client, "wang.li"), 429, PASSWORD)
    assert "Too many login attempts" in limited["detail"]
    assert limited["detail"].count("登录尝试过于频繁") == 1
    assert _login(client, "wang.li").headers["retry-after"].endswith("GMT")


def test_the_client_address_is_rate_limited(app: FastAPI, client: TestClient) -> None:
    store: AccountStore = app.state.account_store
    store.rate_limits = RateLimits(per_address=RateLimit(3, datetime.timedelta(minutes=15)))
    for number in range(3):
        _friendly(_login(client, f"user-{number}", WRONG), 401)
    _friendly(_login(client, "user-9", WRONG), 429)  # request.client.host: "testclient"


def test_invalid_bodies_are_refused_without_echoing_them(client: TestClient) -> None:
    extra = client.post(LOGIN, json={"username": "wang.li", "password": WRONG, "remember": 1})
    _friendly(extra, 422, WRONG)
    long = client.post(LOGIN, json={"username": "wang.li", "password": "x" * 2000})
    _friendly(long, 422, "x" * 50)
    # Only a body declared JSON: a cross-site page can send these without a preflight.
    for headers in ({"content-type": "text/plain"}, {}):
        blind = client.post(LOGIN, content=b'{"username": "a", "password": "b"}', headers=headers)
        _friendly(blind, 415)
    form = client.post(LOGIN, data={"username": "wang.li", "password": WRONG})
    _friendly(form, 415, WRONG)


# --------------------------------------------------------------------------- second factor


def test_a_data_officer_enrols_and_passes_the_second_factor(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    officer = create_staff(app, [Role.DATA_OFFICER], username="zhao.min")
    first = _login(client, "zhao.min")
    assert first.status_code == 200, first.text
    pending = first.json()
    assert pending["outcome"] == "needs_second_factor"
    assert pending["message"]["code"] == "login.enrol_second_factor"
    assert SESSION_COOKIE not in first.cookies  # no session before the code
    assert first.headers["cache-control"] == "no-store"
    secret = pending["enrolment"]["secret"]
    assert pending["enrolment"]["uri"].startswith("otpauth://totp/")

    # The challenge is not a session.
    _friendly(client.get(ME, headers=bearer(pending["challenge"])), 401)

    code = totp_now(secret, clock.now)
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = client.post(
        SECOND_FACTOR, json={"challenge": pending["challenge"], "code": wrong_code}
    )
    _friendly(refused, 401, wrong_code, pending["challenge"])
    _friendly(client.post(SECOND_FACTOR, json={"challenge": "made-up", "code": code}), 401)

    done = client.post(SECOND_FACTOR, json={"challenge": pending["challenge"], "code": code})
    assert done.status_code == 200, done.text
    assert done.json()["user"]["roles"] == ["data_officer"]
    token = done.cookies[SESSION_COOKIE]
    me = client.get(ME, headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["user"]["id"] == officer.id
    assert "person.unmask" in me.json()["permissions"]
    # The challenge is spent.
    again = client.post(SECOND_FACTOR, json={"challenge": pending["challenge"], "code": code})
    _friendly(again, 401)

    # Enrolled now: the next login shows no secret, and a used code does not work twice.
    second = _login(client, "zhao.min").json()
    assert second["enrolment"] is None
    assert second["message"]["code"] == "login.second_factor"
    replay = client.post(SECOND_FACTOR, json={"challenge": second["challenge"], "code": code})
    _friendly(replay, 401)
    clock.advance(seconds=30)
    fresh = {"challenge": second["challenge"], "code": totp_now(secret, clock.now)}
    assert client.post(SECOND_FACTOR, json=fresh).status_code == 200


def test_the_log_in_helper_handles_the_second_factor(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    create_staff(app, [Role.AUDIT_ADMIN], username="audit.one")
    session = log_in(client, "audit.one", at=clock.now)
    assert session.totp_secret is not None
    assert SESSION_COOKIE not in client.cookies
    assert client.get(LEDGER, headers=session.headers).status_code == 200
    clock.advance(seconds=30)
    again = log_in(client, "audit.one", totp_secret=session.totp_secret, at=clock.now)
    assert again.token != session.token


# --------------------------------------------------------------------------- sessions


def test_cookie_changes_need_the_csrf_token_and_bearer_ones_do_not(
    app: FastAPI, client: TestClient
) -> None:
    create_staff(app, username="wang.li")
    session = log_in(client, "wang.li", keep_cookie=True)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        missing = client.request(method, ECHO)
        body = _friendly(missing, 403, session.token)
        assert "表单已过期或并非来自本站" in body["detail"]
        _friendly(client.request(method, ECHO, headers={CSRF_HEADER: "forged"}), 403)
        fine = client.request(method, ECHO, headers={CSRF_HEADER: session.csrf_token})
        assert fine.status_code == 200, fine.text
    assert client.get(ECHO).status_code == 200  # reads need no token

    # A plain HTML form sends the token as a field.
    form = client.post(ECHO, data={"csrf_token": session.csrf_token, "note": "x"})
    assert form.status_code == 200, form.text
    _friendly(client.post(ECHO, data={"csrf_token": "forged"}), 403)

    # An optional session is held to the same check.
    _friendly(client.post("/api/v1/test/maybe"), 403)
    client.cookies.delete(SESSION_COOKIE)
    assert client.post("/api/v1/test/maybe").json() == {"username": None}

    # The browser never adds a bearer header by itself: no CSRF token needed.
    assert client.post(ECHO, headers=session.headers).json() == {"username": "wang.li"}
    assert client.delete(ECHO, headers=session.headers).status_code == 200


def test_a_bearer_header_wins_over_the_cookie_and_a_bad_one_is_not_retried(
    app: FastAPI, client: TestClient
) -> None:
    create_staff(app, username="wang.li")
    session = log_in(client, "wang.li", keep_cookie=True)
    _friendly(client.get(ME, headers=bearer("not-a-session")), 401)
    _friendly(client.get(ME, headers={"Authorization": "Bearer "}), 401)
    # Another scheme is not ours: the cookie decides, and its CSRF check with it.
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert client.get(ME, headers=basic).status_code == 200
    _friendly(client.post(ECHO, headers=basic), 403)
    assert client.get(ME, headers=session.headers).status_code == 200


def test_logout_ends_the_session_and_clears_the_cookie(app: FastAPI, client: TestClient) -> None:
    create_staff(app, username="wang.li")
    session = log_in(client, "wang.li", keep_cookie=True)
    _friendly(client.post(LOGOUT), 403)  # a cookie logout needs the CSRF token too
    assert client.get(ME).status_code == 200
    out = client.post(LOGOUT, headers={CSRF_HEADER: session.csrf_token})
    assert out.status_code == 204
    assert SESSION_COOKIE in out.headers["set-cookie"]
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert SESSION_COOKIE not in client.cookies
    body = _friendly(client.get(ME, headers=session.headers), 401, session.token)
    assert "Please log in" in body["detail"]
    assert out.text == ""
    # Logging out of nothing is harmless.
    assert client.post(LOGOUT).status_code == 204

    other = log_in(client, "wang.li")
    assert client.post(LOGOUT, headers=other.headers).status_code == 204
    _friendly(client.get(ME, headers=other.headers), 401)


def test_a_login_issues_a_fresh_id_and_ends_the_one_presented(
    app: FastAPI, client: TestClient
) -> None:
    create_staff(app, username="wang.li")
    first = log_in(client, "wang.li", keep_cookie=True)
    # Log in again with the first cookie still in the jar (a planted one, say).
    response = _login(client, "wang.li")
    assert response.status_code == 200
    second = response.cookies[SESSION_COOKIE]
    assert second != first.token
    assert response.json()["csrf_token"] != first.csrf_token
    _friendly(client.get(ME, headers=bearer(first.token)), 401)
    assert client.get(ME, headers=bearer(second)).status_code == 200


def test_an_idle_session_ends(app: FastAPI, client: TestClient, clock: FakeClock) -> None:
    create_staff(app, username="wang.li")
    session = log_in(client, "wang.li")
    clock.advance(minutes=29)
    assert client.get(ME, headers=session.headers).status_code == 200
    clock.advance(minutes=29)  # the request above reset the idle time
    assert client.get(ME, headers=session.headers).status_code == 200
    clock.advance(minutes=31)
    _friendly(client.get(ME, headers=session.headers), 401)


# --------------------------------------------------------------------------- permissions


def test_require_permission_refuses_with_403_and_the_message(
    app: FastAPI, client: TestClient, clock: FakeClock
) -> None:
    create_staff(app, [Role.WINDOW_CLERK], username="wang.li")
    clerk = log_in(client, "wang.li")
    denied = _friendly(client.get(LEDGER, headers=clerk.headers), 403, clerk.token)
    assert denied["detail"] == (
        "This account lacks the permission 'ledger.read'. 当前账号没有权限 'ledger.read'。"
    )
    _friendly(client.get(LEDGER), 401)

    create_staff(app, [Role.AUDIT_ADMIN], username="audit.one")
    auditor = log_in(client, "audit.one", at=clock.now)
    assert client.get(LEDGER, headers=auditor.headers).json() == {"username": "audit.one"}


def test_require_permission_refuses_an_unknown_permission_at_once() -> None:
    with pytest.raises(ValueError, match="not a valid Permission"):
        require_permission("ledger.erase")


def test_no_error_body_shows_a_stack_frame(app: FastAPI, client: TestClient) -> None:
    create_staff(app, username="wang.li")
    session = log_in(client, "wang.li", keep_cookie=True)
    responses = [
        client.get(ME, headers=bearer("x" * 500)),
        client.post(ECHO),
        client.post(LOGIN, json=[]),
        client.post(LOGIN, content=b"{not json", headers={"content-type": "application/json"}),
        client.post(SECOND_FACTOR, json={"challenge": "", "code": ""}),
        client.post(SECOND_FACTOR, json={"challenge": session.token, "code": "12345678901234"}),
        client.get(LEDGER, headers=session.headers),
    ]
    for response in responses:
        assert response.status_code in {401, 403, 422}, response.text
        assert "Traceback" not in response.text
        assert 'File "' not in response.text
        assert session.token not in response.text


def test_the_store_is_built_once_from_the_apps_keys(engine: Engine, tmp_path: Path) -> None:
    app = create_app(_settings(engine, tmp_path))
    assert app.state.account_store is None
    with TestClient(app, raise_server_exceptions=False) as client:
        _friendly(client.get(ME), 401)
        assert app.state.account_store is None  # no token, no need for the store
        _friendly(client.get(ME, headers=bearer("unknown")), 401)
        store = app.state.account_store
        assert isinstance(store, AccountStore)
        assert app.state.keyring is not None
        _friendly(client.get(ME, headers=bearer("unknown")), 401)
        assert app.state.account_store is store
