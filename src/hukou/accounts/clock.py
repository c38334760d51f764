"""The clock the accounts logic reads, injectable so tests can step through time.

Every timeout, lockout and rate limit takes ``now`` from a :data:`Clock`; tests pass
a fake one and advance it by minutes instead of sleeping.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

__all__ = ["Clock", "as_utc", "utc_now"]

Clock = Callable[[], datetime.datetime]
"""A function returning the current time, timezone-aware."""


def utc_now() -> datetime.datetime:
    """The current time in UTC."""
    return datetime.datetime.now(datetime.UTC)


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in UTC; a naive value is taken to be UTC already.

    SQLite hands ``DateTime(timezone=True)`` columns back naive; every time this
    package writes is UTC, so reading them as UTC is exact.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)
