"""The vectorised engine: a whole applicant table scored, qualified and ranked at once.

One Polars expression per indicator, in whole units of 1/1200 of a point (Int64, never a
float: ties at the cutoff decide who may settle), the version of each indicator chosen
per row by its application date, the total rounded once as the policy says. Written
apart from :mod:`hukou.points.explain` on purpose: the two must agree on every applicant
(``tests/points/test_engine.py`` holds them to it with generated applicants).

An attribute the table lacks counts as absent (no months, no degree, no flag); counts
below zero count as zero.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from hukou.points.policy import UNITS_PER_POINT, Indicator, Policy, Version

__all__ = ["Ranking", "indicator_column", "rank", "score_frame"]

_BIG = 10**9


def indicator_column(name: str) -> str:
    """The column of an indicator's units in :func:`score_frame`'s result."""
    return f"units_{name}"


def _units(points: Decimal) -> int:
    return int(points * UNITS_PER_POINT)


def _count(frame: pl.DataFrame, name: str | None) -> pl.Expr:
    if name is None or name not in frame.columns:
        return pl.lit(0, dtype=pl.Int64)
    return pl.col(name).cast(pl.Int64).fill_null(0).clip(lower_bound=0)


def _flag(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(value=False)
    return pl.col(name).cast(pl.Boolean).fill_null(value=False)


def _lookup(frame: pl.DataFrame, name: str | None, table: Mapping[str, int]) -> pl.Expr:
    """Units by an attribute's value (absent or unlisted: 0).

    A policy's tables are short (four degrees, five titles): a chain of equality tests
    is several times faster on a million strings than a hashed ``replace``.
    """
    if name is None or name not in frame.columns:
        return pl.lit(0, dtype=pl.Int64)
    column = pl.col(name).cast(pl.String)
    if len(table) > _SHORT_TABLE:
        return column.replace_strict(dict(table), default=0, return_dtype=pl.Int64).fill_null(0)
    chosen: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for key, units in reversed(list(table.items())):
        chosen = pl.when(column == key).then(pl.lit(units, dtype=pl.Int64)).otherwise(chosen)
    return chosen


_SHORT_TABLE = 16


def _capped(units: pl.Expr, cap: Decimal | None) -> pl.Expr:
    if cap is None:
        return units
    limit = _units(cap)
    return pl.min_horizontal(units, limit) if limit >= 0 else pl.max_horizontal(units, limit)


def _version_units(
    frame: pl.DataFrame, indicator: Indicator, version: Version, age: pl.Expr
) -> pl.Expr:
    kind = indicator.kind
    if kind == "per_period":
        assert version.rate is not None
        months = _count(frame, indicator.input)
        if version.cap_months_by is not None:
            cap = _lookup(frame, indicator.cap_by, version.cap_months_by)
            months = pl.min_horizontal(months, cap)
        if version.cap_months is not None:
            months = pl.min_horizontal(months, version.cap_months)
        per_month = int(version.rate * UNITS_PER_POINT / (1 if version.per == "month" else 12))
        return _capped(months * per_month, version.cap_points)
    if kind == "tiered_periods":
        assert version.tiers is not None
        remaining = _count(frame, indicator.cap_by) if indicator.cap_by else pl.lit(_BIG)
        total: pl.Expr = pl.lit(0, dtype=pl.Int64)
        for name, rate in version.tiers.items():
            counted = pl.min_horizontal(_count(frame, name), remaining)
            total = total + counted * int(rate * UNITS_PER_POINT / 12)
            remaining = remaining - counted
        return _capped(total, version.cap_points)
    if kind == "table":
        assert version.table is not None
        return _lookup(frame, indicator.input, {k: _units(v) for k, v in version.table.items()})
    if kind == "highest_of":
        options: list[pl.Expr] = [pl.lit(0, dtype=pl.Int64)]
        for name, points in (version.items or {}).items():
            options.append(pl.when(_flag(frame, name)).then(_units(points)).otherwise(0))
        for name, table in (version.tables or {}).items():
            options.append(_lookup(frame, name, {k: _units(v) for k, v in table.items()}))
        return pl.max_horizontal(options)
    if kind == "age":
        return _age_units(version, age)
    if kind == "per_event":
        assert version.points is not None
        return _capped(_count(frame, indicator.input) * _units(version.points), version.cap_points)
    assert version.points is not None  # a flag
    assert indicator.input is not None
    return pl.when(_flag(frame, indicator.input)).then(_units(version.points)).otherwise(0)


def _age_units(version: Version, age: pl.Expr) -> pl.Expr:
    assert version.pivot is not None
    assert version.at_pivot is not None
    pivot = version.pivot
    flat_until = version.flat_until if version.flat_until is not None else pivot
    at = _units(version.at_pivot)
    younger, older = _units(version.younger_slope), _units(version.older_slope)
    points = (
        pl.when(age < pivot)
        .then(at + younger * (pivot - age))
        .when(age <= flat_until)
        .then(pl.lit(at))
        .otherwise(at + older * (age - flat_until))
    )
    if version.zero_above is not None:
        points = pl.when(age > version.zero_above).then(0).otherwise(points)
    if version.min_points is not None:
        points = pl.max_horizontal(points, _units(version.min_points))
    if version.max_points is not None:
        points = pl.min_horizontal(points, _units(version.max_points))
    return points.cast(pl.Int64)


def _age(policy: Policy, dates: tuple[datetime.date | None, datetime.date | None]) -> pl.Expr:
    """Whole years of age on the policy's counting day.

    A list year's table shares one application year: it is then a constant, and on the
    1 January rule the birthday test is whether one was born on 1 January.
    """
    applied, born = pl.col("application_date"), pl.col("birth_date")
    first, last = dates
    one_year = first is not None and last is not None and first.year == last.year
    year: pl.Expr = pl.lit(first.year) if one_year and first is not None else applied.dt.year()

    def month_day(day: pl.Expr) -> pl.Expr:  # month and day are Int8: widen before * 100
        return day.dt.month().cast(pl.Int32) * 100 + day.dt.day().cast(pl.Int32)

    if policy.age_counted_on == "january_first_previous_year":
        year = year - 1
        before_birthday = born.dt.ordinal_day() != 1
    else:
        before_birthday = month_day(applied) < month_day(born)
    return (year - born.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def _indicator(
    frame: pl.DataFrame,
    indicator: Indicator,
    age: pl.Expr,
    dates: tuple[datetime.date | None, datetime.date | None],
) -> pl.Expr:
    """Units of ``indicator`` with the version in force on each row's application date.

    Only the versions in force somewhere between the table's first and last application
    date take part; with one (a list year's table), no per-row choice is made at all.
    """
    first, last = dates
    versions = [
        v
        for index, v in enumerate(indicator.versions)
        if last is not None
        and v.from_ <= last
        and (
            index + 1 == len(indicator.versions)
            or first is None
            or indicator.versions[index + 1].from_ > first
        )
    ]
    if not versions:
        return pl.lit(0, dtype=pl.Int64)
    if len(versions) == 1 and first is not None and versions[0].from_ <= first:
        return _version_units(frame, indicator, versions[0], age).cast(pl.Int64)
    chosen: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for version in versions:  # oldest first: a later version overrides
        chosen = (
            pl.when(pl.col("application_date") >= version.from_)
            .then(_version_units(frame, indicator, version, age))
            .otherwise(chosen)
        )
    return chosen.cast(pl.Int64)


def _qualified(frame: pl.DataFrame, policy: Policy) -> pl.Expr:
    held: pl.Expr = pl.lit(value=True)
    for condition in policy.qualification:
        if condition.equals is not None:
            if condition.attribute not in frame.columns:
                test = pl.lit(value=False)
            else:
                test = (pl.col(condition.attribute) == condition.equals).fill_null(value=False)
        elif condition.at_least is not None:
            test = _count(frame, condition.attribute) >= condition.at_least
        else:
            assert condition.below_by_sex is not None
            limit = _lookup(frame, "sex", {str(k): v for k, v in condition.below_by_sex.items()})
            test = (pl.col("age") < limit) & (limit > 0)
        held = held & test
    return held


def score_frame(policy: Policy, applicants: pl.DataFrame) -> pl.DataFrame:
    """``applicants`` with ``age``, one units column per indicator, ``units`` (the sum),
    ``score`` (Int64, in 10^-decimals points: 7350 is 73.50) and ``qualified``.

    One lazy query, so Polars evaluates the indicators side by side and reads each
    attribute once however many indicators use it.
    """
    span = applicants.get_column("application_date")
    first, last = span.min(), span.max()
    dates = (
        first if isinstance(first, datetime.date) else None,
        last if isinstance(last, datetime.date) else None,
    )
    age = pl.col("age")
    columns = [indicator_column(name) for name in policy.indicators]
    power = {0: 1, 1: 10, 2: 100}[policy.rounding.decimals]
    step = UNITS_PER_POINT // power
    units = pl.sum_horizontal(columns).cast(pl.Int64)
    magnitude = units.abs()
    rounded = (
        (magnitude + step // 2) // step if policy.rounding.mode == "half_up" else magnitude // step
    )
    qualified = _qualified(applicants, policy)
    if policy.pass_mark is not None:
        qualified = qualified & (pl.col("score") >= int(policy.pass_mark * power))
    return (
        applicants.lazy()
        .with_columns(_age(policy, dates).alias("age"))
        .with_columns(
            _indicator(applicants, indicator, age, dates).alias(column)
            for column, indicator in zip(columns, policy.indicators.values(), strict=True)
        )
        .with_columns(
            units.alias("units"),
            pl.when(units < 0).then(-rounded).otherwise(rounded).alias("score"),
        )
        .with_columns(qualified.alias("qualified"))
        .collect()
    )


@dataclass(frozen=True, slots=True)
class Ranking:
    """The quota's outcome: the cutoff score, how many were admitted, tied at the cutoff."""

    cutoff: int | None
    admitted: int
    tied_at_cutoff: int
    qualified: int


def rank(scored: pl.DataFrame, quota: int) -> tuple[pl.DataFrame, Ranking]:
    """The admitted list (highest score first, with ``rank``) and the quota's outcome.

    The cutoff is the score of the quota-th qualified applicant; everyone qualified at or
    above it is admitted, so ties at the cutoff are all admitted (the 2022 list admitted
    6,006 this way). Fewer qualified than the quota: all admitted. Only the scores are
    ranked to find the cutoff (a partial top-k, not a sort of everyone).
    """
    held = scored.get_column("qualified")
    pool = scored.get_column("score").filter(held)
    if pool.len() == 0 or quota <= 0:
        return scored.clear().with_columns(pl.lit(0, dtype=pl.UInt32).alias("rank")), Ranking(
            None, 0, 0, pool.len()
        )
    cutoff = int(pool.top_k(min(quota, pool.len())).min())  # type: ignore[arg-type]
    admitted = (
        scored.filter(held & (pl.col("score") >= cutoff))
        .sort("score", descending=True, maintain_order=True)
        .with_columns(pl.col("score").rank(method="min", descending=True).alias("rank"))
    )
    tied = int((admitted.get_column("score") == cutoff).sum())
    return admitted, Ranking(cutoff, admitted.height, tied, pool.len())
