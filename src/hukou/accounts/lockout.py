"""Lockout after consecutive failures, and sliding-window rate limits: pure decisions.

**Lockout.** Five consecutive failed logins lock a user name for 15 minutes
(等保 2.0 asks for 登录失败处理: limiting illegal login attempts, GB/T 22239-2019
8.1.4.1 b). The state is kept per *user name typed*, not per account, so a name
that has no account locks exactly like one that has: otherwise the sixth attempt
would tell an attacker which names exist. A success resets the count; an expired
lock starts the count afresh.

**Rate limits.** Attempts are also counted in a sliding window per user name and
per client address: the per-name limit slows a slow guesser who stays under the
lockout, the per-address limit slows one address spraying many names (which the
per-name lockout cannot see). A sliding window, unlike fixed buckets, gives no
burst of twice the limit across a bucket boundary.

>>> t0 = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
>>> state = LockoutState()
>>> for minute in range(5):
...     state = register_failure(state, t0 + datetime.timedelta(minutes=minute))
>>> state.failures, state.is_locked(t0 + datetime.timedelta(minutes=5))
(5, True)
>>> state.is_locked(t0 + datetime.timedelta(minutes=19, seconds=1))
False
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_LOCKOUT",
    "DEFAULT_RATE_LIMITS",
    "LockoutPolicy",
    "LockoutState",
    "RateLimit",
    "RateLimits",
    "register_failure",
]


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """How many consecutive failures lock a user name, and for how long."""

    max_failures: int = 5
    lock_for: datetime.timedelta = datetime.timedelta(minutes=15)


DEFAULT_LOCKOUT = LockoutPolicy()


@dataclass(frozen=True, slots=True)
class LockoutState:
    """Consecutive failures of one user name and, once locked, until when."""

    failures: int = 0
    locked_until: datetime.datetime | None = None

    def is_locked(self, now: datetime.datetime) -> bool:
        """Whether logins under this name are refused at ``now``."""
        return self.locked_until is not None and now < self.locked_until


def register_failure(
    state: LockoutState, now: datetime.datetime, policy: LockoutPolicy = DEFAULT_LOCKOUT
) -> LockoutState:
    """The state after one more failure at ``now``; the failure that reaches the limit locks."""
    failures = state.failures
    if state.locked_until is not None and now >= state.locked_until:
        failures = 0  # the lock has run out: a fresh start, not an instant relock
    failures += 1
    if failures >= policy.max_failures:
        return LockoutState(failures, now + policy.lock_for)
    return LockoutState(failures, state.locked_until if state.is_locked(now) else None)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` attempts in any ``window`` (a sliding window)."""

    limit: int
    window: datetime.timedelta

    def window_start(self, now: datetime.datetime) -> datetime.datetime:
        """Attempts strictly after this moment count against the limit at ``now``."""
        return now - self.window

    def retry_after(
        self, recent: Sequence[datetime.datetime], now: datetime.datetime
    ) -> datetime.datetime | None:
        """``None`` if one more attempt is allowed at ``now``, else when it will be.

        ``recent`` are the times of earlier attempts (any order; those outside the
        window are ignored). When the window is full, the next attempt is allowed
        once the oldest attempt that keeps it full has slid out.
        """
        start = self.window_start(now)
        inside = sorted((t for t in recent if start < t <= now), reverse=True)
        if len(inside) < self.limit:
            return None
        return inside[self.limit - 1] + self.window


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The login rate limits: per user name typed and per client address."""

    per_username: RateLimit = RateLimit(20, datetime.timedelta(minutes=15))
    per_address: RateLimit = RateLimit(200, datetime.timedelta(minutes=15))
    """Generous: a district office puts dozens of clerks behind one NAT address."""


DEFAULT_RATE_LIMITS = RateLimits()
