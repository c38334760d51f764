"""The departments' definitions at their boundaries."""

from __future__ import annotations

import datetime

from hukou.registry.definitions import in_city, insured, migrant_child_eligible, resident_population
from hukou.registry.residence import Residence

D = datetime.date
CITY = "320500"


def test_resident_population_needs_six_months_in_the_city() -> None:
    since = D(2025, 1, 1)
    here = Residence("320583", 1.0, since, "341221")
    assert resident_population(here, city=CITY, today=since + datetime.timedelta(days=182))
    assert not resident_population(here, city=CITY, today=since + datetime.timedelta(days=181))
    elsewhere = Residence("310115", 1.0, since, "320508")  # registered here, lives in Shanghai
    assert not resident_population(elsewhere, city=CITY, today=D(2025, 12, 31))
    assert not resident_population(None, city=CITY, today=D(2025, 12, 31))


def test_insured_from_one_month() -> None:
    assert insured(1)
    assert not insured(0)
    assert not insured(None)


def test_migrant_child_eligibility_boundaries() -> None:
    start = D(2022, 9, 1)
    three_years = start + datetime.timedelta(days=3 * 365 + 1)
    common = {"parent_employed_in_city_since": start, "city": CITY}
    assert migrant_child_eligible(child_registered_division="341221", today=three_years, **common)
    assert not migrant_child_eligible(
        child_registered_division="341221", today=three_years - datetime.timedelta(days=1), **common
    )
    # A child registered in the city is not a 随迁子女 at all.
    assert not migrant_child_eligible(
        child_registered_division="320508", today=three_years, **common
    )
    assert not migrant_child_eligible(
        child_registered_division="341221",
        parent_employed_in_city_since=None,
        city=CITY,
        today=three_years,
    )
    assert in_city("320583", CITY)
    assert not in_city("330106", CITY)
