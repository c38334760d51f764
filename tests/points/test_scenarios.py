"""The policies' worked examples (src/hukou/points/data/scenarios/*.yaml), each run through the
line-by-line explanation and the vectorised engine, which must agree."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from hukou.points.engine import indicator_column, score_frame
from hukou.points.policy import load_policies
from hukou.points.scenarios import Scenario, check, load_scenarios, scenario_files

CASES = [
    pytest.param(loaded.policy, scenario, id=f"{path.stem}-{index}")
    for path in scenario_files()
    for loaded in [load_scenarios(path)]
    for index, scenario in enumerate(loaded.scenarios)
]


def test_every_policy_has_scenarios() -> None:
    assert {policy for policy, *_ in (case.values for case in CASES)} == set(load_policies())


@pytest.mark.parametrize(("policy", "scenario"), CASES)
def test_scenario(policy: str, scenario: Scenario) -> None:
    rules = load_policies()[policy]
    found, wrong = check(rules, scenario)
    assert not wrong, f"{scenario.name}: {'; '.join(wrong)}"
    # The engine, on a one-row table, gives the same units, score and qualification.
    row = score_frame(rules, pl.DataFrame([scenario.attributes])).row(0, named=True)
    assert row["units"] == found.units
    assert Decimal(row["score"]) / 10**rules.rounding.decimals == found.score
    assert row["qualified"] == found.qualified
    for line in found.lines:
        assert row[indicator_column(line.indicator)] == line.units, line.indicator
