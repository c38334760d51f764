"""税务 个人所得税 feed: who is in it, its keys and formats, its defects, its truth."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import polars as pl
import pytest
from stdnum.cn import uscc

from hukou.synth.feeds import tax
from hukou.synth.feeds.base import FeedContext
from hukou.synth.geography import DISTRICTS
from hukou.synth.iit import tax_on
from tests.synth.feedcheck import assert_truth_is_the_files

KEYS = [
    "record_id", "taxpayer_id", "id_type", "name", "tax_year", "tax_period", "income_item",
    "income", "basic_deduction", "special_deduction", "tax_paid", "withholding_agent",
    "withholding_agent_code", "tax_office", "declared_at", "credit_flag",
]  # fmt: skip
FOLDER = Path("feeds") / tax.DEPARTMENT
OFFICES = {f"1{d.code}0000" for d in DISTRICTS}


def read_feed(out: Path) -> pl.DataFrame:
    """Every parseable record of every file, with its file and line number."""
    rows = []
    for path in sorted((out / FOLDER).glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").split("\n")
        assert json.loads(lines[0]) == {"_export": "records", "_format": "jsonl"}
        for number, line in enumerate(lines[1:], start=2):
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            assert list(record) == KEYS
            rows.append({"file": f"{FOLDER.as_posix()}/{path.name}", "position": number, **record})
    return pl.DataFrame(rows, infer_schema_length=None)


@pytest.fixture(scope="module")
def truth(feed_context: FeedContext) -> pl.DataFrame:
    return tax.write(feed_context)


@pytest.fixture(scope="module")
def feed(truth: pl.DataFrame, feed_context: FeedContext) -> pl.DataFrame:
    persons = feed_context.population.persons
    return (
        read_feed(feed_context.out)
        .join(truth, on=["file", "position"], how="left")
        .join(persons, on="person_id", how="left")
    )


def test_truth_rows_are_the_file_records(truth: pl.DataFrame, feed_context: FeedContext) -> None:
    assert_truth_is_the_files(truth, feed_context.out, FOLDER.as_posix(), "*.jsonl")
    assert truth["record_id"].null_count() == 0
    single = truth.filter(~pl.col("defects").str.contains("duplicate_row"))
    assert single["record_id"].is_unique().all()
    assert single["person_id"].is_unique().all()


def test_one_file_per_tax_office(truth: pl.DataFrame, feed: pl.DataFrame) -> None:
    names = {Path(f).name for f in truth["file"].unique()}
    assert names <= {f"iit_2025_{office}.jsonl" for office in OFFICES}
    assert len(names) >= 5
    assert (feed["file"].str.extract(r"iit_2025_(\d{11})") == feed["tax_office"]).all()
    assert (feed["tax_office"] == "1" + feed["employer_division"] + "0000").all()


def test_who_is_declared(truth: pl.DataFrame, feed_context: FeedContext) -> None:
    persons = feed_context.population.persons
    in_feed = set(truth["person_id"])
    earners = persons.filter(pl.col("employed") & (pl.col("annual_income") > 0))
    assert in_feed <= set(earners["person_id"])
    # Everyone employed since before the year and alive past October has a declaration.
    steady = earners.filter(
        (pl.col("si_start") < datetime.date(2025, 1, 1))
        & (pl.col("death_date").is_null() | (pl.col("death_date") >= datetime.date(2025, 11, 1)))
    )
    assert set(steady["person_id"]) <= in_feed
    # Only some who started in October or November are missing: their month is not
    # declared yet (or they died before the month they started in).
    missing = earners.filter(~pl.col("person_id").is_in(in_feed))
    died_first = pl.col("death_date") < pl.col("si_start").dt.month_start()
    assert missing.filter(
        (pl.col("si_start") < datetime.date(2025, 10, 1)) & ~died_first.fill_null(False)
    ).is_empty()
    assert len(in_feed) > 0.95 * earners.height


def test_keys_and_formats(feed: pl.DataFrame) -> None:
    assert feed.height > 1000
    assert feed["record_id"].str.contains(r"^2025\d{6}\d{9}$").all()
    assert (feed["id_type"] == "居民身份证").all()
    assert (feed["tax_year"] == 2025).all()
    assert set(feed["tax_period"]) <= {"2025-10", *(f"2025-{m:02d}" for m in range(1, 12))}
    assert (feed["income_item"] == "正常工资薪金所得").all()
    assert set(feed["tax_office"]) <= OFFICES
    assert all(uscc.is_valid(code) for code in feed["withholding_agent_code"].drop_nulls())
    assert feed["declared_at"].str.contains(r"^2025-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$").all()
    declared = feed["declared_at"].str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S")
    month = feed["tax_period"].str.slice(5, 2).cast(pl.Int32)
    assert (declared.dt.month() == month + 1).all(), "filed the month after the period"
    assert (declared.dt.date() <= datetime.date(2025, 12, 31)).all()
    assert (declared.dt.hour() >= 8).all()
    for column in ("income", "special_deduction", "tax_paid"):
        values = feed[column].drop_nulls()
        assert ((values * 100).round(6) % 1 == 0).all(), f"{column} in yuan and fen"
    assert (feed["tax_paid"] <= 0.45 * feed["income"]).drop_nulls().all()
    assert set(feed["credit_flag"].drop_nulls()) <= {"重大税收违法失信主体"}


def test_one_declaration_per_agent(feed: pl.DataFrame) -> None:
    """An employer files for all its employees at once: one period and one timestamp."""
    alive = feed.filter(pl.col("death_date").is_null())
    per_agent = alive.group_by("employer_code").agg(
        pl.col("declared_at").n_unique(), pl.col("tax_period").n_unique()
    )
    assert (per_agent["declared_at"] == 1).all()
    assert (per_agent["tax_period"] == 1).all()
    late = alive.filter(pl.col("declared_at").str.slice(8, 2).cast(pl.Int32) > 15)
    assert late["employer_code"].n_unique() < 0.1 * alive["employer_code"].n_unique()


def test_clean_records_carry_the_truth(feed: pl.DataFrame) -> None:
    clean = feed.filter(pl.col("defects") == "")
    assert clean.height > 0.85 * feed.height
    assert (clean["taxpayer_id"] == clean["identity_number"]).all()
    assert (clean["name"] == clean["name_right"]).all()
    assert (clean["withholding_agent"] == clean["employer_name"]).all()
    assert (clean["withholding_agent_code"] == clean["employer_code"]).all()
    assert (clean["credit_flag"].is_not_null() == clean["tax_violation"]).all()
    # Year-to-date figures: months declared times a twelfth of the annual income.
    period = clean["tax_period"].str.slice(5, 2).cast(pl.Int64)
    first = (
        pl.when(clean["si_start"] >= datetime.date(2025, 1, 1))
        .then(clean["si_start"].dt.month())
        .otherwise(1)
    )
    months = period - pl.select(first).to_series() + 1
    assert (months >= 1).all()
    assert (clean["basic_deduction"] == 5000 * months).all()
    expected = clean["annual_income"] * months / 12
    assert ((clean["income"] - expected).abs() <= 0.01).all()
    assert ((clean["special_deduction"] - 0.105 * clean["income"]).abs() <= 0.01).all()


def test_deaths_stop_the_declarations(feed: pl.DataFrame) -> None:
    dead = feed.filter(pl.col("death_date").is_not_null())
    period = dead["tax_period"].str.slice(5, 2).cast(pl.Int32)
    assert (period <= dead["death_date"].dt.month()).all()
    assert not feed["defects"].str.contains("death_not_known").any(), "no status to be wrong"


def test_tax_follows_the_withholding_table() -> None:
    taxable = pl.Series([0.0, 36_000, 36_001, 144_000, 500_000, 1_000_000]).to_numpy()
    assert list(tax_on(taxable)) == [0, 1080, 1080.1, 11880, 97080, 268080]


def test_generic_defects_occur(truth: pl.DataFrame, feed: pl.DataFrame) -> None:
    defects = truth["defects"].str.split(";").explode()
    kinds = set(defects.str.replace(r":.*", ""))
    assert {"duplicate_row", "missing_field"} <= kinds
    assert "id_legacy_15" not in kinds, "the e-tax system only takes 18-digit numbers"
    assert not kinds & {"stale_address", "date_out_of_range"}
    share = int((truth["defects"] != "").sum()) / truth.height
    assert 0.005 < share < 0.08
    missing = feed.filter(pl.col("defects").str.contains("missing_field:income"))
    assert missing["income"].is_null().all(), "an empty field is a JSON null"


def test_same_seed_same_bytes(
    feed_context: FeedContext, truth: pl.DataFrame, tmp_path: Path
) -> None:
    again = FeedContext(feed_context.cfg, feed_context.streams, feed_context.population, tmp_path)
    assert tax.write(again).equals(truth)
    for path in sorted((feed_context.out / FOLDER).glob("*.jsonl")):
        assert (tmp_path / FOLDER / path.name).read_bytes() == path.read_bytes()
