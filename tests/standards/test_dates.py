"""Tests for hukou.standards.dates: every accepted shape, every rejection, and the
agreement of the vectorised parser with the scalar one."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hukou.standards.dates import format_date, parse_date, parse_date_expr
from hukou.standards.errors import DateFormatError, StandardsError

D = dt.date(2023, 1, 5)

VALID: list[tuple[object, dt.date]] = [
    ("2023-01-05", D),
    ("2023-1-5", D),
    ("2023/1/5", D),
    ("2023/01/05", D),
    ("2023.01.05", D),
    ("2023.1.5", D),
    ("20230105", D),
    ("2023年1月5日", D),
    ("2023年01月05日", D),
    ("2023年01月05号", D),
    ("2023 年 1 月 5 日", D),
    ("２０２３年１月５日", D),
    ("２０２３－０１－０５", D),
    ("２０２３/１/５", D),
    ("  2023-01-05\t", D),
    ("\u30002023-01-05\u3000", D),
    ("\ufeff2023-01-05", D),
    ("2023-01-05 00:00:00", D),
    ("2023-01-05 23:59:59.999", D),
    ("2023-01-05T08:00:00", D),
    ("2023-01-05T08:00:00Z", D),
    ("2023-01-05T23:30:00+08:00", D),
    ("2023-01-05 08:00", D),
    ("2023/1/5 8:00", D),
    ("2023年1月5日 08:30", D),
    ("20230105 08:00:00", D),
    ("20230105.0", D),
    ("44931", D),
    ("44931.0", D),
    ("44931.75", D),
    ("４４９３１", D),
    (44931, D),
    (44931.0, D),
    (44931.999, D),
    (20230105, D),
    (20230105.0, D),
    (D, D),
    (dt.datetime(2023, 1, 5, 23, 59), D),
    ("2000-02-29", dt.date(2000, 2, 29)),
    ("2024-02-29", dt.date(2024, 2, 29)),
    ("0001-01-01", dt.date(1, 1, 1)),
    ("9999-12-31", dt.date(9999, 12, 31)),
    ("10000", dt.date(1927, 5, 18)),
    ("99999", dt.date(2173, 10, 13)),
]


@pytest.mark.parametrize(("value", "expected"), VALID)
def test_accepted_formats(value: object, expected: dt.date) -> None:
    assert parse_date(value) == expected  # type: ignore[arg-type]


# (value, a fragment the message must contain)
INVALID: list[tuple[object, str]] = [
    ("2023-02-30", "February 2023 has only 28 days"),
    ("2023-04-31", "April 2023 has only 30 days"),
    ("2023-02-29", "2023 is not a leap year"),
    ("1900-02-29", "century year"),
    ("2100年2月29日", "2100 is not a leap year"),
    ("2023-13-01", "there is no month 13"),
    ("2023-00-10", "there is no month 0"),
    ("2023-01-00", "there is no day 0"),
    ("20231301", "there is no month 13"),
    ("0000-01-01", "there is no year 0"),
    ("23-01-05", "two-digit year"),
    ("23/1/5", "two-digit year"),
    ("23.1.5", "two-digit year"),
    ("23年1月5日", "two-digit year"),
    ("5/1/2023", "year must come first"),
    ("05-01-2023", "year must come first"),
    ("230105", "6-digit number"),
    ("2023015", "7-digit number"),
    ("2023", "4-digit number"),
    ("2023.1", "4-digit number"),
    ("100", "3-digit number"),
    ("20230105.5", "8-digit number"),
    ("00060", "never existed"),
    ("00000", "serial 0"),
    ("2023-01/05", "not a date in any accepted format"),
    ("2023-001-05", "not a date in any accepted format"),
    ("2023-01-05 25:00", "not a date in any accepted format"),
    ("2023-01-05 08:60", "not a date in any accepted format"),
    ("2023-01-05x", "not a date in any accepted format"),
    ("2023年1月5", "not a date in any accepted format"),
    ("二〇二三年一月五日", "not a date in any accepted format"),
    ("-44931", "not a date in any accepted format"),
    ("2023-01-05\n2023-01-06", "not a date in any accepted format"),
    ("", "empty"),
    ("   ", "empty"),
    (-1, "not a date in any accepted format"),
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    (1e20, "not a date in any accepted format"),
    (True, "boolean"),
    (60, "2-digit number"),
]


@pytest.mark.parametrize(("value", "fragment"), INVALID)
def test_rejected_values_name_the_problem(value: object, fragment: str) -> None:
    with pytest.raises(DateFormatError) as info:
        parse_date(value)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert isinstance(info.value, StandardsError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [None, [2023, 1, 5], b"2023-01-05"])
def test_non_date_types_are_a_type_error(value: object) -> None:
    with pytest.raises(TypeError):
        parse_date(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["110101199003077777", "11010119900307777X", "13800138000"])
def test_messages_do_not_echo_values_that_are_not_date_shaped(value: str) -> None:
    # An identity or phone number landing in a date column must not reach the logs.
    with pytest.raises(DateFormatError) as info:
        parse_date(value)
    assert value not in str(info.value)
    assert value[:6] not in str(info.value)


def test_message_echoes_date_shaped_values() -> None:
    with pytest.raises(DateFormatError, match="'2023-02-30'"):
        parse_date("2023-02-30")


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, dt.date(1900, 1, 1)),
        (2, dt.date(1900, 1, 2)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        (100, dt.date(1900, 4, 9)),
        (2023, dt.date(1905, 7, 15)),
        (9999, dt.date(1927, 5, 17)),
        (10000, dt.date(1927, 5, 18)),
        (44927, dt.date(2023, 1, 1)),
        (45658, dt.date(2025, 1, 1)),
    ],
)
def test_excel_1900_serials(serial: int, expected: dt.date) -> None:
    assert parse_date(serial, allow_short_serial=True) == expected
    assert parse_date(str(serial), allow_short_serial=True) == expected
    assert parse_date(f"{serial}.5", allow_short_serial=True) == expected


def test_short_serials_need_explicit_permission() -> None:
    with pytest.raises(DateFormatError, match="allow_short_serial"):
        parse_date("100")
    with pytest.raises(DateFormatError, match="allow_short_serial"):
        parse_date(100)
    assert parse_date("100", allow_short_serial=True) == dt.date(1900, 4, 9)


@pytest.mark.parametrize("value", [60, "60", "60.0", 0, "0"])
def test_phantom_and_zero_serials_are_rejected_even_when_allowed(value: object) -> None:
    with pytest.raises(DateFormatError, match="serial"):
        parse_date(value, allow_short_serial=True)  # type: ignore[arg-type]


def test_leap_years() -> None:
    assert parse_date("2000-02-29") == dt.date(2000, 2, 29)
    assert parse_date("1600-02-29") == dt.date(1600, 2, 29)
    for century in ("1700", "1800", "1900", "2100"):
        with pytest.raises(DateFormatError, match="not a leap year"):
            parse_date(f"{century}-02-29")


def test_format_date_styles() -> None:
    assert format_date(D) == "2023-01-05"
    assert format_date(D, "iso") == "2023-01-05"
    assert format_date(D, "compact") == "20230105"
    assert format_date(D, "chinese") == "2023年1月5日"
    assert format_date(dt.date(2023, 11, 25), "chinese") == "2023年11月25日"
    assert format_date(dt.date(987, 6, 5), "chinese") == "0987年6月5日"
    assert format_date(dt.datetime(2023, 1, 5, 12), "compact") == "20230105"
    with pytest.raises(ValueError, match="unknown date style"):
        format_date(D, "us")  # type: ignore[arg-type]


STYLES = st.sampled_from(["iso", "compact", "chinese"])


@given(st.dates(), STYLES)
def test_format_then_parse_round_trips(d: dt.date, style: str) -> None:
    assert parse_date(format_date(d, style)) == d  # type: ignore[arg-type]


@given(st.datetimes())
def test_datetime_text_keeps_the_date(value: dt.datetime) -> None:
    assert parse_date(str(value)) == value.date()
    assert parse_date(value.isoformat()) == value.date()


# --- the vectorised parser -----------------------------------------------------


def _scalar(value: object, *, allow_short_serial: bool = False) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value, allow_short_serial=allow_short_serial)  # type: ignore[arg-type]
    except DateFormatError:
        return None


def _vector(values: list[object], *, allow_short_serial: bool = False) -> list[object]:
    frame = pl.DataFrame({"raw": values}, strict=False)
    out = frame.select(parse_date_expr(pl.col("raw"), allow_short_serial=allow_short_serial))
    assert out.columns == ["raw"]
    assert out.schema["raw"] == pl.Date
    return out["raw"].to_list()


ALL_STRINGS = [v for v, _ in VALID if isinstance(v, str)] + [
    v for v, _ in INVALID if isinstance(v, str)
]


@pytest.mark.parametrize("allow_short_serial", [False, True])
def test_expression_agrees_with_scalar_on_every_fixture(allow_short_serial: bool) -> None:
    values: list[object] = [*ALL_STRINGS, None]
    got = _vector(values, allow_short_serial=allow_short_serial)
    expected = [_scalar(v, allow_short_serial=allow_short_serial) for v in values]
    assert got == expected
    # The fixtures exercise both outcomes, so agreement is not vacuous.
    assert any(g is None for g in got[:-1])
    assert sum(g is not None for g in got) >= len([v for v, _ in VALID if isinstance(v, str)])


def test_expression_on_typed_columns() -> None:
    assert _vector([44931, 20230105, 100, -1, None]) == [D, D, None, None, None]
    assert _vector([44931.0, 44931.75, 20230105.0, 60.0]) == [D, D, D, None]
    assert _vector([D, dt.date(2000, 2, 29)]) == [D, dt.date(2000, 2, 29)]
    assert _vector([dt.datetime(2023, 1, 5, 23, 59, 59)]) == [D]
    assert _vector([100, 60, 1, 0], allow_short_serial=True) == [
        dt.date(1900, 4, 9),
        None,
        dt.date(1900, 1, 1),
        None,
    ]


def test_expression_works_on_derived_and_literal_expressions() -> None:
    frame = pl.DataFrame({"raw": ["x2023-01-05"]})
    out = frame.select(parse_date_expr(pl.col("raw").str.strip_prefix("x")).alias("d"))
    assert out["d"].to_list() == [D]
    assert pl.select(parse_date_expr(pl.lit("2023年1月5日"))).item() == D


# Characters that build date-like and nearly-date-like strings, including the
# full-width and space characters NFKC rewrites.
ALPHABET = "0123456789-/.年月日号T: Z+\t０１２３５９－／．\u3000\ufeff"


@st.composite
def date_like(draw: st.DrawFn) -> str:
    year = draw(st.integers(0, 9999))
    width = draw(st.sampled_from([2, 4, 4, 4]))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    pad = draw(st.sampled_from(["", "0"]))
    year_text = f"{year:04d}"[-width:]
    month_text = f"{month:{pad}2d}".strip()
    day_text = f"{day:{pad}2d}".strip()
    shape = draw(st.sampled_from(["-", "/", ".", "年", "", "mixed"]))
    if shape == "年":
        text = f"{year_text}年{month_text}月{day_text}{draw(st.sampled_from('日号'))}"
    elif shape == "":
        text = f"{year_text}{month:02d}{day:02d}"
    elif shape == "mixed":
        text = f"{year_text}-{month_text}/{day_text}"
    else:
        text = f"{year_text}{shape}{month_text}{shape}{day_text}"
    suffix = draw(st.sampled_from(["", "", " 08:00", "T23:59:59", " 24:00", ".0", "Z", "日"]))
    return draw(st.sampled_from(["", " ", "\u3000"])) + text + suffix


SERIALS = st.one_of(
    st.integers(0, 200_000).map(str),
    st.builds("{}.{}".format, st.integers(0, 99_999), st.integers(0, 999)),
)
ANY_TEXT = st.one_of(date_like(), SERIALS, st.text(ALPHABET, max_size=24))


@settings(deadline=None)
@given(st.lists(st.one_of(ANY_TEXT, st.none()), max_size=40), st.booleans())
def test_expression_agrees_with_scalar_on_generated_text(
    values: list[str | None], allow_short_serial: bool
) -> None:
    got = _vector(list(values), allow_short_serial=allow_short_serial)
    assert got == [_scalar(v, allow_short_serial=allow_short_serial) for v in values]


@settings(deadline=None)
@given(st.lists(st.dates(), min_size=1, max_size=20), STYLES)
def test_expression_reads_every_formatted_date(dates: list[dt.date], style: str) -> None:
    texts = [format_date(d, style) for d in dates]  # type: ignore[arg-type]
    assert _vector(list(texts)) == dates
