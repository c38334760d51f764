"""Applicant tables for scoring: the synthetic city's points pool, as policy attributes.

The synthetic city writes ``points/applicants_<year>.csv`` with what an applicant declares
(education as a GB/T 4658 code, months of city social insurance, years at their address and
whether they own it, title and skill level, honours, three years' income tax, records). This
module turns it into the attributes the shipped policies read; every mapping that is an
assumption is said here and in docs/points.md. The registry-backed path — the same
attributes read through ``exchange`` so an applicant fills in nothing the departments know —
is the next step (issue 7).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

__all__ = [
    "EDUCATION_BY_GBT4658",
    "EDUCATION_LEVELS",
    "TAX_QUALIFYING_YEARLY",
    "from_synthetic",
    "pool_arrays",
    "pool_frame",
    "read_synthetic",
]

EDUCATION_BY_GBT4658: Final = {
    "11": "doctor",  # 博士研究生
    "14": "master",  # 硕士研究生
    "21": "bachelor_degree",  # 大学本科 (the synthetic city gives every graduate the degree)
    "31": "associate",  # 大学专科
}
TAX_QUALIFYING_YEARLY: Final = 10_000
"""Yuan of individual income tax a year counted as a qualifying tax year (an assumption: the
real threshold is set with each list)."""
_TITLE: Final = {
    "junior": "skill_3_or_junior",
    "intermediate": "skill_2_or_intermediate",
    "senior": "skill_1_or_senior",
}
_SKILL: Final = {
    "5": "skill_5",
    "4": "skill_4",
    "3": "skill_3_or_junior",
    "2": "skill_2_or_intermediate",
    "1": "skill_1_or_senior",
}
_TITLE_ORDER: Final = list(dict.fromkeys([*_SKILL.values(), *_TITLE.values()]))


def read_synthetic(city: Path, year: int = 2025) -> pl.DataFrame:
    """The city's points pool as policy attributes (:func:`from_synthetic`)."""
    path = city / "points" / f"applicants_{year}.csv"
    raw = pl.read_csv(
        path,
        schema_overrides={
            "education": pl.String,
            "identity_number": pl.String,
            "skill_certificate": pl.String,
            "birth_date": pl.Date,
            "applied_at": pl.Date,
        },
    )
    return from_synthetic(raw)


def from_synthetic(raw: pl.DataFrame) -> pl.DataFrame:
    """Attributes by name: months, codes and flags as the policies read them."""
    months = (pl.col("residence_years") * 12).cast(pl.Int64)
    title = pl.col("title").replace_strict(_TITLE, default=None)
    skill = pl.col("skill_certificate").replace_strict(_SKILL, default=None)
    order = {name: index for index, name in enumerate(_TITLE_ORDER)}
    best = (
        pl.when(
            skill.replace_strict(order, default=-1, return_dtype=pl.Int32)
            > title.replace_strict(order, default=-1, return_dtype=pl.Int32)
        )
        .then(skill)
        .otherwise(title)
    )
    return raw.select(
        "applicant_id",
        "person_id",
        pl.col("applied_at").alias("application_date"),
        "birth_date",
        # GB 11643: the 17th character is odd for men.
        pl.when(pl.col("identity_number").str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1)
        .then(pl.lit("M"))
        .otherwise(pl.lit("F"))
        .alias("sex"),
        pl.col("education").replace_strict(EDUCATION_BY_GBT4658, default=None).alias("education"),
        pl.col("si_months_city").cast(pl.Int64).alias("insured_months"),
        pl.col("si_months_city").cast(pl.Int64).alias("insured_months_continuous"),
        pl.when(pl.col("home_owned")).then(months).otherwise(0).alias("owned_months"),
        pl.when(pl.col("home_owned")).then(0).otherwise(months).alias("rented_months"),
        best.alias("title"),
        (pl.col("honours") > 0).alias("honours"),
        (pl.col("income_tax_3y") >= 3 * TAX_QUALIFYING_YEARLY)
        .cast(pl.Int64)
        .mul(3)
        .alias("tax_qualifying_years"),
        pl.col("tax_violation").cast(pl.Int64).alias("tax_violations"),
        pl.col("false_declaration").cast(pl.Int64).alias("false_documents"),
        "criminal_record",
        pl.lit(value=True).alias("residence_permit"),  # the pool is of permit holders
    )


EDUCATION_LEVELS: Final = (None, "associate", "bachelor_degree", "master", "doctor")
"""Education codes of :func:`pool_arrays` (0 none … 4 doctor) as policy values."""

EDUCATION: Final = pl.Enum([level for level in EDUCATION_LEVELS if level is not None])
"""The degrees as a Polars code list (the engine looks an ``Enum`` up by its code)."""


def pool_arrays(count: int, seed: int = 20220510) -> dict[str, np.ndarray]:
    """A list year's worth of made-up applicants with Beijing's attributes, as arrays.

    For reform simulations without a city at hand and for the benchmark: plausible
    spreads (insurance 5 to 25 years, three in ten owning, a few honours and records),
    the same for a given seed. ``education`` is an index into :data:`EDUCATION_LEVELS`;
    ``male`` a flag.
    """
    rng = np.random.default_rng(seed)
    insured = rng.integers(60, 300, count)
    owned = np.where(rng.random(count) < 0.3, rng.integers(0, 200, count), 0)
    born = np.datetime64("1965-01-01") + rng.integers(0, 30 * 365, count).astype("timedelta64[D]")
    return {
        "birth_date": born.astype("datetime64[D]"),
        "male": rng.random(count) < 0.55,
        "insured_months": insured,
        "insured_months_continuous": insured - rng.integers(0, 30, count),
        "owned_months": owned,
        "rented_months": rng.integers(0, 240, count),
        "education": rng.choice(5, count, p=[0.1, 0.2, 0.45, 0.2, 0.05]),
        "study_overlap_months": np.where(rng.random(count) < 0.1, rng.integers(0, 48, count), 0),
        "outer_both_months": np.where(rng.random(count) < 0.2, rng.integers(0, 60, count), 0),
        "outer_one_months": np.where(rng.random(count) < 0.2, rng.integers(0, 60, count), 0),
        "innovation_major": rng.random(count) < 0.002,
        "innovation_medium": rng.random(count) < 0.01,
        "innovation_minor": rng.random(count) < 0.03,
        "tax_qualifying_years": rng.integers(0, 4, count),
        "honours": rng.random(count) < 0.001,
        "tax_violations": (rng.random(count) < 0.005).astype(np.int64),
        "detentions": (rng.random(count) < 0.002).astype(np.int64),
        "residence_permit": rng.random(count) < 0.98,
        "criminal_record": rng.random(count) < 0.003,
    }


def pool_frame(arrays: dict[str, np.ndarray], applied: datetime.date) -> pl.DataFrame:
    """:func:`pool_arrays` as an applicant table applying on ``applied``."""
    count = len(arrays["insured_months"])
    plain = {k: v for k, v in arrays.items() if k not in ("male", "education", "birth_date")}
    levels = np.array(EDUCATION_LEVELS, dtype=object)
    return pl.DataFrame(
        {
            "applicant_id": [f"SIM{i:07d}" for i in range(1, count + 1)],
            **plain,
            "application_date": pl.Series([applied] * count, dtype=pl.Date),
            "birth_date": pl.Series(arrays["birth_date"]).cast(pl.Date),
            "sex": pl.Series(np.where(arrays["male"], "M", "F"), dtype=pl.Enum(["M", "F"])),
            "education": pl.Series(levels[arrays["education"]].tolist(), dtype=EDUCATION),
        }
    )
