"""The compiled kernel (one loop over the rows) scores every applicant as the explanation
does, and ``admit`` lists exactly what ``rank(score_frame(...))`` lists — on generated
applicants (missing values, negative counts, text or coded degrees), on a table large
enough to be cut into slices and blocks, and on absurd counts the kernel hands back."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hukou.points.applicants import pool_arrays, pool_frame
from hukou.points.engine import admit, indicator_column, kernel_table, rank, score_frame
from hukou.points.explain import explain
from hukou.points.kernel import OutOfRangeError
from tests.points.test_engine import POLICIES, _applicant

DAY = st.dates(datetime.date(2016, 1, 1), datetime.date(2026, 12, 31))


def _table(policy_code: str, data: st.DataObject, day: datetime.date) -> tuple[Any, pl.DataFrame]:
    """Generated applicants of one list day, degrees and sex as text or as ``Enum`` codes."""
    policy = POLICIES[policy_code]
    drawn = data.draw(st.lists(_applicant(policy), min_size=1, max_size=40))
    applicants = [{**attributes, "application_date": day} for attributes in drawn]
    frame = pl.DataFrame(applicants, schema_overrides={"sex": pl.String}, infer_schema_length=None)
    if data.draw(st.booleans(), label="coded"):
        frame = frame.with_columns(
            pl.col(name).cast(
                pl.Enum(sorted({v for v in frame.get_column(name).to_list() if v} | {"?"}))
            )
            for name, dtype in frame.schema.items()
            if dtype == pl.String
        )
    return applicants, frame


@pytest.mark.parametrize("code", sorted(POLICIES))
@settings(max_examples=40, deadline=None)
@given(data=st.data(), day=DAY)
def test_the_kernel_scores_every_row_as_the_explanation_does(
    code: str, data: st.DataObject, day: datetime.date
) -> None:
    policy = POLICIES[code]
    applicants, frame = _table(code, data, day)
    compiled = kernel_table(policy, frame)
    assert compiled is not None, "a list day's table is the kernel's"
    scores = compiled.scores()
    every = compiled.breakdown(np.arange(frame.height), len(policy.indicators))
    assert scores.score.tolist() == every.score.tolist()
    assert scores.qualified.tolist() == every.qualified.tolist()
    held = every.score[every.qualified]
    assert scores.count == len(held)
    if len(held):
        assert scores.lowest == held.min()
    for row, attributes in enumerate(applicants):
        found = explain(policy, attributes)
        assert every.age[row] == found.age
        lines = {line.indicator: line.units for line in found.lines}
        for index, name in enumerate(policy.indicators):
            assert every.parts[row, index] == lines.get(name, 0), name
        assert every.units[row] == found.units
        assert Decimal(int(every.score[row])) / 100 == found.score
        assert bool(every.qualified[row]) == found.qualified


@pytest.mark.parametrize("code", sorted(POLICIES))
@settings(max_examples=40, deadline=None)
@given(data=st.data(), day=DAY, quota=st.integers(min_value=0, max_value=45))
def test_admit_lists_what_rank_lists(
    code: str, data: st.DataObject, day: datetime.date, quota: int
) -> None:
    """Same rows, order, columns and outcome — ties at the cutoff, fewer qualified than
    places, nobody qualified, no places."""
    policy = POLICIES[code]
    _, frame = _table(code, data, day)
    by_kernel, outcome = admit(policy, frame, quota, kernel_from=0)
    by_engine, expected = rank(score_frame(policy, frame), quota)
    assert outcome == expected
    assert by_kernel.equals(by_engine)


def test_a_table_in_slices_and_blocks_scores_as_the_engine_does() -> None:
    """140,000 applicants: two slices on two threads, each many blocks and a short last one."""
    policy = POLICIES["beijing"]
    frame = pool_frame(pool_arrays(140_001, seed=7), datetime.date(2022, 5, 10))
    compiled = kernel_table(policy, frame)
    assert compiled is not None
    scores = compiled.scores()
    engine = score_frame(policy, frame)
    assert np.array_equal(scores.score, engine.get_column("score").to_numpy())
    assert np.array_equal(scores.qualified, engine.get_column("qualified").to_numpy())
    by_kernel, outcome = admit(policy, frame, 1_500, kernel_from=100_000)
    by_engine, expected = rank(engine, 1_500)
    assert outcome == expected
    assert outcome.admitted >= 1_500
    assert by_kernel.equals(by_engine)
    assert by_kernel.get_column(indicator_column("education")).sum() > 0


def test_absurd_counts_are_left_to_the_engine() -> None:
    """Units the kernel cannot round exactly: it says so, and ``admit`` uses the engine."""
    policy = POLICIES["beijing"]
    frame = pool_frame(pool_arrays(500, seed=3), datetime.date(2022, 5, 10)).with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(10**15)
        .otherwise(pl.col("insured_months"))
        .alias("insured_months")
    )
    compiled = kernel_table(policy, frame)
    assert compiled is not None
    with pytest.raises(OutOfRangeError):
        compiled.scores()
    by_kernel, outcome = admit(policy, frame, 20, kernel_from=0)
    by_engine, expected = rank(score_frame(policy, frame), 20)
    assert outcome == expected
    assert by_kernel.equals(by_engine)
    assert by_kernel.get_column("insured_months").max() == 10**15


def test_tables_the_kernel_does_not_serve() -> None:
    """Several application days (ages per row) or a missing date: the engine's."""
    policy = POLICIES["beijing"]
    frame = pool_frame(pool_arrays(50, seed=5), datetime.date(2022, 5, 10))
    spread = frame.with_columns(
        (pl.col("application_date") + pl.duration(days=pl.int_range(pl.len()) * 30)).alias(
            "application_date"
        )
    )
    assert kernel_table(policy, spread) is None
    gap = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(None)
        .otherwise(pl.col("birth_date"))
        .alias("birth_date")
    )
    assert kernel_table(policy, gap) is None
    assert kernel_table(policy, frame) is not None


def test_scores_beyond_the_count_per_score_still_cut_exactly() -> None:
    """Scores above 655.35 points fall in the loop's last count: the cutoff among them is
    then found by a partition, and still matches the engine's, ties included."""
    policy = POLICIES["beijing"]
    frame = pool_frame(pool_arrays(400, seed=11), datetime.date(2022, 5, 10)).with_columns(
        pl.when(pl.int_range(pl.len()) < 30)
        .then(3_000 + pl.int_range(pl.len()) // 3 * 12)
        .otherwise(pl.col("insured_months"))
        .alias("insured_months"),
        pl.lit(value=True).alias("residence_permit"),
        pl.lit(value=False).alias("criminal_record"),
        pl.lit(500).alias("insured_months_continuous"),
    )
    by_kernel, outcome = admit(policy, frame, 10, kernel_from=0)
    by_engine, expected = rank(score_frame(policy, frame), 10)
    assert outcome == expected
    assert outcome.cutoff is not None
    assert outcome.cutoff > 65_535
    assert by_kernel.equals(by_engine)
