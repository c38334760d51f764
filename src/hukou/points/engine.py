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
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import polars as pl

from hukou.points.kernel import (
    Compiled,
    OutOfRangeError,
    compile_table,
    cutoff_of,
    rows_at_or_above,
)
from hukou.points.policy import UNITS_PER_POINT, Indicator, Policy, Version, units_of

__all__ = [
    "KERNEL_FROM",
    "Ranking",
    "admit",
    "indicator_column",
    "kernel_table",
    "rank",
    "score_frame",
]


def indicator_column(name: str) -> str:
    """The column of an indicator's units in :func:`score_frame`'s result."""
    return f"units_{name}"


@dataclass(frozen=True, slots=True)
class _Table:
    """The applicant table and what is already known of its count columns.

    Reading a count as the rules do (absent or below zero: 0) costs a pass over a million
    values per use; a column of Int64 without nulls or negatives, found once per table, is
    read as it is.
    """

    frame: pl.DataFrame
    plain_counts: frozenset[str]

    @classmethod
    def of(cls, frame: pl.DataFrame, policy: Policy) -> _Table:
        candidates = [
            name
            for name in policy.attributes()
            if frame.schema.get(name) == pl.Int64 and frame.get_column(name).null_count() == 0
        ]
        lowest = (
            frame.select(pl.col(name).min() for name in candidates).row(0) if candidates else ()
        )
        plain = {
            name for name, low in zip(candidates, lowest, strict=True) if low is None or low >= 0
        }
        return cls(frame, frozenset(plain))

    @property
    def columns(self) -> list[str]:
        return self.frame.columns

    @property
    def schema(self) -> pl.Schema:
        return self.frame.schema


def _count(frame: _Table, name: str | None) -> pl.Expr:
    if name is None or name not in frame.columns:
        return pl.lit(0, dtype=pl.Int64)
    if name in frame.plain_counts:
        return pl.col(name)
    return pl.col(name).cast(pl.Int64).fill_null(0).clip(lower_bound=0)


def _flag(frame: _Table, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(value=False)
    return pl.col(name).cast(pl.Boolean).fill_null(value=False)


def _lookup(frame: _Table, name: str | None, table: Mapping[str, int]) -> pl.Expr:
    """Units by an attribute's value (absent or unlisted: 0).

    A code list held as a Polars ``Enum`` (as :func:`hukou.points.applicants.pool_frame`
    holds degrees and sex) is looked up by its physical code in a table per category, one
    gather. Strings: a policy's tables are short (four degrees, five titles), and a chain
    of equality tests is several times faster on a million strings than a hashed
    ``replace``.
    """
    if name is None or name not in frame.columns:
        return pl.lit(0, dtype=pl.Int64)
    dtype = frame.schema[name]
    if isinstance(dtype, pl.Enum):
        by_code = pl.Series([table.get(c, 0) for c in dtype.categories], dtype=pl.Int64)
        return pl.lit(by_code).gather(pl.col(name).to_physical()).fill_null(0)
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
    limit = units_of(cap)
    return pl.min_horizontal(units, limit) if limit >= 0 else pl.max_horizontal(units, limit)


def _version_units(frame: _Table, indicator: Indicator, version: Version, ages: _Ages) -> pl.Expr:
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
        # Without a cap every tier counts whole; with one, each takes what is left.
        remaining = _count(frame, indicator.cap_by) if indicator.cap_by else None
        total: pl.Expr | None = None
        tiers = list(version.tiers.items())
        for index, (name, rate) in enumerate(tiers):
            counted = _count(frame, name)
            if remaining is not None:
                counted = pl.min_horizontal(counted, remaining)
                if index + 1 < len(tiers):
                    remaining = remaining - counted
            term = counted * int(rate * UNITS_PER_POINT / 12)
            total = term if total is None else total + term
        return _capped(
            total if total is not None else pl.lit(0, dtype=pl.Int64), version.cap_points
        )
    if kind == "table":
        assert version.table is not None
        return _lookup(frame, indicator.input, {k: units_of(v) for k, v in version.table.items()})
    if kind == "highest_of":
        options: list[pl.Expr] = [pl.lit(0, dtype=pl.Int64)]
        for name, points in (version.items or {}).items():
            options.append(pl.when(_flag(frame, name)).then(units_of(points)).otherwise(0))
        for name, table in (version.tables or {}).items():
            options.append(_lookup(frame, name, {k: units_of(v) for k, v in table.items()}))
        return pl.max_horizontal(options)
    if kind == "age":
        return ages.of(lambda age: _age_units(version, age))
    if kind == "per_event":
        assert version.points is not None
        return _capped(
            _count(frame, indicator.input) * units_of(version.points), version.cap_points
        )
    assert version.points is not None  # a flag
    assert indicator.input is not None
    return pl.when(_flag(frame, indicator.input)).then(units_of(version.points)).otherwise(0)


def _age_units(version: Version, age: pl.Expr) -> pl.Expr:
    assert version.pivot is not None
    assert version.at_pivot is not None
    pivot = version.pivot
    flat_until = version.flat_until if version.flat_until is not None else pivot
    at = units_of(version.at_pivot)
    younger, older = units_of(version.younger_slope), units_of(version.older_slope)
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
        points = pl.max_horizontal(points, units_of(version.min_points))
    if version.max_points is not None:
        points = pl.min_horizontal(points, units_of(version.max_points))
    return points.cast(pl.Int64)


def _age(counted_on: str, dates: tuple[datetime.date | None, datetime.date | None]) -> pl.Expr:
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

    if counted_on == "january_first_previous_year":
        year = year - 1
        before_birthday = born.dt.ordinal_day() != 1
    else:
        before_birthday = month_day(applied) < month_day(born)
    return (year - born.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int32)


_TABLE_SPAN_DAYS = 200 * 366


@functools.lru_cache(maxsize=32)
def _ages_by_day(
    counted_on: str,
    earliest: datetime.date,
    latest: datetime.date,
    dates: tuple[datetime.date | None, datetime.date | None],
) -> pl.DataFrame:
    """The age on each day from ``earliest`` to ``latest`` (kept: a list year's tables are
    scored again and again with the same days)."""
    days = pl.date_range(earliest, latest, eager=True)
    return pl.DataFrame(
        {"birth_date": days, "application_date": pl.repeat(dates[0], len(days), eager=True)}
    ).select(_age(counted_on, dates).alias("age"))


@dataclass(frozen=True, slots=True)
class _Ages:
    """How each row's age is found: from its own dates, or by birth day from a table.

    Taking year, month and day out of a million dates costs more than a whole indicator;
    a list year's table counts age on one day (1 January of the year before, or one
    application date), so :func:`_age` is then evaluated once per day between the
    earliest and latest birth, and each row takes its age (and its age points, see
    :meth:`of`) by the day's offset.
    """

    by_day: pl.DataFrame | None
    """One row per day from the earliest birth on, with its ``age``; ``None``: per row."""
    offset: int

    @classmethod
    def of_table(
        cls,
        policy: Policy,
        frame: pl.DataFrame,
        dates: tuple[datetime.date | None, datetime.date | None],
    ) -> _Ages:
        first, last = dates
        one_day = (
            policy.age_counted_on == "january_first_previous_year"
            and first is not None
            and last is not None
            and first.year == last.year
        ) or (
            first is not None
            and first == last
            and frame.get_column("application_date").null_count() == 0
        )
        if not one_day:
            return cls(None, 0)
        earliest, latest = frame.select(
            pl.col("birth_date").min().alias("earliest"), pl.col("birth_date").max()
        ).row(0)
        if (
            not isinstance(earliest, datetime.date)
            or not isinstance(latest, datetime.date)
            or (latest - earliest).days > _TABLE_SPAN_DAYS
        ):
            return cls(None, 0)
        by_day = _ages_by_day(policy.age_counted_on, earliest, latest, dates)
        return cls(by_day, (earliest - datetime.date(1970, 1, 1)).days)

    def column(
        self, policy: Policy, dates: tuple[datetime.date | None, datetime.date | None]
    ) -> pl.Expr:
        """The ``age`` column."""
        if self.by_day is None:
            return _age(policy.age_counted_on, dates)
        return self._by_day(self.by_day.get_column("age"))

    def of(self, per_age: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        """``per_age(age)`` of each row (evaluated per day of the table when there is one)."""
        if self.by_day is None:
            return per_age(pl.col("age"))
        return self._by_day(self.by_day.select(per_age(pl.col("age"))).to_series())

    def per_day(self, per_age: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
        """``per_age(age)`` for each day of the table (which must exist)."""
        assert self.by_day is not None
        return self.by_day.select(per_age(pl.col("age"))).to_series()

    def _by_day(self, values: pl.Series) -> pl.Expr:
        return pl.lit(values).gather(pl.col("birth_date").to_physical() - self.offset)


def _in_force(
    indicator: Indicator, dates: tuple[datetime.date | None, datetime.date | None]
) -> list[Version]:
    """The versions in force somewhere between the table's first and last application date."""
    first, last = dates
    return [
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


def _only_version(
    versions: list[Version], dates: tuple[datetime.date | None, datetime.date | None]
) -> Version | None:
    """The one version in force on every row's date, if there is one."""
    first = dates[0]
    if len(versions) == 1 and first is not None and versions[0].from_ <= first:
        return versions[0]
    return None


def _indicator(
    frame: _Table,
    indicator: Indicator,
    ages: _Ages,
    dates: tuple[datetime.date | None, datetime.date | None],
) -> pl.Expr:
    """Units of ``indicator`` with the version in force on each row's application date.

    Only the versions in force somewhere between the table's first and last application
    date take part; with one (a list year's table), no per-row choice is made at all.
    """
    versions = _in_force(indicator, dates)
    if not versions:
        return pl.lit(0, dtype=pl.Int64)
    only = _only_version(versions, dates)
    if only is not None:
        return _version_units(frame, indicator, only, ages).cast(pl.Int64)
    chosen: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for version in versions:  # oldest first: a later version overrides
        chosen = (
            pl.when(pl.col("application_date") >= version.from_)
            .then(_version_units(frame, indicator, version, ages))
            .otherwise(chosen)
        )
    return chosen.cast(pl.Int64)


def _qualified(frame: _Table, policy: Policy) -> pl.Expr:
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


_STREAMED_FROM = 100_000
"""Tables of at least this many rows are evaluated by Polars' streaming engine: a slice of
rows at a time through every indicator, in cache (26 against 38 ms on a million)."""


def _dates(applicants: pl.DataFrame) -> tuple[datetime.date | None, datetime.date | None]:
    """The table's first and last application date."""
    span = applicants.get_column("application_date")
    first, last = span.min(), span.max()
    return (
        first if isinstance(first, datetime.date) else None,
        last if isinstance(last, datetime.date) else None,
    )


def score_frame(policy: Policy, applicants: pl.DataFrame) -> pl.DataFrame:
    """``applicants`` with ``age``, one units column per indicator, ``units`` (the sum),
    ``score`` (Int64, in 10^-decimals points: 7350 is 73.50) and ``qualified``.

    One lazy query, so Polars evaluates the indicators side by side and reads each
    attribute once however many indicators use it.
    """
    dates = _dates(applicants)
    ages = _Ages.of_table(policy, applicants, dates)
    columns = [indicator_column(name) for name in policy.indicators]
    rounding = policy.rounding
    units = pl.sum_horizontal(columns).cast(pl.Int64)
    rounded = (units.abs() + rounding.half) // rounding.step
    table = _Table.of(applicants, policy)
    qualified = _qualified(table, policy)
    if policy.pass_mark is not None:
        qualified = qualified & (pl.col("score") >= int(policy.pass_mark * rounding.power))
    computed = (
        applicants.lazy()
        .with_columns(ages.column(policy, dates).alias("age"))
        .with_columns(
            _indicator(table, indicator, ages, dates).alias(column)
            for column, indicator in zip(columns, policy.indicators.values(), strict=True)
        )
        .with_columns(
            units.alias("units"),
            pl.when(units < 0).then(-rounded).otherwise(rounded).alias("score"),
        )
        .with_columns(qualified.alias("qualified"))
        .select("age", *columns, "units", "score", "qualified")
        .collect(engine="streaming" if applicants.height >= _STREAMED_FROM else "in-memory")
    )
    return applicants.with_columns(computed.get_columns())


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
    # The admitted are few: their row numbers, then those rows (filtering every column
    # of a million-row table by a mask costs several times more).
    rows = (held & (scored.get_column("score") >= cutoff)).arg_true()
    order = (
        pl.DataFrame({"row": rows, "score": scored.get_column("score").gather(rows)})
        .sort("score", descending=True, maintain_order=True)
        .get_column("row")
    )
    admitted = scored[order].with_columns(
        pl.col("score").rank(method="min", descending=True).alias("rank")
    )
    tied = int((admitted.get_column("score") == cutoff).sum())
    return admitted, Ranking(cutoff, admitted.height, tied, pool.len())


KERNEL_FROM = 500_000
"""Tables of at least this many applicants are ranked by :mod:`hukou.points.kernel`. A new
process pays about 1.3 s before its first such table (importing numba, loading the compiled
policy; about 3 s the first time on a machine); from half a million applicants on each
ranking saves 10 ms or more, below it the Polars engine answers in under 20 ms anyway (the
console's made-up pool of 100,000 stays with it)."""


def kernel_table(policy: Policy, applicants: pl.DataFrame) -> Compiled | None:
    """The table compiled for the kernel, or ``None`` where the kernel does not serve it (more
    than one version of an indicator in force, a missing date, ages not by birth day)."""
    columns = applicants.columns
    if "application_date" not in columns or "birth_date" not in columns:
        return None
    if (
        applicants.get_column("application_date").null_count()
        or applicants.get_column("birth_date").null_count()
    ):
        return None
    dates = _dates(applicants)
    ages = _Ages.of_table(policy, applicants, dates)
    if ages.by_day is None:
        return None
    versions: dict[str, Version | None] = {}
    points_by_day: dict[str, pl.Series] = {}
    for name, indicator in policy.indicators.items():
        in_force = _in_force(indicator, dates)
        only = _only_version(in_force, dates)
        if in_force and only is None:
            return None
        versions[name] = only
        if only is not None and indicator.kind == "age":
            points_by_day[name] = ages.per_day(functools.partial(_age_units, only))
    return compile_table(
        policy,
        applicants,
        versions,
        (ages.by_day.get_column("age"), ages.offset, points_by_day),
    )


def admit(
    policy: Policy, applicants: pl.DataFrame, quota: int, *, kernel_from: int = KERNEL_FROM
) -> tuple[pl.DataFrame, Ranking]:
    """``rank(score_frame(policy, applicants), quota)``: the same list and outcome, from
    :mod:`hukou.points.kernel` on a large table.

    The kernel scores and qualifies everyone in one pass and finds the cutoff; the
    admitted rows alone are then scored indicator by indicator, so the list carries the
    same columns as :func:`score_frame`'s (``tests/points/test_kernel.py`` holds the two
    paths equal, and the kernel to the explanation).
    """
    compiled = kernel_table(policy, applicants) if applicants.height >= kernel_from else None
    if compiled is None:
        return rank(score_frame(policy, applicants), quota)
    try:
        scores = compiled.scores()
    except OutOfRangeError:
        return rank(score_frame(policy, applicants), quota)
    cutoff = cutoff_of(scores, quota)
    rows = rows_at_or_above(scores, cutoff) if cutoff is not None else np.empty(0, np.int64)
    found = compiled.breakdown(rows, len(policy.indicators))  # rows in table order: fewer misses
    parts = [
        pl.Series(indicator_column(name), found.parts[:, index], dtype=pl.Int64)
        for index, name in enumerate(policy.indicators)
    ]
    admitted = applicants[rows].with_columns(
        pl.Series("age", found.age, dtype=pl.Int32),
        *parts,
        pl.Series("units", found.units, dtype=pl.Int64),
        pl.Series("score", found.score, dtype=pl.Int64),
        pl.Series("qualified", found.qualified, dtype=pl.Boolean),
    )
    # Highest score first, ties in table order (as rank() orders them).
    admitted = admitted[np.argsort(-found.score, kind="stable")]
    admitted = admitted.with_columns(
        pl.Series("rank", _ranks(admitted.get_column("score").to_numpy()), dtype=pl.UInt32)
    )
    tied = int((found.score == cutoff).sum())
    return admitted, Ranking(cutoff, admitted.height, tied, scores.count)


def _ranks(descending: np.ndarray) -> np.ndarray:
    """1 + how many score higher, for scores already highest first (ties share a rank)."""
    ranks: np.ndarray = np.searchsorted(-descending, -descending, side="left") + 1
    return ranks
