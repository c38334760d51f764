"""Server-side sessions and CSRF tokens: pure decisions over plain values.

- **Ids.** A session id is ``secrets.token_urlsafe(32)`` (256 random bits). The
  database keeps only its SM3 digest, so a leaked table (or backup) holds no
  usable session: the id is a bearer secret like a password, but random enough
  that a plain hash, without salt or stretching, is already preimage-proof.
- **Fresh at login.** Every successful login (and the second factor after it)
  mints a new id; an id the client had before logging in is deleted, never
  promoted, which defeats session fixation.
- **Timeouts.** A session ends after 30 minutes without a request (idle) and
  12 hours after login whatever happens (absolute): idle covers the unattended
  window-desk screen, absolute bounds the life of a stolen cookie (等保 2.0:
  登录连接超时自动退出, GB/T 22239-2019 8.1.4.1 b). Last-seen time is written at
  most once a minute, so a busy console does not write on every request.
- **CSRF.** The token of a session is HMAC-SM3(server secret, session id):
  stateless, different for every session, useless once the session ends, and
  compared in constant time.

>>> t0 = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
>>> minutes = lambda n: t0 + datetime.timedelta(minutes=n)
>>> session_expiry(created_at=t0, last_seen_at=minutes(10), now=minutes(39))
<Expiry.ACTIVE: 'active'>
>>> session_expiry(created_at=t0, last_seen_at=minutes(10), now=minutes(40))
<Expiry.IDLE: 'idle'>
>>> session_expiry(created_at=t0, last_seen_at=minutes(719), now=minutes(720))
<Expiry.ABSOLUTE: 'absolute'>
>>> token = new_token()
>>> len(token), len(token_key(token))
(43, 64)
>>> csrf_valid(b"k" * 32, token, csrf_token(b"k" * 32, token))
True
"""

from __future__ import annotations

import base64
import datetime
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from hukou.security.sm import hmac_sm3, sm3

__all__ = [
    "DEFAULT_SESSIONS",
    "TOKEN_BYTES",
    "Expiry",
    "SessionPolicy",
    "csrf_token",
    "csrf_valid",
    "expires_at",
    "needs_touch",
    "new_token",
    "session_expiry",
    "token_key",
]

TOKEN_BYTES = 32
_CSRF_LABEL = b"hukou.accounts.csrf\0"
_MIN_SECRET_BYTES = 16


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Session timeouts."""

    idle: datetime.timedelta = datetime.timedelta(minutes=30)
    absolute: datetime.timedelta = datetime.timedelta(hours=12)
    second_factor: datetime.timedelta = datetime.timedelta(minutes=5)
    """How long a password-checked login waits for its TOTP code."""
    touch_every: datetime.timedelta = datetime.timedelta(minutes=1)
    """Last-seen is rewritten at most this often; idle expiry is exact to within it."""


DEFAULT_SESSIONS = SessionPolicy()


class Expiry(StrEnum):
    """Whether a session is still alive and, if not, which timeout ended it."""

    ACTIVE = "active"
    IDLE = "idle"
    ABSOLUTE = "absolute"


def new_token() -> str:
    """A new session id: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_key(token: str) -> str:
    """The hex SM3 digest of a session id: the only form the database stores."""
    return sm3(token.encode("utf-8")).hex()


def session_expiry(
    *,
    created_at: datetime.datetime,
    last_seen_at: datetime.datetime,
    now: datetime.datetime,
    policy: SessionPolicy = DEFAULT_SESSIONS,
) -> Expiry:
    """Which timeout, if any, has ended a session at ``now`` (absolute wins a tie)."""
    if now >= created_at + policy.absolute:
        return Expiry.ABSOLUTE
    if now >= last_seen_at + policy.idle:
        return Expiry.IDLE
    return Expiry.ACTIVE


def expires_at(
    *,
    created_at: datetime.datetime,
    last_seen_at: datetime.datetime,
    policy: SessionPolicy = DEFAULT_SESSIONS,
) -> datetime.datetime:
    """When the session ends if no further request comes."""
    return min(created_at + policy.absolute, last_seen_at + policy.idle)


def needs_touch(
    last_seen_at: datetime.datetime,
    now: datetime.datetime,
    policy: SessionPolicy = DEFAULT_SESSIONS,
) -> bool:
    """Whether a request at ``now`` should rewrite the session's last-seen time."""
    return now - last_seen_at >= policy.touch_every


def _check_secret(secret_key: bytes) -> None:
    if len(secret_key) < _MIN_SECRET_BYTES:
        raise ValueError(f"the CSRF secret key needs at least {_MIN_SECRET_BYTES} bytes")


def csrf_token(secret_key: bytes, session_token: str) -> str:
    """The CSRF token of the session whose id is ``session_token`` (URL-safe text)."""
    _check_secret(secret_key)
    mac = hmac_sm3(secret_key, _CSRF_LABEL + session_token.encode("utf-8"))
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def csrf_valid(secret_key: bytes, session_token: str, presented: str | None) -> bool:
    """Whether ``presented`` is the session's CSRF token, compared in constant time."""
    if not presented:
        return False
    expected = csrf_token(secret_key, session_token).encode("ascii")
    return hmac.compare_digest(expected, presented.encode("utf-8"))
