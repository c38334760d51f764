"""Lockout after five consecutive failures for 15 minutes, and sliding-window rate limits."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from hukou.accounts.lockout import (
    DEFAULT_LOCKOUT,
    DEFAULT_RATE_LIMITS,
    LockoutPolicy,
    LockoutState,
    RateLimit,
    register_failure,
)

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def minutes(n: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=n)


def test_defaults_are_five_failures_fifteen_minutes() -> None:
    assert LockoutPolicy(5, datetime.timedelta(minutes=15)) == DEFAULT_LOCKOUT


def test_fifth_consecutive_failure_locks_for_fifteen_minutes() -> None:
    state = LockoutState()
    for n in range(4):
        state = register_failure(state, minutes(n))
        assert not state.is_locked(minutes(n))
    state = register_failure(state, minutes(4))
    assert state == LockoutState(5, minutes(19))
    assert state.is_locked(minutes(4))
    assert state.is_locked(minutes(18.99))
    assert not state.is_locked(minutes(19))


def test_an_expired_lock_starts_the_count_afresh() -> None:
    state = LockoutState(5, minutes(19))
    state = register_failure(state, minutes(20))
    assert state == LockoutState(1, None)


def test_a_custom_policy() -> None:
    policy = LockoutPolicy(max_failures=2, lock_for=datetime.timedelta(hours=1))
    state = register_failure(register_failure(LockoutState(), T0, policy), T0, policy)
    assert state.locked_until == T0 + datetime.timedelta(hours=1)


@given(st.lists(st.floats(min_value=0, max_value=10), min_size=1, max_size=12))
def test_lock_happens_exactly_at_the_fifth_failure(gaps: list[float]) -> None:
    state, now = LockoutState(), T0
    for count, gap in enumerate(gaps, start=1):
        now += datetime.timedelta(minutes=gap)
        if state.is_locked(now):
            break  # the store refuses without counting while locked
        state = register_failure(state, now)
        assert state.is_locked(now) is (state.failures >= 5)
        assert state.failures <= count


def test_sliding_window_counts_only_the_last_window() -> None:
    rule = RateLimit(3, datetime.timedelta(minutes=10))
    attempts = [minutes(0), minutes(4), minutes(8)]
    assert rule.retry_after(attempts[:2], minutes(9)) is None
    # full: the next attempt is possible when the oldest of the three slides out
    assert rule.retry_after(attempts, minutes(9)) == minutes(10)
    assert rule.retry_after(attempts, minutes(10)) is None  # the minute-0 attempt is out
    assert rule.retry_after([*attempts, minutes(10)], minutes(10)) == minutes(14)


def test_no_burst_at_a_bucket_boundary() -> None:
    # Fixed 10-minute buckets would allow 3 at 9:09 and 3 more at 9:10; a sliding window does not.
    rule = RateLimit(3, datetime.timedelta(minutes=10))
    burst = [minutes(9)] * 3
    assert rule.retry_after(burst, minutes(10)) == minutes(19)


@given(st.lists(st.integers(min_value=-30, max_value=0), max_size=30), st.integers(1, 10))
def test_retry_after_is_none_iff_fewer_than_limit_in_window(offsets: list[int], limit: int) -> None:
    rule = RateLimit(limit, datetime.timedelta(minutes=10))
    times = [minutes(o) for o in offsets]
    inside = [t for t in times if minutes(-10) < t <= minutes(0)]
    retry = rule.retry_after(times, minutes(0))
    assert (retry is None) is (len(inside) < limit)
    if retry is not None:
        assert minutes(0) < retry <= minutes(10)
        assert rule.retry_after(times, retry) is None


def test_default_rate_limits() -> None:
    assert DEFAULT_RATE_LIMITS.per_username.limit < DEFAULT_RATE_LIMITS.per_address.limit
