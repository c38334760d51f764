"""Loaded holiday notices complete the working-day calendar, on both engines."""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hukou.casework.clock import Clock
from hukou.db import session_scope
from hukou.holidays.store import clock_calendar, save_notice, stored_notices, working_calendar
from hukou.standards.errors import CalendarYearUnknownError
from hukou.standards.workdays import parse_notice

pytestmark = pytest.mark.storage

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "holidays-2027.toml"


def test_calendar_without_notices_fails_loudly_for_2027(engine: Engine) -> None:
    with session_scope(engine) as session:
        calendar = working_calendar(session)
    with pytest.raises(CalendarYearUnknownError):
        calendar.is_workday(datetime.date(2027, 3, 1))


def test_loaded_notice_makes_2027_countable(engine: Engine) -> None:
    notice = parse_notice(EXAMPLE.read_text(encoding="utf-8"))
    with session_scope(engine) as session:
        assert save_notice(session, notice, loaded_by="admin") is False
    with session_scope(engine) as session:
        calendar = working_calendar(session)
        assert stored_notices(session) == (notice,)
    assert 2027 in calendar.known_years()
    assert calendar.is_workday(datetime.date(2027, 1, 1)) is False  # 元旦
    assert calendar.is_workday(datetime.date(2027, 3, 3)) is True  # a plain Wednesday
    for day in notice.make_up_workdays:
        assert calendar.is_workday(day) is True


def test_reloading_a_year_replaces_it(engine: Engine) -> None:
    first = parse_notice(
        'year = 2027\nsource = "first"\n[[holiday]]\nstart = 2027-01-01\nend = 2027-01-01\n'
    )
    second = parse_notice(
        'year = 2027\nsource = "second"\n[[holiday]]\nstart = 2027-03-03\nend = 2027-03-03\n'
    )
    with session_scope(engine) as session:
        save_notice(session, first, loaded_by="a")
    with session_scope(engine) as session:
        assert save_notice(session, second, loaded_by="b") is True
    with session_scope(engine) as session:
        calendar = working_calendar(session)
    assert calendar.is_workday(datetime.date(2027, 1, 1)) is True  # a Friday, no longer off
    assert calendar.is_workday(datetime.date(2027, 3, 3)) is False


def test_clocks_run_provisionally_into_a_year_until_its_notice_is_loaded(engine: Engine) -> None:
    today = datetime.date(2026, 12, 6)
    filed = Clock(today, 20)  # a 20-working-day limit reaches into January 2027
    with session_scope(engine) as session:
        calendar = clock_calendar(session, today)
    deadline = replace(filed, calendar=calendar).deadline(today)
    assert deadline.year == 2027
    assert calendar.is_provisional(deadline)
    assert not calendar.is_workday(datetime.date(2027, 1, 1))  # 元旦 is fixed by law
    assert not calendar.is_provisional(datetime.date(2026, 12, 31))
    notice = parse_notice(EXAMPLE.read_text(encoding="utf-8"))
    with session_scope(engine) as session:
        save_notice(session, notice, loaded_by="admin")
        loaded = clock_calendar(session, today)
    assert not loaded.is_provisional(deadline)  # the State Council's notice replaces it
    for day in notice.holidays:
        assert not loaded.is_workday(day)
    assert loaded.is_provisional(datetime.date(2028, 3, 1))  # the next year still waits
