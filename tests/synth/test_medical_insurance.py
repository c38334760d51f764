"""医保: who is insured here, who filed 异地就医备案, the two systems' formats, late deaths."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import re
from pathlib import Path

import polars as pl
import pytest

from hukou.standards import identity
from hukou.synth import facilities
from hukou.synth.feeds import medical_insurance
from hukou.synth.feeds.base import TRUTH_SCHEMA, FeedContext
from hukou.synth.geography import DISTRICTS

_ENROLMENT = [
    "人员编号",
    "证件号码",
    "姓名",
    "性别",
    "出生日期",
    "险种类型",
    "参保地",
    "参保日期",
    "参保状态",
    "单位名称",
    "定点医疗机构",
    "联系电话",
]
_FILING = [
    "备案编号",
    "证件号码",
    "姓名",
    "参保地",
    "就医地",
    "备案类型",
    "备案日期",
    "居住地址",
    "联系电话",
]
_DISTRICT_CODES = {d.code for d in DISTRICTS}
_FOLDER = "feeds/medical_insurance"
_GB18030_BOM = b"\x84\x31\x95\x33"
_UTF8_BOM = b"\xef\xbb\xbf"

Row = tuple[dict[str, object], dict[str, str]]


@pytest.fixture(scope="module")
def truth(feed_context: FeedContext) -> pl.DataFrame:
    return medical_insurance.write(feed_context)


@pytest.fixture(scope="module")
def persons(feed_context: FeedContext) -> dict[str, dict[str, object]]:
    return {row["person_id"]: row for row in feed_context.population.persons.iter_rows(named=True)}


def _read(
    ctx: FeedContext, truth: pl.DataFrame, name: str, encoding: str, header: list[str]
) -> list[Row]:
    """(truth row, record) for every well-formed line of one file, matched by line number."""
    rows = truth.filter(pl.col("file") == f"{_FOLDER}/{name}")
    lines = (ctx.out / _FOLDER / name).read_bytes().decode(encoding).split("\r\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert next(csv.reader([lines[0]])) == header
    # One line per truth row, in order: the header is line 1.
    assert rows["position"].to_list() == list(range(2, len(lines) + 1))
    out = []
    for t in rows.iter_rows(named=True):
        if "malformed_line" in str(t["defects"]):
            continue
        values = next(csv.reader([lines[int(t["position"]) - 1]]))
        assert len(values) == len(header)
        out.append((t, dict(zip(header, values, strict=True))))
    return out


@pytest.fixture(scope="module")
def enrolment(feed_context: FeedContext, truth: pl.DataFrame) -> list[Row]:
    out = []
    for code in sorted(_DISTRICT_CODES):
        name = f"cbxx_{code}.csv"
        raw = (feed_context.out / _FOLDER / name).read_bytes()
        assert not raw.startswith((_GB18030_BOM, _UTF8_BOM))  # GB18030, no BOM
        rows = _read(feed_context, truth, name, "gb18030", _ENROLMENT)
        assert {r["参保地"] for _, r in rows} == {code}  # one file per 参保地
        out += rows
    return out


@pytest.fixture(scope="module")
def filings(feed_context: FeedContext, truth: pl.DataFrame) -> list[Row]:
    raw = (feed_context.out / _FOLDER / "ydjy_ba.csv").read_bytes()
    assert raw.startswith(_UTF8_BOM)
    return _read(feed_context, truth, "ydjy_ba.csv", "utf-8-sig", _FILING)


def _defects(t: dict[str, object]) -> set[str]:
    return set(filter(None, str(t["defects"]).split(";")))


def test_truth_and_files(feed_context: FeedContext, truth: pl.DataFrame) -> None:
    assert truth.schema == pl.Schema(TRUTH_SCHEMA)
    assert truth["department"].unique().to_list() == ["medical_insurance"]
    files = {f"{_FOLDER}/cbxx_{code}.csv" for code in _DISTRICT_CODES} | {f"{_FOLDER}/ydjy_ba.csv"}
    assert set(truth["file"].unique()) == files
    assert {p.name for p in (feed_context.out / _FOLDER).iterdir()} == {
        f.rsplit("/", 1)[1] for f in files
    }
    # Truth rows == records: one line per row after the header, in every file.
    for name, count in truth.group_by("file").len().iter_rows():
        assert (feed_context.out / name).read_bytes().count(b"\r\n") == count + 1
    enrol = truth.filter(pl.col("file").str.contains("cbxx"))
    assert enrol["record_id"].str.contains(r"^320500\d{14}$").all()
    filed = truth.filter(pl.col("file").str.ends_with("ydjy_ba.csv"))
    assert filed["record_id"].str.contains(r"^YD20\d{6}\d{6}$").all()


def test_who_is_in_each_file(feed_context: FeedContext, truth: pl.DataFrame) -> None:
    p = feed_context.population.persons
    snapshot = feed_context.cfg.snapshot_date
    insured_here = p.filter(
        pl.col("medical_insured")
        & pl.col("medical_local")
        & ~pl.col("unregistered")
        & (pl.col("birth_date") <= snapshot - datetime.timedelta(days=45))
    )
    enrol = truth.filter(pl.col("file").str.contains("cbxx"))
    assert set(enrol["person_id"]) == set(insured_here["person_id"])
    assert (
        enrol.height - enrol["person_id"].n_unique()
        == enrol["defects"].str.contains("duplicate_row").sum()
    )
    filed = truth.filter(pl.col("file").str.ends_with("ydjy_ba.csv"))
    assert set(filed["person_id"]) == set(p.filter(pl.col("cross_region_medical"))["person_id"])
    assert filed.height > 30
    # Insured at home (migrants), or never registered, or moved away: not in 参保信息.
    assert not set(enrol["person_id"]) & set(
        p.filter(
            ~pl.col("medical_local") | pl.col("unregistered") | (pl.col("status") == "out_migrant")
        )["person_id"]
    )


def test_enrolment_records(
    feed_context: FeedContext, enrolment: list[Row], persons: dict[str, dict[str, object]]
) -> None:
    assert len(enrolment) > 1000
    p = feed_context.population.persons
    clinic_ids = set(facilities.clinics(feed_context.cfg, feed_context.streams, p)["clinic_id"])
    for t, r in enrolment:
        person = persons[str(t["person_id"])]
        defects = _defects(t)
        assert r["人员编号"] == t["record_id"]
        employee = person["medical_scheme"] == "employee"
        assert r["险种类型"] == ("职工基本医疗保险" if employee else "城乡居民基本医疗保险")
        assert r["参保地"] == (
            person["employer_division"] if employee else person["registered_division"]
        )
        assert r["单位名称"] == (person["employer_name"] if employee else "")
        assert (r["定点医疗机构"] in clinic_ids) if not employee else r["定点医疗机构"] == ""
        assert re.fullmatch(r"(19|20)\d\d\.\d\d\.\d\d", r["参保日期"])
        assert r["参保日期"] <= f"{feed_context.cfg.snapshot_date:%Y.%m.%d}"
        assert r["参保状态"] in {"参保缴费", "暂停", "终止"}
        if "missing_field:性别" not in defects:
            assert r["性别"] == person["sex"]
        if "missing_field:联系电话" not in defects:
            head = persons[f"P{int(str(person['head_pid'])):07d}"]
            assert r["联系电话"] == (person["phone"] or head["phone"])
            assert re.fullmatch(r"1\d{10}", r["联系电话"])
        if not defects & {"missing_field:出生日期", "date_out_of_range"}:
            assert r["出生日期"] == f"{person['birth_date']:%Y.%m.%d}"
        if defects <= {"duplicate_row", "death_not_known"}:
            assert r["证件号码"] == person["identity_number"]
            assert identity.is_valid(r["证件号码"])
            assert r["姓名"] == person["name"]


def test_deaths_are_learnt_late(
    feed_context: FeedContext, enrolment: list[Row], persons: dict[str, dict[str, object]]
) -> None:
    recent = feed_context.cfg.snapshot_date - datetime.timedelta(days=60)
    dead = [(t, r) for t, r in enrolment if not persons[str(t["person_id"])]["alive"]]
    assert dead
    for t, r in enrolment:
        person = persons[str(t["person_id"])]
        unknown = "death_not_known" in _defects(t)
        if person["alive"]:
            assert not unknown
            assert r["参保状态"] != "终止"
        else:
            # Either recorded (终止) or still read as insured, with the defect.
            assert unknown == (r["参保状态"] != "终止")
            death = person["death_date"]
            assert isinstance(death, datetime.date)
            if death >= recent:
                assert unknown
    terminated = sum(r["参保状态"] == "终止" for _, r in dead)
    assert 0 < terminated < len(dead)


def test_filing_records(
    feed_context: FeedContext, filings: list[Row], persons: dict[str, dict[str, object]]
) -> None:
    snapshot = feed_context.cfg.snapshot_date
    for t, r in filings:
        person = persons[str(t["person_id"])]
        defects = _defects(t)
        assert r["参保地"] == person["registered_division"] not in _DISTRICT_CODES
        assert r["就医地"] == person["actual_division"] in _DISTRICT_CODES
        assert r["备案类型"] in {"异地长期居住", "常驻异地工作"}
        match = re.fullmatch(r"(\d{4})年([1-9]\d?)月([1-9]\d?)日", r["备案日期"])
        assert match
        filed = datetime.date(*(int(g) for g in match.groups()))
        assert r["备案编号"].startswith(f"YD{filed:%Y%m%d}")
        since = person["actual_since"]
        assert isinstance(since, datetime.date)
        assert max(since, datetime.date(2017, 1, 1)) <= filed <= snapshot
        assert ("death_not_known" in defects) == (not person["alive"])
        if "stale_address" in defects:
            assert r["居住地址"] == person["previous_address"] != person["address"]
        elif "missing_field:居住地址" not in defects:
            assert r["居住地址"] == person["address"]
        if defects <= {"duplicate_row", "death_not_known"}:
            assert r["证件号码"] == person["identity_number"]
            assert identity.is_valid(r["证件号码"])
            assert r["姓名"] == person["name"]
    # Filed soon after arriving or when the national platform opened, in date order.
    dates = [r["备案编号"][2:10] for _, r in filings]
    assert dates == sorted(dates)


def test_files_are_byte_identical_for_the_same_seed(
    feed_context: FeedContext, truth: pl.DataFrame, tmp_path: Path
) -> None:
    again = dataclasses.replace(feed_context, out=tmp_path)
    assert medical_insurance.write(again).equals(truth)
    for name in truth["file"].unique().to_list():
        assert (tmp_path / name).read_bytes() == (feed_context.out / name).read_bytes()
