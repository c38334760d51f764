"""Points policies (积分落户) as data: a city's rules in one YAML file, validated on load.

A policy names its city, version, effective dates and legal reference, the conditions an
applicant must meet to be scored at all, its indicators, how the total is rounded, and
the quota. Each indicator belongs to one of the plan's categories (就业, 居住, 教育, 贡献)
or is a deduction (扣减), has a *kind* that says how points come from the applicant's
attributes, and one or more dated *versions* of its parameters: the version in force on
the application date applies, so a reform is a new version, not a new file.

Kinds:

* ``per_period`` — a rate per month or per year of an attribute counted in months,
  optionally capped (in months, per the value of another attribute, or in points);
* ``tiered_periods`` — several month counts at different rates (owned home, then
  rented), counted in that order up to the months of another attribute if one caps them;
* ``table`` — points looked up by an attribute's value;
* ``highest_of`` — the highest of several items (flags or tables): only one counts;
* ``age`` — points by whole years of age on the policy's counting day;
* ``per_event`` — points per event counted (a deduction when negative);
* ``flag`` — points when a yes/no attribute is yes.

Points are exact: every rate must be a whole number of hundredths of a point per year
or per month, and the engine counts in 1/1200 of a point (a hundredth of a point per
year is 1/1200 per month), rounding only the total, as the policy says.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from hukou.yamldoc import DocumentModel, Location, load_document

__all__ = [
    "UNITS_PER_POINT",
    "Category",
    "Condition",
    "Indicator",
    "Policy",
    "Version",
    "load_policies",
    "load_policy",
    "policy_files",
    "units_of",
]

UNITS_PER_POINT: Final = 1200
"""The engine's unit: 1/1200 of a point, so a hundredth of a point per year is one unit a month."""


def units_of(points: Decimal) -> int:
    """``points`` in whole units (the policy's parameters are checked to be exact on load)."""
    return int(points * UNITS_PER_POINT)


_NAME = r"^[a-z][a-z0-9_]{0,63}$"
Name = Annotated[str, Field(pattern=_NAME)]


class Category(StrEnum):
    EMPLOYMENT = "就业"
    RESIDENCE = "居住"
    EDUCATION = "教育"
    CONTRIBUTION = "贡献"
    DEDUCTION = "扣减"


def _units(points: Decimal, per_months: int, where: str) -> int:
    """``points`` per ``per_months`` months as whole units a month, or an error."""
    units = points * UNITS_PER_POINT / per_months
    if units != units.to_integral_value():
        raise ValueError(f"{where} {points} is not a whole number of hundredths of a point")
    return int(units)


class Version(DocumentModel):
    """One dated set of an indicator's parameters (only those its kind reads)."""

    from_: datetime.date = Field(alias="from")
    per: Literal["month", "year"] | None = None
    rate: Decimal | None = None
    cap_months: int | None = Field(default=None, ge=0)
    cap_months_by: dict[str, int] | None = None
    cap_points: Decimal | None = None
    tiers: dict[Name, Decimal] | None = None
    """``tiered_periods``: attribute → points per year, counted in this order."""
    table: dict[str, Decimal] | None = None
    items: dict[Name, Decimal] | None = None
    """``highest_of``: yes/no attribute → its points."""
    tables: dict[Name, dict[str, Decimal]] | None = None
    """``highest_of``: attribute → points by its value; with ``items``, the highest counts."""
    points: Decimal | None = None
    pivot: int | None = Field(default=None, ge=0, le=120)
    at_pivot: Decimal | None = None
    younger_slope: Decimal = Decimal(0)
    older_slope: Decimal = Decimal(0)
    flat_until: int | None = None
    zero_above: int | None = None
    min_points: Decimal | None = None
    max_points: Decimal | None = None


class Indicator(DocumentModel):
    category: Category
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    reference: str = Field(min_length=2)
    kind: Literal["per_period", "tiered_periods", "table", "highest_of", "age", "per_event", "flag"]
    input: Name | None = None
    """The attribute read (``per_period``, ``table``, ``per_event``, ``flag``)."""
    cap_by: Name | None = None
    """``per_period`` with ``cap_months_by`` / ``tiered_periods``: the attribute that caps."""
    versions: tuple[Version, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> Indicator:
        needs: dict[str, tuple[str, ...]] = {
            "per_period": ("per", "rate"),
            "tiered_periods": ("tiers",),
            "table": ("table",),
            "highest_of": (),
            "age": ("pivot", "at_pivot"),
            "per_event": ("points",),
            "flag": ("points",),
        }
        for version in self.versions:
            missing = [k for k in needs[self.kind] if getattr(version, k) is None]
            if missing:
                raise ValueError(f"a {self.kind} version needs {', '.join(missing)}")
            if self.kind == "highest_of" and not (version.items or version.tables):
                raise ValueError("a highest_of version lists items or tables")
            if self.kind == "per_period":
                assert version.rate is not None
                _units(version.rate, 1 if version.per == "month" else 12, "rate")
            for points in (version.tiers or {}).values():
                _units(points, 12, "a tier's rate")
        if self.kind in ("per_period", "table", "per_event", "flag") and self.input is None:
            raise ValueError(f"a {self.kind} indicator names its input attribute")
        dates = [v.from_ for v in self.versions]
        if dates != sorted(set(dates)):
            raise ValueError("versions are listed oldest first, each from a different date")
        return self

    def version_on(self, day: datetime.date) -> Version | None:
        """The version in force on ``day`` (``None`` before the first)."""
        found = None
        for version in self.versions:
            if version.from_ <= day:
                found = version
        return found

    def inputs(self) -> tuple[str, ...]:
        """Every attribute this indicator reads."""
        names: list[str] = [n for n in (self.input, self.cap_by) if n is not None]
        for version in self.versions:
            names.extend(version.tiers or ())
            names.extend(version.items or ())
            names.extend(version.tables or ())
        if self.kind == "age":
            names.append("birth_date")
        return tuple(dict.fromkeys(names))


class Condition(DocumentModel):
    """One qualification condition on an attribute (exactly one test)."""

    zh: str = Field(min_length=1)
    attribute: Name
    equals: bool | int | str | None = None
    at_least: int | None = None
    below_by_sex: dict[Literal["M", "F"], int] | None = None
    """Under an age that depends on sex (retirement age): the attribute is ``age``."""

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [t for t in (self.equals, self.at_least, self.below_by_sex) if t is not None]
        if len(tests) != 1:
            raise ValueError("a condition has exactly one of equals, at_least, below_by_sex")
        return self


class Rounding(DocumentModel):
    decimals: Literal[0, 1, 2] = 2
    mode: Literal["half_up", "down"] = "half_up"

    @property
    def power(self) -> int:
        """Scores are held in 1/power points (100: hundredths)."""
        return int(10**self.decimals)

    @property
    def step(self) -> int:
        """Units in one 1/power point."""
        return UNITS_PER_POINT // self.power

    @property
    def half(self) -> int:
        """Added before dividing by :attr:`step`: half a step to round half up, else 0."""
        return self.step // 2 if self.mode == "half_up" else 0


class Quota(DocumentModel):
    year: int
    places: int = Field(ge=0)


class Policy(DocumentModel):
    """One city's points policy (one version of it)."""

    city: str = Field(min_length=1)
    code: Name
    version: str = Field(min_length=1)
    name: str = Field(min_length=1)
    effective_from: datetime.date
    effective_until: datetime.date | None = None
    legal_reference: str = Field(min_length=4)
    age_counted_on: Literal["application_date", "january_first_previous_year"]
    pass_mark: Decimal | None = None
    """A score that qualifies by itself (上海 120); ``None``: ranked against the quota."""
    qualification: tuple[Condition, ...] = ()
    indicators: dict[Name, Indicator]
    rounding: Rounding = Rounding()
    quotas: tuple[Quota, ...] = ()

    def attributes(self) -> tuple[str, ...]:
        """Every applicant attribute the policy reads."""
        names = ["application_date", "birth_date"]
        for indicator in self.indicators.values():
            names.extend(indicator.inputs())
        names.extend(c.attribute for c in self.qualification if c.attribute != "age")
        if any(c.below_by_sex for c in self.qualification):
            names.append("sex")
        return tuple(dict.fromkeys(names))

    def quota(self, year: int) -> int | None:
        return next((q.places for q in self.quotas if q.year == year), None)

    def places_for(self, year: int) -> int | None:
        """The quota of ``year``'s list, else the latest published (a reform is simulated
        for a year whose quota is not out yet); ``None`` if the policy has none."""
        latest = max(self.quotas, key=lambda q: q.year).places if self.quotas else None
        return self.quota(year) or latest


def _checks(policy: Policy) -> Iterable[tuple[Location, str]]:
    for name, indicator in policy.indicators.items():
        if indicator.category is Category.DEDUCTION:
            for index, version in enumerate(indicator.versions):
                if version.points is not None and version.points > 0:
                    yield (
                        ("indicators", name, "versions", index, "points"),
                        "a deduction is negative",
                    )
        for index, version in enumerate(indicator.versions):
            if version.from_ < policy.effective_from:
                yield (
                    ("indicators", name, "versions", index, "from"),
                    "before the policy's effective_from",
                )


def load_policy(path: str | Path) -> Policy:
    """The policy file at ``path``, validated (:class:`hukou.yamldoc.DocumentError`)."""
    return load_document(path, Policy, checks=[_checks])


def policy_files() -> list[Path]:
    """The policies shipped with Hukou (``hukou/points/data/policies``)."""
    folder = resources.files("hukou.points") / "data" / "policies"
    return sorted(Path(str(folder)).glob("*.yaml"))


@cache
def load_policies() -> Mapping[str, Policy]:
    """The shipped policies by code."""
    policies: dict[str, Policy] = {}
    for path in policy_files():
        policy = load_policy(path)
        policies[policy.code] = policy
    return policies
