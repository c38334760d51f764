"""Checks every feed test shares: the truth rows are exactly the records in the files."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl

from hukou.synth.feeds.base import TRUTH_SCHEMA


def records_in(path: Path) -> int:
    """Records in a feed file: lines (or sheet rows) after the header or metadata line."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        return len(re.findall(r"<row ", sheet)) - 1
    data = path.read_bytes()
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1


def assert_truth_is_the_files(truth: pl.DataFrame, out: Path, folder: str, pattern: str) -> None:
    """One truth row per record of every file matching ``pattern``, positions 2, 3, … in order."""
    assert truth.schema == pl.Schema(TRUTH_SCHEMA)
    counts = dict(truth.group_by("file").len().iter_rows())
    files = {f"{folder}/{p.name}": records_in(p) for p in (out / folder).glob(pattern)}
    assert counts == files
    for file, positions in truth.group_by("file").agg("position").iter_rows():
        assert sorted(positions) == list(range(2, len(positions) + 2)), file
