"""Read department files as they come: CSV in any of four encodings, XLSX, JSON Lines, Parquet.

Every physical record comes back with its position (the line number, or the sheet
row; the header is 1), either parsed into a column → text mapping or with the reason
it could not be parsed. Nothing is skipped silently: a line the format cannot parse
is still a record, and goes to quarantine with that reason.

Typed formats (Parquet, pushed JSON) become text through one function,
:func:`cell_text`, so that standardisation sees the same text whatever the format:
a department that moves from CSV to Parquet gets the same records.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GB18030_BOM",
    "UTF8_BOM",
    "RawRecord",
    "ReadError",
    "cell_text",
    "detect_encoding",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "read_xlsx",
]

GB18030_BOM = b"\x84\x31\x95\x33"
UTF8_BOM = b"\xef\xbb\xbf"


class ReadError(ValueError):
    """The file as a whole cannot be read (no header, not a workbook, unknown encoding)."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record of a file: parsed values, or the reason it could not be parsed."""

    position: int
    values: dict[str, str | None] | None
    raw: str
    problem: str | None = None


def detect_encoding(data: bytes) -> str:
    """The encoding of a department CSV: a BOM if there is one, else UTF-8 if it decodes.

    Anything else is read as GB18030, which contains GBK and GB 2312: Chinese
    government systems that do not write UTF-8 write one of those.

    >>> detect_encoding("姓名".encode("gbk")), detect_encoding("姓名".encode())
    ('gb18030', 'utf-8')
    >>> detect_encoding(b"\\xef\\xbb\\xbfid")
    'utf-8-sig'
    """
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    if data.startswith(GB18030_BOM):
        return "gb18030"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        # Given only the head of a file, it may end inside a character: only an
        # error before the end counts.
        if error.end < len(data) or error.reason != "unexpected end of data":
            return "gb18030"
    return "utf-8"


def _strip_bom(data: bytes) -> bytes:
    for bom in (UTF8_BOM, GB18030_BOM):
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def _lines(data: bytes) -> list[bytes]:
    # Splitting the bytes on LF is safe in UTF-8, GBK and GB18030: their multi-byte
    # sequences never contain 0x0A or 0x0D.
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def read_csv(
    path: Path, *, encoding: str | None = None, delimiter: str = ","
) -> tuple[list[str], str, Iterator[RawRecord]]:
    """Header, encoding used, and the records of a CSV file.

    ``encoding`` overrides detection. A line that does not decode, has an unbalanced
    quote or the wrong number of fields is returned with its problem.
    """
    data = path.read_bytes()
    used = (encoding or detect_encoding(data)).lower()
    lines = _lines(_strip_bom(data))
    if not lines:
        raise ReadError(f"{path.name}: empty file, no header")
    codec = "utf-8" if used == "utf-8-sig" else used
    try:
        header = next(csv.reader([lines[0].decode(codec)], delimiter=delimiter, strict=True))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ReadError(f"{path.name}: the header line cannot be read ({error})") from None

    def records() -> Iterator[RawRecord]:
        for number, line in enumerate(lines[1:], start=2):
            try:
                text = line.decode(codec)
            except UnicodeDecodeError:
                raw = line.decode(codec, errors="replace")
                yield RawRecord(number, None, raw, f"line does not decode as {used}")
                continue
            try:
                fields = next(csv.reader([text], delimiter=delimiter, strict=True))
            except (csv.Error, StopIteration) as error:
                yield RawRecord(number, None, text, f"unparseable CSV line ({error})")
                continue
            if len(fields) != len(header):
                problem = f"expected {len(header)} fields, found {len(fields)}"
                yield RawRecord(number, None, text, problem)
                continue
            values = {
                name: (value if value != "" else None)
                for name, value in zip(header, fields, strict=True)
            }
            yield RawRecord(number, values, text)

    return header, used, records()


def read_jsonl(path: Path, *, skip_lines: int = 0) -> Iterator[RawRecord]:
    """Records of a JSON Lines file; the first ``skip_lines`` lines are metadata."""
    lines = _lines(path.read_bytes())
    for number, line in enumerate(lines, start=1):
        if number <= skip_lines:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield RawRecord(number, None, line.decode("utf-8", "replace"), "line is not UTF-8")
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            yield RawRecord(number, None, text, f"invalid JSON ({error.msg})")
            continue
        if not isinstance(value, dict):
            yield RawRecord(number, None, text, "a record must be a JSON object")
            continue
        values = {str(k): (None if v is None or v == "" else str(v)) for k, v in value.items()}
        yield RawRecord(number, values, text)


def read_xlsx(path: Path, *, sheet: str | int = 0) -> tuple[list[str], Iterator[RawRecord]]:
    """Header and records of a worksheet, every cell as text (serial dates stay numbers)."""
    import fastexcel  # noqa: PLC0415  (only XLSX feeds need the reader)

    try:
        frame = fastexcel.read_excel(str(path)).load_sheet(sheet, dtypes="string").to_polars()
    except Exception as error:  # fastexcel raises its own hierarchy; any failure is unreadable
        raise ReadError(f"{path.name}: not a readable workbook ({type(error).__name__})") from None
    header = list(frame.columns)

    def records() -> Iterator[RawRecord]:
        for number, row in enumerate(frame.iter_rows(named=True), start=2):
            values = {name: _cell(value) for name, value in row.items()}
            yield RawRecord(number, values, json.dumps(values, ensure_ascii=False))

    return header, records()


def _cell(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    # Integral numbers read as text keep no ".0" (serial dates, amounts).
    return text[:-2] if text.endswith(".0") and text[:-2].lstrip("-").isdigit() else text or None


def cell_text(value: object) -> str | None:
    """A typed cell as the text a CSV export would hold; ``None`` for an empty cell.

    Dates and datetimes in ISO 8601, integral numbers without ``.0`` (an amount of
    3000.0 reads ``3000``, as in the department's CSV), other numbers in their
    shortest exact form, booleans ``true``/``false`` as JSON writes them, lists and
    structs as JSON.

    >>> [cell_text(v) for v in (None, "", 12, 3000.0, 2.5, True, datetime.date(2025, 1, 21))]
    [None, None, '12', '3000', '2.5', 'true', '2025-01-21']
    >>> cell_text(decimal.Decimal("1200.00")), cell_text(decimal.Decimal("1200.50"))
    ('1200', '1200.50')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.time):  # datetimes too, with their offset
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):  # how a float column often writes an empty cell
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, decimal.Decimal):
        integral = value.is_finite() and value == value.to_integral_value()
        return str(int(value)) if integral else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace") or None
    return json.dumps(value, ensure_ascii=False, default=str)


PARQUET_BATCH_ROWS = 10_000
"""Rows per batch read from a Parquet file: memory stays flat whatever the file's size."""


def read_parquet(
    path: Path, *, batch_rows: int = PARQUET_BATCH_ROWS
) -> tuple[list[str], Iterator[RawRecord]]:
    """Header (the schema's column names) and records of a Parquet file, streamed.

    Row groups are read in batches of ``batch_rows``, never the whole file. The
    position of a row is its number + 1, as if the file had a header line like a
    CSV. A row group that turns out to be corrupt is not skipped: each of its rows
    (the file's metadata knows how many) comes back as a malformed record.

    Raises:
        ReadError: the file is not Parquet, or its footer (the schema) is unreadable.
    """
    # Arrow reads a row group in batches (Polars' streaming batches are still marked
    # unstable); it comes with Splink. Only Parquet feeds need it, and it has no stubs.
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        # The class name only: Arrow's messages may quote bytes of the file.
        raise ReadError(
            f"{path.name}: not a readable Parquet file ({type(error).__name__})"
        ) from None
    header = list(parquet.schema_arrow.names)

    def records() -> Iterator[RawRecord]:
        position = 1
        with parquet:
            for group in range(parquet.num_row_groups):
                expected = parquet.metadata.row_group(group).num_rows
                read = 0
                try:
                    for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=[group]):
                        for row in batch.to_pylist():
                            position += 1
                            read += 1
                            values = {name: cell_text(value) for name, value in row.items()}
                            yield RawRecord(
                                position, values, json.dumps(values, ensure_ascii=False)
                            )
                except (pa.ArrowException, OSError) as error:
                    problem = f"row group {group} is unreadable ({type(error).__name__})"
                    for _ in range(expected - read):
                        position += 1
                        yield RawRecord(position, None, "", problem)

    return header, records()
