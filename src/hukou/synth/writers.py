"""Deterministic writers for department files: CSV in four encodings, XLSX, JSON Lines.

Same records, same bytes: no timestamps, no random ordering, fixed XLSX document
properties. Text is written chunk by chunk, so a million-row feed is never held as
one string. A few lines can be made malformed (the ``malformed_line`` defect): a
stray delimiter or quote in CSV, a truncated object in JSON Lines.

Each writer returns, per input record, its *position*: the line number in the file
(the header is line 1, so the first record is line 2) or the sheet row number. The
ground truth is keyed by (file, position).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

__all__ = ["FileFormat", "WrittenFile", "write_records"]

Kind = Literal["csv", "xlsx", "jsonl"]


@dataclass(frozen=True, slots=True)
class FileFormat:
    """How a department writes its files."""

    kind: Kind
    encoding: str = "utf-8"  # csv: utf-8, utf-8-sig (BOM), gbk, gb18030
    delimiter: str = ","
    sheet: str = "Sheet1"


@dataclass(frozen=True, slots=True)
class WrittenFile:
    """A written file and, per record, its position and whether it was corrupted."""

    path: Path
    positions: np.ndarray
    malformed: np.ndarray


_FIXED_CREATED = datetime.datetime(2025, 12, 31, 18, 0, 0)


def write_records(
    frame: pl.DataFrame,
    path: Path,
    fmt: FileFormat,
    *,
    malformed_rate: float,
    rng: np.random.Generator,
    chunk_rows: int = 200_000,
) -> WrittenFile:
    """Write ``frame`` (all columns are the file's, in order) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    malformed = rng.random(frame.height) < malformed_rate
    if fmt.kind == "xlsx":
        _write_xlsx(frame, path, fmt)
        # XLSX cells cannot be malformed the way text lines can.
        malformed[:] = False
    elif fmt.kind == "csv":
        _write_csv(frame, path, fmt, malformed=malformed, rng=rng, chunk_rows=chunk_rows)
    else:
        _write_jsonl(frame, path, malformed, chunk_rows)
    positions = np.arange(frame.height, dtype=np.int64) + 2
    return WrittenFile(path, positions, malformed)


def _corrupt_csv_line(line: str, delimiter: str, rng: np.random.Generator) -> str:
    kind = int(rng.integers(3))
    if kind == 0:  # an extra field: a delimiter typed inside a value
        cut = len(line) // 2
        return line[:cut] + delimiter + line[cut:]
    if kind == 1:  # an unbalanced quote
        return '"' + line
    return line[: max(1, len(line) // 3)]  # truncated: too few fields


def _write_csv(
    frame: pl.DataFrame,
    path: Path,
    fmt: FileFormat,
    *,
    malformed: np.ndarray,
    rng: np.random.Generator,
    chunk_rows: int,
) -> None:
    encoding = fmt.encoding
    with path.open("wb") as out:
        for start in range(0, max(frame.height, 1), chunk_rows):
            chunk = frame.slice(start, chunk_rows)
            text = chunk.write_csv(
                separator=fmt.delimiter, include_header=start == 0, line_terminator="\r\n"
            )
            bad = np.flatnonzero(malformed[start : start + chunk.height])
            if len(bad):
                lines = text.split("\r\n")
                offset = 1 if start == 0 else 0
                for i in bad:
                    lines[i + offset] = _corrupt_csv_line(lines[i + offset], fmt.delimiter, rng)
                text = "\r\n".join(lines)
            if start == 0 and encoding == "utf-8-sig":
                out.write(text.encode("utf-8-sig"))
            else:
                out.write(text.encode("utf-8" if encoding == "utf-8-sig" else encoding))


def _write_jsonl(frame: pl.DataFrame, path: Path, malformed: np.ndarray, chunk_rows: int) -> None:
    with path.open("wb") as out:
        # JSON Lines has no header: the first record is line 1, so write a
        # one-line metadata header the way the education export does.
        out.write(b'{"_export":"records","_format":"jsonl"}\n')
        for start in range(0, frame.height, chunk_rows):
            chunk = frame.slice(start, chunk_rows)
            buffer = io.BytesIO()
            chunk.write_ndjson(buffer)
            lines = buffer.getvalue().split(b"\n")
            for i in np.flatnonzero(malformed[start : start + chunk.height]):
                # Cut at a character boundary: the line is broken JSON, not broken UTF-8.
                text = lines[i].decode("utf-8")
                lines[i] = text[: max(1, len(text) // 2)].encode("utf-8")
            out.write(b"\n".join(lines))


def _write_xlsx(frame: pl.DataFrame, path: Path, fmt: FileFormat) -> None:
    import xlsxwriter  # noqa: PLC0415  (only departments that send Excel need it)

    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False}
    )
    workbook.set_properties({"created": _FIXED_CREATED, "author": "synthetic", "title": path.stem})
    sheet = workbook.add_worksheet(fmt.sheet)
    header = workbook.add_format({"bold": True})
    for column, name in enumerate(frame.columns):
        sheet.write_string(0, column, name, header)
    for row, values in enumerate(frame.iter_rows(), start=1):
        for column, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, column, value)
            elif isinstance(value, int | float):
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, str(value))
    workbook.close()
