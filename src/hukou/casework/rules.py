"""Deciding a case from its facts: the service's tests, then its decision table.

Pure functions: the caller reads the values (through ``exchange``, with the case as
purpose) and passes them in; nothing here touches storage.

A fact is *proven* when the registry holds a value for it (the test says whether it
holds), *declared* when the resident supplied the service's material instead, and
*unknown* otherwise. The table is read top to bottom; a row matches when every fact it
lists is known and has the truth it asks for. Two rules keep the machine honest:

* only facts the registry proves decide on their own (秒批): a row that would approve on
  a declared fact sends the case to review, where someone looks at the material;
* the machine never refuses alone. A row that would reject sends the case to review
  with the rejection proposed: PIPL art. 24 gives a person the right to refuse a
  decision made solely by automated means that significantly affects them, and a
  refused hukou or permit does.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from hukou.casework.catalog import Condition, Material, Outcome, Service, Text
from hukou.standards.dates import as_date

__all__ = [
    "Decision",
    "Finding",
    "Route",
    "Source",
    "age_on",
    "decide",
    "find_facts",
    "first_step",
    "holds",
    "materials_to_ask",
]


class Source(StrEnum):
    """Where a fact's truth comes from."""

    REGISTRY = "registry"
    """Proven by a department's data (免证明)."""
    MATERIAL = "material"
    """Declared: the resident supplied the service's material; a person must check it."""
    MISSING = "missing"
    """Neither: the fact is unknown."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One fact of a case: whether it holds (``None``: unknown) and how we know."""

    fact: str
    holds: bool | None
    source: Source


@dataclass(frozen=True, slots=True)
class Decision:
    """What the table decided, from which row, and whether anyone needs to look."""

    outcome: Outcome
    """``approve`` only when decided instantly; otherwise ``review``."""
    row: int
    reason: Text
    instant_decision: bool
    """Decided on registry facts alone, no person involved (秒批)."""
    proposed: Outcome | None = None
    """For a review: what the table would have decided (a rejection, or an approval that
    rests on material), for the reviewers to confirm or overturn."""


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Whole years of age on ``day``.

    >>> age_on(datetime.date(2008, 2, 29), datetime.date(2026, 2, 28))
    17
    >>> age_on(datetime.date(2008, 2, 29), datetime.date(2026, 3, 1))
    18
    """
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def holds(test: Condition, value: object, *, filed_on: datetime.date, city: str) -> bool | None:
    """Whether ``value`` passes ``test`` (``None``: the value cannot be judged — absent,
    masked, or not of the kind the test needs).

    >>> day = datetime.date(2025, 6, 1)
    >>> holds(Condition(in_city=True), "320508", filed_on=day, city="3205")
    True
    >>> holds(Condition(age_below=18), "2010-07-01", filed_on=day, city="3205")
    True
    >>> holds(Condition(at_least=6), "5", filed_on=day, city="3205")
    False
    >>> holds(Condition(at_least=6), "****", filed_on=day, city="3205") is None
    True
    """
    if value is None or value == "":
        return None
    if test.present:
        return True
    if test.equals is not None:
        if isinstance(test.equals, bool) or isinstance(value, bool):
            return value is test.equals if isinstance(value, bool) else None
        return str(value) == str(test.equals)
    if test.one_of is not None:
        return str(value) in test.one_of
    if test.at_least is not None or test.at_most is not None:
        number = _number(value)
        if number is None:
            return None
        if test.at_least is not None:
            return number >= test.at_least
        return number <= (test.at_most or 0)
    if test.in_city is not None:
        if not isinstance(value, str) or not value.isdigit():
            return None
        return value.startswith(city) is test.in_city
    day = None if isinstance(value, bool) else as_date(value)
    if day is None:
        return None
    if test.age_at_least is not None:
        return age_on(day, filed_on) >= test.age_at_least
    if test.age_below is not None:
        return age_on(day, filed_on) < test.age_below
    if test.days_since_at_least is not None:
        return (filed_on - day).days >= test.days_since_at_least
    if test.days_since_at_most is not None:
        return 0 <= (filed_on - day).days <= test.days_since_at_most
    return day >= filed_on  # not_before_filing


def find_facts(
    service: Service,
    values: Mapping[tuple[str, str], object],
    *,
    supplied: frozenset[str] = frozenset(),
    filed_on: datetime.date,
    city: str,
) -> dict[str, Finding]:
    """Each fact of ``service`` judged on ``values`` (``(of, item)`` → value read) and the
    codes of the material ``supplied``.

    A value the registry holds decides, even against material: a resident's paper does
    not outvote the department that keeps the fact. Material counts for a fact the
    registry cannot judge.
    """
    findings: dict[str, Finding] = {}
    for name, fact in service.facts.items():
        truth = None
        if fact.item is not None and fact.test is not None:
            value = values.get((fact.of, fact.item))
            truth = holds(fact.test, value, filed_on=filed_on, city=city)
        if truth is not None:
            findings[name] = Finding(name, truth, Source.REGISTRY)
        elif fact.material is not None and fact.material.code in supplied:
            findings[name] = Finding(name, True, Source.MATERIAL)
        else:
            findings[name] = Finding(name, None, Source.MISSING)
    return findings


def materials_to_ask(service: Service, findings: Mapping[str, Finding]) -> tuple[Material, ...]:
    """The material for every fact still unknown, to ask for all at once (一次性告知)."""
    return tuple(
        fact.material
        for name, fact in service.facts.items()
        if fact.material is not None and findings[name].source is Source.MISSING
    )


def decide(service: Service, findings: Mapping[str, Finding]) -> Decision:
    """The first row of the decision table that matches (the last one always does)."""
    for index, row in enumerate(service.decision):
        if all(findings[name].holds is truth for name, truth in row.when.items()):
            declared = any(findings[name].source is Source.MATERIAL for name in row.when)
            if row.then is Outcome.APPROVE and not declared:
                return Decision(Outcome.APPROVE, index, row.reason, instant_decision=True)
            proposed = None if row.then is Outcome.REVIEW else row.then
            return Decision(
                Outcome.REVIEW, index, row.reason, instant_decision=False, proposed=proposed
            )
    raise AssertionError("the catalog guarantees a last row without conditions")  # pragma: no cover


class Route(StrEnum):
    """Where a freshly judged case goes next."""

    INSTANT = "instant"
    """秒批: decided on registry facts alone."""
    MATERIAL = "material"
    """补正: the table cannot decide until the missing material comes."""
    REVIEW = "review"
    """To the departments' tasks, with what the table proposes."""


def first_step(
    service: Service, findings: Mapping[str, Finding]
) -> tuple[Route, Decision, tuple[Material, ...]]:
    """The route of a judged case, its decision, and the material to ask for.

    Material is asked only when the table could not decide (its last row matched): a
    row that did decide — a rejection to confirm, say — is not held up for paper that
    would change nothing. Filing and the simulated year both route through here.
    """
    decision = decide(service, findings)
    if decision.instant_decision:
        return Route.INSTANT, decision, ()
    missing = materials_to_ask(service, findings)
    if missing and decision.row == len(service.decision) - 1:
        return Route.MATERIAL, decision, missing
    return Route.REVIEW, decision, ()
