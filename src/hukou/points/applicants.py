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

from pathlib import Path
from typing import Final

import polars as pl

__all__ = ["EDUCATION_BY_GBT4658", "TAX_QUALIFYING_YEARLY", "from_synthetic", "read_synthetic"]

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
