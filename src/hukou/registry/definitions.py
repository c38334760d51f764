"""The departments' definitions, made explicit: one definition, one function.

Departments count "residents" differently. Each definition here is computed from the
same registry facts (inferred residence, contribution months, employment history),
so that when two departments disagree about a person, the disagreement is about the
rule, which is written down, and not about the data.

A residence borrowed from the household (``Residence.source == "household"``, see
:func:`hukou.registry.residence.propagate_household`) counts for 常住人口: the infant
or grandparent of a family that has lived here six months lives here too, and the
census counts household members where the household lives. The other two
definitions do not read residence at all: 参保 is contributions, 随迁子女 is the
parent's employment (a child placed here only by the household still needs a parent
lawfully employed here for three years).
"""

from __future__ import annotations

import datetime

from hukou.registry.residence import Residence

__all__ = ["in_city", "insured", "migrant_child_eligible", "resident_population"]

_HALF_YEAR = datetime.timedelta(days=182)
_THREE_YEARS = datetime.timedelta(days=3 * 365 + 1)


def in_city(division: str, city: str) -> bool:
    """Whether a county-level ``division`` lies in the prefecture-level ``city`` (320500).

    >>> in_city("320508", "320500"), in_city("341221", "320500")
    (True, False)
    """
    return division[:4] == city[:4]


def resident_population(residence: Residence | None, *, city: str, today: datetime.date) -> bool:
    """公安 常住人口: lives in the city and has done so for at least six months.

    >>> r = Residence("320508", 0.9, datetime.date(2025, 1, 1), "341221")
    >>> resident_population(r, city="320500", today=datetime.date(2025, 12, 31))
    True
    >>> resident_population(r, city="320500", today=datetime.date(2025, 3, 1))
    False

    A residence borrowed from the household counts the same way (since the donors'):

    >>> infant = Residence("320583", 0.5, datetime.date(2023, 4, 1), "341221", "household")
    >>> resident_population(infant, city="320500", today=datetime.date(2025, 12, 31))
    True
    """
    if residence is None or not in_city(residence.division, city):
        return False
    return today - residence.since >= _HALF_YEAR


def insured(contribution_months: int | None) -> bool:
    """人社 参保: has contributed to social insurance for at least one month.

    >>> insured(1), insured(0), insured(None)
    (True, False, False)
    """
    return contribution_months is not None and contribution_months >= 1


def migrant_child_eligible(
    *,
    child_registered_division: str | None,
    parent_employed_in_city_since: datetime.date | None,
    city: str,
    today: datetime.date,
) -> bool:
    """教育 随迁子女: registered outside the city, a parent lawfully employed here ≥ 3 years.

    >>> migrant_child_eligible(child_registered_division="341221",
    ...     parent_employed_in_city_since=datetime.date(2021, 9, 1), city="320500",
    ...     today=datetime.date(2025, 9, 1))
    True
    """
    if child_registered_division is None or in_city(child_registered_division, city):
        return False
    if parent_employed_in_city_since is None:
        return False
    return today - parent_employed_in_city_since >= _THREE_YEARS
