"""Household-level residence: members without evidence of their own borrow the household's."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

from hukou.registry.residence import (
    HOUSEHOLD_FACTOR,
    Evidence,
    infer_residence,
    lives_by_own_evidence,
    propagate_household,
)

D = datetime.date


def _frame(rows: list[tuple[str, str | None, str | None, float | None, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "person_id": pl.String,
            "household_key": pl.String,
            "division": pl.String,
            "confidence": pl.Float64,
            "own_evidence": pl.Boolean,
        },
        orient="row",
    )


def _by_person(out: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {row["person_id"]: row for row in out.iter_rows(named=True)}


def test_an_infant_and_a_grandparent_take_the_household_residence() -> None:
    people = _frame(
        [
            ("father", "hh:1", "320583", 0.9, True),  # a lease in 昆山
            ("mother", "hh:1", "320583", 0.7, True),
            ("infant", "hh:1", "341221", 1.0, False),  # only the hukou in the home county
            ("grandma", "hh:1", None, None, False),  # nothing at all
        ]
    )
    out = _by_person(propagate_household(people))
    assert out["infant"]["division"] == "320583"
    assert out["infant"]["source"] == "household"
    assert out["infant"]["household_key"] == "hh:1"
    assert out["grandma"]["division"] == "320583"
    confidence = out["infant"]["confidence"]
    assert isinstance(confidence, float)
    assert confidence == pytest.approx(0.8 * HOUSEHOLD_FACTOR, abs=1e-3)  # share 1, mean 0.8
    assert out["father"]["source"] == "own"
    assert out["father"]["division"] == "320583"
    assert out["father"]["confidence"] == 0.9


def test_no_donor_no_change_and_weak_donors_do_not_count() -> None:
    people = _frame(
        [
            ("a", "hh:2", "320505", 0.4, True),  # own evidence, but unsure: not a donor
            ("b", "hh:2", "320508", 0.6, False),
            ("c", None, "320506", 0.5, False),
            ("d", None, None, None, False),
        ]
    )
    out = _by_person(propagate_household(people))
    assert out["b"]["division"] == "320508"
    assert out["b"]["source"] == "own"
    assert out["c"]["source"] == "own"
    assert out["d"]["source"] is None
    assert out["d"]["division"] is None


def test_the_best_key_wins_and_a_split_household_is_less_sure() -> None:
    people = _frame(
        [
            ("p1", "hh:3", "320505", 0.9, True),
            ("p2", "hh:3", "320506", 0.9, True),  # the register's 户 lives apart: share 0.5
            ("p3", "lease:9", "320507", 0.8, True),
            ("child", "hh:3", None, None, False),
            ("child", "lease:9", None, None, False),  # also on the same lease as p3
        ]
    )
    out = propagate_household(people)
    assert out.height == 4  # one row per person
    child = _by_person(out)["child"]
    assert child["division"] == "320507"
    assert child["household_key"] == "lease:9"


def test_ties_and_row_order_do_not_change_the_result() -> None:
    rows: list[tuple[str, str | None, str | None, float | None, bool]] = [
        ("p1", "hh:4", "320505", 0.9, True),
        ("p2", "hh:4", "320506", 0.9, True),
        ("kid", "hh:4", None, None, False),
    ]
    first = propagate_household(_frame(rows))
    second = propagate_household(_frame(rows[::-1]))
    assert first.equals(second)
    assert _by_person(first)["kid"]["division"] == "320505"  # the smaller code on a tie


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="household_key"):
        propagate_household(pl.DataFrame({"person_id": ["a"]}))


def test_scales_columnar_to_many_households() -> None:
    n = 200_000
    ids = [f"p{i}" for i in range(n)]
    people = pl.DataFrame(
        {
            "person_id": ids,
            "household_key": [f"hh:{i // 4}" for i in range(n)],
            "division": ["320583" if i % 4 == 0 else None for i in range(n)],
            "confidence": [0.9 if i % 4 == 0 else None for i in range(n)],
            "own_evidence": [i % 4 == 0 for i in range(n)],
        }
    )
    out = propagate_household(people)
    assert out.height == n
    assert out.filter(pl.col("source") == "household").height == n * 3 // 4


def test_own_evidence_means_evidence_of_where_one_lives() -> None:
    work = Evidence("320505", "employer_division", 0.15, D(2025, 1, 1), "hr_social_security")
    lease = Evidence("320583", "residence_division", 1.0, D(2025, 1, 1), "housing")
    assert not lives_by_own_evidence([work])
    assert lives_by_own_evidence([work, lease])
    only_work = infer_residence([work], "341221")
    assert only_work is not None
    assert only_work.source == "work"
    only_hukou = infer_residence([], "320508", registered_since=D(2025, 12, 31))
    assert only_hukou is not None
    assert only_hukou.source == "hukou"
    lived = infer_residence([work, lease])
    assert lived is not None
    assert lived.source == "evidence"


def test_a_borrowed_residence_holds_since_the_donors_did() -> None:
    people = _frame(
        [
            ("head", "hh:5", "320583", 0.9, True),
            ("spouse", "hh:5", "320583", 0.8, True),
            ("infant", "hh:5", None, None, False),
        ]
    ).with_columns(since=pl.Series([D(2023, 4, 1), D(2024, 1, 1), None], dtype=pl.Date))
    out = _by_person(propagate_household(people))
    assert out["infant"]["since"] == D(2023, 4, 1)
    assert out["head"]["since"] == D(2023, 4, 1)
    assert "since" not in propagate_household(people.drop("since")).columns
