"""住建 rental registrations: who is listed, the platform's formats, stale leases."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import re
from pathlib import Path

import polars as pl
import pytest

from hukou.standards import identity
from hukou.synth.feeds import housing
from hukou.synth.feeds.base import TRUTH_SCHEMA, FeedContext
from hukou.synth.geography import DISTRICTS

_COLUMNS = [
    "contract_no",
    "lessee_name",
    "lessee_id_type",
    "lessee_id_no",
    "lessee_phone",
    "house_address",
    "district",
    "lease_start",
    "lease_end",
    "registered_at",
    "rent_yuan_month",
]
_CODE_OF = {d.name: d.code for d in DISTRICTS}


@pytest.fixture(scope="module")
def truth(feed_context: FeedContext) -> pl.DataFrame:
    return housing.write(feed_context)


@pytest.fixture(scope="module")
def persons(feed_context: FeedContext) -> dict[str, dict[str, object]]:
    return {row["person_id"]: row for row in feed_context.population.persons.iter_rows(named=True)}


@pytest.fixture(scope="module")
def rows(
    feed_context: FeedContext, truth: pl.DataFrame
) -> list[tuple[dict[str, object], dict[str, str]]]:
    """(truth row, file record) for every well-formed line, matched by line number."""
    name = f"feeds/housing/zlba_{feed_context.cfg.snapshot_date:%Y%m%d}.csv"
    assert set(truth["file"].to_list()) == {name}
    raw = (feed_context.out / name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM
    lines = raw.decode("utf-8").split("\r\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert next(csv.reader([lines[0]])) == _COLUMNS
    # One line per truth row, in order: positions are line numbers 2 … n + 1.
    assert truth["position"].to_list() == list(range(2, len(lines) + 1))
    out = []
    for t in truth.iter_rows(named=True):
        if "malformed_line" in t["defects"]:
            continue
        values = next(csv.reader([lines[t["position"] - 1]]))
        assert len(values) == len(_COLUMNS)
        out.append((t, dict(zip(_COLUMNS, values, strict=True))))
    return out


def _defects(t: dict[str, object]) -> set[str]:
    return set(filter(None, str(t["defects"]).split(";")))


def _date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def _plus_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def test_truth_schema(truth: pl.DataFrame) -> None:
    assert truth.schema == pl.Schema(TRUTH_SCHEMA)
    assert truth["department"].unique().to_list() == ["housing"]
    assert truth["record_id"].str.contains(r"^ZL-\d{6}-20\d\d-\d{7}$").all()


def test_who_is_listed(
    feed_context: FeedContext, truth: pl.DataFrame, persons: dict[str, dict[str, object]]
) -> None:
    for person_id in truth["person_id"].unique().to_list():
        person = persons[person_id]
        assert person["tenure"] == "rented"
        assert person["rental_registered"]
        birth = person["birth_date"]
        assert isinstance(birth, datetime.date)
        assert _plus_years(birth, 18) <= feed_context.cfg.snapshot_date  # no children
    # Nearly every renting household with a registered lease has its head listed.
    p = feed_context.population.persons
    heads = p.filter(
        (pl.col("role") == 0) & (pl.col("tenure") == "rented") & pl.col("rental_registered")
    )
    listed = set(truth["person_id"].to_list())
    assert heads.height > 50
    assert len(listed & set(heads["person_id"].to_list())) >= 0.9 * heads.height
    # Dormitories and people living elsewhere are not here.
    assert not listed & set(
        p.filter(pl.col("tenure").is_in(["dormitory", "elsewhere"]))["person_id"].to_list()
    )


def test_records_carry_the_platform_formats(
    feed_context: FeedContext,
    rows: list[tuple[dict[str, object], dict[str, str]]],
    persons: dict[str, dict[str, object]],
) -> None:
    snapshot = feed_context.cfg.snapshot_date
    assert len(rows) > 100
    for t, record in rows:
        defects = _defects(t)
        person = persons[str(t["person_id"])]
        assert record["contract_no"] == t["record_id"]
        if "missing_field:district" not in defects:
            assert (
                record["contract_no"][3:9]
                == _CODE_OF[record["district"]]
                == person["actual_division"]
            )
        if "missing_field:lessee_id_type" not in defects:
            assert record["lessee_id_type"] == "身份证"
        if "missing_field:lessee_phone" not in defects:
            assert record["lessee_phone"] == person["phone"]
            assert re.fullmatch(r"1\d{10}", record["lessee_phone"])
        registered = datetime.datetime.strptime(record["registered_at"], "%Y-%m-%d %H:%M:%S")
        assert registered.date() <= snapshot
        assert record["rent_yuan_month"].isdigit()
        assert int(record["rent_yuan_month"]) % 50 == 0
        if "date_out_of_range" in defects:
            continue
        start = _date(record["lease_start"])
        assert start <= registered.date() <= start + datetime.timedelta(days=91)
        if "missing_field:lease_end" not in defects:
            end = _date(record["lease_end"])
            assert end >= snapshot
            assert end + datetime.timedelta(days=1) in {_plus_years(start, y) for y in (1, 2, 3)}
        if defects <= {"duplicate_row", "death_not_known"}:
            assert record["lessee_id_no"] == person["identity_number"]
            assert identity.is_valid(record["lessee_id_no"])
            assert record["lessee_name"] == person["name"]
            assert record["house_address"] == person["address"]
            since = person["actual_since"]
            assert isinstance(since, datetime.date)
            if person["status"] != "native":
                # Moved in on the first lease's start; renewals every year or two.
                assert start in {_plus_years(since, years) for years in range(20)}
                if since.year == snapshot.year:
                    assert start == since


def test_stale_leases_are_old_leases_at_the_previous_address(
    feed_context: FeedContext,
    rows: list[tuple[dict[str, object], dict[str, str]]],
    persons: dict[str, dict[str, object]],
) -> None:
    snapshot = feed_context.cfg.snapshot_date
    stale = [(t, r) for t, r in rows if "stale_lease" in _defects(t)]
    assert stale
    current_contracts = {
        str(t["person_id"]): r["contract_no"] for t, r in rows if "stale_lease" not in _defects(t)
    }
    for t, record in stale:
        person = persons[str(t["person_id"])]
        assert person["status"] in ("intra_city", "migrant")
        assert record["house_address"] == person["previous_address"] != person["address"]
        since = person["actual_since"]
        assert isinstance(since, datetime.date)
        if "date_out_of_range" not in _defects(t):
            assert _date(record["lease_start"]) < since
        if "missing_field:lease_end" not in _defects(t):
            assert _date(record["lease_end"]) >= snapshot
        # A different contract from the one for the flat they live in now.
        assert current_contracts.get(str(t["person_id"])) != record["contract_no"]
    # Only a minority of records.
    assert len(stale) < 0.1 * len(rows)


def test_stale_addresses_and_deaths(
    rows: list[tuple[dict[str, object], dict[str, str]]], persons: dict[str, dict[str, object]]
) -> None:
    for t, record in rows:
        person = persons[str(t["person_id"])]
        defects = _defects(t)
        assert ("death_not_known" in defects) == (not person["alive"])
        if "stale_address" in defects:
            assert record["house_address"] == person["previous_address"] != person["address"]
            assert person["status"] != "native"


def test_files_are_byte_identical_for_the_same_seed(
    feed_context: FeedContext, truth: pl.DataFrame, tmp_path: Path
) -> None:
    again = dataclasses.replace(feed_context, out=tmp_path)
    assert housing.write(again).equals(truth)
    name = f"feeds/housing/zlba_{feed_context.cfg.snapshot_date:%Y%m%d}.csv"
    assert (tmp_path / name).read_bytes() == (feed_context.out / name).read_bytes()
