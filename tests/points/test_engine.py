"""The vectorised engine agrees with the line-by-line explanation on any applicant
(hypothesis), the policies load (and a broken one names its line), and the ranking admits
every tie at the cutoff."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hukou.points.engine import indicator_column, rank, score_frame
from hukou.points.explain import explain
from hukou.points.policy import Policy, load_policies, load_policy, policy_files
from hukou.points.reform import ReformError, reformed
from hukou.yamldoc import DocumentError, parse_document

POLICIES = load_policies()
MONTHS = st.one_of(st.none(), st.integers(min_value=-3, max_value=480))
COUNTS = st.one_of(st.none(), st.integers(min_value=0, max_value=6))
FLAGS = st.one_of(st.none(), st.booleans())


def _applicant(policy: Policy) -> st.SearchStrategy[dict[str, Any]]:
    """Any applicant of ``policy``: every attribute it reads, each possibly missing."""
    values: dict[str, st.SearchStrategy[Any]] = {
        "application_date": st.dates(datetime.date(2015, 1, 1), datetime.date(2026, 12, 31)),
        "birth_date": st.dates(datetime.date(1950, 1, 1), datetime.date(2006, 12, 31)),
        "sex": st.sampled_from(["M", "F", None]),
    }
    for name, indicator in policy.indicators.items():
        del name
        for version in indicator.versions:
            for attribute, table in (version.tables or {}).items():
                values[attribute] = st.sampled_from([*table, "unknown", None])
            if version.table is not None and indicator.input is not None:
                values[indicator.input] = st.sampled_from([*version.table, "unknown", None])
            for item in version.items or {}:
                values[item] = FLAGS
            for tier in version.tiers or {}:
                values[tier] = MONTHS
        if indicator.kind == "per_period" and indicator.input is not None:
            values.setdefault(indicator.input, MONTHS)
        if indicator.kind == "per_event" and indicator.input is not None:
            values.setdefault(indicator.input, COUNTS)
        if indicator.kind == "flag" and indicator.input is not None:
            values.setdefault(indicator.input, FLAGS)
        if indicator.cap_by is not None:
            values.setdefault(indicator.cap_by, MONTHS)
    for condition in policy.qualification:
        if condition.attribute == "age":
            continue
        if isinstance(condition.equals, bool):
            values.setdefault(condition.attribute, FLAGS)
        else:
            values.setdefault(condition.attribute, MONTHS)
    return st.fixed_dictionaries(values)


def _agrees_with_explanation(
    policy: Policy, applicants: list[dict[str, Any]], frame: pl.DataFrame
) -> None:
    scored = score_frame(policy, frame)
    for attributes, row in zip(applicants, scored.iter_rows(named=True), strict=True):
        found = explain(policy, attributes)
        assert row["age"] == found.age
        for line in found.lines:
            assert row[indicator_column(line.indicator)] == line.units, line.indicator
        assert row["units"] == found.units
        assert Decimal(row["score"]) / 100 == found.score
        assert row["qualified"] == found.qualified


@pytest.mark.parametrize("code", sorted(POLICIES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_engine_and_explanation_agree_on_any_applicant(code: str, data: st.DataObject) -> None:
    policy = POLICIES[code]
    applicants = data.draw(st.lists(_applicant(policy), min_size=1, max_size=25))
    frame = pl.DataFrame(
        applicants,
        schema_overrides={"sex": pl.String},
        infer_schema_length=None,
    )
    _agrees_with_explanation(policy, applicants, frame)


@pytest.mark.parametrize("code", sorted(POLICIES))
@settings(max_examples=60, deadline=None)
@given(data=st.data(), day=st.dates(datetime.date(2015, 1, 1), datetime.date(2026, 12, 31)))
def test_a_list_years_table_with_code_lists_scores_the_same(
    code: str, data: st.DataObject, day: datetime.date
) -> None:
    """One application day (ages then come from a table by birth day) and text codes held
    as Polars ``Enum`` columns (looked up by code): the engine's quicker paths."""
    policy = POLICIES[code]
    drawn = data.draw(st.lists(_applicant(policy), min_size=1, max_size=25))
    applicants = [{**attributes, "application_date": day} for attributes in drawn]
    frame = pl.DataFrame(applicants, schema_overrides={"sex": pl.String}, infer_schema_length=None)
    codes = {
        name: pl.Enum(
            sorted({v for v in frame.get_column(name).to_list() if v is not None} | {"?"})
        )
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    }
    assert codes, "the policies read text codes"
    frame = frame.with_columns(pl.col(name).cast(dtype) for name, dtype in codes.items())
    _agrees_with_explanation(policy, applicants, frame)


def test_every_line_names_its_dated_parameters_and_reference() -> None:
    attributes = {
        "application_date": datetime.date(2022, 5, 10),
        "birth_date": datetime.date(1985, 6, 20),
        "insured_months": 132,
        "rented_months": 132,
        "education": "bachelor_degree",
    }
    found = explain(POLICIES["beijing"], attributes)
    lines = {line.indicator: line for line in found.lines}
    assert lines["employment"].version_from == datetime.date(2020, 1, 1)
    assert lines["employment"].parameters["months_counted"] == 132
    assert lines["employment"].inputs == {"insured_months": 132}
    assert "社保" in lines["employment"].reference
    assert lines["age"].parameters["age"] == 35
    assert found.score == Decimal("73.5")


def test_a_later_version_applies_from_its_date() -> None:
    """A reform is a new dated version: 硕士 26 → 28 from 2026 (the issue's example)."""
    document = POLICIES["beijing"].model_dump(by_alias=True)
    education = document["indicators"]["education"]
    first = education["versions"][0]
    education["versions"] = [
        first,
        {**first, "from": datetime.date(2026, 1, 1), "table": {"master": 28}},
    ]
    policy = Policy.model_validate(document)
    rows = [
        {"application_date": day, "birth_date": datetime.date(1990, 1, 1), "education": "master"}
        for day in (datetime.date(2025, 12, 31), datetime.date(2026, 1, 1))
    ]
    scored = score_frame(policy, pl.DataFrame(rows))
    assert scored[indicator_column("education")].to_list() == [26 * 1200, 28 * 1200]
    lines = [
        next(x for x in explain(policy, row).lines if x.indicator == "education") for row in rows
    ]
    assert [line.units for line in lines] == [26 * 1200, 28 * 1200]
    assert [line.version_from for line in lines] == [
        datetime.date(2020, 1, 1),
        datetime.date(2026, 1, 1),
    ]


def test_ties_at_the_cutoff_are_all_admitted() -> None:
    frame = pl.DataFrame(
        {
            "score": [10588, 10542, 10542, 10542, 10300, 9900, 12000],
            "qualified": [True, True, True, True, True, True, False],
        }
    )
    admitted, outcome = rank(frame, 2)
    assert outcome.cutoff == 10542
    assert (outcome.admitted, outcome.tied_at_cutoff, outcome.qualified) == (4, 3, 6)
    assert admitted["score"].to_list() == [10588, 10542, 10542, 10542]
    assert admitted["rank"].to_list() == [1, 2, 2, 2]
    everyone, plenty = rank(frame, 100)
    assert (plenty.admitted, plenty.cutoff, everyone.height) == (6, 9900, 6)
    assert 12000 not in everyone["score"].to_list()  # not qualified, however high
    nobody, none = rank(frame.with_columns(pl.lit(value=False).alias("qualified")), 5)
    assert (none.cutoff, none.admitted, nobody.height) == (None, 0, 0)


def test_a_broken_policy_names_its_line() -> None:
    text = """city: 测试
code: test
version: "1"
name: 测试
effective_from: 2020-01-01
legal_reference: 测试办法第一条
age_counted_on: application_date
indicators:
  employment:
    category: 就业
    zh: 社保
    en: insurance
    reference: 第一条
    kind: per_period
    input: insured_months
    versions:
      - {from: 2020-01-01, per: year, rate: 0.001}
  fines:
    category: 扣减
    zh: 罚
    en: fines
    reference: 第二条
    kind: per_event
    input: fines
    versions:
      - {from: 2019-01-01, points: 5}
"""
    with pytest.raises(DocumentError) as caught:
        parse_document(text, "test.yaml", Policy)
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith("test.yaml:9: indicators.employment") for p in problems), problems
    assert any("hundredths" in p for p in problems)


def test_a_positive_deduction_and_a_version_before_the_policy_are_refused(
    tmp_path: Path,
) -> None:
    shipped = next(p for p in policy_files() if p.stem.startswith("beijing"))
    text = shipped.read_text(encoding="utf-8")
    broken = text.replace("{from: 2020-01-01, points: -30}", "{from: 2019-06-01, points: 30}")
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        load_policy(path)
    problems = {p.key: p for p in caught.value.problems}
    assert "deduction is negative" in problems["indicators.detentions.versions.0.points"].message
    assert "effective_from" in problems["indicators.detentions.versions.0.from"].message
    line = problems["indicators.detentions.versions.0.points"].line
    assert line is not None
    assert "points: 30" in broken.splitlines()[line - 1]


def test_two_changes_to_one_indicator_both_apply() -> None:
    policy = reformed(
        POLICIES["beijing"],
        {"age.at_pivot": "30", "age.max_points": "30", "education.master": "28"},
        starting=datetime.date(2026, 1, 1),
    )
    young = {
        "application_date": datetime.date(2026, 3, 1),
        "birth_date": datetime.date(1990, 1, 1),
        "education": "master",
    }
    lines = {line.indicator: line for line in explain(policy, young).lines}
    assert lines["age"].points == 30  # both changes, not the last one alone
    assert lines["education"].points == 28
    before = {**young, "application_date": datetime.date(2025, 12, 31)}
    assert {line.indicator: line.points for line in explain(policy, before).lines}["age"] == 20
    with pytest.raises(ReformError):
        reformed(POLICIES["beijing"], {"age.nothing": "1"}, starting=datetime.date(2026, 1, 1))
