"""Tests for hukou.standards.workdays: real notices, deadline arithmetic, unknown
years, administrator-supplied notices and the notice file format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hukou.standards.errors import CalendarYearUnknownError, StandardsError
from hukou.standards.workdays import (
    HolidayNotice,
    NoticeError,
    WorkCalendar,
    add_workdays,
    default_calendar,
    is_workday,
    library_notices,
    notice_to_toml,
    parse_notice,
    workdays_between,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "holidays-2027.toml"
CAL = default_calendar()
FIRST = dt.date(2004, 1, 1)
LAST = dt.date(2026, 12, 31)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- facts from the real State Council notices ---------------------------------

WORKDAY_FACTS = [
    # 2024
    ("2024-02-04", True),  # Sunday, worked before Spring Festival
    ("2024-02-10", False),
    ("2024-02-16", False),  # Friday inside Spring Festival
    ("2024-02-18", True),  # Sunday, worked after Spring Festival
    ("2024-04-07", True),  # Sunday after Qingming
    ("2024-09-14", True),  # Saturday before Mid-Autumn
    ("2024-09-16", False),  # Monday, Mid-Autumn
    ("2024-09-29", True),  # Sunday before National Day
    *((f"2024-10-0{i}", False) for i in range(1, 8)),
    ("2024-10-08", True),
    ("2024-10-12", True),  # Saturday after National Day
    ("2024-10-13", False),  # an ordinary Sunday
    # 2025
    ("2025-01-01", False),
    ("2025-01-26", True),  # Sunday before Spring Festival
    ("2025-01-28", False),
    ("2025-02-04", False),
    ("2025-02-08", True),  # Saturday after Spring Festival
    ("2025-04-27", True),  # Sunday before Labour Day
    ("2025-05-05", False),
    ("2025-09-28", True),  # Sunday before National Day
    *((f"2025-10-0{i}", False) for i in range(1, 9)),
    ("2025-10-09", True),
    ("2025-10-11", True),  # Saturday after National Day
    # 2026, as chinese_calendar 1.11 records the notice
    ("2026-01-02", False),
    ("2026-01-04", True),  # Sunday after New Year
    ("2026-02-14", True),  # Saturday before Spring Festival
    ("2026-02-23", False),  # Monday, last day of the 9-day Spring Festival
    ("2026-02-24", True),
    ("2026-02-28", True),  # Saturday after Spring Festival
    ("2026-05-09", True),
    ("2026-09-20", True),
    ("2026-10-07", False),
    ("2026-10-10", True),
    ("2026-12-31", True),  # an ordinary Thursday (as far as is known)
    # the New Year holiday that started in December 2018, from the 2019 notice
    ("2018-12-29", True),
    ("2018-12-31", False),
]


@pytest.mark.parametrize(("day", "expected"), WORKDAY_FACTS)
def test_real_notices(day: str, expected: bool) -> None:
    assert CAL.is_workday(d(day)) is expected
    assert is_workday(d(day)) is expected


def test_every_known_day_agrees_with_chinese_calendar() -> None:
    day = FIRST
    while day <= LAST:
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_known_years_are_the_library_years() -> None:
    assert CAL.known_years() == tuple(range(2004, 2027))


def test_datetime_counts_as_its_date() -> None:
    assert CAL.is_workday(dt.datetime(2024, 10, 1, 9, 30)) is False
    assert CAL.add_workdays(dt.datetime(2024, 9, 30, 17), 1) == d("2024-10-08")


def test_library_notices_put_december_new_year_days_in_next_years_notice() -> None:
    by_year = {n.year: n for n in library_notices()}
    assert d("2018-12-30") in by_year[2019].holidays
    assert d("2018-12-29") in by_year[2019].make_up_workdays
    assert d("2018-12-29") not in by_year[2018].make_up_workdays
    assert by_year[2019].name_of(d("2018-12-30")) == "元旦"
    assert by_year[2024].name_of(d("2024-02-04")) == "春节"


# --- deadline arithmetic ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2024-09-30", 1, "2024-10-08"),  # across Golden Week
        ("2024-09-27", 1, "2024-09-29"),  # Friday -> the make-up Sunday
        ("2024-09-27", 2, "2024-09-30"),
        ("2024-09-27", 3, "2024-10-08"),
        ("2024-10-03", 1, "2024-10-08"),  # accepted during the holiday
        ("2024-10-03", 5, "2024-10-12"),  # ... the 5th is the make-up Saturday
        ("2025-09-30", 1, "2025-10-09"),  # 2025: 1-8 October off
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-01-24", 1, "2025-01-26"),  # into the Spring Festival make-up Sunday
        ("2025-01-26", 1, "2025-01-27"),
        ("2025-01-27", 1, "2025-02-05"),
        ("2024-01-05", 20, "2024-02-02"),  # an ordinary month
        ("2023-12-29", 1, "2024-01-02"),  # across the year end
    ],
)
def test_add_workdays(start: str, n: int, expected: str) -> None:
    assert CAL.add_workdays(d(start), n) == d(expected)
    assert add_workdays(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2024-10-08", "2024-10-08"),  # a working day: itself
        ("2024-09-29", "2024-09-29"),  # a make-up Sunday is a working day
        ("2024-10-05", "2024-10-08"),  # a holiday: the next working day
        ("2024-10-13", "2024-10-14"),  # an ordinary Sunday
        ("2024-09-28", "2024-09-29"),  # Saturday followed by a make-up Sunday
    ],
)
def test_zero_workdays_is_start_or_the_next_workday(start: str, expected: str) -> None:
    assert CAL.add_workdays(d(start), 0) == d(expected)


def test_negative_n_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_workdays(d("2024-10-08"), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-10-08", "2024-10-08", 0),
        ("2024-10-10", "2024-10-11", 1),  # (Thu, Fri]
        ("2024-10-11", "2024-10-12", 1),  # (Fri, make-up Sat]
        ("2024-10-12", "2024-10-13", 0),  # (Sat, ordinary Sun]
        ("2024-09-30", "2024-10-07", 0),  # all of Golden Week
        ("2024-09-30", "2024-10-08", 1),
        ("2024-09-27", "2024-10-12", 7),  # 29 Sep, 30 Sep, 8-11 Oct, 12 Oct
        ("2024-10-08", "2024-09-30", -1),
        ("2024-01-01", "2024-12-31", 251),
        ("2025-01-01", "2025-12-31", 248),
    ],
)
def test_workdays_between(start: str, end: str, expected: int) -> None:
    assert CAL.workdays_between(d(start), d(end)) == expected
    assert workdays_between(d(start), d(end)) == expected


KNOWN_DAYS = st.dates(min_value=FIRST, max_value=dt.date(2026, 6, 30))


@given(KNOWN_DAYS, st.integers(1, 100))
def test_between_inverts_add(start: dt.date, n: int) -> None:
    end = CAL.add_workdays(start, n)
    assert end > start
    assert CAL.is_workday(end)
    assert CAL.workdays_between(start, end) == n
    # ... and it is the earliest such day.
    assert CAL.workdays_between(start, end - dt.timedelta(days=1)) == n - 1


@given(KNOWN_DAYS)
def test_zero_workdays(start: dt.date) -> None:
    end = CAL.add_workdays(start, 0)
    assert CAL.is_workday(end)
    assert CAL.workdays_between(start, end) == (0 if CAL.is_workday(start) else 1)
    if CAL.is_workday(start):
        assert end == start


@given(KNOWN_DAYS, KNOWN_DAYS, KNOWN_DAYS)
def test_between_is_antisymmetric_and_additive(a: dt.date, b: dt.date, c: dt.date) -> None:
    assert CAL.workdays_between(a, b) == -CAL.workdays_between(b, a)
    assert CAL.workdays_between(a, b) + CAL.workdays_between(b, c) == CAL.workdays_between(a, c)


@given(KNOWN_DAYS, st.integers(0, 400))
def test_between_matches_chinese_calendar(start: dt.date, span: int) -> None:
    end = min(start + dt.timedelta(days=span), LAST)
    expected = len(chinese_calendar.get_workdays(start, end)) - chinese_calendar.is_workday(start)
    assert CAL.workdays_between(start, end) == expected


# --- unknown years -----------------------------------------------------------------


@pytest.mark.parametrize("day", ["2027-01-04", "2027-06-15", "2003-12-31", "2099-02-02"])
def test_unknown_year_fails_loudly(day: str) -> None:
    with pytest.raises(CalendarYearUnknownError, match="hukou calendar load") as info:
        CAL.is_workday(d(day))
    assert info.value.year == d(day).year
    with pytest.raises(CalendarYearUnknownError):
        is_workday(d(day))


def test_counting_into_an_unknown_year_fails_loudly() -> None:
    with pytest.raises(CalendarYearUnknownError) as info:
        CAL.add_workdays(d("2026-12-31"), 1)
    assert info.value.year == 2027
    with pytest.raises(CalendarYearUnknownError):
        CAL.add_workdays(d("2026-12-20"), 30)
    with pytest.raises(CalendarYearUnknownError):
        CAL.workdays_between(d("2026-12-30"), d("2027-01-05"))
    with pytest.raises(CalendarYearUnknownError):
        CAL.workdays_between(d("2027-01-05"), d("2026-12-30"))
    with pytest.raises(CalendarYearUnknownError):
        add_workdays(d("2027-01-01"), 0)
    with pytest.raises(CalendarYearUnknownError):
        CAL.notice(2027)
    # Counting that does not reach 2027 still works in late December.
    assert CAL.add_workdays(d("2026-12-28"), 3) == d("2026-12-31")


# --- loaded notices ----------------------------------------------------------------


def example_notice() -> HolidayNotice:
    return parse_notice(EXAMPLE.read_text(encoding="utf-8"))


def test_example_file_is_marked_illustrative() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "ILLUSTRATIVE" in text
    assert "非官方" in example_notice().source


def test_loaded_2027_notice_makes_2027_work() -> None:
    notice = example_notice()
    cal = CAL.with_notices(notice)
    assert cal.known_years() == tuple(range(2004, 2028))
    assert cal.notice(2027) is notice
    assert cal.is_workday(d("2027-01-01")) is False
    assert cal.is_workday(d("2027-01-04")) is True
    assert cal.is_workday(d("2027-02-08")) is False  # Monday in Spring Festival
    assert cal.is_workday(d("2027-02-14")) is True  # make-up Sunday
    assert cal.is_workday(d("2027-02-21")) is False  # an ordinary Sunday
    assert cal.add_workdays(d("2026-12-31"), 1) == d("2027-01-04")
    assert cal.add_workdays(d("2027-09-30"), 1) == d("2027-10-08")
    assert cal.workdays_between(d("2027-02-04"), d("2027-02-15")) == 2  # 14th and 15th
    with pytest.raises(CalendarYearUnknownError) as info:
        cal.is_workday(d("2028-01-03"))
    assert info.value.year == 2028
    # The default calendar is a value: loading a notice elsewhere never changes it.
    with pytest.raises(CalendarYearUnknownError):
        default_calendar().is_workday(d("2027-01-04"))


NEW_YEAR_IN_DECEMBER = """
year = 2027
source = "test"
[[holiday]]
name = "元旦"
start = 2026-12-31
end = 2027-01-02
[[workday]]
date = 2026-12-26
"""


def test_a_notice_may_reach_back_into_december() -> None:
    notice = parse_notice(NEW_YEAR_IN_DECEMBER)
    cal = CAL.with_notices(notice)
    assert CAL.is_workday(d("2026-12-31")) is True
    assert cal.is_workday(d("2026-12-31")) is False
    assert cal.is_workday(d("2026-12-26")) is True  # a Saturday, worked
    assert cal.is_workday(d("2026-12-27")) is False
    # Without the year it reaches back into, those days are still unknown.
    alone = WorkCalendar((notice,))
    with pytest.raises(CalendarYearUnknownError):
        alone.is_workday(d("2026-12-31"))


def test_the_later_notice_wins_a_december_day_both_mention() -> None:
    y2026 = parse_notice(
        'year = 2026\nsource = "a"\n[[holiday]]\nstart = 2026-10-01\n'
        "[[workday]]\ndate = 2026-12-27\n"
    )
    y2027 = parse_notice(
        'year = 2027\nsource = "b"\n[[holiday]]\nstart = 2026-12-27\nend = 2027-01-01\n'
    )
    for cal in (WorkCalendar((y2026, y2027)), WorkCalendar((y2027, y2026))):
        assert cal.is_workday(d("2026-12-27")) is False
    assert WorkCalendar((y2026,)).is_workday(d("2026-12-27")) is True


def test_a_notice_overrides_the_library_for_its_year() -> None:
    override = parse_notice(
        'year = 2026\nsource = "correction"\n[[holiday]]\nstart = 2026-10-01\nend = 2026-10-08\n'
    )
    cal = CAL.with_notices(override)
    assert cal.is_workday(d("2026-10-08")) is False  # newly a holiday
    assert cal.is_workday(d("2026-02-16")) is True  # the replaced notice is gone entirely
    assert cal.is_workday(d("2026-10-10")) is False  # no longer a make-up Saturday
    assert cal.is_workday(d("2025-10-08")) is False  # other years untouched
    assert cal.notice(2026) is override


def test_with_notices_later_wins_and_constructor_refuses_duplicates() -> None:
    first = parse_notice('year = 2027\nsource = "a"\n[[holiday]]\nstart = 2027-03-01\n')
    second = parse_notice('year = 2027\nsource = "b"\n[[holiday]]\nstart = 2027-03-02\n')
    cal = CAL.with_notices(first, second)
    assert cal.notice(2027).source == "b"
    assert cal.is_workday(d("2027-03-01")) is True
    with pytest.raises(NoticeError, match="two notices for 2027"):
        WorkCalendar((first, second))


def test_calendar_and_notice_are_immutable() -> None:
    holidays = {d("2027-03-01")}
    names = {d("2027-03-01"): "x"}
    notice = HolidayNotice(2027, holidays, frozenset(), "s", names)  # type: ignore[arg-type]
    holidays.add(d("2027-03-02"))
    names[d("2027-03-01")] = "changed"
    assert notice.holidays == frozenset({d("2027-03-01")})
    assert notice.name_of(d("2027-03-01")) == "x"
    with pytest.raises(TypeError):
        notice.names[d("2027-03-01")] = "y"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        notice.year = 2028  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CAL.notices = ()  # type: ignore[misc]
    assert hash(notice) == hash(HolidayNotice(2027, frozenset({d("2027-03-01")}), frozenset(), "s"))


# --- notice validation -------------------------------------------------------------

HEAD = 'year = 2027\nsource = "test"\n'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("year = ", "not valid TOML"),
        ('source = "x"\n[[holiday]]\nstart = 2027-01-01\n', "no 'year'"),
        ("year = 2027\n[[holiday]]\nstart = 2027-01-01\n", "no 'source'"),
        (HEAD, "no 'holiday'"),
        (HEAD + "holiday = []\n", "lists no holidays"),
        ('year = "2027"\nsource = "x"\n[[holiday]]\nstart = 2027-01-01\n', "integer"),
        ("year = true\nsource = 'x'\n[[holiday]]\nstart = 2027-01-01\n", "integer"),
        ('year = 1999\nsource = "x"\n[[holiday]]\nstart = 1999-01-01\n', "between 2000"),
        ('year = 2027\nsource = "  "\n[[holiday]]\nstart = 2027-01-01\n', "source"),
        ("year = 2027\nsource = 1\n[[holiday]]\nstart = 2027-01-01\n", "source"),
        (HEAD + "holidays = 1\n[[holiday]]\nstart = 2027-01-01\n", "unknown key 'holidays'"),
        (HEAD + "[[holiday]]\nstart = 2027-01-01\nfinish = 2027-01-02\n", "unknown key 'finish'"),
        (HEAD + 'holiday = "2027-01-01"\n', "[[holiday]] tables"),
        (HEAD + "[[holiday]]\nname = '元旦'\n", "start is missing"),
        (HEAD + '[[holiday]]\nstart = "2027-01-01"\n', "bare TOML date"),
        (HEAD + "[[holiday]]\nstart = 2027-01-01T00:00:00\n", "must be a date"),
        (HEAD + "[[holiday]]\nstart = 2027-01-03\nend = 2027-01-01\n", "before start"),
        (HEAD + "[[holiday]]\nstart = 2027-10-01\nend = 2027-11-07\n", "more than 15 days"),
        (HEAD + "[[holiday]]\nname = ''\nstart = 2027-01-01\n", "non-empty"),
        (HEAD + "[[holiday]]\nname = 3\nstart = 2027-01-01\n", "non-empty"),
        (HEAD + "[[holiday]]\nstart = 2028-01-01\n", "outside the notice's year"),
        (HEAD + "[[holiday]]\nstart = 2026-11-30\n", "outside the notice's year"),
        (HEAD + "[[holiday]]\nstart = 2027-12-31\nend = 2028-01-01\n", "outside"),
        (
            HEAD + "[[holiday]]\nstart = 2027-01-01\n[[workday]]\ndate = 2027-01-04\n",
            "is a Monday; 调休上班 days are always a Saturday or Sunday",
        ),
        (
            HEAD + "[[holiday]]\nstart = 2027-01-01\nend = 2027-01-03\n"
            "[[workday]]\ndate = 2027-01-02\n",
            "2027-01-02 is also a holiday",
        ),
        (
            HEAD + "[[holiday]]\nname='a'\nstart = 2027-01-01\nend = 2027-01-03\n"
            "[[holiday]]\nname='b'\nstart = 2027-01-03\n",
            "(b) and [[holiday]] #1 (a) both list 2027-01-03",
        ),
        (
            HEAD + "[[holiday]]\nstart = 2027-01-01\n"
            "[[workday]]\ndate = 2027-01-09\n[[workday]]\ndate = 2027-01-09\n",
            "both list 2027-01-09",
        ),
        (HEAD + "[[holiday]]\nstart = 2027-01-01\n[[workday]]\nname = 'x'\n", "date is missing"),
    ],
)
def test_notice_validation(text: str, fragment: str) -> None:
    with pytest.raises(NoticeError) as info:
        parse_notice(text)
    assert fragment in str(info.value)
    assert isinstance(info.value, StandardsError)


def test_toml_decode_error_is_chained() -> None:
    with pytest.raises(NoticeError) as info:
        parse_notice("year = ")
    assert isinstance(info.value.__cause__, tomllib.TOMLDecodeError)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"holidays": frozenset({dt.datetime(2027, 1, 1)})}, "is not a date"),
        ({"names": {d("2027-05-01"): "x"}}, "which the notice omits"),
        ({"names": {d("2027-01-01"): " "}}, "is blank"),
        ({"year": True}, "integer"),
        ({"year": 3000, "holidays": frozenset({d("3000-01-01")})}, "between 2000 and 2999"),
        ({"holidays": frozenset()}, "lists no holidays"),
        ({"source": ""}, "source"),
        (
            {"holidays": frozenset(d("2027-01-01") + dt.timedelta(days=k) for k in range(16))},
            "more than 15 days",
        ),
    ],
)
def test_holiday_notice_validates_on_construction(kwargs: dict[str, object], fragment: str) -> None:
    base: dict[str, object] = {
        "year": 2027,
        "holidays": frozenset({d("2027-01-01")}),
        "make_up_workdays": frozenset(),
        "source": "s",
    }
    with pytest.raises(NoticeError) as info:
        HolidayNotice(**{**base, **kwargs})  # type: ignore[arg-type]
    assert fragment in str(info.value)


# --- TOML round trip ---------------------------------------------------------------


def test_example_round_trips() -> None:
    notice = example_notice()
    text = notice_to_toml(notice)
    assert parse_notice(text) == notice
    assert notice_to_toml(parse_notice(text)) == text
    assert text.startswith("# 2027年节假日安排")


@pytest.mark.parametrize("notice", library_notices(), ids=lambda n: str(n.year))
def test_library_notices_round_trip(notice: HolidayNotice) -> None:
    assert parse_notice(notice_to_toml(notice)) == notice


def test_export_groups_named_periods() -> None:
    text = notice_to_toml(CAL.notice(2024))
    data = tomllib.loads(text)
    national_day = next(h for h in data["holiday"] if h["name"] == "国庆节")
    assert (national_day["start"], national_day["end"]) == (d("2024-10-01"), d("2024-10-07"))
    assert {w["date"] for w in data["workday"]} >= {d("2024-02-04"), d("2024-09-29")}


NAMES = st.one_of(
    st.none(),
    st.text(
        st.characters(codec="utf-8"),
        min_size=1,
        max_size=12,
    ).filter(str.strip),
)


@st.composite
def notices(draw: st.DrawFn) -> HolidayNotice:
    year = draw(st.integers(2000, 2999))
    in_year = st.dates(dt.date(year - 1, 12, 1), dt.date(year, 12, 31))
    holidays = draw(st.sets(in_year, min_size=1, max_size=25))
    weekends = in_year.filter(lambda day: day.weekday() >= 5 and day not in holidays)
    workdays = draw(st.sets(weekends, max_size=6))
    period_names = draw(st.lists(NAMES, min_size=1, max_size=3))
    names = {}
    for day in holidays | workdays:
        name = draw(st.sampled_from(period_names))
        if name is not None:
            names[day] = name
    source = draw(st.text(st.characters(codec="utf-8"), min_size=1).filter(str.strip))
    try:
        return HolidayNotice(year, frozenset(holidays), frozenset(workdays), source, names)
    except NoticeError:
        assume(False)
        raise


@given(notices())
def test_any_valid_notice_round_trips(notice: HolidayNotice) -> None:
    assert parse_notice(notice_to_toml(notice)) == notice
