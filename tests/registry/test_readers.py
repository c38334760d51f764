"""Readers find exactly the malformed lines the synthetic city made, in every format."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from hukou.registry.readers import (
    RawRecord,
    ReadError,
    detect_encoding,
    read_csv,
    read_jsonl,
    read_xlsx,
)
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reader-city")
    generate_city(CityConfig(population=5000, seed=8), out)
    return out


def _records(path: Path) -> list[RawRecord]:
    if path.suffix == ".csv":
        _header, _encoding, records = read_csv(path)
        return list(records)
    if path.suffix == ".jsonl":
        return list(read_jsonl(path, skip_lines=1))
    _header, rows = read_xlsx(path)
    return list(rows)


def test_every_record_read_and_malformed_lines_found(city: Path) -> None:
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    for path in sorted((city / "feeds").rglob("*.*")):
        file = path.relative_to(city).as_posix()
        expected = truth.filter(pl.col("file") == file)
        records = _records(path)
        assert [r.position for r in records] == sorted(expected["position"].to_list()), file
        malformed = set(
            expected.filter(pl.col("defects").str.contains("malformed_line"))["position"].to_list()
        )
        problems = {r.position for r in records if r.problem is not None}
        assert problems == malformed, file
        assert all(r.values is not None for r in records if r.problem is None)


def test_encodings_are_detected(city: Path) -> None:
    detected = {
        p.parent.name + "/" + p.name.split("_")[0]: read_csv(p)[1]
        for p in (city / "feeds").rglob("*.csv")
    }
    assert detected["public_security/hjdj"] == "gb18030"
    assert detected["hr_social_security/cbry"] == "utf-8-sig"
    assert detected["housing/zlba"] == "utf-8"
    assert detect_encoding(b"\x84\x31\x95\x33abc") == "gb18030"


def test_encoding_override_and_undecodable_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(
        "编号,姓名\n1,张三\n".encode("gbk") + b"2,\xff\xff\xff\n" + "3,李四\n".encode("gbk")
    )
    _header, used, records = read_csv(path, encoding="gbk")
    rows = list(records)
    assert used == "gbk"
    assert [r.position for r in rows] == [2, 3, 4]
    assert rows[0].values == {"编号": "1", "姓名": "张三"}
    assert rows[1].problem is not None
    assert "decode" in rows[1].problem
    assert rows[2].values == {"编号": "3", "姓名": "李四"}


def test_empty_cells_are_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1,\n", encoding="utf-8")
    assert next(read_csv(path)[2]).values == {"a": "1", "b": None}


def test_unreadable_files_raise(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ReadError, match="empty"):
        read_csv(empty)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a workbook")
    with pytest.raises(ReadError, match="not a readable workbook"):
        read_xlsx(fake)
