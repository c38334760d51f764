"""Benchmark: 1,000,000 Beijing applicants scored, qualified, ranked and cut at the quota.

Target (issue 7): at most 0.2 s on the development machine; at least 10x faster than (a)
the same Beijing rule written as an OpenFisca model in its standard idiom (entities,
variables with formulas, dated parameters, ``build_default_simulation`` + ``set_input`` +
``calculate``), and within 2x of (b) a hand-written NumPy version (our practical limit);
explaining one applicant in at most 10 ms. All three run in this process on the same
applicants; the OpenFisca model computes in its default float32, so the script also
counts the applicants whose score (to the hundredth) or admission differs from ours.

Ours is ``hukou.points.engine.admit`` (the compiled kernel on a table this size); its first
call in the process (importing numba and compiling the policy, or loading it from the
cache) is printed apart, and the Polars engine alone (``rank(score_frame(...))``) is timed
too and checked to give the same list.

    .venv/bin/python bench/points.py [--applicants 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from openfisca_core.entities import build_entity
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from hukou.points.applicants import pool_arrays, pool_frame
from hukou.points.engine import admit, rank, score_frame
from hukou.points.explain import explain
from hukou.points.policy import load_policies

APPLIED = datetime.date(2022, 5, 10)
QUOTA = 6006


# --------------------------------------------------------------------------- (b) NumPy


def numpy_rule(d: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """The Beijing rule by hand, exact (int64 units of 1/1200 point): scores, admitted, cutoff."""
    insured = d["insured_months"]
    owned = np.minimum(d["owned_months"], insured)
    rented = np.minimum(d["rented_months"], insured - owned)
    education = np.array([0, 10.5, 15, 26, 37])[d["education"]] * 1200
    study_cap = np.array([0, 36, 48, 36, 48])[d["education"]]
    overlap = np.minimum(d["study_overlap_months"], study_cap)
    outer = np.minimum(d["outer_both_months"] * 300 + d["outer_one_months"] * 200, 12 * 1200)
    innovation = np.maximum.reduce(
        [d["innovation_major"] * 12, d["innovation_medium"] * 6, d["innovation_minor"] * 3]
    )
    born = d["birth_date"]
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    not_new_year = born != born.astype("datetime64[Y]").astype("datetime64[D]")
    age = (APPLIED.year - 1) - year - not_new_year
    age_points = np.clip(20 - 4 * (age - 45), 0, 20)
    units = (
        insured * 300
        + owned * 100
        + rented * 50
        + education.astype(np.int64)
        - overlap * 350
        + outer
        + innovation * 1200
        + np.minimum(d["tax_qualifying_years"] * 2, 6) * 1200
        + age_points * 1200
        + d["honours"] * 20 * 1200
        - d["tax_violations"] * 12 * 1200
        - d["detentions"] * 30 * 1200
    )
    score = np.where(units < 0, -((-units + 6) // 12), (units + 6) // 12)
    qualified = (
        d["residence_permit"]
        & (age < np.where(d["male"], 60, 55))
        & (d["insured_months_continuous"] >= 84)
        & ~d["criminal_record"]
    )
    return score, qualified, _cut(score, qualified)


def _cut(score: np.ndarray, qualified: np.ndarray) -> int:
    pool = score[qualified]
    if pool.size <= QUOTA:
        return int(pool.min())
    return int(-np.partition(-pool, QUOTA - 1)[QUOTA - 1])


# --------------------------------------------------------------------------- (a) OpenFisca

Person = build_entity(key="person", plural="persons", label="An applicant", is_person=True)
YEAR = DateUnit.YEAR


def _input(name: str, kind: type) -> type[Variable]:
    return type(
        name,
        (Variable,),
        {"value_type": kind, "entity": Person, "definition_period": YEAR, "label": name},
    )


INPUTS = [
    _input(name, kind)
    for name, kind in [
        ("insured_months", int),
        ("insured_months_continuous", int),
        ("owned_months", int),
        ("rented_months", int),
        ("education", int),
        ("study_overlap_months", int),
        ("outer_both_months", int),
        ("outer_one_months", int),
        ("innovation_major", bool),
        ("innovation_medium", bool),
        ("innovation_minor", bool),
        ("tax_qualifying_years", int),
        ("honours", bool),
        ("tax_violations", int),
        ("detentions", int),
        ("residence_permit", bool),
        ("criminal_record", bool),
        ("male", bool),
        ("birth_date", datetime.date),
    ]
]


class age(Variable):  # noqa: N801 (OpenFisca variables are named as their concept)
    value_type = int
    entity = Person
    definition_period = YEAR
    label = "Age on 1 January of the year before the application"

    def formula(person, period, parameters):  # type: ignore[no-untyped-def]  # noqa: N805, ARG002
        born = person("birth_date", period)
        years = born.astype("datetime64[Y]").astype(int) + 1970
        late = born != born.astype("datetime64[Y]").astype("datetime64[D]")
        return (period.start.year - 1) - years - late


def _formula(name: str, body: Callable[..., Any]) -> type[Variable]:
    return type(
        name,
        (Variable,),
        {
            "value_type": float,
            "entity": Person,
            "definition_period": YEAR,
            "label": name,
            "formula": body,
        },
    )


def _employment(person: Any, period: Any, parameters: Any) -> Any:
    return person("insured_months", period) * parameters(period).bj.employment.rate_per_month


def _residence(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj.residence
    insured = person("insured_months", period)
    owned = np.minimum(person("owned_months", period), insured)
    rented = np.minimum(person("rented_months", period), insured - owned)
    return owned * p.owned_per_year / 12 + rented * p.rented_per_year / 12


def _education(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj.education
    level = person("education", period)
    return np.select(
        [level == 1, level == 2, level == 3, level == 4],
        [p.associate, p.bachelor_degree, p.master, p.doctor],
        0,
    )


def _overlap(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj.study_overlap
    level = person("education", period)
    cap = np.select([level == 1, level == 2, level == 3, level == 4], [36, 48, 36, 48], 0)
    return -np.minimum(person("study_overlap_months", period), cap) * p.per_year / 12


def _outer(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj.outer
    both = person("outer_both_months", period) * p.both_per_year / 12
    one = person("outer_one_months", period) * p.one_per_year / 12
    return np.minimum(both + one, p.max)


def _innovation(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj.innovation
    return np.maximum.reduce(
        [
            person("innovation_major", period) * p.major,
            person("innovation_medium", period) * p.medium,
            person("innovation_minor", period) * p.minor,
        ]
    )


def _tax(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj.income_tax
    return np.minimum(person("tax_qualifying_years", period) * p.per_year, p.max)


def _age_points(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj.age
    return np.clip(p.at_pivot - p.slope * (person("age", period) - p.pivot), 0, p.at_pivot)


def _other(person: Any, period: Any, parameters: Any) -> Any:
    p = parameters(period).bj
    return (
        person("honours", period) * p.honours
        - person("tax_violations", period) * p.tax_violation
        - person("detentions", period) * p.detention
    )


FORMULAS = [
    _formula(name, body)
    for name, body in [
        ("employment_points", _employment),
        ("residence_points", _residence),
        ("education_points", _education),
        ("overlap_points", _overlap),
        ("outer_points", _outer),
        ("innovation_points", _innovation),
        ("tax_points", _tax),
        ("age_points", _age_points),
        ("other_points", _other),
    ]
]


class points_score(Variable):  # noqa: N801
    value_type = float
    entity = Person
    definition_period = YEAR
    label = "积分"

    def formula(person, period, parameters):  # type: ignore[no-untyped-def]  # noqa: N805
        del parameters
        return sum(person(v.__name__, period) for v in FORMULAS)


class qualified(Variable):  # noqa: N801
    value_type = bool
    entity = Person
    definition_period = YEAR
    label = "具备申报资格"

    def formula(person, period, parameters):  # type: ignore[no-untyped-def]  # noqa: N805, ARG002
        retirement = np.where(person("male", period), 60, 55)
        return (
            person("residence_permit", period)
            * (person("age", period) < retirement)
            * (person("insured_months_continuous", period) >= 84)
            * np.logical_not(person("criminal_record", period))
        )


def _dated(value: float) -> dict[str, Any]:
    return {"values": {"2020-01-01": {"value": value}}}


PARAMETERS = {
    "bj": {
        "employment": {"rate_per_month": _dated(0.25)},
        "residence": {"owned_per_year": _dated(1), "rented_per_year": _dated(0.5)},
        "education": {
            "associate": _dated(10.5),
            "bachelor_degree": _dated(15),
            "master": _dated(26),
            "doctor": _dated(37),
        },
        "study_overlap": {"per_year": _dated(3.5)},
        "outer": {"both_per_year": _dated(3), "one_per_year": _dated(2), "max": _dated(12)},
        "innovation": {"major": _dated(12), "medium": _dated(6), "minor": _dated(3)},
        "income_tax": {"per_year": _dated(2), "max": _dated(6)},
        "age": {"pivot": _dated(45), "at_pivot": _dated(20), "slope": _dated(4)},
        "honours": _dated(20),
        "tax_violation": _dated(12),
        "detention": _dated(30),
    }
}


def openfisca_system() -> TaxBenefitSystem:
    system = TaxBenefitSystem([Person])
    system.parameters = ParameterNode("", data=PARAMETERS)
    system.add_variables(*INPUTS, age, *FORMULAS, points_score, qualified)
    return system


def openfisca_rule(
    system: TaxBenefitSystem, d: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, int]:
    simulation = SimulationBuilder().build_default_simulation(system, count=len(d["male"]))
    for name, values in d.items():
        simulation.set_input(name, "2022", values)
    score = simulation.calculate("points_score", "2022")
    held = simulation.calculate("qualified", "2022")
    hundredths = np.round(score.astype(np.float64) * 100).astype(np.int64)
    return hundredths, held, _cut(hundredths, held)


# --------------------------------------------------------------------------- run


def _timed(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    policy = load_policies()["beijing"]
    data = pool_arrays(args.applicants)
    frame = pool_frame(data, APPLIED)

    def ours() -> tuple[pl.DataFrame, Any]:
        return admit(policy, frame, QUOTA)

    first_s, _ = _timed(1, ours)
    ours_s, (ranked, outcome) = _timed(args.runs, ours)
    engine_s, (by_engine, engine_outcome) = _timed(
        args.runs, lambda: rank(score_frame(policy, frame), QUOTA)
    )
    numpy_s, (np_score, np_qualified, np_cut) = _timed(args.runs, lambda: numpy_rule(data))
    system = openfisca_system()
    fisca_s, (of_score, of_qualified, of_cut) = _timed(
        max(1, args.runs // 2), lambda: openfisca_rule(system, data)
    )
    scored = score_frame(policy, frame)
    exact = scored["score"].to_numpy()
    admitted_ours = scored["qualified"].to_numpy() & (exact >= outcome.cutoff)
    admitted_fisca = of_qualified & (of_score >= of_cut)
    one = frame.row(0, named=True)
    explain_s, _ = _timed(1000, lambda: explain(policy, one))

    print(f"{args.applicants:,} Beijing applicants, quota {QUOTA:,}, list year 2022")
    print(
        f"ours (compiled kernel, exact): {ours_s * 1000:.1f} ms; cutoff "
        f"{outcome.cutoff / 100:.2f}, {outcome.admitted:,} admitted "
        f"({outcome.tied_at_cutoff} at the cutoff), {outcome.qualified:,} qualified; "
        f"first call in this process (compiling, or loading the cached kernel) "
        f"{first_s * 1000:.0f} ms"
    )
    print(
        f"ours, the Polars engine alone (score_frame + rank): {engine_s * 1000:.1f} ms; "
        f"same list and outcome: {by_engine.equals(ranked) and engine_outcome == outcome}"
    )
    print(
        f"(b) NumPy by hand (exact): {numpy_s * 1000:.1f} ms; cutoff {np_cut / 100:.2f}; "
        f"ours / NumPy = {ours_s / numpy_s:.2f}x; scores equal: "
        f"{bool(np.array_equal(np_score, exact))}, qualified equal: "
        f"{bool(np.array_equal(np_qualified, scored['qualified'].to_numpy()))}"
    )
    print(
        f"(a) OpenFisca {fisca_s * 1000:.0f} ms; OpenFisca / ours = {fisca_s / ours_s:.1f}x; "
        f"cutoff {of_cut / 100:.2f}; float32 scores off by a hundredth or more: "
        f"{int((of_score != exact).sum()):,}; admission differs for "
        f"{int((admitted_fisca != admitted_ours).sum()):,}"
    )
    print(f"explain one applicant: {explain_s * 1000:.3f} ms (median of 1,000)")


if __name__ == "__main__":
    main()
