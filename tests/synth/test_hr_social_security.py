"""人社 社保参保 feed: who is in it, its codes and formats, its defects, its truth."""

from __future__ import annotations

import csv
import datetime
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from stdnum.cn import uscc

from hukou.standards.codelists import ETHNICITY
from hukou.synth.feeds import hr_social_security
from hukou.synth.feeds.base import FeedContext
from hukou.synth.geography import DISTRICTS
from hukou.synth.population import Population
from tests.synth.feedcheck import assert_truth_is_the_files

COLUMNS = [
    "GRBH", "SFZHM", "XM", "XB", "CSRQ", "MZ", "RYZT", "DWMC", "TYSHXYDM",
    "DWSZD", "CBRQ", "JFYS", "CBZT", "BGRQ", "LXDH",
]  # fmt: skip
DISTRICT_CODES = {d.code for d in DISTRICTS}
UNPADDED = re.compile(r"^\d{4}/[1-9]\d?/[1-9]\d?$")
FOLDER = Path("feeds") / hr_social_security.DEPARTMENT


def read_feed(out: Path) -> pl.DataFrame:
    """Every well-formed record of every file, with its file and line number."""
    rows: list[list[str]] = []
    for path in sorted((out / FOLDER).glob("*.csv")):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
        lines = raw.decode("utf-8-sig").split("\r\n")
        assert next(csv.reader([lines[0]])) == COLUMNS
        for number, line in enumerate(lines[1:], start=2):
            if not line:
                continue
            fields = next(csv.reader([line]))
            if len(fields) == len(COLUMNS) and '"' not in line:
                rows.append([f"{FOLDER.as_posix()}/{path.name}", str(number), *fields])
    frame = pl.DataFrame(rows, schema=["file", "position", *COLUMNS], orient="row")
    return frame.with_columns(pl.col("position").cast(pl.Int64), pl.col(COLUMNS).replace("", None))


@pytest.fixture(scope="module")
def truth(feed_context: FeedContext) -> pl.DataFrame:
    return hr_social_security.write(feed_context)


@pytest.fixture(scope="module")
def feed(truth: pl.DataFrame, feed_context: FeedContext) -> pl.DataFrame:
    """Records joined with their truth row and the person they belong to."""
    persons = feed_context.population.persons
    return (
        read_feed(feed_context.out)
        .join(truth, on=["file", "position"], how="left")
        .join(persons, on="person_id", how="left")
    )


def test_truth_rows_are_the_file_records(truth: pl.DataFrame, feed_context: FeedContext) -> None:
    assert_truth_is_the_files(truth, feed_context.out, FOLDER.as_posix(), "*.csv")
    assert truth["record_id"].null_count() == 0


def test_one_file_per_district(truth: pl.DataFrame, feed: pl.DataFrame) -> None:
    names = {Path(f).name for f in truth["file"].unique()}
    assert names <= {f"cbry_{code}.csv" for code in DISTRICT_CODES}
    assert len(names) >= 5
    clean = feed.filter(pl.col("defects") == "")
    assert (clean["file"].str.extract(r"cbry_(\d{6})") == clean["DWSZD"]).all()


def test_who_is_insured(truth: pl.DataFrame, feed_context: FeedContext) -> None:
    persons = feed_context.population.persons
    snapshot = feed_context.cfg.snapshot_date
    in_feed = set(truth["person_id"])
    employed = set(persons.filter(pl.col("si_months") > 0)["person_id"])
    assert employed <= in_feed, "everyone contributing through an employer is registered"
    others = persons.filter(pl.col("person_id").is_in(in_feed - employed))
    age = (pl.lit(snapshot) - pl.col("birth_date")).dt.total_days() / 365.25
    retire_age = pl.when(pl.col("sex") == "1").then(60).otherwise(55)
    # Everyone else is a pensioner registered here or a working-age former contributor.
    retired = (age >= retire_age) & pl.col("status").is_in(["native", "intra_city", "out_migrant"])
    former = (age >= 20) & (age < retire_age)
    assert others.filter(~(retired | former)).is_empty()
    assert 0 < others.filter(retired).height < persons.filter(age >= retire_age).height
    assert others.filter(former).height > 0
    assert persons.filter(age < 18)["person_id"].is_in(in_feed).sum() == 0
    # One account per person: only duplicated rows repeat a person.
    single = truth.filter(~pl.col("defects").str.contains("duplicate_row"))
    assert single["person_id"].is_unique().all()


def test_codes_and_formats(feed: pl.DataFrame) -> None:
    assert feed.height > 1000
    assert feed["GRBH"].str.contains(r"^3205\d{8}$").all()
    assert set(feed["XB"].drop_nulls()) == {"1", "2"}
    assert set(feed["MZ"].drop_nulls()) <= set(ETHNICITY)
    assert set(feed["RYZT"]) == {"1", "2"}
    assert set(feed["CBZT"]) <= {"1", "2", "3"}
    assert set(feed["DWSZD"]) <= DISTRICT_CODES
    assert feed["CSRQ"].drop_nulls().str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    assert feed["CBRQ"].str.contains(UNPADDED.pattern).all()
    assert feed["BGRQ"].drop_nulls().str.contains(UNPADDED.pattern).all()
    assert feed["LXDH"].drop_nulls().str.contains(r"^1\d{10}$").all()
    assert (feed["JFYS"].cast(pl.Int64) >= 0).all()
    assert all(uscc.is_valid(code) for code in feed["TYSHXYDM"].drop_nulls())
    # A status change date exactly when the account is not plainly paying.
    paying_worker = (pl.col("CBZT") == "1") & (pl.col("RYZT") == "1")
    assert (feed.select(paying_worker == pl.col("BGRQ").is_null()).to_series()).all()


def test_same_person_same_number(truth: pl.DataFrame) -> None:
    per_person = truth.group_by("person_id").agg(pl.col("record_id").n_unique())
    assert (per_person["record_id"] == 1).all()
    assert truth["record_id"].n_unique() == truth["person_id"].n_unique()


def test_clean_records_carry_the_truth(feed: pl.DataFrame) -> None:
    clean = feed.filter(pl.col("defects") == "")
    assert clean.height > 0.8 * feed.height
    assert (clean["SFZHM"] == clean["identity_number"]).all()
    assert (clean["XM"] == clean["name"]).all()
    assert (clean["XB"] == clean["sex"]).all()
    assert (clean["MZ"] == clean["ethnicity"]).all()
    assert (clean["CSRQ"] == clean["birth_date"].dt.strftime("%Y-%m-%d")).all()
    working = clean.filter((pl.col("si_months") > 0) & pl.col("alive"))
    assert (working["DWMC"] == working["employer_name"]).all()
    assert (working["TYSHXYDM"] == working["employer_code"]).all()
    assert (working["DWSZD"] == working["employer_division"]).all()
    assert (working["CBRQ"] == working["si_start"].dt.strftime("%Y/%-m/%-d")).all()
    assert (working["JFYS"].cast(pl.Int32) == working["si_months"]).all()
    assert (working["CBZT"] == "1").all()
    assert (working["RYZT"] == "1").all()


def test_pensioners_and_suspended_accounts(feed: pl.DataFrame) -> None:
    clean = feed.filter(pl.col("defects") == "")
    retired = clean.filter(pl.col("RYZT") == "2", pl.col("CBZT") == "1")
    assert retired.height > 0
    assert retired["DWMC"].is_null().all()
    assert retired["TYSHXYDM"].is_null().all()
    assert (retired["DWSZD"] == retired["registered_division"]).all()
    assert (retired["si_months"] == 0).all()
    # The pension starts on the first of the month after the 60th (55th) birthday.
    for birth, sex, changed in retired.select("birth_date", "sex", "BGRQ").iter_rows():
        age = 60 if sex == "1" else 55
        year, month = birth.year + age + birth.month // 12, birth.month % 12 + 1
        assert changed == f"{year}/{month}/1"
    suspended = clean.filter(pl.col("RYZT") == "1", pl.col("si_months") == 0)
    assert suspended.height > 0
    assert (suspended["CBZT"] == "2").all()
    assert suspended["DWMC"].is_not_null().all()
    for opened, stopped in suspended.select("CBRQ", "BGRQ").iter_rows():
        start = datetime.datetime.strptime(opened, "%Y/%m/%d").date()
        end = datetime.datetime.strptime(stopped, "%Y/%m/%d").date()
        assert start < end <= datetime.date(2025, 12, 31)


def test_legacy_numbers_only_for_older_people(feed: pl.DataFrame) -> None:
    legacy = feed.filter(pl.col("defects").str.contains("id_legacy_15"))
    assert (legacy["SFZHM"].str.len_chars() == 15).all()
    assert (legacy["birth_date"].dt.year() < 1984).all()
    assert (
        legacy["SFZHM"]
        == legacy["identity_number"].str.slice(0, 6) + legacy["identity_number"].str.slice(8, 9)
    ).all()


def test_generic_defects_occur(truth: pl.DataFrame) -> None:
    defects = truth["defects"].str.split(";").explode()
    kinds = set(defects.str.replace(r":.*", ""))
    assert {"duplicate_row", "missing_field"} <= kinds
    assert kinds & {"id_transposed", "id_mistyped", "id_wrong_check", "id_full_width"}
    assert "stale_address" not in kinds, "the register has no address"
    share = int((truth["defects"] != "").sum()) / truth.height
    assert 0.01 < share < 0.12


@pytest.fixture(scope="module")
def deadly_context(
    feed_context: FeedContext, tmp_path_factory: pytest.TempPathFactory
) -> FeedContext:
    """The small city with a quarter of the people dying during the year."""
    persons = feed_context.population.persons
    rng = np.random.default_rng(3)
    dies = rng.random(persons.height) < 0.25
    start = feed_context.cfg.period_start
    day = [start + datetime.timedelta(days=int(d)) for d in rng.integers(0, 365, persons.height)]
    dead = persons.with_columns(
        pl.when(pl.Series(dies))
        .then(pl.Series(day))
        .otherwise(pl.col("death_date"))
        .alias("death_date"),
        (pl.col("alive") & ~pl.Series(dies)).alias("alive"),
    )
    population = replace(feed_context.population, persons=dead)
    assert isinstance(population, Population)
    return FeedContext(
        feed_context.cfg, feed_context.streams, population, tmp_path_factory.mktemp("dead")
    )


def test_most_deaths_are_not_known(deadly_context: FeedContext) -> None:
    truth = hr_social_security.write(deadly_context)
    persons = deadly_context.population.persons
    feed = (
        read_feed(deadly_context.out)
        .join(truth, on=["file", "position"], how="left")
        .join(persons, on="person_id", how="left")
    )
    tagged = feed["defects"].str.contains("death_not_known")
    dead = feed["death_date"].is_not_null()
    assert not (tagged & ~dead).any(), "only the dead are tagged"
    assert (dead == (tagged | (feed["CBZT"] == "3"))).all(), "a dead person is terminated or tagged"
    terminated = feed.filter(pl.col("CBZT") == "3")
    assert (terminated["BGRQ"] == terminated["death_date"].dt.strftime("%Y/%-m/%-d")).all()
    lag = deadly_context.cfg.snapshot_date - datetime.timedelta(days=30)
    assert (terminated["death_date"] <= lag).all()
    known = float(terminated.height) / float(dead.sum())
    assert 0.2 < known < 0.45, "about 70 % of deaths are not known"
    # Pensions of unknown deaths are still paid; employers mostly filed a reduction.
    unknown = feed.filter(tagged)
    assert (unknown.filter(pl.col("RYZT") == "2")["CBZT"] == "1").all()
    workers = unknown.filter((pl.col("si_months") > 0) & (pl.col("death_date") <= lag))
    assert (workers["CBZT"] == "2").mean() > 0.5  # type: ignore[operator]


def test_same_seed_same_bytes(
    feed_context: FeedContext, truth: pl.DataFrame, tmp_path: Path
) -> None:
    again = FeedContext(feed_context.cfg, feed_context.streams, feed_context.population, tmp_path)
    assert hr_social_security.write(again).equals(truth)
    for path in sorted((feed_context.out / FOLDER).glob("*.csv")):
        assert (tmp_path / FOLDER / path.name).read_bytes() == path.read_bytes()
