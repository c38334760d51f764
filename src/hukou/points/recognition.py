"""Cross-region recognition (积分互认) and the side-by-side comparison of policies.

A region file (``points/data/regions/*.yaml``) says, for each city of the region, which of
its policy's attributes earned in which other city count there, from when, and with what
conversion factor: "months of social insurance paid in Suzhou count in Shanghai at 0.5".
An applicant's months earned elsewhere are columns named ``ATTRIBUTE__CITY``
(``insured_months__suzhou``); the *portable* attributes add each converted count to the
local one (whole months, rounded down, at most ``max_months``), and the portable score is
the target city's policy on them — the same engine, so the same exactness.

``compare_categories`` scores one applicant table under several policies and gives, per
category (就业, 居住, 教育, 贡献, 扣减), each policy's average points and share: where two
cities' rules weigh the same people differently.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl
from pydantic import Field

from hukou.points.engine import indicator_column, score_frame
from hukou.points.policy import UNITS_PER_POINT, Category, Name, Policy
from hukou.yamldoc import DocumentModel, Location, load_document

__all__ = [
    "RecognisedLine",
    "Recognition",
    "Region",
    "compare_categories",
    "elsewhere_column",
    "load_region",
    "load_regions",
    "portable",
    "recognised",
]


class Recognition(DocumentModel):
    """One attribute earned in one city, counted in another."""

    attribute: Name
    earned_in: Name
    factor: Decimal = Field(gt=0, le=2, decimal_places=2)
    from_: datetime.date = Field(alias="from")
    max_months: int | None = Field(default=None, ge=0)


class Region(DocumentModel):
    code: Name
    name: str = Field(min_length=1)
    legal_reference: str = Field(min_length=2)
    cities: dict[Name, str]
    """City code → its name; a city with a policy uses the policy's code."""
    recognises: dict[Name, tuple[Recognition, ...]]
    """Target city → what it counts from the others."""


def elsewhere_column(attribute: str, city: str) -> str:
    """The column of ``attribute`` earned in ``city``."""
    return f"{attribute}__{city}"


def _checks(region: Region) -> Iterable[tuple[Location, str]]:
    """Every city named is one of the region's, and none recognises itself."""
    for target, rules in region.recognises.items():
        if target not in region.cities:
            yield ("recognises", target), f"{target!r} is not one of the region's cities"
        for index, rule in enumerate(rules):
            if rule.earned_in not in region.cities:
                where = ("recognises", target, index, "earned_in")
                yield where, f"{rule.earned_in!r} is not one of the region's cities"
            elif rule.earned_in == target:
                yield ("recognises", target, index, "earned_in"), "a city recognises other cities"


def load_region(path: Path) -> Region:
    """A region file, validated (file, line and key on any problem)."""
    return load_document(path, Region, checks=[_checks])


@cache
def load_regions() -> Mapping[str, Region]:
    """The shipped region tables by code."""
    folder = Path(str(resources.files("hukou.points") / "data" / "regions"))
    regions = {}
    for path in sorted(folder.glob("*.yaml")):
        region = load_region(path)
        regions[region.code] = region
    return regions


def _rules(region: Region, target: str, day: datetime.date) -> list[Recognition]:
    return [r for r in region.recognises.get(target, ()) if r.from_ <= day]


def portable(region: Region, target: str, applicants: pl.DataFrame) -> pl.DataFrame:
    """``applicants`` with each recognised count added to the local attribute, for
    applications on or after each rule's date."""
    frame = applicants
    for rule in region.recognises.get(target, ()):
        column = elsewhere_column(rule.attribute, rule.earned_in)
        if column not in frame.columns:
            continue
        months = pl.col(column).cast(pl.Int64).fill_null(0).clip(lower_bound=0)
        if rule.max_months is not None:
            months = pl.min_horizontal(months, rule.max_months)
        counted = months * int(rule.factor * 100) // 100
        applies = pl.col("application_date") >= rule.from_
        local = (
            pl.col(rule.attribute).cast(pl.Int64).fill_null(0)
            if rule.attribute in frame.columns
            else pl.lit(0, dtype=pl.Int64)
        )
        frame = frame.with_columns(
            (local + pl.when(applies).then(counted).otherwise(0)).alias(rule.attribute)
        )
    return frame


@dataclass(frozen=True, slots=True)
class RecognisedLine:
    attribute: str
    earned_in: str
    months: int
    factor: Decimal
    counted: int
    since: datetime.date


def recognised(
    region: Region, target: str, attributes: Mapping[str, object]
) -> list[RecognisedLine]:
    """One applicant's recognised counts, line by line (what :func:`portable` adds)."""
    day = attributes["application_date"]
    assert isinstance(day, datetime.date)
    lines = []
    for rule in _rules(region, target, day):
        raw = attributes.get(elsewhere_column(rule.attribute, rule.earned_in))
        months = max(0, int(str(raw))) if raw is not None else 0
        if rule.max_months is not None:
            months = min(months, rule.max_months)
        counted = months * int(rule.factor * 100) // 100
        lines.append(
            RecognisedLine(rule.attribute, rule.earned_in, months, rule.factor, counted, rule.from_)
        )
    return lines


def compare_categories(
    policies: Sequence[Policy], applicants: pl.DataFrame
) -> dict[str, dict[str, dict[str, float]]]:
    """Category → policy code → ``mean`` points and ``share`` of the mean total, over the
    same applicants scored by each policy."""
    result: dict[str, dict[str, dict[str, float]]] = {c.value: {} for c in Category}
    for policy in policies:
        scored = score_frame(policy, applicants)
        count = max(scored.height, 1)
        total = int(scored.get_column("units").sum()) / count / UNITS_PER_POINT
        for category in Category:
            columns = [
                indicator_column(name)
                for name, indicator in policy.indicators.items()
                if indicator.category is category
            ]
            mean = 0.0
            if columns:
                units = scored.select(pl.sum_horizontal(columns)).to_series().sum()
                mean = int(units) / count / UNITS_PER_POINT
            result[category.value][policy.code] = {
                "mean": round(mean, 2),
                "share": round(mean / total, 4) if total else 0.0,
            }
    return result
