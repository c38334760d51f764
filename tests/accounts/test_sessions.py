"""Session ids, idle and absolute timeouts, CSRF tokens — pure, with explicit times."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hukou.accounts.access import ActiveSession, require
from hukou.accounts.errors import CsrfError, NotAuthenticatedError, PermissionDeniedError
from hukou.accounts.roles import AccountKind, Permission, Role, permissions_of
from hukou.accounts.sessions import (
    DEFAULT_SESSIONS,
    Expiry,
    SessionPolicy,
    csrf_token,
    csrf_valid,
    expires_at,
    needs_touch,
    new_token,
    session_expiry,
    token_key,
)
from hukou.security.sm import sm3

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
KEY = b"csrf-secret-key-of-32-bytes-long"


def at(minutes: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def test_defaults() -> None:
    assert DEFAULT_SESSIONS.idle == datetime.timedelta(minutes=30)
    assert DEFAULT_SESSIONS.absolute == datetime.timedelta(hours=12)


def test_tokens_are_random_and_stored_as_sm3() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) == 43
    assert token_key(token) == sm3(token.encode()).hex()
    assert token not in token_key(token)


@pytest.mark.parametrize(
    ("last_seen", "now", "expected"),
    [
        (0, 29.9, Expiry.ACTIVE),
        (0, 30, Expiry.IDLE),
        (700, 719.9, Expiry.ACTIVE),
        (700, 720, Expiry.ABSOLUTE),
        (0, 720, Expiry.ABSOLUTE),  # both: absolute is reported
    ],
)
def test_idle_and_absolute_expiry(last_seen: float, now: float, expected: Expiry) -> None:
    assert session_expiry(created_at=T0, last_seen_at=at(last_seen), now=at(now)) is expected


@given(st.lists(st.floats(min_value=0, max_value=29.9), max_size=60))
def test_activity_never_outlives_the_absolute_timeout(gaps: list[float]) -> None:
    last_seen = now = T0
    for gap in gaps:
        now += datetime.timedelta(minutes=gap)
        expiry = session_expiry(created_at=T0, last_seen_at=last_seen, now=now)
        if now - T0 >= datetime.timedelta(hours=12):
            assert expiry is Expiry.ABSOLUTE
            return
        assert expiry is Expiry.ACTIVE
        assert now < expires_at(created_at=T0, last_seen_at=last_seen)
        last_seen = now


def test_expires_at_is_the_earlier_limit() -> None:
    assert expires_at(created_at=T0, last_seen_at=at(5)) == at(35)
    assert expires_at(created_at=T0, last_seen_at=at(710)) == at(720)


def test_touch_at_most_once_a_minute() -> None:
    assert not needs_touch(at(0), at(0.5))
    assert needs_touch(at(0), at(1))
    policy = SessionPolicy(touch_every=datetime.timedelta(0))
    assert needs_touch(at(0), at(0), policy)


def test_csrf_token_is_bound_to_session_and_key() -> None:
    token, other = new_token(), new_token()
    mine = csrf_token(KEY, token)
    assert csrf_valid(KEY, token, mine)
    assert not csrf_valid(KEY, other, mine)
    assert not csrf_valid(b"another-key-of-at-least-16-bytes", token, mine)
    for presented in (None, "", mine[:-1], mine + "A", "全角", mine.upper()):
        assert not csrf_valid(KEY, token, presented)
    assert token not in mine


def test_csrf_needs_a_real_key() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        csrf_token(b"short", new_token())


def _session(roles: set[Role]) -> ActiveSession:
    return ActiveSession(
        session_key="k" * 64,
        user_id="u1",
        username="wang.li",
        display_name="王丽",
        kind=AccountKind.STAFF,
        department_code="public_security",
        person_id=None,
        roles=frozenset(roles),
        permissions=permissions_of(roles),
        created_at=T0,
        expires_at=at(30),
        password_change_due=False,
        csrf_token=csrf_token(KEY, "t"),
    )


def test_require_and_check_csrf() -> None:
    clerk = _session({Role.WINDOW_CLERK})
    assert require(clerk, Permission.CASE_FILE) is clerk
    assert require(clerk, "person.read") is clerk
    with pytest.raises(PermissionDeniedError) as denied:
        require(clerk, Permission.PERSON_UNMASK)
    assert denied.value.permission == "person.unmask"
    assert denied.value.code == "permission.denied"
    with pytest.raises(NotAuthenticatedError):
        require(None, Permission.CASE_FILE)
    clerk.check_csrf(csrf_token(KEY, "t"))
    with pytest.raises(CsrfError):
        clerk.check_csrf(csrf_token(KEY, "another session"))
    with pytest.raises(CsrfError):
        clerk.check_csrf(None)
    assert clerk.csrf_token not in repr(clerk)
