"""One applicant's score, line by line: the scalar path, and the reference for the engine.

For each indicator: the attributes it read, the dated version of its parameters that
applied on the application date, the parameters used, the points, and the legal
reference — what an applicant is owed when a score decides whether they may settle.
Everything is counted in whole units of 1/1200 of a point (:data:`UNITS_PER_POINT`) and
only the total is rounded, as the policy says, so the vectorised engine
(:mod:`hukou.points.engine`), written independently, must agree exactly (a property test
holds it to that).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from hukou.points.policy import UNITS_PER_POINT, Indicator, Policy, Version

__all__ = ["Explanation", "Line", "age_on", "counting_day", "explain", "round_units"]

_NO_CAP: Final = 10**9
_POWERS: Final = {0: 1, 1: 10, 2: 100}


@dataclass(frozen=True, slots=True)
class Line:
    """One indicator of one applicant."""

    indicator: str
    category: str
    zh: str
    inputs: Mapping[str, object]
    version_from: datetime.date | None
    parameters: Mapping[str, object]
    units: int
    reference: str

    @property
    def points(self) -> Decimal:
        return Decimal(self.units) / UNITS_PER_POINT


@dataclass(frozen=True, slots=True)
class Explanation:
    """An applicant's lines, total (rounded as the policy says) and qualification."""

    policy: str
    lines: tuple[Line, ...]
    units: int
    score: Decimal
    qualified: bool
    unmet: tuple[str, ...]
    age: int


def counting_day(policy: Policy, application_date: datetime.date) -> datetime.date:
    """The day age is counted on: the application date, or 1 January of the year before."""
    if policy.age_counted_on == "january_first_previous_year":
        return datetime.date(application_date.year - 1, 1, 1)
    return application_date


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Whole years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def round_units(units: int, decimals: int, mode: str) -> int:
    """The total in 10^-decimals points: half up (away from zero) or down (toward zero)."""
    step = UNITS_PER_POINT // _POWERS[decimals]
    sign = -1 if units < 0 else 1
    magnitude = abs(units)
    if mode == "half_up":
        return sign * ((magnitude + step // 2) // step)
    return sign * (magnitude // step)


def _units(points: Decimal) -> int:
    return int(points * UNITS_PER_POINT)


def _number(value: object) -> int:
    if value is None or isinstance(value, bool):
        return int(bool(value))
    return max(0, int(str(value)))


def _capped(units: int, cap: Decimal | None) -> int:
    if cap is None:
        return units
    limit = _units(cap)
    return min(units, limit) if limit >= 0 else max(units, limit)


def _indicator_units(
    indicator: Indicator, version: Version, attributes: Mapping[str, object], age: int
) -> tuple[int, dict[str, object]]:
    """Units of one indicator, and the parameters it used."""
    kind = indicator.kind
    if kind == "per_period":
        assert version.rate is not None
        months = _number(attributes.get(indicator.input or ""))
        cap = version.cap_months
        if version.cap_months_by is not None:
            key = attributes.get(indicator.cap_by or "")
            cap = version.cap_months_by.get(str(key), 0) if key is not None else 0
        months_counted = min(months, cap) if cap is not None else months
        per_month = version.rate * UNITS_PER_POINT / (1 if version.per == "month" else 12)
        units = _capped(months_counted * int(per_month), version.cap_points)
        return units, {"per": version.per, "rate": version.rate, "months_counted": months_counted}
    if kind == "tiered_periods":
        assert version.tiers is not None
        remaining = _number(attributes.get(indicator.cap_by)) if indicator.cap_by else _NO_CAP
        units = 0
        counted: dict[str, int] = {}
        for name, rate in version.tiers.items():
            months = min(_number(attributes.get(name)), remaining)
            remaining -= months
            counted[name] = months
            units += months * int(rate * UNITS_PER_POINT / 12)
        units = _capped(units, version.cap_points)
        return units, {"per_year": dict(version.tiers), "months_counted": counted}
    if kind == "table":
        assert version.table is not None
        value = attributes.get(indicator.input or "")
        points = version.table.get(str(value), Decimal(0)) if value is not None else Decimal(0)
        return _units(points), {"table_value": points}
    if kind == "highest_of":
        options = [Decimal(0)]
        for name, points in (version.items or {}).items():
            if attributes.get(name):
                options.append(points)
        for name, table in (version.tables or {}).items():
            value = attributes.get(name)
            if value is not None:
                options.append(table.get(str(value), Decimal(0)))
        return _units(max(options)), {"highest": max(options)}
    if kind == "age":
        return _age_units(version, age), {"age": age, "pivot": version.pivot}
    if kind == "per_event":
        assert version.points is not None
        count = _number(attributes.get(indicator.input or ""))
        units = _capped(count * _units(version.points), version.cap_points)
        return units, {"per_event": version.points, "events": count}
    assert version.points is not None  # flag
    held = bool(attributes.get(indicator.input or ""))
    return (_units(version.points) if held else 0), {"points": version.points}


def _age_units(version: Version, age: int) -> int:
    assert version.pivot is not None
    assert version.at_pivot is not None
    pivot = version.pivot
    flat_until = version.flat_until if version.flat_until is not None else pivot
    if version.zero_above is not None and age > version.zero_above:
        points = Decimal(0)
    elif age < pivot:
        points = version.at_pivot + version.younger_slope * (pivot - age)
    elif age <= flat_until:
        points = version.at_pivot
    else:
        points = version.at_pivot + version.older_slope * (age - flat_until)
    if version.min_points is not None:
        points = max(points, version.min_points)
    if version.max_points is not None:
        points = min(points, version.max_points)
    return _units(points)


def _unmet(policy: Policy, attributes: Mapping[str, object], age: int) -> list[str]:
    unmet = []
    for condition in policy.qualification:
        value: object = age if condition.attribute == "age" else attributes.get(condition.attribute)
        if condition.equals is not None:
            held = value == condition.equals
        elif condition.at_least is not None:
            held = _number(value) >= condition.at_least
        else:
            assert condition.below_by_sex is not None
            limit = condition.below_by_sex.get(str(attributes.get("sex")))  # type: ignore[call-overload]
            held = limit is not None and age < limit
        if not held:
            unmet.append(condition.zh)
    return unmet


def explain(policy: Policy, attributes: Mapping[str, object]) -> Explanation:
    """Score one applicant (attributes by name; ``application_date`` and ``birth_date`` dates)."""
    applied = attributes["application_date"]
    born = attributes["birth_date"]
    assert isinstance(applied, datetime.date)
    assert isinstance(born, datetime.date)
    age = age_on(born, counting_day(policy, applied))
    lines = []
    for name, indicator in policy.indicators.items():
        version = indicator.version_on(applied)
        parameters: dict[str, object] = {}
        if version is None:
            units = 0
        else:
            units, parameters = _indicator_units(indicator, version, attributes, age)
        lines.append(
            Line(
                indicator=name,
                category=indicator.category.value,
                zh=indicator.zh,
                inputs={key: attributes.get(key) for key in indicator.inputs()},
                version_from=None if version is None else version.from_,
                parameters=parameters,
                units=units,
                reference=indicator.reference,
            )
        )
    total = sum(line.units for line in lines)
    rounded = round_units(total, policy.rounding.decimals, policy.rounding.mode)
    score = Decimal(rounded) / _POWERS[policy.rounding.decimals]
    unmet = _unmet(policy, attributes, age)
    passes = policy.pass_mark is None or score >= policy.pass_mark
    return Explanation(
        policy=policy.code,
        lines=tuple(lines),
        units=total,
        score=score,
        qualified=not unmet and passes,
        unmet=tuple(unmet) + (() if passes else (f"未达标准分值 {policy.pass_mark}",)),
        age=age,
    )
