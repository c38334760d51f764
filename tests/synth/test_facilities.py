"""Schools and clinics: one of each kind where needed, sized against the people who use them."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hukou.synth import facilities
from hukou.synth.feeds.base import FeedContext
from hukou.synth.geography import DISTRICTS
from hukou.synth.rng import Streams

_DISTRICT_CODES = {d.code for d in DISTRICTS}
_CATEGORY = {"primary": "21", "junior": "31", "senior": "34"}


@pytest.fixture(scope="module")
def schools(feed_context: FeedContext) -> pl.DataFrame:
    return facilities.schools(
        feed_context.cfg, feed_context.streams, feed_context.population.persons
    )


@pytest.fixture(scope="module")
def clinics(feed_context: FeedContext) -> pl.DataFrame:
    return facilities.clinics(
        feed_context.cfg, feed_context.streams, feed_context.population.persons
    )


def _children(per_group: int, central_extra: int = 0) -> pl.DataFrame:
    """A frame with just the columns schools need: ``per_group`` pupils per district and level."""
    rows = [
        (d.code, level)
        for d in DISTRICTS
        for level in facilities.LEVELS
        for _ in range(per_group + (central_extra if d.central else 0))
    ]
    return pl.DataFrame(
        {
            "actual_division": [r[0] for r in rows],
            "school_level": [r[1] for r in rows],
            "enrolled": [True] * len(rows),
            "household_index": np.arange(len(rows)) // 2,  # pairs of siblings
        }
    )


def test_every_district_has_every_level(schools: pl.DataFrame) -> None:
    groups = set(schools.select("division", "level").iter_rows())
    assert groups == {(d.code, level) for d in DISTRICTS for level in facilities.LEVELS}
    assert schools.columns == [
        "school_id",
        "name",
        "division",
        "level",
        "capacity",
        "address",
        "opened",
    ]


def test_school_codes_and_names(schools: pl.DataFrame, feed_context: FeedContext) -> None:
    assert schools["school_id"].n_unique() == schools.height
    assert schools["name"].n_unique() == schools.height
    names = {d.code: d.name for d in DISTRICTS}
    for row in schools.iter_rows(named=True):
        # 学校标识码: category (21 小学, 31 初中, 34 高中), province 32, six digits.
        assert re.fullmatch(rf"{_CATEGORY[row['level']]}32\d{{6}}", row["school_id"])
        district = names[row["division"]]
        prefix = district if district.endswith("市") else "苏州市" + district
        assert row["name"].startswith(prefix)
        suffix = {"primary": "小学", "junior": "中学", "senior": "高级中学"}[row["level"]]
        assert row["name"].endswith(suffix)
        assert row["address"].startswith(f"江苏省苏州市{district}")
        assert row["capacity"] >= 1
        assert 1900 <= row["opened"] <= feed_context.cfg.year


def test_central_districts_are_oversubscribed_outer_ones_have_room(
    feed_context: FeedContext,
) -> None:
    persons = _children(4000, central_extra=1000)
    streams = Streams(11)
    table = facilities.schools(feed_context.cfg, streams, persons)
    assigned = facilities.assign_schools(persons, table, streams.get("assign"))
    pupils = persons.with_columns(assigned).group_by("school_id").len()
    load = table.join(pupils, on="school_id", how="left").with_columns(pl.col("len").fill_null(0))
    by_district = load.group_by("division").agg(pl.col("len").sum() / pl.col("capacity").sum())
    occupancy = dict(by_district.iter_rows())
    for d in DISTRICTS:
        if d.central:
            assert 1.04 < occupancy[d.code] < 1.22
        else:
            assert 0.76 < occupancy[d.code] < 0.95
    # Real-sized schools: several per level, capacities in whole classes of 45 or 50.
    big = load.filter(pl.col("capacity") >= 500)
    assert big.height > 20
    assert big.filter(
        (pl.col("capacity") % pl.when(pl.col("level") == "primary").then(45).otherwise(50)) != 0
    ).is_empty()
    assert load.group_by("division", "level").len()["len"].max() >= 3  # type: ignore[operator]


def test_assign_schools(feed_context: FeedContext, schools: pl.DataFrame) -> None:
    persons = feed_context.population.persons
    assigned = facilities.assign_schools(persons, schools, np.random.default_rng(1))
    assert assigned.len() == persons.height
    frame = persons.with_columns(assigned)
    assert (
        frame.filter(~pl.col("enrolled"))["school_id"].null_count()
        == frame.filter(~pl.col("enrolled")).height
    )
    pupils = frame.filter(pl.col("enrolled")).join(schools, on="school_id", how="left")
    assert pupils.height == persons["enrolled"].sum() > 100
    assert (pupils["division"] == pupils["actual_division"]).all()
    assert (pupils["level"] == pupils["school_level"]).all()
    # Children of one household at one level share a school.
    assert (
        pupils.group_by("household_index", "school_level")
        .agg(pl.col("school_id").n_unique())["school_id"]
        .max()
        == 1
    )
    # Same draws, same schools.
    again = facilities.assign_schools(persons, schools, np.random.default_rng(1))
    assert again.equals(assigned)


def test_school_assignment_is_deterministic(feed_context: FeedContext) -> None:
    args = (feed_context.cfg, feed_context.streams, feed_context.population.persons)
    first_table, first = facilities.school_assignment(*args)
    second_table, second = facilities.school_assignment(*args)
    assert first_table.equals(second_table)
    assert first.equals(second)


def test_clinics(clinics: pl.DataFrame) -> None:
    assert clinics.columns == ["clinic_id", "name", "division", "kind", "daily_capacity", "address"]
    assert clinics["clinic_id"].n_unique() == clinics.height
    assert clinics["name"].n_unique() == clinics.height
    assert set(clinics["kind"].unique()) == set(facilities.CLINIC_KINDS)
    names = {d.code: d.name for d in DISTRICTS}
    for row in clinics.iter_rows(named=True):
        # 医保定点医疗机构编码: H, the district, five digits.
        assert re.fullmatch(rf"H{row['division']}\d{{5}}", row["clinic_id"])
        assert row["division"] in _DISTRICT_CODES
        assert row["daily_capacity"] >= 1
        if row["kind"] == "社区卫生服务中心":
            assert re.fullmatch(
                rf"{names[row['division']]}.+(街道|镇)社区卫生服务中心", row["name"]
            )
        else:
            assert row["name"].endswith(("医院", "保健院"))
    # Every district has community centres and at least one hospital; 三级 are few.
    for code in _DISTRICT_CODES:
        kinds = clinics.filter(pl.col("division") == code)["kind"].to_list()
        assert kinds.count("社区卫生服务中心") >= 5
        assert "二级医院" in kinds
    assert 0 < (clinics["kind"] == "三级医院").sum() < len(_DISTRICT_CODES) + 3


def test_clinic_capacity_follows_residents_and_load(feed_context: FeedContext) -> None:
    persons = pl.DataFrame(
        {
            "actual_division": [d.code for d in DISTRICTS for _ in range(20_000)],
            "alive": True,
        }
    )
    table = facilities.clinics(feed_context.cfg, Streams(3), persons)
    daily = 9 * 20_000 * 6.5 / 365
    share = table.group_by("kind").agg(pl.col("daily_capacity").sum())
    capacity = dict(share.iter_rows())
    # Capacity = visits x share / load: crowded 三级 hospitals, community centres with room.
    assert capacity["社区卫生服务中心"] == pytest.approx(daily * 0.40 / 0.75, rel=0.02)
    assert capacity["二级医院"] == pytest.approx(daily * 0.25 / 0.95, rel=0.02)
    assert capacity["三级医院"] == pytest.approx(daily * 0.35 / 1.20, rel=0.02)


def test_assign_clinics(feed_context: FeedContext, clinics: pl.DataFrame) -> None:
    persons = feed_context.population.persons
    chosen = facilities.assign_clinics(persons, clinics, np.random.default_rng(2))
    frame = persons.with_columns(chosen.alias("clinic_id")).join(
        clinics.select("clinic_id", pl.col("division").alias("clinic_division"), "kind"),
        on="clinic_id",
        how="left",
    )
    inside = frame.filter(pl.col("actual_division").is_in(list(_DISTRICT_CODES)))
    assert inside["clinic_id"].null_count() == 0
    assert (inside["clinic_division"] == inside["actual_division"]).all()
    assert (inside["kind"] == "社区卫生服务中心").all()
    outside = frame.filter(~pl.col("actual_division").is_in(list(_DISTRICT_CODES)))
    assert outside.height > 0
    assert outside["clinic_id"].null_count() == outside.height


def test_write_facilities(feed_context: FeedContext, tmp_path: Path) -> None:
    ctx = dataclasses.replace(feed_context, out=tmp_path)
    facilities.write_facilities(ctx)
    for name, frame in (
        ("schools.csv", facilities.schools(ctx.cfg, ctx.streams, ctx.population.persons)),
        ("clinics.csv", facilities.clinics(ctx.cfg, ctx.streams, ctx.population.persons)),
    ):
        raw = (tmp_path / "facilities" / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(raw.decode("utf-8").splitlines()))
        assert rows[0] == frame.columns
        assert len(rows) == frame.height + 1
        assert rows[1] == [str(v) for v in frame.row(0)]
    again = tmp_path / "again"
    facilities.write_facilities(dataclasses.replace(feed_context, out=again))
    for name in ("schools.csv", "clinics.csv"):
        assert (again / "facilities" / name).read_bytes() == (
            tmp_path / "facilities" / name
        ).read_bytes()
