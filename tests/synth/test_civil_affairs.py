"""民政 feeds: marriages, deaths and the elderly-subsidy roster, as XLSX."""

from __future__ import annotations

import dataclasses
import datetime
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import polars as pl
import pytest

from hukou.standards import identity
from hukou.standards.codelists import ETHNICITY, education_code
from hukou.synth.feeds import civil_affairs
from hukou.synth.feeds.base import TRUTH_SCHEMA, FeedContext
from hukou.synth.geography import DISTRICTS

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DISTRICT_NAMES = {d.code: d.name for d in DISTRICTS}


def _read_xlsx(path: Path) -> tuple[list[str], dict[int, dict[str, object]]]:
    """Header and rows (by sheet row number) of the first sheet, without a spreadsheet library."""
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows: dict[int, dict[str, object]] = {}
    for row in root.iter(f"{_NS}row"):
        cells: dict[str, object] = {}
        for cell in row.iter(f"{_NS}c"):
            match = re.match(r"[A-Z]+", cell.get("r", ""))
            assert match is not None
            if cell.get("t") == "inlineStr":
                cells[match.group()] = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
            else:
                value = cell.find(f"{_NS}v")
                assert value is not None
                assert value.text is not None
                cells[match.group()] = float(value.text)
        rows[int(row.get("r", "0"))] = cells
    header_cells = rows.pop(1)
    header = [str(header_cells[k]) for k in sorted(header_cells, key=lambda c: (len(c), c))]
    letters = sorted(header_cells, key=lambda c: (len(c), c))
    named = {
        r: {header[letters.index(k)]: v for k, v in cells.items()} for r, cells in rows.items()
    }
    return header, named


def _serial(day: datetime.date) -> int:
    return (day - _EXCEL_EPOCH).days


@pytest.fixture(scope="module")
def truth(feed_context: FeedContext) -> pl.DataFrame:
    return civil_affairs.write(feed_context)


@pytest.fixture(scope="module")
def persons(feed_context: FeedContext) -> dict[int, dict[str, object]]:
    return {row["pid"]: row for row in feed_context.population.persons.iter_rows(named=True)}


def _sheet(
    ctx: FeedContext, truth: pl.DataFrame, stem: str
) -> tuple[list[str], list[tuple[dict[str, object], dict[str, object]]]]:
    """(header, [(truth row, file row)]) of one file, checking that they match one to one."""
    name = f"feeds/civil_affairs/{stem}_{ctx.cfg.year}.xlsx"
    header, rows = _read_xlsx(ctx.out / name)
    mine = truth.filter(pl.col("file") == name)
    assert mine.height == len(rows) > 0
    assert sorted(mine["position"].to_list()) == sorted(rows) == list(range(2, len(rows) + 2))
    return header, [(t, rows[t["position"]]) for t in mine.iter_rows(named=True)]


def _pid(person_id: str) -> int:
    return int(person_id[1:])


def test_truth_schema_and_no_malformed_lines(truth: pl.DataFrame) -> None:
    assert truth.schema == pl.Schema(TRUTH_SCHEMA)
    assert truth["department"].unique().to_list() == ["civil_affairs"]
    assert not truth["defects"].str.contains("malformed_line").any()


def test_files_are_byte_identical_for_the_same_seed(
    feed_context: FeedContext, truth: pl.DataFrame, tmp_path: Path
) -> None:
    again = dataclasses.replace(feed_context, out=tmp_path)
    assert civil_affairs.write(again).equals(truth)
    for stem in ("hydj", "swdj", "ylfw"):
        name = f"feeds/civil_affairs/{stem}_{feed_context.cfg.year}.xlsx"
        assert (tmp_path / name).read_bytes() == (feed_context.out / name).read_bytes()


def test_marriage_registrations(
    feed_context: FeedContext, truth: pl.DataFrame, persons: dict[int, dict[str, object]]
) -> None:
    header, rows = _sheet(feed_context, truth, "hydj")
    assert header == [
        "登记证字号",
        "登记类型",
        "登记日期",
        "当事人",
        "性别",
        "身份证件号码",
        "出生日期",
        "民族",
        "文化程度",
        "婚前婚姻状况",
        "户籍所在地",
        "登记机关",
    ]
    parties: dict[str, set[int]] = {}
    ethnic = {ETHNICITY.label(code) for code in ETHNICITY}
    for t, row in rows:
        person = persons[_pid(t["person_id"])]
        certificate = str(row["登记证字号"])
        assert t["record_id"] == certificate
        match = re.fullmatch(r"J(\d{6})-2025-(\d{6})", certificate)
        assert match is not None
        assert match.group(1) in _DISTRICT_NAMES
        registry = _DISTRICT_NAMES[match.group(1)]
        assert row["登记机关"] in (f"苏州市{registry}民政局", f"{registry}民政局")
        parties.setdefault(certificate, set()).add(_pid(t["person_id"]))
        assert row["登记类型"] == "结婚登记"
        assert row["性别"] == {"1": "男", "2": "女"}[str(person["sex"])]
        assert row["婚前婚姻状况"] in ("未婚", "离婚", "丧偶")
        assert isinstance(row["登记日期"], float)
        if t["defects"] == "" or t["defects"] == "duplicate_row":
            assert row["身份证件号码"] == person["identity_number"]
            assert identity.is_valid(str(row["身份证件号码"]))
            assert row["当事人"] == person["name"]
            birth = person["birth_date"]
            assert isinstance(birth, datetime.date)
            assert row["出生日期"] == f"{birth.year}年{birth.month:02d}月{birth.day:02d}日"
            assert row["民族"] in ethnic
            assert education_code(str(row["文化程度"])) == person["education"]
            assert (
                str(row["户籍所在地"]).startswith("江苏省苏州市") or person["status"] == "migrant"
            )
    # Both parties of each marriage, spouses of each other, one man and one woman.
    for certificate, pids in parties.items():
        assert len(pids) == 2, certificate
        a, b = sorted(pids)
        assert persons[a]["spouse_pid"] == b
        assert persons[b]["spouse_pid"] == a
        assert {persons[a]["sex"], persons[b]["sex"]} == {"1", "2"}
        assert persons[a]["married_in_year"] or persons[b]["married_in_year"]
        day = persons[a]["marriage_date"] or persons[b]["marriage_date"]
        assert isinstance(day, datetime.date)
        head = persons[a] if persons[a]["role"] == 0 else persons[b]
        # Migrants could only marry here once registration went nationwide.
        assert head["status"] != "migrant" or day >= datetime.date(2025, 5, 10)
    dates = {str(row["登记证字号"]): row["登记日期"] for _, row in rows}
    for certificate, pids in parties.items():
        day = next(
            persons[pid]["marriage_date"] for pid in sorted(pids) if persons[pid]["married_in_year"]
        )
        assert isinstance(day, datetime.date)
        assert dates[certificate] == _serial(day)


def test_marriages_of_suzhou_couples_are_mostly_registered(
    feed_context: FeedContext, truth: pl.DataFrame
) -> None:
    p = feed_context.population.persons
    flagged = p.filter(pl.col("married_in_year") & pl.col("status").is_in(["native", "intra_city"]))
    couples = set(flagged["head_pid"].to_list())
    in_feed = set(
        p.filter(
            pl.col("person_id").is_in(
                truth.filter(pl.col("file").str.contains("hydj"))["person_id"].implode()
            )
        )["head_pid"].to_list()
    )
    assert len(couples) > 10
    assert len(couples & in_feed) / len(couples) > 0.8


def test_death_registrations(
    feed_context: FeedContext, truth: pl.DataFrame, persons: dict[int, dict[str, object]]
) -> None:
    header, rows = _sheet(feed_context, truth, "swdj")
    assert header == [
        "死亡证明编号",
        "姓名",
        "性别",
        "身份证号",
        "死亡日期",
        "死亡地点",
        "火化证明编号",
    ]
    snapshot = feed_context.cfg.snapshot_date
    for t, row in rows:
        person = persons[_pid(t["person_id"])]
        death = person["death_date"]
        assert isinstance(death, datetime.date)
        assert not person["alive"]
        assert person["actual_division"] in _DISTRICT_NAMES
        assert row["死亡日期"] == _serial(death) <= _serial(snapshot)
        assert re.fullmatch(rf"{person['actual_division']}-2025-\d{{6}}", str(row["死亡证明编号"]))
        assert t["record_id"] == row["死亡证明编号"]
        cremation = row.get("火化证明编号")
        assert cremation is None or re.fullmatch(r"HH\d{4}2025\d{5}", str(cremation))
        if t["defects"] in ("", "duplicate_row"):
            assert row["身份证号"] == person["identity_number"]
            assert row["姓名"] == person["name"]
            assert row["性别"] == {"1": "男", "2": "女"}[str(person["sex"])]
            assert row["死亡地点"] == _DISTRICT_NAMES[str(person["actual_division"])]
    # Most deaths in the city, none of the people living elsewhere.
    p = feed_context.population.persons
    in_city = p.filter(
        pl.col("death_date").is_not_null() & pl.col("actual_division").is_in(list(_DISTRICT_NAMES))
    )
    reported = {t["person_id"] for t, _ in rows}
    assert reported <= set(in_city["person_id"].to_list())
    assert len(reported) >= 0.8 * in_city.height


def test_elderly_roster(
    feed_context: FeedContext, truth: pl.DataFrame, persons: dict[int, dict[str, object]]
) -> None:
    header, rows = _sheet(feed_context, truth, "ylfw")
    assert header == [
        "服务对象姓名",
        "身份证号码",
        "年龄",
        "服务类型",
        "补贴金额",
        "所属区",
        "居住地址",
    ]
    types = set()
    for t, row in rows:
        person = persons[_pid(t["person_id"])]
        birth = person["birth_date"]
        assert isinstance(birth, datetime.date)
        assert person["status"] in ("native", "intra_city")
        age = 2025 - birth.year
        types.add(row["服务类型"])
        if "missing_field:年龄" not in str(t["defects"]):
            assert row["年龄"] == age >= 60
        if row["服务类型"] == "高龄津贴":
            assert age >= 80
            assert row["补贴金额"] == (1000 if age >= 100 else 300 if age >= 90 else 100)
        else:
            assert row["服务类型"] == "居家养老服务补贴"
            assert row["补贴金额"] in (200, 300, 400)
        assert row["所属区"] == _DISTRICT_NAMES[str(person["actual_division"])]
        assert ("death_not_known" in str(t["defects"])) == (not person["alive"])
        if "stale_address" in str(t["defects"]):
            assert row["居住地址"] == person["previous_address"] != person["address"]
        elif "missing_field:居住地址" not in str(t["defects"]):
            assert row["居住地址"] == person["address"]
        if t["defects"] in ("", "duplicate_row"):
            assert row["身份证号码"] == person["identity_number"]
            assert row["服务对象姓名"] == person["name"]
    assert types == {"高龄津贴", "居家养老服务补贴"}
    eligible = {
        pid
        for pid, p in persons.items()
        if p["status"] in ("native", "intra_city")
        and p["alive"]
        and p["birth_date"] <= datetime.date(1945, 12, 31)
    }
    listed = {_pid(t["person_id"]) for t, row in rows if row["服务类型"] == "高龄津贴"}
    assert len(eligible) > 20
    assert len(listed & eligible) >= 0.9 * len(eligible)


def test_recent_deaths_stay_on_the_subsidy_roster(
    feed_context: FeedContext, tmp_path: Path
) -> None:
    """Elderly who died days ago are still listed (the roster lags), flagged death_not_known."""
    p = feed_context.population.persons
    old = (pl.col("birth_date") <= datetime.date(1945, 1, 1)) & pl.col("status").is_in(
        ["native", "intra_city"]
    )
    recent = feed_context.cfg.snapshot_date - datetime.timedelta(days=3)
    dead = p.with_columns(
        pl.when(old).then(pl.lit(recent)).otherwise(pl.col("death_date")).alias("death_date"),
        pl.when(old).then(pl.lit(value=False)).otherwise(pl.col("alive")).alias("alive"),
    )
    ctx = dataclasses.replace(
        feed_context,
        population=dataclasses.replace(feed_context.population, persons=dead),
        out=tmp_path,
    )
    truth = civil_affairs.write(ctx)
    roster = truth.filter(pl.col("file").str.contains("ylfw"))
    killed = set(dead.filter(old)["person_id"].to_list())
    assert len(killed) > 20
    flagged = set(
        roster.filter(pl.col("defects").str.contains("death_not_known"))["person_id"].to_list()
    )
    # Three days is too soon for the roster to hear of a death: most are still on it, flagged.
    assert flagged == killed & set(roster["person_id"].to_list())
    assert len(flagged) >= 0.7 * len(killed)
    # The death register already knows some of them (reports take days to arrive).
    deaths = set(truth.filter(pl.col("file").str.contains("swdj"))["person_id"].to_list())
    assert 0 < len(deaths & killed) < len(killed)


def test_migrants_marry_here_only_after_nationwide_registration(
    feed_context: FeedContext, tmp_path: Path
) -> None:
    """Make every couple a migrant couple: none registers here before 2025-05-10, some after."""
    in_city = pl.col("actual_division").is_in(list(_DISTRICT_NAMES))
    p = feed_context.population.persons.with_columns(
        pl.when(in_city).then(pl.lit("migrant")).otherwise(pl.col("status")).alias("status")
    )
    ctx = dataclasses.replace(
        feed_context,
        population=dataclasses.replace(feed_context.population, persons=p),
        out=tmp_path,
    )
    truth = civil_affairs.write(ctx)
    _, rows = _sheet(ctx, truth, "hydj")
    people = {row["person_id"]: row for row in p.iter_rows(named=True)}
    migrants = [(t, row) for t, row in rows if people[t["person_id"]]["status"] == "migrant"]
    nationwide = _serial(datetime.date(2025, 5, 10))
    assert len(migrants) >= 4
    for t, row in migrants:
        assert isinstance(row["登记日期"], float)
        assert row["登记日期"] >= nationwide
        # They marry where they live.
        head = people[f"P{people[t['person_id']]['head_pid']:07d}"]
        assert str(row["登记证字号"])[1:7] == head["actual_division"]
