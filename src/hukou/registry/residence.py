"""Where a person actually lives: evidence from the departments, weighed, with a date.

The household register says where a person is registered, not where they live (人户
分离 is about a third of a big city). Other departments see where people live: a
registered lease, a cross-region medical filing's place of care, a pupil's home
address, an elderly subsidy's address, the employer's district. Each is evidence with
a weight (how strongly it says "lives here") and a date; the inferred residence is
the division with the most weight, the confidence its share of all weight, and
"since" the earliest date of the evidence for it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from hukou.standards import divisions

__all__ = [
    "WEIGHTS",
    "Evidence",
    "Residence",
    "division_in_address",
    "evidence_from",
    "infer_residence",
]

# How strongly each kind of evidence says "this person lives in this division".
WEIGHTS: Mapping[str, float] = {
    "residence_division": 1.0,  # a registered lease, an elderly subsidy's district
    "care_division": 0.8,  # 异地就医备案: the place the person is cared for, where they live
    "address": 0.7,  # a home address written by the department (pupils, subsidies, filings)
    # The hukou (only as the register keeps it: a pupil's 户籍所在地 in another province
    # says nothing about where the family lives) outweighs one employer's district:
    # many people work in the next district.
    "registered_division": 0.2,
    "employer_division": 0.15,
}
# Fields holding a date that says since when the evidence holds, by preference.
_SINCE_FIELDS = ("lease_start", "filing_date", "enrol_date", "pension_insured_since")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One department's indication of where a person lives."""

    division: str
    kind: str
    weight: float
    since: datetime.date
    department: str


@dataclass(frozen=True, slots=True)
class Residence:
    """The inferred actual residence, how sure, since when, and against the hukou."""

    division: str
    confidence: float
    since: datetime.date
    registered_division: str | None

    @property
    def registered_elsewhere(self) -> bool | None:
        """人户分离: living in another division than the registered one (None if unknown)."""
        if self.registered_division is None:
            return None
        return self.registered_division != self.division


@cache
def _county_prefixes() -> tuple[tuple[str, str], ...]:
    # Longest first, so 江苏省苏州市吴中区 wins over any shorter overlapping name.
    names = [
        (divisions.full_name(d.code), d.code)
        for d in divisions.all_divisions()
        if d.level == "county" and d.is_current
    ]
    return tuple(sorted(names, key=lambda item: -len(item[0])))


@cache
def _first_characters() -> dict[str, tuple[tuple[str, str], ...]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for name, code in _county_prefixes():
        index.setdefault(name[:2], []).append((name, code))
    return {key: tuple(value) for key, value in index.items()}


def division_in_address(address: str) -> str | None:
    """The county an address starts with (its full name, 江苏省苏州市姑苏区…), or None.

    >>> division_in_address("江苏省苏州市姑苏区人民路1号")
    '320508'
    >>> division_in_address("外地1号") is None
    True
    """
    for name, code in _first_characters().get(address[:2], ()):
        if address.startswith(name):
            return code
    return None


def _date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def evidence_from(
    department: str, fields: Mapping[str, object], as_of: datetime.date
) -> list[Evidence]:
    """The residence evidence one record carries (standard fields, as ingest stored them)."""
    since = next((d for f in _SINCE_FIELDS if (d := _date(fields.get(f))) is not None), as_of)
    found: list[Evidence] = []
    for kind in ("residence_division", "care_division", "employer_division"):
        value = fields.get(kind)
        if isinstance(value, str) and divisions.get(value) is not None:
            found.append(Evidence(value, kind, WEIGHTS[kind], since, department))
    address = fields.get("address")
    if isinstance(address, str) and (code := division_in_address(address)) is not None:
        found.append(Evidence(code, "address", WEIGHTS["address"], since, department))
    return found


def infer_residence(
    evidence: Sequence[Evidence],
    registered_division: str | None = None,
    *,
    registered_since: datetime.date | None = None,
) -> Residence | None:
    """The division with the most weight; ties go to the more recent evidence.

    ``registered_division`` is the hukou as the household register keeps it; with
    ``registered_since`` it also counts as (weak) evidence of residence.
    """
    if registered_division is not None and registered_since is not None:
        hukou = Evidence(
            registered_division,
            "registered_division",
            WEIGHTS["registered_division"],
            registered_since,
            "register",
        )
        evidence = [*evidence, hukou]
    if not evidence:
        return None
    weight: dict[str, float] = {}
    latest: dict[str, datetime.date] = {}
    earliest: dict[str, datetime.date] = {}
    for item in evidence:
        weight[item.division] = weight.get(item.division, 0.0) + item.weight
        latest[item.division] = max(latest.get(item.division, item.since), item.since)
        earliest[item.division] = min(earliest.get(item.division, item.since), item.since)
    best = max(weight, key=lambda d: (weight[d], latest[d], d))
    total = sum(weight.values())
    return Residence(best, round(weight[best] / total, 3), earliest[best], registered_division)
