"""The synthetic population: realistic where realism changes results, valid, deterministic."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

from hukou.standards import divisions
from hukou.standards.identity_frame import check_frame
from hukou.synth.config import CityConfig
from hukou.synth.feeds.base import FeedContext
from hukou.synth.geography import DISTRICTS
from hukou.synth.lifefacts import add_life_facts
from hukou.synth.population import generate_population
from hukou.synth.rng import Streams


@pytest.fixture(scope="module")
def city() -> pl.DataFrame:
    cfg = CityConfig(population=30_000, seed=11)
    streams = Streams(cfg.seed)
    return add_life_facts(cfg, streams, generate_population(cfg, streams)).persons


def _age(cfg_year: int = 2025) -> pl.Expr:
    return (pl.lit(datetime.date(cfg_year, 12, 31)) - pl.col("birth_date")).dt.total_days() / 365.25


def test_exact_size_and_unique_people(city: pl.DataFrame) -> None:
    assert city.height == 30_000
    assert city["person_id"].n_unique() == city.height
    assert city["identity_number"].n_unique() == city.height


def test_every_identity_number_is_valid_and_tells_the_truth(city: pl.DataFrame) -> None:
    checked = check_frame(city, "identity_number", today=datetime.date(2025, 12, 31))
    assert checked["identity_number_reason"].null_count() == city.height
    assert (checked["identity_number_birth_date"] == checked["birth_date"]).all()
    assert (checked["identity_number_sex"] == checked["sex"]).all()
    assert (checked["identity_number"].str.slice(0, 6) == checked["birthplace_code"]).all()


def test_birthplace_codes_were_in_use_after_birth(city: pl.DataFrame) -> None:
    sample = city.sample(2000, seed=1)
    for code, born in sample.select("birthplace_code", "birth_date").iter_rows():
        assert divisions.valid_on_or_after(code, born), (code, born)
    # People born before 2012 in the old town carry the codes of the abolished districts.
    old_town = city.filter(pl.col("birthplace_code").is_in(["320502", "320503", "320504"]))
    assert old_town.height > 0
    assert (old_town["birth_date"].dt.year() <= 2012).all()


def test_households_are_consistent(city: pl.DataFrame) -> None:
    heads = city.filter(pl.col("role") == 0).select(
        "household_index", pl.col("birth_date").alias("head_birth")
    )
    joined = city.join(heads, on="household_index")
    children = joined.filter(pl.col("role") == 2)
    gap = (children["birth_date"] - children["head_birth"]).dt.total_days() / 365.25
    assert gap.min() >= 21
    parents = city.filter(pl.col("role").is_in([0, 1]))
    child_households = children.select("household_index").unique()
    youngest_parent = (
        parents.join(child_households, on="household_index")
        .group_by("household_index")
        .agg(pl.col("birth_date").max())
    )
    oldest_child = children.group_by("household_index").agg(
        pl.col("birth_date").min().alias("child")
    )
    both = youngest_parent.join(oldest_child, on="household_index")
    assert ((both["child"] - both["birth_date"]).dt.total_days() / 365.25).min() >= 15
    elders = joined.filter(pl.col("role") == 3)
    assert ((elders["head_birth"] - elders["birth_date"]).dt.total_days() / 365.25).min() >= 23
    spouses = city.filter(pl.col("spouse_pid") >= 0)
    partner = city.select(
        pl.col("pid").alias("spouse_pid"),
        pl.col("sex").alias("partner_sex"),
        pl.col("spouse_pid").alias("back"),
    )
    pairs = spouses.join(partner, on="spouse_pid")
    assert (pairs["sex"] != pairs["partner_sex"]).all()
    assert (pairs["back"] == pairs["pid"]).all()


def test_demography_is_realistic(city: pl.DataFrame) -> None:
    shares = city.select(
        (_age() < 15).mean().alias("children"),
        (_age() >= 60).mean().alias("elderly"),
        ((pl.col("sex") == "1").sum() / (pl.col("sex") == "2").sum()).alias("sex_ratio"),
        pl.col("registered_elsewhere").mean().alias("registered_elsewhere"),
        (pl.col("ethnicity") != "01").mean().alias("minorities"),
        (~pl.col("alive")).mean().alias("deaths"),
    ).row(0, named=True)
    assert 0.13 < shares["children"] < 0.22
    assert 0.10 < shares["elderly"] < 0.22
    assert 1.00 < shares["sex_ratio"] < 1.15
    assert 0.28 < shares["registered_elsewhere"] < 0.40  # the 2020 census: about a third
    assert 0.07 < shares["minorities"] < 0.11
    assert 0.002 < shares["deaths"] < 0.012


def test_districts_have_different_sizes_and_names_use_the_separator(city: pl.DataFrame) -> None:
    counts = city.group_by("actual_division").len()
    local = counts.filter(pl.col("actual_division").is_in([d.code for d in DISTRICTS]))
    assert local.height == len(DISTRICTS)
    assert local["len"].max() > 1.8 * local["len"].min()
    uyghur = city.filter(pl.col("ethnicity") == "05")
    assert uyghur.height > 0
    assert uyghur["name"].str.contains("·").all()
    assert city["surname"].is_in(["单", "曾", "解", "欧阳"]).any()


def test_migrants_are_registered_outside_the_city(city: pl.DataFrame) -> None:
    migrants = city.filter(pl.col("status") == "migrant")
    assert not migrants["registered_division"].str.starts_with("3205").any()
    natives = city.filter(pl.col("status") == "native")
    assert (natives["registered_division"] == natives["actual_division"]).all()
    movers = city.filter(pl.col("status") == "intra_city")
    assert (movers["registered_division"] != movers["actual_division"]).all()


def test_same_seed_same_city_other_seed_other_city() -> None:
    cfg = CityConfig(population=2000, seed=5)
    first = generate_population(cfg, Streams(5)).persons
    again = generate_population(cfg, Streams(5)).persons
    other = generate_population(cfg, Streams(6)).persons
    assert first.equals(again)
    assert not first.equals(other)


def test_feed_context_fixture_has_life_facts(feed_context: FeedContext) -> None:
    persons = feed_context.population.persons
    assert {"employed", "si_months", "address", "enrolled"} <= set(persons.columns)
    assert persons.filter(pl.col("employed"))["employer_code"].null_count() == 0
