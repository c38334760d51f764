"""Dates as Chinese departments write them.

Public-security, civil-affairs and health feeds each write dates their own way:
``2023-01-05``, ``2023/1/5``, ``20230105``, ``2023年1月5日``, ``2023.01.05``, or
the serial number a spreadsheet stored. :func:`parse_date` accepts exactly those
shapes and raises :class:`~hukou.standards.errors.DateFormatError` for anything
else, because a date that is guessed wrong (a swapped day and month, a two-digit
year put in the wrong century) silently moves a statutory deadline or an age.
:func:`parse_date_expr` is the same rule as a Polars expression, for whole feeds.

The rule, applied after Unicode NFKC normalisation (full-width ``２０２３`` becomes
``2023``) and stripping of surrounding white space, byte-order marks and
zero-width spaces:

* ``YYYY-M-D``, ``YYYY/M/D`` and ``YYYY.M.D`` with one- or two-digit month and
  day, the same separator twice;
* ``YYYY年M月D日``, also with the colloquial ``号`` for ``日``, spaces allowed
  between the parts;
* ``YYYYMMDD``: exactly eight digits;
* any of the above followed by a time of day after ``T`` or a space
  (``2023-01-05 08:00:00``, ``2023-01-05T08:00:00+08:00``); the time must be a
  real time and is dropped, the date is kept **as written** (no time-zone
  conversion: the department's calendar day is the fact recorded);
* an Excel serial number (1900 date system): exactly **five** digits, optionally
  with a fraction for the time of day, i.e. 10000 (1927-05-18) to 99999
  (2173-10-13). Shorter numbers are rejected unless the caller passes
  ``allow_short_serial=True``, because a four-digit value such as ``2023`` is far
  more often a bare year than the serial for 1905-07-15, and ``2023.1`` a
  year-month. Serial 60 is rejected: Excel (copying Lotus 1-2-3) counts a
  1900-02-29 that never existed, so nobody can say which day was meant;
* a number written with a zero fraction (``44931.0``, ``20230105.0``) is read as
  the integer, since that is how spreadsheets and data frames export an integer
  column with gaps.

Numbers (``int``, ``float``) are read as their decimal text, so ``20230105`` is
YYYYMMDD and ``44931`` a serial, exactly as the strings would be. Six- and
seven-digit numbers, two-digit years and day-first orders are rejected with a
message saying why. Error messages echo the value only when it already looks
like a date; anything else (it may be an identity or phone number in the wrong
column) is described by its length only.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import unicodedata
from typing import Final, Literal

import polars as pl

from hukou.standards.errors import DateFormatError

__all__ = ["DateStyle", "as_date", "format_date", "parse_date", "parse_date_expr"]

DateStyle = Literal["iso", "compact", "chinese"]
"""How :func:`format_date` writes a date: ``2023-01-05``, ``20230105`` or ``2023年1月5日``."""

# Characters stripped from both ends, after NFKC (which already turns U+3000 and the
# other typographic spaces into U+0020). The same set is handed to Polars so that the
# scalar and the vectorised parser strip identically; Python's ``str.strip()`` and
# Rust's ``trim`` disagree on a few control characters.
_STRIP: Final = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u1680\u2028\u2029\u200b\ufeff"

# An optional time of day. It must be a real time: "2023-01-05 25:99" is a corrupt
# value, not a date with noise. Only ASCII classes are used so that Python's `re`
# and Rust's `regex` (which Polars uses) read every pattern identically.
_TIME: Final = (
    r"(?:(?:T|[ \t]+)(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]+)?)?"
    r"(?:[ \t]*(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9]))?)?"
)

_YMD: Final = r"(?P<y>[0-9]{4})"
_PART: Final = r"[0-9]{1,2}"

# Year-month-day shapes. They are pairwise disjoint (each string matches at most
# one), which lets the vectorised parser coalesce them without changing the answer.
_YMD_SHAPES: Final[tuple[str, ...]] = (
    *(rf"{_YMD}{sep}(?P<m>{_PART}){sep}(?P<d>{_PART}){_TIME}" for sep in (r"-", r"/", r"\.")),
    rf"{_YMD}[ \t]*年[ \t]*(?P<m>{_PART})[ \t]*月[ \t]*(?P<d>{_PART})[ \t]*[日号]{_TIME}",
    rf"{_YMD}(?P<m>[0-9]{{2}})(?P<d>[0-9]{{2}})(?:\.0+)?{_TIME}",
)
_SERIAL_DIGITS: Final = 5  # the only length accepted without allow_short_serial
_SERIAL: Final = r"(?P<n>[0-9]{1,5})(?:\.[0-9]+)?"
_SERIAL_FIVE: Final = r"(?P<n>[0-9]{5})(?:\.[0-9]+)?"

_YMD_RES: Final = tuple(re.compile(shape) for shape in _YMD_SHAPES)
_SERIAL_RE: Final = re.compile(_SERIAL)

# Shapes recognised only to explain a rejection.
_TWO_DIGIT_YEAR_RE: Final = re.compile(
    r"[0-9]{2}(?:([-/.])[0-9]{1,2}\1[0-9]{1,2}|[ \t]*年.*)" + r"(?:[ \tT].*)?"
)
_YEAR_LAST_RE: Final = re.compile(r"[0-9]{1,2}([-/.])[0-9]{1,2}\1[0-9]{4}(?:[ \tT].*)?")
_NUMBER_RE: Final = re.compile(r"(?P<int>[0-9]+)(?:\.[0-9]+)?")

# The 1900 date system: serial 1 is 1900-01-01, and serial 60 is the phantom
# 1900-02-29, so from 61 (1900-03-01) on the epoch is one day earlier.
_EPOCH_BEFORE_BUG: Final = dt.date(1899, 12, 31)
_EPOCH_AFTER_BUG: Final = dt.date(1899, 12, 30)
_PHANTOM_SERIAL: Final = 60

_ACCEPTED: Final = "2023-01-05, 2023/1/5, 2023.01.05, 20230105, 2023年1月5日, Excel serial 44931"


def parse_date(
    value: str | int | float | dt.date | dt.datetime,
    *,
    allow_short_serial: bool = False,
) -> dt.date:
    """Read a date written in any of the formats Chinese departments use.

    The accepted shapes are listed in the module docstring. A ``datetime`` gives its
    own calendar date; an ``int`` or ``float`` is read as its decimal text, so
    ``20230105`` is YYYYMMDD and ``44931`` an Excel serial. Excel serials with
    fewer than five digits (before 1927-05-18) need ``allow_short_serial=True``.

    >>> parse_date("2023年1月5日")
    datetime.date(2023, 1, 5)
    >>> parse_date("２０２３/１/５")
    datetime.date(2023, 1, 5)
    >>> parse_date("2023-01-05T08:00:00+08:00")
    datetime.date(2023, 1, 5)
    >>> parse_date(44931), parse_date("20230105.0")
    (datetime.date(2023, 1, 5), datetime.date(2023, 1, 5))
    >>> parse_date("2023-02-29")
    Traceback (most recent call last):
    hukou.standards.errors.DateFormatError: '2023-02-29' is not a real date: 2023 is not a leap year
    >>> parse_date("23/1/5")
    Traceback (most recent call last):
    hukou.standards.errors.DateFormatError: '23/1/5': a two-digit year is ambiguous (19xx or 20xx?); write all four digits

    Raises:
        DateFormatError: the value is in no accepted format or names a day that
            does not exist (a ``ValueError``, so feed code can quarantine the row).
        TypeError: the value is not a string, number or date at all.
    """  # noqa: E501
    if isinstance(value, bool):
        # bool is an int subclass; True would otherwise be Excel serial 1.
        raise DateFormatError("a boolean is not a date")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise DateFormatError(f"{value!r} is not a date")
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise TypeError(f"cannot read a date from a {type(value).__name__}")
    return _parse_text(text, allow_short_serial=allow_short_serial)


def _parse_text(raw: str, *, allow_short_serial: bool) -> dt.date:
    text = unicodedata.normalize("NFKC", raw).strip(_STRIP)
    for pattern in _YMD_RES:
        match = pattern.fullmatch(text)
        if match is not None:
            return _from_parts(text, int(match["y"]), int(match["m"]), int(match["d"]))
    match = _SERIAL_RE.fullmatch(text)
    if match is not None and (allow_short_serial or len(match["n"]) == _SERIAL_DIGITS):
        return _from_serial(int(match["n"]))
    raise DateFormatError(_explain_rejection(text, allow_short_serial=allow_short_serial))


def _from_parts(text: str, year: int, month: int, day: int) -> dt.date:
    """Build a date, naming exactly what is impossible about it."""
    problem: str | None = None
    if year == 0:
        problem = "there is no year 0"
    elif not 1 <= month <= 12:
        problem = f"there is no month {month}"
    elif day == 0:
        problem = "there is no day 0"
    else:
        length = calendar.monthrange(year, month)[1]
        if month == 2 and day == 29 and length == 28:
            problem = f"{year} is not a leap year"
            if year % 100 == 0:
                problem += " (a century year is a leap year only when divisible by 400)"
        elif day > length:
            problem = f"{calendar.month_name[month]} {year} has only {length} days"
    if problem is not None:
        raise DateFormatError(f"{text!r} is not a real date: {problem}")
    return dt.date(year, month, day)


def _from_serial(serial: int) -> dt.date:
    if serial == 0:
        raise DateFormatError("Excel serial 0 is not a date (Excel shows it as 1900-01-00)")
    if serial == _PHANTOM_SERIAL:
        raise DateFormatError(
            "Excel serial 60 is 1900-02-29, a day that never existed (a Lotus 1-2-3 "
            "leap-year bug Excel kept); the intended date cannot be known"
        )
    epoch = _EPOCH_BEFORE_BUG if serial < _PHANTOM_SERIAL else _EPOCH_AFTER_BUG
    return epoch + dt.timedelta(days=serial)


def _explain_rejection(text: str, *, allow_short_serial: bool) -> str:
    """Say why a value is not a date, echoing it only if it is date-shaped."""
    if not text:
        return "an empty value is not a date"
    if _TWO_DIGIT_YEAR_RE.fullmatch(text):
        return f"{text!r}: a two-digit year is ambiguous (19xx or 20xx?); write all four digits"
    if _YEAR_LAST_RE.fullmatch(text):
        return (
            f"{text!r}: the year must come first; day-month-year and month-day-year "
            "orders cannot be told apart"
        )
    number = _NUMBER_RE.fullmatch(text)
    if number is not None:
        digits = len(number["int"])
        if digits < _SERIAL_DIGITS and not allow_short_serial:
            return (
                f"a {digits}-digit number is not read as a date: it is more likely a year "
                "or a count than an Excel serial before 1927-05-18 "
                "(pass allow_short_serial=True if the feed really has such serials)"
            )
        return (
            f"a {digits}-digit number is not a date: 8 digits are read as YYYYMMDD "
            "(with at most a zero fraction, no other), 5 as an Excel serial"
        )
    return f"not a date in any accepted format ({len(text)} characters); accepted: {_ACCEPTED}"


def as_date(value: object) -> dt.date | None:
    """A stored value as a date: a date, a datetime's day, or ISO text; else ``None``.

    For values that went through JSON (golden records, record fields), where a date
    is ISO text and anything unreadable means "no date", not an error.

    >>> as_date("2024-02-29"), as_date(dt.datetime(2024, 3, 1, 8)), as_date("soon")
    (datetime.date(2024, 2, 29), datetime.date(2024, 3, 1), None)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def format_date(d: dt.date, style: DateStyle = "iso") -> str:
    """Write a date the way a department (or a template) expects.

    ``iso`` is for files and APIs, ``compact`` for fixed-width feeds and
    ``chinese`` for documents, where the official style has no leading zeros.
    Every style reads back with :func:`parse_date`. A ``datetime`` is written as
    its date.

    >>> d = dt.date(2023, 1, 5)
    >>> format_date(d), format_date(d, "compact"), format_date(d, "chinese")
    ('2023-01-05', '20230105', '2023年1月5日')
    >>> parse_date(format_date(d, "chinese")) == d
    True
    """
    y, m, day = d.year, d.month, d.day
    if style == "iso":
        return f"{y:04d}-{m:02d}-{day:02d}"
    if style == "compact":
        return f"{y:04d}{m:02d}{day:02d}"
    if style == "chinese":
        return f"{y:04d}年{m}月{day}日"
    raise ValueError(f"unknown date style {style!r}; use 'iso', 'compact' or 'chinese'")


def parse_date_expr(expr: pl.Expr, *, allow_short_serial: bool = False) -> pl.Expr:
    """The :func:`parse_date` rule as a Polars expression: a Date, or null.

    Null marks every value :func:`parse_date` would reject, so a feed ingester can
    quarantine those rows (and call :func:`parse_date` on them alone to get the
    reason). The column is first cast to text, so numbers and dates follow the
    same "read the decimal text" rule as the scalar function; the implementation
    is native Polars (NFKC, regex, ``to_date``), with no Python per row.

    >>> s = pl.Series(["2023年1月5日", "2023-02-30", "44931", "二〇二三年", None])
    >>> s.to_frame("d").select(parse_date_expr(pl.col("d")))["d"].to_list()
    [datetime.date(2023, 1, 5), None, datetime.date(2023, 1, 5), None, None]
    """
    text = expr.cast(pl.String).str.normalize("NFKC").str.strip_chars(_STRIP)
    candidates = [_ymd_expr(text, shape) for shape in _YMD_SHAPES]
    candidates.append(_serial_expr(text, allow_short_serial=allow_short_serial))
    parsed = pl.coalesce(candidates)
    # The regex struct fields would name the result "y"; keep the caller's name.
    name = expr.meta.output_name(raise_if_undetermined=False)
    return parsed.name.keep() if name is None else parsed.alias(name)


def _ymd_expr(text: pl.Expr, shape: str) -> pl.Expr:
    groups = text.str.extract_groups(f"^(?:{shape})$")
    year = groups.struct.field("y")
    iso = pl.concat_str(
        year,
        pl.lit("-"),
        groups.struct.field("m").str.zfill(2),
        pl.lit("-"),
        groups.struct.field("d").str.zfill(2),
    )
    # chrono rejects impossible days (2023-02-30, 1900-02-29) with null but, unlike
    # Python, knows a year 0: exclude it so both parsers agree.
    return pl.when(year != "0000").then(iso.str.to_date("%Y-%m-%d", strict=False))


def _serial_expr(text: pl.Expr, *, allow_short_serial: bool) -> pl.Expr:
    serial_re = _SERIAL if allow_short_serial else _SERIAL_FIVE
    serial = text.str.extract(f"^(?:{serial_re})$", 1).cast(pl.Int64)
    shift = pl.when(serial < _PHANTOM_SERIAL).then(1).otherwise(0)
    days = pl.duration(days=serial + shift)
    return pl.when((serial > 0) & (serial != _PHANTOM_SERIAL)).then(pl.lit(_EPOCH_AFTER_BUG) + days)
