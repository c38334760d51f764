"""The world files: a year of service applications and the points-applicant pool."""

from __future__ import annotations

import datetime
from pathlib import Path

import polars as pl
import pytest

from hukou.standards.workdays import default_calendar
from hukou.synth.config import CityConfig
from hukou.synth.feeds.base import FeedContext
from hukou.synth.geography import DISTRICTS
from hukou.synth.lifefacts import add_life_facts
from hukou.synth.population import generate_population
from hukou.synth.rng import Streams
from hukou.synth.world import (
    APPLICATIONS_SCHEMA,
    CHANNELS,
    POINTS_SCHEMA,
    SERVICES,
    SKILL_LEVELS,
    TITLES,
    applications_path,
    points_path,
    write_applications,
    write_points_pool,
)

YEAR = 2025
COUNTER = ("window", "assisted", "enterprise_station")
DISTRICT_CODES = {d.code for d in DISTRICTS}


def _mean(series: pl.Series) -> float:
    """The mean of a numeric or boolean series, as a float (0.0 when empty)."""
    value = series.cast(pl.Float64).mean()
    return float(value) if isinstance(value, float) else 0.0


def _context(population: int, seed: int, out: Path) -> FeedContext:
    cfg = CityConfig(population=population, seed=seed)
    streams = Streams(cfg.seed)
    people = add_life_facts(cfg, streams, generate_population(cfg, streams))
    return FeedContext(cfg, streams, people, out)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> FeedContext:
    """Big enough for seasonality and channel shares to show (12,000 people)."""
    return _context(12_000, 5, tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def applications(city: FeedContext) -> pl.DataFrame:
    return write_applications(city)


@pytest.fixture(scope="module")
def pool(city: FeedContext) -> pl.DataFrame:
    return write_points_pool(city)


@pytest.fixture(scope="module")
def joined(applications: pl.DataFrame, city: FeedContext) -> pl.DataFrame:
    """Applications with the subject's and the applicant's truth."""
    persons = city.population.persons.with_columns(
        ((pl.lit(city.cfg.snapshot_date) - pl.col("birth_date")).dt.total_days() / 365.25).alias(
            "age"
        )
    )
    subject = persons.select(pl.all().name.prefix("s_"))
    applicant = persons.select(pl.all().name.prefix("a_"))
    return (
        applications.with_columns(pl.col("submitted_at").dt.date().alias("day"))
        .join(subject, left_on="subject_person_id", right_on="s_person_id", how="left")
        .join(applicant, left_on="applicant_person_id", right_on="a_person_id", how="left")
    )


# --------------------------------------------------------------------------- applications


def test_applications_schema_and_file(applications: pl.DataFrame, city: FeedContext) -> None:
    assert applications.schema == pl.Schema(APPLICATIONS_SCHEMA)
    path = city.out / applications_path(city)
    assert path.name == f"applications_{YEAR}.csv"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].split(",") == list(APPLICATIONS_SCHEMA)
    assert len(lines) - 1 == applications.height
    written = pl.read_csv(path, infer_schema=False)
    assert written["application_id"].to_list() == applications["application_id"].to_list()
    assert written["submitted_at"].str.contains(r"^2025-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$").all()
    assert set(written["eligible"].unique()) <= {"true", "false"}
    # The written timestamps are the returned ones.
    parsed = written["submitted_at"].str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_zone="UTC")
    assert (parsed.dt.convert_time_zone("Asia/Shanghai") == applications["submitted_at"]).all()


def test_applications_values(applications: pl.DataFrame, city: FeedContext) -> None:
    ids = applications["application_id"]
    assert ids.n_unique() == applications.height
    assert ids.str.contains(r"^SQ2025\d{8}$").all()
    assert applications["submitted_at"].is_sorted()
    names = {s.code: s.name_zh for s in SERVICES}
    assert set(applications["service"].unique()) == set(names)
    assert (applications["service"].replace_strict(names) == applications["service_name_zh"]).all()
    assert set(applications["channel"].unique()) == set(CHANNELS)
    assert set(applications["district"].unique()) <= DISTRICT_CODES
    days = applications["submitted_at"].dt.date()
    assert days.is_between(datetime.date(YEAR, 1, 1), datetime.date(YEAR, 12, 31)).all()
    people = set(city.population.persons["person_id"])
    assert set(applications["subject_person_id"]) <= people
    assert set(applications["applicant_person_id"].drop_nulls()) <= people
    # Only a death can be reported by someone outside the population (a relative elsewhere).
    orphans = applications.filter(pl.col("applicant_person_id").is_null())
    assert set(orphans["service"].unique()) <= {"death_cancellation"}


def test_volume_per_resident(applications: pl.DataFrame, city: FeedContext) -> None:
    per_capita = applications.height / city.population.persons.height
    assert 0.15 <= per_capita <= 0.3


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    def build(folder: str) -> tuple[bytes, bytes]:
        ctx = _context(2_000, 3, tmp_path / folder)
        write_applications(ctx)
        write_points_pool(ctx)
        return (ctx.out / applications_path(ctx)).read_bytes(), (
            ctx.out / points_path(ctx)
        ).read_bytes()

    first, second = build("a"), build("b")
    assert first == second
    other = _context(2_000, 4, tmp_path / "c")
    write_applications(other)
    assert (other.out / applications_path(other)).read_bytes() != first[0]


def test_counters_only_on_workdays_in_office_hours(applications: pl.DataFrame) -> None:
    calendar = default_calendar()
    counter = applications.filter(pl.col("channel").is_in(COUNTER))
    assert counter.height > 0
    assert all(calendar.is_workday(d) for d in counter["submitted_at"].dt.date().unique())
    minute = counter["submitted_at"].dt.hour().cast(pl.Int32) * 60 + counter[
        "submitted_at"
    ].dt.minute().cast(pl.Int32)
    office = ((minute >= 540) & (minute < 720)) | ((minute >= 810) & (minute < 1050))
    assert office.all()
    # Online applications arrive at weekends, on holidays and at night too.
    online = applications.filter(pl.col("channel") == "online")
    online_days = online["submitted_at"].dt.date().unique()
    assert any(not calendar.is_workday(d) for d in online_days)
    assert (online["submitted_at"].dt.hour() >= 19).any()
    # Spring Festival 2025 (28 January – 4 February): no counter open.
    festival = counter.filter(
        pl.col("submitted_at")
        .dt.date()
        .is_between(datetime.date(2025, 1, 28), datetime.date(2025, 2, 4))
    )
    assert festival.height == 0


def test_hour_peaks(applications: pl.DataFrame) -> None:
    hours = applications.group_by(
        pl.col("channel").is_in(COUNTER).alias("counter"),
        pl.col("submitted_at").dt.hour().alias("h"),
    ).len()

    def count(counter: bool, hour: int) -> int:
        row = hours.filter((pl.col("counter") == counter) & (pl.col("h") == hour))
        return int(row["len"].sum())

    assert count(True, 10) > 1.5 * count(True, 15)  # mid-morning peak at the counter
    assert count(False, 21) > 1.2 * count(False, 10)  # online: evening peak
    assert count(False, 21) > 10 * count(False, 4)


def test_spring_festival_dip_online(applications: pl.DataFrame) -> None:
    online = applications.filter(pl.col("channel") == "online").with_columns(
        pl.col("submitted_at").dt.date().alias("day")
    )
    festival = online.filter(
        pl.col("day").is_between(datetime.date(2025, 1, 28), datetime.date(2025, 2, 4))
    )
    march = online.filter(pl.col("day").dt.month() == 3)
    assert festival.height / 8 < 0.6 * march.height / 31


def test_school_enrolment_peaks_in_july_and_august(applications: pl.DataFrame) -> None:
    school = applications.filter(pl.col("service") == "school_enrolment")
    months = school["submitted_at"].dt.month()
    summer = months.is_in([7, 8])
    assert school.height >= 30
    assert _mean(summer) > 0.4  # 2 months of 12 (17 % of days) hold well over a third
    per_day_summer = int(summer.sum()) / 62
    per_day_rest = int((~summer).sum()) / 303
    assert per_day_summer > 2.5 * per_day_rest
    others = applications.filter(pl.col("service") != "school_enrolment")
    assert _mean(others["submitted_at"].dt.month().is_in([7, 8])) < 0.25


def test_birth_registrations_follow_births(joined: pl.DataFrame, city: FeedContext) -> None:
    births = joined.filter(pl.col("service") == "birth_registration")
    assert births.height > 0
    assert (births["s_birth_date"] < births["day"]).all()
    assert (births["s_birth_date"] >= datetime.date(YEAR - 1, 10, 1)).all()
    assert (births["s_role"] == 2).all()
    # Filed by a parent: the head of the child's household or the head's spouse.
    persons = city.population.persons
    spouse_of_head = dict(zip(persons["pid"], persons["spouse_pid"], strict=True))
    for child_head, applicant in zip(births["s_head_pid"], births["a_pid"], strict=True):
        assert applicant in {child_head, spouse_of_head[child_head]}
    # Most are filed within a month; eligible exactly when the family is registered here.
    lag = (births["day"] - births["s_birth_date"]).dt.total_days()
    assert _mean(lag <= 31) > 0.8
    here = births["s_status"].is_in(["native", "intra_city", "out_migrant"])
    assert (births["eligible"] == here).all()
    # Nearly every registered child born before December is registered this year.
    born = persons.filter(
        pl.col("born_in_year")
        & pl.col("status").is_in(["native", "intra_city", "out_migrant"])
        & ~pl.col("unregistered")
        & (pl.col("birth_date") < datetime.date(YEAR, 11, 1))
        & pl.col("death_date").is_null()
    )
    filed = set(births["subject_person_id"])
    assert sum(p in filed for p in born["person_id"]) >= 0.9 * born.height


def test_deaths_are_cancelled_by_family(joined: pl.DataFrame) -> None:
    deaths = joined.filter(pl.col("service") == "death_cancellation")
    assert deaths.height > 0
    assert (deaths["s_death_date"] < deaths["day"]).all()
    assert deaths["s_status"].is_in(["native", "intra_city", "out_migrant"]).all()
    family = deaths.filter(pl.col("a_pid").is_not_null())
    assert family.height >= 0.6 * deaths.height
    assert (family["a_household_index"] == family["s_household_index"]).all()
    assert (family["a_death_date"].is_null() | (family["a_death_date"] > family["day"])).all()
    assert (family["a_age"] >= 18).all()


def test_who_applies_for_what(joined: pl.DataFrame) -> None:
    def rows(service: str) -> pl.DataFrame:
        return joined.filter(pl.col("service") == service)

    for service in (
        "residence_permit_application",
        "residence_permit_renewal",
        "settlement_application",
        "school_enrolment",
    ):
        assert (rows(service)["s_status"] == "migrant").all(), service
    assert (rows("household_move")["s_status"] == "intra_city").all()
    assert (rows("household_move")["district"] == rows("household_move")["s_actual_division"]).all()
    assert (rows("school_enrolment")["s_role"] == 2).all()
    settlement = rows("settlement_application")
    assert settlement["s_employed"].all()
    assert not settlement.filter(pl.col("s_criminal_record"))["eligible"].any()
    # Eligibility is a real ground truth: both outcomes occur where the rules bite.
    for service in (
        "residence_permit_application",
        "settlement_application",
        "register_certificate",
    ):
        assert set(rows(service)["eligible"].unique()) == {True, False}, service
    assert rows("death_cancellation")["eligible"].all()
    # Nobody files for a person who is not alive (except to cancel a death).
    alive = joined.filter(pl.col("service") != "death_cancellation")
    assert (alive["s_death_date"].is_null() | (alive["s_death_date"] > alive["day"])).all()
    assert (alive["s_birth_date"] < alive["day"]).all()
    assert _mean(joined["documents_complete"]) > 0.7
    assert not joined["documents_complete"].all()


def test_channel_mix_shifts_with_age(joined: pl.DataFrame) -> None:
    known = joined.filter(pl.col("a_age").is_not_null())
    young = known.filter(pl.col("a_age") < 30)
    old = known.filter(pl.col("a_age") >= 65)
    assert young.height > 100
    assert old.height > 50

    def share(frame: pl.DataFrame, channel: str) -> float:
        return _mean(frame["channel"] == channel)

    assert share(young, "online") > share(old, "online") + 0.2
    assert share(old, "window") + share(old, "assisted") > share(young, "window") + share(
        young, "assisted"
    )
    assert share(old, "assisted") > 2 * share(young, "assisted")
    # Enterprise service stations serve employees only.
    station = known.filter(pl.col("channel") == "enterprise_station")
    assert station.height > 0
    assert station["a_employed"].all()


# --------------------------------------------------------------------------- points pool


def test_points_pool_schema_and_file(pool: pl.DataFrame, city: FeedContext) -> None:
    assert pool.schema == pl.Schema(POINTS_SCHEMA)
    path = city.out / points_path(city)
    assert path.name == f"applicants_{YEAR}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == list(POINTS_SCHEMA)
    assert len(lines) - 1 == pool.height
    written = pl.read_csv(path, infer_schema=False)
    assert written["identity_number"].to_list() == pool["identity_number"].to_list()
    assert written["education"].to_list() == pool["education"].to_list()  # codes keep their zeros


def test_points_pool_are_employed_migrants(pool: pl.DataFrame, city: FeedContext) -> None:
    assert pool.height > 0
    assert pool["person_id"].n_unique() == pool.height
    assert pool["applicant_id"].str.contains(r"^JF2025\d{6}$").all()
    truth = pool.join(city.population.persons, on="person_id", how="left", suffix="_t")
    assert (truth["status"] == "migrant").all()
    assert truth["employed"].all()
    assert (truth["death_date"].is_null() | (truth["death_date"] > truth["applied_at"])).all()
    assert (truth["identity_number"] == truth["identity_number_t"]).all()
    assert (truth["name"] == truth["name_t"]).all()
    assert (truth["education"] == truth["education_t"]).all()
    assert (truth["district"] == truth["actual_division"]).all()
    assert (truth["home_owned"] == (truth["tenure"] == "owned")).all()
    assert (truth["criminal_record"] == truth["criminal_record_t"]).all()
    assert (truth["si_months_city"] >= 12).all()
    assert (truth["si_months_city"] <= truth["si_months"]).all()
    lived = (truth["applied_at"] - truth["actual_since"]).dt.total_days()
    assert (lived >= 365).all()
    assert (truth["residence_years"] <= lived // 365).all()
    calendar = default_calendar()
    assert all(calendar.is_workday(d) for d in pool["applied_at"].unique())
    assert pool["applied_at"].is_sorted()


def test_points_pool_size(pool: pl.DataFrame, city: FeedContext) -> None:
    persons = city.population.persons
    eligible = persons.filter(
        (pl.col("status") == "migrant")
        & pl.col("employed")
        & (pl.col("si_months") >= 12)
        & (pl.col("actual_since") <= datetime.date(YEAR - 1, 12, 31))
    )
    assert 0.015 <= pool.height / eligible.height <= 0.045


def test_points_attributes_follow_education(city: FeedContext, tmp_path: Path) -> None:
    # Pool several seeds' worth of applicants so the shares are stable.
    frames = [write_points_pool(city)]
    for seed in (21, 22, 23, 24):
        frames.append(write_points_pool(_context(12_000, seed, tmp_path / str(seed))))
    pool = pl.concat(frames)
    assert set(pool["title"].unique()) <= set(TITLES)
    assert set(pool["skill_certificate"].unique()) <= set(SKILL_LEVELS)
    degree = pool.filter(pl.col("education").is_in(["21", "14", "11"]))
    school = pool.filter(pl.col("education").is_in(["81", "71", "61"]))
    assert degree.height > 30
    assert school.height > 30
    assert _mean(degree["title"] != "none") > _mean(school["title"] != "none") + 0.2
    assert _mean(school["skill_certificate"] != "none") > _mean(
        degree["skill_certificate"] != "none"
    )
    assert _mean(degree["volunteer_hours"]) > _mean(school["volunteer_hours"])
    assert _mean(degree["income_tax_3y"]) > _mean(school["income_tax_3y"])
    assert (pool["honours"] >= 0).all()
    assert (pool["volunteer_hours"] >= 0).all()
    assert (pool["income_tax_3y"] >= 0).all()
    # Seniority needs years: nobody under 28 holds more than a junior title.
    age = (pool["applied_at"] - pool["birth_date"]).dt.total_days() / 365.25
    assert not pool.filter((age < 28) & pool["title"].is_in(["intermediate", "senior"])).height
