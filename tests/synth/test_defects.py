"""Defects land where the truth says, at the rates asked for, and nowhere else."""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl

from hukou.standards import identity
from hukou.synth.config import DefectRates
from hukou.synth.defects import FieldRoles, inject_defects, legacy_number

TODAY = datetime.date(2025, 12, 31)


def _records(n: int) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    numbers = []
    for i in range(n):
        body = f"320508{1950 + i % 60:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        numbers.append(body + identity.check_character(body))
    return pl.DataFrame(
        {
            "id": numbers,
            "name": rng.choice(["张伟", "王丽", "李静", "刘洋", "陈杰"], n).tolist(),
            "born": [f"{1950 + i % 60}{1 + i % 12:02d}{1 + i % 28:02d}" for i in range(n)],
            "address": [f"江苏省苏州市姑苏区人民路{i}号" for i in range(n)],
            "_previous_address": [f"江苏省苏州市姑苏区干将路{i}号" for i in range(n)],
            "pid": list(range(n)),
            "_birth_year": [1950 + i % 60 for i in range(n)],
        }
    )


ROLES = FieldRoles(
    identity="id",
    name="name",
    date="born",
    address="address",
    previous_address="_previous_address",
    required=("name", "born"),
)


def test_every_defect_listed_is_real_and_clean_rows_are_untouched() -> None:
    clean = _records(20_000)
    out = inject_defects(clean, ROLES, DefectRates(scale=5), np.random.default_rng(1))
    original = clean.with_row_index("row")
    copies = out.filter(pl.col("defects").list.contains("duplicate_row"))
    assert copies.height > 0
    result = out.filter(~pl.col("defects").list.contains("duplicate_row"))
    assert result.height == clean.height  # the originals, in order
    for before, after in zip(
        original.iter_rows(named=True), result.iter_rows(named=True), strict=True
    ):
        defects = set(after["defects"])
        id_defects = {d for d in defects if d.startswith("id_")}
        assert len(id_defects) <= 1
        if id_defects:
            assert after["id"] != before["id"]
            if id_defects == {"id_legacy_15"}:
                assert after["id"] == legacy_number(before["id"])
                assert identity.upgrade(after["id"], today=TODAY) == before["id"]
            elif id_defects == {"id_full_width"}:
                assert identity.normalise(after["id"]) == before["id"]
            else:  # transposed, mistyped, wrong check: the check character catches each one
                assert not identity.check(after["id"], today=TODAY).valid
        else:
            assert after["id"] == before["id"]
        name_defects = {d for d in defects if d.startswith("name_")} | {
            d for d in defects if d == "missing_field:name"
        }
        assert (after["name"] != before["name"]) == bool(name_defects)
        assert (after["address"] != before["address"]) == ("stale_address" in defects)
        if "stale_address" in defects:
            assert after["address"] == before["_previous_address"]
        assert (after["born"] != before["born"]) == bool(
            {"date_out_of_range", "missing_field:born"} & defects
        )


def test_legacy_numbers_only_for_people_born_before_1984() -> None:
    out = inject_defects(_records(20_000), ROLES, DefectRates(scale=10), np.random.default_rng(2))
    legacy = out.filter(pl.col("defects").list.contains("id_legacy_15"))
    assert legacy.height > 0
    assert (legacy["_birth_year"] < 1984).all()
    assert (legacy["id"].str.len_chars() == 15).all()


def test_default_rates_are_met_within_tolerance() -> None:
    n = 100_000
    rates = DefectRates()
    out = inject_defects(_records(n), ROLES, rates, np.random.default_rng(4))
    counts = out["defects"].explode().drop_nulls().value_counts()
    observed = dict(counts.iter_rows())
    for kind in (
        "name_homophone",
        "id_mistyped",
        "id_wrong_check",
        "stale_address",
        "duplicate_row",
    ):
        expected = rates.rate(kind) * n
        # four standard deviations of a binomial count
        assert abs(observed.get(kind, 0) - expected) < 4 * np.sqrt(expected) + 5, kind
    any_defect = out.filter(pl.col("defects").list.len() > 0).height / out.height
    assert 0.10 < any_defect < 0.20  # all roles present, quality 1: above the city-wide 8 %


def test_zero_scale_means_clean() -> None:
    clean = _records(2000)
    out = inject_defects(clean, ROLES, DefectRates(scale=0), np.random.default_rng(5))
    assert out.drop("defects").equals(clean)
    assert (out["defects"].list.len() == 0).all()
