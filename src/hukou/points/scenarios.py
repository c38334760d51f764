"""Scenario tests policy staff can read (like OpenFisca's YAML tests): an applicant's
attributes and the date, and the score, qualification or indicator points the rules give.

Indicator points are compared rounded to hundredths (half up), as a person would write
them; the total is compared exactly as the policy rounds it.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path

from pydantic import Field

from hukou.points.explain import Explanation, explain
from hukou.points.policy import Policy
from hukou.yamldoc import DocumentModel, load_document

__all__ = [
    "Expectation",
    "Scenario",
    "ScenarioFile",
    "check",
    "load_scenarios",
    "scenario_files",
]


class Expectation(DocumentModel):
    score: Decimal | None = None
    qualified: bool | None = None
    points: dict[str, Decimal] = Field(default_factory=dict)


class Scenario(DocumentModel):
    name: str = Field(min_length=1)
    attributes: dict[str, bool | int | str | datetime.date | None]
    expect: Expectation


class ScenarioFile(DocumentModel):
    policy: str
    scenarios: tuple[Scenario, ...] = Field(min_length=1)


def scenario_files() -> list[Path]:
    """The worked examples shipped with Hukou (``hukou/points/data/scenarios``)."""
    folder = resources.files("hukou.points") / "data" / "scenarios"
    return sorted(Path(str(folder)).glob("*.yaml"))


def load_scenarios(path: Path) -> ScenarioFile:
    """A scenario file, validated (file, line and key on any problem)."""
    return load_document(path, ScenarioFile)


def check(policy: Policy, scenario: Scenario) -> tuple[Explanation, list[str]]:
    """The explanation of the scenario's applicant and every way it differs from what
    the scenario expects (empty: it holds)."""
    found = explain(policy, scenario.attributes)
    wrong = []
    expected = scenario.expect
    if expected.score is not None and found.score != expected.score:
        wrong.append(f"score {found.score}, expected {expected.score}")
    if expected.qualified is not None and found.qualified != expected.qualified:
        wrong.append(f"qualified {found.qualified}, expected {expected.qualified} ({found.unmet})")
    lines = {line.indicator: line for line in found.lines}
    for name, points in expected.points.items():
        if name not in lines:
            wrong.append(f"no indicator {name!r} in policy {policy.code}")
            continue
        got = lines[name].points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if got != points.quantize(Decimal("0.01")):
            wrong.append(f"{name}: {got}, expected {points}")
    return found, wrong
