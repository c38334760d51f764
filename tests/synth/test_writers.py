"""Writers: encodings, positions, malformed lines, deterministic bytes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hukou.synth.writers import FileFormat, write_records

FRAME = pl.DataFrame(
    {
        "编号": [f"R{i:04d}" for i in range(500)],
        "姓名": ["买买提·艾力", "張偉", "李静"] * 166 + ["王丽", "刘洋"],
        "金额": list(range(500)),
    }
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_round_trips_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "f.csv"
    written = write_records(
        FRAME,
        path,
        FileFormat("csv", encoding=encoding),
        malformed_rate=0.0,
        rng=np.random.default_rng(1),
        chunk_rows=120,
    )
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    text = raw.decode(encoding)
    back = pl.read_csv(text.encode("utf-8"), schema=FRAME.schema)
    assert back.equals(FRAME)
    lines = text.split("\r\n")
    assert written.positions.tolist() == list(range(2, 502))
    assert lines[written.positions[10] - 1].startswith("R0010,")


def test_malformed_lines_are_where_the_writer_says(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    written = write_records(
        FRAME,
        path,
        FileFormat("csv", encoding="gbk"),
        malformed_rate=0.05,
        rng=np.random.default_rng(2),
        chunk_rows=100,
    )
    lines = path.read_bytes().decode("gbk").split("\r\n")
    bad = set(np.flatnonzero(written.malformed).tolist())
    assert bad
    for index in range(FRAME.height):
        line = lines[written.positions[index] - 1]
        expected = f"R{index:04d},{FRAME['姓名'][index]},{index}"
        assert (line != expected) == (index in bad)


def test_jsonl_has_a_header_line_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    written = write_records(
        FRAME, path, FileFormat("jsonl"), malformed_rate=0.02, rng=np.random.default_rng(3)
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["_format"] == "jsonl"
    for index in range(FRAME.height):
        line = lines[written.positions[index] - 1]
        if written.malformed[index]:
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        else:
            assert json.loads(line)["编号"] == f"R{index:04d}"


def test_same_input_same_bytes(tmp_path: Path) -> None:
    for fmt in (FileFormat("csv", encoding="gb18030"), FileFormat("xlsx"), FileFormat("jsonl")):
        first, second = tmp_path / "a" / f"f.{fmt.kind}", tmp_path / "b" / f"f.{fmt.kind}"
        for path in (first, second):
            write_records(FRAME, path, fmt, malformed_rate=0.01, rng=np.random.default_rng(9))
        assert first.read_bytes() == second.read_bytes(), fmt.kind


def test_xlsx_never_malformed(tmp_path: Path) -> None:
    written = write_records(
        FRAME,
        tmp_path / "f.xlsx",
        FileFormat("xlsx"),
        malformed_rate=1.0,
        rng=np.random.default_rng(1),
    )
    assert not written.malformed.any()
    assert written.positions[0] == 2
