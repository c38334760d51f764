"""Storage of holiday notices, and the working-day calendar they complete.

Other capabilities ask :func:`working_calendar` for the calendar of record: the
library's years plus every notice an administrator has loaded, a loaded notice
replacing the library's data for its year.
"""

from __future__ import annotations

import datetime
import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.holidays.model import HolidayNoticeRow
from hukou.standards.workdays import (
    HolidayNotice,
    WorkCalendar,
    default_calendar,
    notice_to_toml,
    parse_notice,
)

__all__ = ["clock_calendar", "save_notice", "stored_notices", "working_calendar"]


def save_notice(
    session: Session, notice: HolidayNotice, *, loaded_by: str, now: datetime.datetime | None = None
) -> bool:
    """Store ``notice``, replacing an earlier one for its year; True if it replaced one."""
    row = session.get(HolidayNoticeRow, notice.year)
    replaced = row is not None
    if row is None:
        row = HolidayNoticeRow(year=notice.year)
        session.add(row)
    row.source = notice.source
    row.notice_toml = notice_to_toml(notice)
    row.loaded_at = now or datetime.datetime.now(datetime.UTC)
    row.loaded_by = loaded_by
    session.flush()
    return replaced


def stored_notices(session: Session) -> tuple[HolidayNotice, ...]:
    """Every loaded notice, by year."""
    rows = session.scalars(select(HolidayNoticeRow).order_by(HolidayNoticeRow.year))
    return tuple(parse_notice(row.notice_toml) for row in rows)


def working_calendar(session: Session) -> WorkCalendar:
    """The calendar of record: the library's years completed by the loaded notices."""
    return default_calendar().with_notices(*stored_notices(session))


# Deadlines may run this many years past the current one (long waits for material).
_PROVISIONAL_YEARS = 2


def clock_calendar(session: Session, today: datetime.date | None = None) -> WorkCalendar:
    """The calendar statutory clocks count in: the calendar of record, extended with
    provisional notices (:func:`hukou.standards.workdays.provisional_notice`) up to two
    years past ``today``'s, so a deadline in a year whose notice is not loaded yet is
    counted and marked provisional instead of failing."""
    year = (today or datetime.datetime.now(datetime.UTC).date()).year + _PROVISIONAL_YEARS
    return _extended(stored_notices(session), year)


@functools.lru_cache(maxsize=8)
def _extended(notices: tuple[HolidayNotice, ...], last_year: int) -> WorkCalendar:
    return default_calendar().with_notices(*notices).extended_to(last_year)
