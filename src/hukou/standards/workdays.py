"""Statutory working days: the calendar that legal deadlines are counted in.

Deadlines in household-registration law are counted in working days (工作日), and
China's working days are not simply Monday to Friday: each December the General
Office of the State Council (国务院办公厅) publishes the next year's holiday
notice, which both adds days off and turns some Saturdays and Sundays into
working days (调休上班). ``chinese_calendar`` carries those notices for 2004–2026.

For any later year nothing can be known until the notice is out, so this module
**fails loudly** (:class:`~hukou.standards.errors.CalendarYearUnknownError`)
instead of guessing Monday to Friday, which would put deadlines on Spring
Festival. An administrator transcribes the notice into a small TOML file
(:func:`parse_notice`; see ``docs/examples/holidays-2027.toml``) and loads it with
``hukou calendar load``; the application then counts in
``default_calendar().with_notices(*stored_notices)``.

Everything here is pure and immutable: a :class:`WorkCalendar` is a value built
from :class:`HolidayNotice` values, one per year.

Conventions (the doctests use the real 2024 National Day notice: 1–7 October off,
Sunday 29 September and Saturday 12 October worked):

* :meth:`WorkCalendar.add_workdays` counts from the day **after** the start, as
  the Civil Code does (art. 201: the starting day is not counted), and never
  returns a rest day (art. 203: a period ending on a holiday ends on the next
  working day).
* :meth:`WorkCalendar.workdays_between` counts working days in ``(start, end]``
  and is negative when ``end`` is before ``start``, so "how many working days
  late" is a single call.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import tomllib
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import chinese_calendar

from hukou.standards.errors import CalendarYearUnknownError, StandardsError

__all__ = [
    "PROVISIONAL_SOURCE",
    "HolidayNotice",
    "NoticeError",
    "WorkCalendar",
    "add_workdays",
    "default_calendar",
    "is_workday",
    "library_notices",
    "notice_to_toml",
    "parse_notice",
    "provisional_notice",
    "workdays_between",
]

_ONE_DAY: Final = dt.timedelta(days=1)
_SATURDAY: Final = 5
_MIN_YEAR: Final = 2000
_MAX_YEAR: Final = 2999
# The longest real period was Spring Festival 2020 (extended, 10 days). A longer one
# in a hand-written file is almost always a typo in a month (10-07 written 11-07).
_MAX_PERIOD_DAYS: Final = 15
_WEEKDAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


class NoticeError(StandardsError):
    """A holiday notice (or a calendar built from notices) is inconsistent.

    Raised with a message meant for the administrator who typed the notice file,
    naming the entry and the date at fault.
    """


@dataclass(frozen=True)
class HolidayNotice:
    """One year's State Council holiday arrangement, as data.

    ``holidays`` holds **every day of every holiday period**, weekends included,
    exactly as the notice states them ("10月1日至7日放假调休，共7天"); listing the
    weekend days is harmless and keeps the notice recognisable.
    ``make_up_workdays`` are the Saturdays and Sundays worked instead (调休上班).
    ``names`` optionally maps those days to the holiday they belong to.

    A notice covers its own year and may reach back into December of the
    previous year, because a New Year holiday sometimes starts on 30 December
    (the 2019 notice did). The constructor validates, so an inconsistent notice
    cannot exist:

    >>> HolidayNotice(2027, frozenset({dt.date(2027, 1, 1)}),
    ...               frozenset({dt.date(2027, 1, 4)}), source="example")
    Traceback (most recent call last):
    hukou.standards.workdays.NoticeError: notice 2027: make-up working day 2027-01-04 is a Monday; 调休上班 days are always a Saturday or Sunday
    """  # noqa: E501

    year: int
    holidays: frozenset[dt.date]
    make_up_workdays: frozenset[dt.date]
    source: str
    names: Mapping[dt.date, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Coerce to immutable containers, so a caller's set or dict cannot change
        # a notice (and so every calendar built from it) after the fact.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "make_up_workdays", frozenset(self.make_up_workdays))
        object.__setattr__(self, "names", types.MappingProxyType(dict(self.names)))
        self._validate()

    def _validate(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise NoticeError(f"notice year must be an integer, not {self.year!r}")
        where = f"notice {self.year}"
        if not _MIN_YEAR <= self.year <= _MAX_YEAR:
            raise NoticeError(f"{where}: year must be between {_MIN_YEAR} and {_MAX_YEAR}")
        if not isinstance(self.source, str) or not self.source.strip():
            raise NoticeError(f"{where}: source must name the notice (e.g. 国办发明电〔…〕…号)")
        if not self.holidays:
            raise NoticeError(f"{where}: lists no holidays")
        for d in sorted(self.holidays | self.make_up_workdays, key=_sort_key):
            if type(d) is not dt.date:
                raise NoticeError(f"{where}: {d!r} is not a date")
        for d in sorted(self.holidays | self.make_up_workdays):
            if not (d.year == self.year or (d.year == self.year - 1 and d.month == 12)):
                raise NoticeError(
                    f"{where}: {d} is outside the notice's year (only a New Year holiday "
                    f"may start in December {self.year - 1})"
                )
        for d in sorted(self.make_up_workdays):
            if d.weekday() < _SATURDAY:
                raise NoticeError(
                    f"{where}: make-up working day {d} is a {_WEEKDAY_NAMES[d.weekday()]}; "
                    "调休上班 days are always a Saturday or Sunday"
                )
        both = sorted(self.holidays & self.make_up_workdays)
        if both:
            raise NoticeError(f"{where}: {both[0]} is listed both as a holiday and as a workday")
        for d, name in self.names.items():
            if d not in self.holidays and d not in self.make_up_workdays:
                raise NoticeError(f"{where}: a name is given for {d}, which the notice omits")
            if not isinstance(name, str) or not name.strip():
                raise NoticeError(f"{where}: the name for {d} is blank")
        for period_name, start, end in _periods(self):
            if (end - start).days + 1 > _MAX_PERIOD_DAYS:
                raise NoticeError(
                    f"{where}: holiday {period_name or '(unnamed)'} runs from {start} to {end}, "
                    f"more than {_MAX_PERIOD_DAYS} days; check the dates"
                )

    def name_of(self, d: dt.date) -> str | None:
        """The holiday a listed day belongs to, if the notice names it.

        >>> library_notices()[-1].name_of(dt.date(2026, 2, 14))
        '春节'
        """
        return self.names.get(d)


def _sort_key(d: object) -> str:
    # Sort even malformed entries deterministically, so the first error reported
    # is always the same one.
    return repr(d)


def _periods(notice: HolidayNotice) -> Iterator[tuple[str | None, dt.date, dt.date]]:
    """Maximal runs of consecutive holidays that carry the same name."""
    days = sorted(notice.holidays)
    start = prev = days[0]
    for d in days[1:]:
        if d - prev != _ONE_DAY or notice.name_of(d) != notice.name_of(prev):
            yield notice.name_of(start), start, prev
            start = d
        prev = d
    yield notice.name_of(start), start, prev


@dataclass(frozen=True, repr=False)
class WorkCalendar:
    """An immutable working-day calendar: one :class:`HolidayNotice` per known year.

    A day is a working day if a notice lists it as a make-up workday, a rest day if
    a notice lists it as a holiday, and otherwise a working day exactly when it is
    Monday to Friday. A day in a year without a notice raises
    :class:`~hukou.standards.errors.CalendarYearUnknownError`. When two notices
    mention one day (the next year's notice reaching back into December) the
    later notice wins, as it was published later.

    >>> cal = WorkCalendar.from_library()
    >>> cal.is_workday(dt.date(2024, 9, 29))  # a Sunday worked for National Day
    True
    >>> cal.add_workdays(dt.date(2024, 9, 30), 1)  # Golden Week: 1-7 October off
    datetime.date(2024, 10, 8)
    >>> cal.workdays_between(dt.date(2024, 9, 30), dt.date(2024, 10, 8))
    1
    >>> cal.is_workday(dt.date(2099, 1, 5))
    Traceback (most recent call last):
    hukou.standards.errors.CalendarYearUnknownError: no statutory holiday data for 2099; load the State Council notice with `hukou calendar load FILE`
    """  # noqa: E501

    notices: tuple[HolidayNotice, ...] = ()
    _status: Mapping[dt.date, bool] = field(init=False, repr=False, compare=False)
    _years: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        notices = tuple(sorted(self.notices, key=lambda n: n.year))
        for earlier, later in itertools.pairwise(notices):
            if earlier.year == later.year:
                raise NoticeError(
                    f"two notices for {later.year}; use with_notices() to replace one"
                )
        status: dict[dt.date, bool] = {}
        for notice in notices:  # ascending, so a later notice overrides December
            status.update(dict.fromkeys(notice.holidays, False))
            status.update(dict.fromkeys(notice.make_up_workdays, True))
        object.__setattr__(self, "notices", notices)
        object.__setattr__(self, "_status", types.MappingProxyType(status))
        object.__setattr__(self, "_years", frozenset(n.year for n in notices))

    def __repr__(self) -> str:
        # The notices hold thousands of dates; name the years instead.
        return f"WorkCalendar(known_years={self.known_years()!r})"

    @classmethod
    def from_library(cls) -> WorkCalendar:
        """The calendar of every year ``chinese_calendar`` knows (2004–2026 in 1.11)."""
        return cls(library_notices())

    def with_notices(self, *notices: HolidayNotice) -> WorkCalendar:
        """A new calendar with these notices added, each replacing its year's notice.

        Replacing is deliberate: it lets an administrator correct a year the
        library already knows (a late change, or an error in the package) without
        waiting for a release. Among the arguments a later notice for the same
        year wins.

        >>> n = parse_notice('''
        ... year = 2026
        ... source = "test: every day of March 2026 off"
        ... [[holiday]]
        ... start = 2026-03-01
        ... end = 2026-03-15
        ... ''')
        >>> cal = default_calendar().with_notices(n)
        >>> cal.is_workday(dt.date(2026, 3, 2)), cal.is_workday(dt.date(2026, 2, 14))
        (False, False)
        """
        by_year = {n.year: n for n in self.notices}
        by_year.update((n.year, n) for n in notices)
        return WorkCalendar(tuple(by_year.values()))

    def extended_to(self, last_year: int) -> WorkCalendar:
        """This calendar with a :func:`provisional_notice` for every year up to ``last_year``
        that has no notice: a statutory clock keeps running into a year whose State
        Council notice is not out (or not loaded) yet, and says its deadline is provisional.

        >>> cal = default_calendar().extended_to(2027)
        >>> cal.is_workday(dt.date(2027, 1, 1)), cal.is_provisional(dt.date(2027, 1, 4))
        (False, True)
        >>> cal.is_provisional(dt.date(2026, 12, 31))
        False
        """
        known = set(self._years)
        first = max(known, default=last_year) + 1
        missing = [provisional_notice(y) for y in range(first, last_year + 1) if y not in known]
        return self.with_notices(*missing) if missing else self

    def is_provisional(self, d: dt.date) -> bool:
        """Whether ``d``'s year is counted from a provisional notice (no State Council one)."""
        year = _as_date(d).year
        return any(n.year == year and n.source == PROVISIONAL_SOURCE for n in self.notices)

    def known_years(self) -> tuple[int, ...]:
        """The years with a notice, ascending.

        >>> years = default_calendar().known_years()
        >>> years[0], years[-1]
        (2004, 2026)
        """
        return tuple(n.year for n in self.notices)

    def notice(self, year: int) -> HolidayNotice:
        """The notice in force for ``year`` (e.g. to export it with :func:`notice_to_toml`)."""
        for n in self.notices:
            if n.year == year:
                return n
        raise CalendarYearUnknownError(year)

    def is_workday(self, d: dt.date) -> bool:
        """Whether government offices work on ``d`` (a ``datetime`` counts as its date).

        >>> cal = default_calendar()
        >>> cal.is_workday(dt.date(2024, 2, 4))  # Sunday, worked before Spring Festival
        True
        >>> cal.is_workday(dt.date(2024, 10, 1))
        False
        """
        day = _as_date(d)
        if day.year not in self._years:
            raise CalendarYearUnknownError(day.year)
        special = self._status.get(day)
        if special is not None:
            return special
        return day.weekday() < _SATURDAY

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The deadline ``n`` working days after ``start``.

        It is the earliest **working day** ``e >= start`` with
        ``workdays_between(start, e) >= n``. For ``n >= 1`` that is the n-th working
        day after ``start`` (the starting day itself never counts, whether or not
        it is a working day); for ``n == 0`` it is ``start`` if that is a working
        day, else the next working day, since a deadline cannot fall on a day the
        office is closed. Every day examined must be in a known year.

        >>> cal = default_calendar()
        >>> cal.add_workdays(dt.date(2024, 9, 27), 1)  # Friday -> the make-up Sunday
        datetime.date(2024, 9, 29)
        >>> cal.add_workdays(dt.date(2024, 10, 3), 0)  # accepted on a holiday
        datetime.date(2024, 10, 8)

        Raises:
            ValueError: ``n`` is negative.
            CalendarYearUnknownError: counting reaches a year with no notice.
        """
        if n < 0:
            raise ValueError(f"cannot add a negative number of working days ({n})")
        day = _as_date(start)
        if n == 0:
            while not self.is_workday(day):
                day += _ONE_DAY
            return day
        remaining = n
        while remaining:
            day += _ONE_DAY
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """The number of working days in ``(start, end]``; negative if ``end < start``.

        Half-open like :meth:`add_workdays`, so for ``n >= 1``
        ``workdays_between(d, add_workdays(d, n)) == n``; the sign makes
        ``workdays_between(deadline, today)`` the number of working days overdue.

        >>> cal = default_calendar()
        >>> cal.workdays_between(dt.date(2025, 9, 30), dt.date(2025, 10, 9))
        1
        >>> cal.workdays_between(dt.date(2025, 10, 9), dt.date(2025, 9, 30))
        -1
        """
        first, last = _as_date(start), _as_date(end)
        if last < first:
            return -self.workdays_between(last, first)
        days = (last - first).days
        return sum(self.is_workday(first + dt.timedelta(days=k)) for k in range(1, days + 1))


def _as_date(d: dt.date) -> dt.date:
    # datetime is a date subclass but never equal to one, so it would miss every
    # dictionary lookup; reduce it to its calendar day.
    if isinstance(d, dt.datetime):
        return d.date()
    if not isinstance(d, dt.date):
        raise TypeError(f"expected a date, not {type(d).__name__}")
    return d


@functools.cache
def library_notices() -> tuple[HolidayNotice, ...]:
    """The notices ``chinese_calendar`` carries, rebuilt one per year.

    The package keys its data by date, so the days of a New Year holiday that
    fall in December (30–31 December 2018 for New Year 2019) are moved to the
    next year's notice, where the State Council published them.

    >>> notices = library_notices()
    >>> notices[0].year, notices[-1].year, notices[-1].source
    (2004, 2026, 'chinesecalendar 1.11.0 (国务院办公厅节假日安排通知)')
    """
    new_year = chinese_calendar.Holiday.new_years_day.value
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}
    holidays: dict[int, set[dt.date]] = {}
    workdays: dict[int, set[dt.date]] = {}
    names: dict[int, dict[dt.date, str]] = {}
    for table, target in (
        (chinese_calendar.holidays, holidays),
        (chinese_calendar.workdays, workdays),
    ):
        for d, english in table.items():
            year = d.year + 1 if d.month == 12 and english == new_year else d.year
            target.setdefault(year, set()).add(d)
            names.setdefault(year, {})[d] = chinese[english]
    source = f"chinesecalendar {chinese_calendar.__version__} (国务院办公厅节假日安排通知)"
    return tuple(
        HolidayNotice(
            year=year,
            holidays=frozenset(holidays[year]),
            make_up_workdays=frozenset(workdays.get(year, ())),
            source=source,
            names=names[year],
        )
        for year in sorted(holidays)
    )


PROVISIONAL_SOURCE: Final = (
    "provisional: the fixed-date statutory holidays only (《全国年节及纪念日放假办法》: "
    "元旦, 劳动节, 国庆节); the State Council notice for the year is not loaded"
)


def provisional_notice(year: int) -> HolidayNotice:
    """A year's fixed-date statutory holidays, with no 调休 and none of the lunar holidays.

    A deadline counted with it is mostly earlier than the notice will make it (the
    notice adds the lunar holidays and bridging days), rarely a day later (a make-up
    Saturday just before a holiday); whoever shows it says it is provisional
    (:meth:`WorkCalendar.is_provisional`) until the notice is loaded.
    """
    days = [(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)]
    return HolidayNotice(
        year,
        frozenset(dt.date(year, m, d) for m, d in days),
        frozenset(),
        source=PROVISIONAL_SOURCE,
    )


@functools.cache
def default_calendar() -> WorkCalendar:
    """The library calendar, built once; add loaded notices with ``with_notices``."""
    return WorkCalendar.from_library()


def is_workday(d: dt.date) -> bool:
    """:meth:`WorkCalendar.is_workday` on :func:`default_calendar`.

    >>> is_workday(dt.date(2025, 1, 26))  # Sunday before Spring Festival 2025
    True
    """
    return default_calendar().is_workday(d)


def add_workdays(start: dt.date, n: int) -> dt.date:
    """:meth:`WorkCalendar.add_workdays` on :func:`default_calendar`.

    >>> add_workdays(dt.date(2025, 9, 30), 1)  # 1-8 October 2025 off
    datetime.date(2025, 10, 9)
    """
    return default_calendar().add_workdays(start, n)


def workdays_between(start: dt.date, end: dt.date) -> int:
    """:meth:`WorkCalendar.workdays_between` on :func:`default_calendar`.

    >>> workdays_between(dt.date(2026, 2, 13), dt.date(2026, 2, 24))
    2
    """
    return default_calendar().workdays_between(start, end)


# --- the notice file ------------------------------------------------------------

_TOP_KEYS: Final = frozenset({"year", "source", "holiday", "workday"})
_HOLIDAY_KEYS: Final = frozenset({"name", "start", "end"})
_WORKDAY_KEYS: Final = frozenset({"date", "name"})


def parse_notice(text: str) -> HolidayNotice:
    """Read a holiday notice that an administrator transcribed into TOML.

    The format (see ``docs/examples/holidays-2027.toml``)::

        year = 2027
        source = "国务院办公厅关于2027年部分节假日安排的通知"
        [[holiday]]          # one per holiday period, all days inclusive
        name = "元旦"         # optional
        start = 2027-01-01
        end = 2027-01-03     # optional, defaults to start
        [[workday]]          # one per make-up working day (调休上班)
        date = 2027-09-26
        name = "国庆节"       # optional: the holiday it makes up for

    Dates are bare TOML dates. Unknown keys, overlapping periods, repeated
    workdays and every rule of :class:`HolidayNotice` raise :class:`NoticeError`.

    >>> n = parse_notice('year = 2027\\nsource = "x"\\n[[holiday]]\\nstart = 2027-01-01\\n')
    >>> n.year, sorted(n.holidays)
    (2027, [datetime.date(2027, 1, 1)])
    >>> parse_notice('year = 2027\\nsource = "x"\\n[[holiday]]\\nstart = "2027-01-01"\\n')
    Traceback (most recent call last):
    hukou.standards.workdays.NoticeError: [[holiday]] #1: start must be a bare TOML date such as 2027-01-01, not the string '2027-01-01'
    """  # noqa: E501
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise NoticeError(f"the notice file is not valid TOML: {err}") from err
    _check_keys(data, _TOP_KEYS, "the notice file")
    for key in ("year", "source", "holiday"):
        if key not in data:
            raise NoticeError(f"the notice file has no {key!r}")
    year = data["year"]
    source = data["source"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise NoticeError(f"year must be an integer such as 2027, not {year!r}")
    if not isinstance(source, str):
        raise NoticeError("source must be a string naming the State Council notice")

    holidays: dict[dt.date, str] = {}  # day -> the entry that listed it
    workdays: dict[dt.date, str] = {}
    names: dict[dt.date, str] = {}
    for i, entry in enumerate(_tables(data, "holiday"), start=1):
        where = f"[[holiday]] #{i}"
        _check_keys(entry, _HOLIDAY_KEYS, where)
        name = _optional_name(entry, where)
        if name is not None:
            where = f"{where} ({name})"
        start = _date(entry, "start", where)
        end = _date(entry, "end", where) if "end" in entry else start
        if end < start:
            raise NoticeError(f"{where}: end {end} is before start {start}")
        if (end - start).days >= _MAX_PERIOD_DAYS:
            raise NoticeError(
                f"{where}: runs from {start} to {end}, more than {_MAX_PERIOD_DAYS} days; "
                "check the dates"
            )
        for k in range((end - start).days + 1):
            d = start + dt.timedelta(days=k)
            if d in holidays:
                raise NoticeError(f"{where} and {holidays[d]} both list {d}")
            holidays[d] = where
            if name is not None:
                names[d] = name
    for i, entry in enumerate(_tables(data, "workday"), start=1):
        where = f"[[workday]] #{i}"
        _check_keys(entry, _WORKDAY_KEYS, where)
        name = _optional_name(entry, where)
        d = _date(entry, "date", where)
        if d in workdays:
            raise NoticeError(f"{where} and {workdays[d]} both list {d}")
        if d in holidays:
            raise NoticeError(f"{where}: {d} is also a holiday in {holidays[d]}")
        workdays[d] = where
        if name is not None:
            names[d] = name
    return HolidayNotice(
        year=year,
        holidays=frozenset(holidays),
        make_up_workdays=frozenset(workdays),
        source=source,
        names=names,
    )


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise NoticeError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _tables(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    tables = data.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise NoticeError(f"{key} must be written as [[{key}]] tables")
    return tables


def _optional_name(entry: Mapping[str, Any], where: str) -> str | None:
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise NoticeError(f"{where}: name must be a non-empty string")
    return name


def _date(entry: Mapping[str, Any], key: str, where: str) -> dt.date:
    if key not in entry:
        raise NoticeError(f"{where}: {key} is missing")
    value = entry[key]
    if type(value) is dt.date:
        return value
    if isinstance(value, str):
        raise NoticeError(
            f"{where}: {key} must be a bare TOML date such as 2027-01-01, not the string {value!r}"
        )
    raise NoticeError(f"{where}: {key} must be a date such as 2027-01-01, not {value!r}")


def notice_to_toml(notice: HolidayNotice) -> str:
    """Write a notice in the :func:`parse_notice` format, e.g. to export or correct it.

    Consecutive holidays with the same name become one ``[[holiday]]`` period, so
    ``parse_notice(notice_to_toml(n)) == n`` for every valid notice.

    >>> n = library_notices()[-1]
    >>> print(notice_to_toml(n).splitlines()[2:8])
    ['year = 2026', 'source = "chinesecalendar 1.11.0 (国务院办公厅节假日安排通知)"', '', '[[holiday]]', 'name = "元旦"', 'start = 2026-01-01']
    >>> parse_notice(notice_to_toml(n)) == n
    True
    """  # noqa: E501
    lines = [
        f"# {notice.year}年节假日安排 — exported by hukou.",
        "# Edit, then reload with `hukou calendar load FILE`.",
        f"year = {notice.year}",
        f"source = {_toml_string(notice.source)}",
    ]
    for name, start, end in _periods(notice):
        lines += ["", "[[holiday]]"]
        if name is not None:
            lines.append(f"name = {_toml_string(name)}")
        lines += [f"start = {start.isoformat()}", f"end = {end.isoformat()}"]
    for d in sorted(notice.make_up_workdays):
        lines += ["", "[[workday]]", f"date = {d.isoformat()}"]
        name = notice.name_of(d)
        if name is not None:
            lines.append(f"name = {_toml_string(name)}")
    return "\n".join(lines) + "\n"


_TOML_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _toml_string(s: str) -> str:
    """A TOML basic string; control characters (and DEL) are not allowed raw."""
    out = []
    for ch in s:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
