"""教育 学籍: every pupil, at a school where they live, in the API's formats, with a guardian."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hukou.standards import divisions, identity
from hukou.standards.codelists import ETHNICITY
from hukou.synth import facilities
from hukou.synth.feeds import education
from hukou.synth.feeds.base import TRUTH_SCHEMA, FeedContext
from hukou.synth.geography import DISTRICTS

_KEYS = [
    "student_no",
    "name",
    "gender",
    "birth",
    "ethnicity",
    "id_type",
    "id_no",
    "school_id",
    "school_name",
    "grade",
    "enrol_date",
    "hukou_location",
    "migrant_child",
    "guardian_name",
    "guardian_id",
    "guardian_phone",
    "home_address",
]
_GRADES = {"primary": range(1, 7), "junior": range(7, 10), "senior": range(10, 13)}
_DISTRICT_CODES = {d.code for d in DISTRICTS}

Row = tuple[dict[str, Any], dict[str, Any]]


def _file(ctx: FeedContext) -> str:
    return f"feeds/education/xueji_{ctx.cfg.year}.jsonl"


def _read(ctx: FeedContext, truth: pl.DataFrame) -> list[Row]:
    """(truth row, record) for every well-formed line, matched by line number."""
    assert set(truth["file"]) == {_file(ctx)}
    lines = (ctx.out / _file(ctx)).read_text(encoding="utf-8").split("\n")
    assert json.loads(lines[0]) == {"_export": "records", "_format": "jsonl"}
    lines = [line for line in lines[1:] if line]  # the header is line 1
    assert truth["position"].to_list() == list(range(2, len(lines) + 2))
    out = []
    for t in truth.iter_rows(named=True):
        if "malformed_line" in str(t["defects"]):
            with pytest.raises(json.JSONDecodeError):
                json.loads(lines[t["position"] - 2])
            continue
        record = json.loads(lines[t["position"] - 2])
        assert list(record) == _KEYS
        out.append((t, record))
    return out


@pytest.fixture(scope="module")
def truth(feed_context: FeedContext) -> pl.DataFrame:
    return education.write(feed_context)


@pytest.fixture(scope="module")
def rows(feed_context: FeedContext, truth: pl.DataFrame) -> list[Row]:
    return _read(feed_context, truth)


@pytest.fixture(scope="module")
def persons(feed_context: FeedContext) -> dict[str, dict[str, Any]]:
    return {row["person_id"]: row for row in feed_context.population.persons.iter_rows(named=True)}


@pytest.fixture(scope="module")
def schools(feed_context: FeedContext) -> dict[str, dict[str, Any]]:
    table, _ = facilities.school_assignment(
        feed_context.cfg, feed_context.streams, feed_context.population.persons
    )
    return {row["school_id"]: row for row in table.iter_rows(named=True)}


def _defects(t: dict[str, Any]) -> set[str]:
    return set(filter(None, str(t["defects"]).split(";")))


def _person(persons: dict[str, dict[str, Any]], pid: int) -> dict[str, Any]:
    return persons[f"P{pid:07d}"]


def test_truth_and_who_is_in_it(feed_context: FeedContext, truth: pl.DataFrame) -> None:
    assert truth.schema == pl.Schema(TRUTH_SCHEMA)
    assert truth["department"].unique().to_list() == ["education"]
    enrolled = feed_context.population.persons.filter(pl.col("enrolled"))
    assert enrolled.height > 100
    assert set(truth["person_id"]) == set(enrolled["person_id"])
    duplicates = truth["defects"].str.contains("duplicate_row").sum()
    assert truth.height == enrolled.height + duplicates
    assert truth["record_id"].str.contains(r"^[GJ]\d{17}[\dX]$").all()


def test_records_carry_the_api_formats(
    feed_context: FeedContext,
    rows: list[Row],
    persons: dict[str, dict[str, Any]],
    schools: dict[str, dict[str, Any]],
) -> None:
    snapshot = feed_context.cfg.snapshot_date
    short = {ETHNICITY.label(code).removesuffix("族") for code in ETHNICITY}
    for t, r in rows:
        person = persons[t["person_id"]]
        defects = _defects(t)
        assert r["student_no"] == t["record_id"] == "G" + person["identity_number"]
        assert r["gender"] == {"1": "M", "2": "F"}[person["sex"]]
        if "date_out_of_range" not in defects:
            birth = person["birth_date"]
            assert r["birth"] == f"{birth.year}/{birth.month}/{birth.day}"
        if "missing_field:ethnicity" not in defects:
            assert r["ethnicity"] in short
            assert r["ethnicity"] + "族" == ETHNICITY.label(person["ethnicity"])
        assert r["id_type"] == "居民身份证"
        school = schools[r["school_id"]]
        assert r["school_name"] == school["name"]
        assert school["division"] == person["actual_division"]
        assert school["level"] == person["school_level"]
        assert r["grade"] in _GRADES[person["school_level"]]
        enrolled_on = datetime.date.fromisoformat(r["enrol_date"])
        assert enrolled_on <= snapshot
        assert (enrolled_on.month, enrolled_on.day) == (9, 1) or enrolled_on == person[
            "actual_since"
        ]
        assert r["hukou_location"] == divisions.full_name(person["registered_division"], snapshot)
        assert r["migrant_child"] == ("Y" if person["status"] == "migrant" else "N")
        if "missing_field:home_address" not in defects:
            expected = (
                person["previous_address"] if "stale_address" in defects else person["address"]
            )
            assert r["home_address"] == expected
        if defects <= {"duplicate_row", "guardian_id_mistyped"}:
            assert r["id_no"] == person["identity_number"]
            assert identity.is_valid(r["id_no"])
            assert r["name"] == person["name"]


def test_grades_follow_age(
    feed_context: FeedContext, rows: list[Row], persons: dict[str, dict[str, Any]]
) -> None:
    year = feed_context.cfg.year
    exact = 0
    for t, r in rows:
        birth = persons[t["person_id"]]["birth_date"]
        entry = birth.year + 6 + (birth.month >= 9)
        exact += r["grade"] == year - entry + 1
        assert abs(r["grade"] - (year - entry + 1)) <= 1
    assert exact > 0.8 * len(rows)


def test_guardian_is_a_parent(rows: list[Row], persons: dict[str, dict[str, Any]]) -> None:
    mistyped = 0
    for t, r in rows:
        person = persons[t["person_id"]]
        head = _person(persons, person["head_pid"])
        parents = [head]
        if head["spouse_pid"] >= 0:
            parents.append(_person(persons, head["spouse_pid"]))
        defects = _defects(t)
        if "missing_field:guardian_name" not in defects:
            guardian = next(p for p in parents if p["name"] == r["guardian_name"])
        else:
            guardian = next(p for p in parents if p["phone"] == r["guardian_phone"])
        if "guardian_id_mistyped" in defects:
            mistyped += 1
            assert r["guardian_id"] != guardian["identity_number"]
            assert (
                sum(
                    a != b
                    for a, b in zip(r["guardian_id"], guardian["identity_number"], strict=True)
                )
                == 1
            )
            assert not identity.is_valid(
                r["guardian_id"]
            )  # one wrong digit always breaks the check
        else:
            assert r["guardian_id"] == guardian["identity_number"]
        if "missing_field:guardian_phone" not in defects:
            assert r["guardian_phone"] == guardian["phone"]
    assert mistyped < 0.05 * len(rows)


def test_semantic_defects_happen_at_their_rates(feed_context: FeedContext, tmp_path: Path) -> None:
    """Mistyped guardian IDs and impossible birth dates, made visible with all rates tenfold."""
    persons = feed_context.population.persons
    rates = dataclasses.replace(feed_context.cfg.defects, scale=10.0)
    ctx = dataclasses.replace(
        feed_context, cfg=dataclasses.replace(feed_context.cfg, defects=rates), out=tmp_path
    )
    truth = education.write(ctx)
    found = {
        kind: truth["defects"].str.contains(kind).sum()
        for kind in ("guardian_id_mistyped", "date_out_of_range")
    }
    pupils = persons["enrolled"].sum()
    assert 0 < found["guardian_id_mistyped"] < 0.3 * pupils
    assert 0 < found["date_out_of_range"] < 0.1 * pupils
    for t, r in _read(ctx, truth):
        if "date_out_of_range" in _defects(t):
            year, month, day = (int(part) for part in r["birth"].split("/"))
            if year == 2099:  # a date in the future
                continue
            assert month == 13 or day >= 30
            with pytest.raises(ValueError, match=r"out of range|must be in"):
                datetime.date(year, month, day)


def test_unregistered_children_are_enrolled_under_a_j_number(
    feed_context: FeedContext, tmp_path: Path
) -> None:
    persons = feed_context.population.persons
    # Flag a few enrolled native children as never registered (the small city may have none).
    chosen = persons.filter(pl.col("enrolled") & (pl.col("status") == "native")).head(5)["pid"]
    hidden = persons.with_columns(
        (pl.col("unregistered") | pl.col("pid").is_in(chosen.implode())).alias("unregistered")
    )
    ctx = dataclasses.replace(
        feed_context,
        population=dataclasses.replace(feed_context.population, persons=hidden),
        out=tmp_path,
    )
    truth = education.write(ctx)
    by_person = {
        pid: _person({p["person_id"]: p for p in hidden.iter_rows(named=True)}, pid)
        for pid in chosen
    }
    records = [(t, r) for t, r in _read(ctx, truth) if int(t["person_id"][1:]) in by_person]
    assert {int(t["person_id"][1:]) for t, _ in records} == set(chosen)
    for t, r in records:
        person = by_person[int(t["person_id"][1:])]
        number = r["student_no"]
        body = f"{person['actual_division']}{person['birth_date']:%Y%m%d}"
        assert re.fullmatch(rf"J{body}\d{{3}}[\dX]", number)
        assert number[-1] == identity.check_character(number[1:18])
        assert number[1:] != person["identity_number"]
        assert t["record_id"] == number
        assert r["id_type"] is None
        assert r["id_no"] is None
        assert r["hukou_location"] is None
        assert r["migrant_child"] == "N"
        assert r["school_id"] is not None


def test_files_are_byte_identical_for_the_same_seed(
    feed_context: FeedContext, truth: pl.DataFrame, tmp_path: Path
) -> None:
    again = dataclasses.replace(feed_context, out=tmp_path)
    assert education.write(again).equals(truth)
    assert (tmp_path / _file(feed_context)).read_bytes() == (
        feed_context.out / _file(feed_context)
    ).read_bytes()
