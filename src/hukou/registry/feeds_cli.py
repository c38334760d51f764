"""``hukou feeds``: list the department feed specs, check a spec and a delivery against it.

``hukou feeds check`` is what a data steward runs after writing or editing a spec,
and again when a department's first delivery arrives: it validates the spec (every
problem with file, line and key), and with ``--data DIR`` checks that every file in
``DIR/<department>/`` is a file kind the spec knows and that its header (CSV, XLSX)
or keys (JSON Lines) are exactly the declared columns, in order. Only headers are
read, so a delivery of millions of rows is checked in a moment; the records
themselves are the ingester's business.

The command prints problems in the same ``file:line: key: message`` form as spec
errors, so an editor can jump to them, and exits 1 when there is any.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.table import Table

from hukou.clikit import console, errors
from hukou.registry.readers import UTF8_BOM, ReadError, detect_encoding, read_parquet
from hukou.registry.spec import (
    DETECT_ENCODING,
    FeedSpec,
    FileSpec,
    SpecError,
    SpecProblem,
    UnknownDepartmentError,
    find_spec,
    load_all,
    load_spec,
)

__all__ = [
    "DeliveryReport",
    "HeaderError",
    "check_delivery",
    "feeds_app",
    "read_header",
]

feeds_app = typer.Typer(
    help="Department feed specs (数据源规格): list them; check a spec and a delivery.",
    no_args_is_help=True,
)

_HEAD_BYTES: Final = 1 << 20  # a header line longer than 1 MiB is not a header
_JSONL_SCAN_LINES: Final = 20  # lines tried for the first parseable record
_SPEC_SUFFIXES: Final = (".yaml", ".yml")


class HeaderError(ValueError):
    """A file's header cannot be read; ``line`` and ``key`` say where."""

    def __init__(self, line: int | None, key: str, message: str) -> None:
        self.line = line
        self.key = key
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What checking a department folder found.

    ``files`` maps each file that matched exactly one pattern to it; ``problems``
    fail the check; ``notes`` do not (a file kind missing from this delivery, a
    malformed JSON line skipped while looking for the first record).
    """

    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    problems: list[SpecProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _text_lines(path: Path, count: int) -> tuple[bytes, list[bytes]]:
    """The first bytes of a file and its first ``count`` lines (without line ends)."""
    with path.open("rb") as stream:
        head = stream.read(_HEAD_BYTES)
    lines = head.split(b"\n")
    complete = lines if len(head) < _HEAD_BYTES else lines[:-1]
    return head, [line.removesuffix(b"\r") for line in complete[:count]]


def _decode(raw: bytes, encoding: str, line: int, *, first: bool) -> str:
    if first and raw.startswith(UTF8_BOM) and encoding not in ("utf-8-sig", DETECT_ENCODING):
        raise HeaderError(
            line,
            "encoding",
            f"the file starts with a UTF-8 byte-order mark but the spec says {encoding}: "
            "use utf-8-sig",
        )
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        guess = detect_encoding(raw)
        raise HeaderError(
            line,
            "encoding",
            f"not valid {encoding} at byte {error.start} (the file looks like {guess})",
        ) from None
    return text.removeprefix("\ufeff") if first and encoding == "utf-8-sig" else text


def read_header(path: Path, spec: FileSpec) -> tuple[tuple[str, ...], int]:
    """The column names (JSON keys) of a file, and the line (or sheet row) they are on.

    CSV: the line after ``skip_lines``, decoded in the spec's encoding (or the
    detected one). JSON Lines: the keys of the first record after ``skip_lines``
    that parses (the skipped metadata line must carry ``metadata_key``). XLSX: the
    first row after ``skip_lines`` of the spec's sheet (or the first sheet).

    Raises:
        HeaderError: the file cannot be read that far or as the spec says.
    """
    if spec.format == "xlsx":
        return _xlsx_header(path, spec), spec.skip_lines + 1
    if spec.format == "csv":
        return _csv_header(path, spec), spec.skip_lines + 1
    if spec.format == "parquet":
        return _parquet_header(path), 1
    return _jsonl_header(path, spec, [])


def _parquet_header(path: Path) -> tuple[str, ...]:
    """The schema's column names: read from the footer, no row is read."""
    try:
        header, _records = read_parquet(path)
    except ReadError as error:
        raise HeaderError(None, "file", str(error)) from None
    return tuple(header)


def _encoding(spec: FileSpec, head: bytes) -> str:
    declared = spec.encoding or "utf-8"
    return detect_encoding(head) if declared == DETECT_ENCODING else declared


def _csv_header(path: Path, spec: FileSpec) -> tuple[str, ...]:
    head, lines = _text_lines(path, spec.skip_lines + 1)
    line = spec.skip_lines + 1
    if len(lines) < line or not lines[-1].strip():
        raise HeaderError(line, "header", "no header line (the file is empty or too short)")
    encoding = _encoding(spec, head)
    text = _decode(lines[-1], encoding, line, first=spec.skip_lines == 0)
    try:
        return tuple(next(csv.reader([text], delimiter=spec.delimiter or ",", strict=True)))
    except csv.Error as error:
        raise HeaderError(line, "header", f"not a CSV line: {error}") from None


def _jsonl_header(path: Path, spec: FileSpec, notes: list[str]) -> tuple[tuple[str, ...], int]:
    head, lines = _text_lines(path, spec.skip_lines + _JSONL_SCAN_LINES)
    encoding = _encoding(spec, head)
    if spec.metadata_key is not None:
        if not lines:
            raise HeaderError(1, "metadata", "the file is empty")
        try:
            metadata = json.loads(_decode(lines[0], encoding, 1, first=True))
        except json.JSONDecodeError:
            metadata = None
        if not (isinstance(metadata, dict) and spec.metadata_key in metadata):
            raise HeaderError(
                1,
                "metadata",
                f"line 1 is not the export's metadata (no {spec.metadata_key!r} key): "
                "is this the right file kind, or was the metadata line dropped?",
            )
    for index in range(spec.skip_lines, len(lines)):
        line = index + 1
        text = _decode(lines[index], encoding, line, first=index == 0)
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            notes.append(f"{path}:{line}: not valid JSON ({error.msg}); looked at the next line")
            continue
        if not isinstance(record, dict):
            raise HeaderError(line, "record", "a record must be a JSON object")
        return tuple(str(key) for key in record), line
    raise HeaderError(
        spec.skip_lines + 1, "record", "no parseable record in the first lines after the skipped"
    )


def _xlsx_header(path: Path, spec: FileSpec) -> tuple[str, ...]:
    import fastexcel  # noqa: PLC0415  (only spreadsheets need it)

    row = spec.skip_lines + 1
    try:
        reader = fastexcel.read_excel(path)
        names = reader.sheet_names
        if spec.sheet is not None and spec.sheet not in names:
            raise HeaderError(
                None,
                "sheet",
                f"no sheet {spec.sheet!r}; the workbook has {', '.join(map(repr, names))}",
            )
        sheet = reader.load_sheet(
            spec.sheet if spec.sheet is not None else 0, header_row=spec.skip_lines, n_rows=0
        )
        return tuple(column.name for column in sheet.available_columns())
    except fastexcel.FastExcelError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise HeaderError(row, "header", f"cannot read the workbook: {first_line}") from None


def _compare(actual: Sequence[str], expected: Sequence[str]) -> list[tuple[str, str]]:
    """(key, message) for every way a header differs from the declared columns."""
    if tuple(actual) == tuple(expected):
        return []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, name in enumerate(actual):
        if name in seen:
            problems.append((f"header[{index}]", f"column {name!r} appears twice"))
        seen.add(name)
        if name not in expected:
            problems.append((f"header[{index}]", f"unexpected column {name!r} (not in the spec)"))
    for index, name in enumerate(expected):
        if name not in actual:
            problems.append(("header", f"missing column {name!r} (the spec's columns[{index}])"))
    if not problems:
        for index, (have, want) in enumerate(zip(actual, expected, strict=True)):
            if have != want:
                problems.append(
                    (
                        f"header[{index}]",
                        f"column {have!r} where the spec has {want!r}: the order differs",
                    )
                )
                break
    return problems


def _encoding_hint(path: Path, spec: FileSpec) -> str:
    """Whether the header would match in the detected encoding (a wrong ``encoding``)."""
    if spec.format != "csv" or spec.encoding == DETECT_ENCODING:
        return ""
    head, lines = _text_lines(path, spec.skip_lines + 1)
    guess = detect_encoding(head)
    if guess == spec.encoding or len(lines) <= spec.skip_lines:
        return ""
    try:
        text = lines[-1].decode(guess).removeprefix("\ufeff")
        names = tuple(next(csv.reader([text], delimiter=spec.delimiter or ",")))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return ""
    return f" (read as {guess} it matches: is the encoding wrong?)" if names == spec.sources else ""


def _department_folder(spec: FeedSpec, data: Path) -> Path:
    """``DATA/<department>``, or ``DATA/feeds/<department>`` when DATA is a city folder."""
    folder = data / spec.department
    nested = data / "feeds" / spec.department
    return nested if not folder.is_dir() and nested.is_dir() else folder


def check_delivery(spec: FeedSpec, data: Path) -> DeliveryReport:
    """Check every file of a department's delivery against its spec (headers only).

    ``data`` is the folder holding department folders (``DATA/<department>/``); a
    synthetic city's root folder is accepted too (``DATA/feeds/<department>/``).
    """
    folder = _department_folder(spec, data)
    report = DeliveryReport(folder)
    if not folder.is_dir():
        report.problems.append(
            SpecProblem(str(folder), None, "", "no such folder (the department's files go here)")
        )
        return report
    patterns = ", ".join(f.pattern for f in spec.files)
    matched: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            report.problems.append(
                SpecProblem(str(path), None, "", "a folder: the spec describes files only")
            )
            continue
        kinds = spec.files_for(path.name)
        if not kinds:
            report.problems.append(
                SpecProblem(
                    str(path), None, "", f"matches no file pattern of the spec ({patterns})"
                )
            )
            continue
        if len(kinds) > 1:
            both = " and ".join(repr(kind.pattern) for kind in kinds)
            report.problems.append(
                SpecProblem(str(path), None, "", f"matches {both}: which file kind is it?")
            )
            continue
        kind = kinds[0]
        matched.add(kind.pattern)
        report.files[path.name] = kind.pattern
        try:
            if kind.format == "jsonl":
                header, line = _jsonl_header(path, kind, report.notes)
            else:
                header, line = read_header(path, kind)
        except HeaderError as error:
            report.problems.append(SpecProblem(str(path), error.line, error.key, error.message))
            continue
        except OSError as error:
            report.problems.append(
                SpecProblem(str(path), None, "", f"cannot read: {error.strerror}")
            )
            continue
        differences = _compare(header, kind.sources)
        hint = _encoding_hint(path, kind) if differences else ""
        for key, message in differences:
            report.problems.append(SpecProblem(str(path), line, key, message + hint))
    for kind in spec.files:
        if kind.pattern not in matched:
            report.notes.append(f"{folder}: no file matches {kind.pattern!r} in this delivery")
    return report


def _print_problems(problems: Sequence[SpecProblem | SpecError]) -> None:
    for problem in problems:
        errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)


def _resolve(spec: str) -> FeedSpec:
    """A spec file path (has a / or a .yaml suffix) or a packaged department code."""
    if spec.endswith(_SPEC_SUFFIXES) or "/" in spec or "\\" in spec:
        return load_spec(spec)
    return find_spec(spec)


@feeds_app.command("list")
def list_feeds(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List the packaged department specs: files, formats, record kinds, mapped columns."""
    try:
        specs = load_all()
    except SpecError as error:
        _print_problems(error.problems)
        raise typer.Exit(1) from None
    if as_json:
        payload = [_spec_payload(spec) for spec in specs]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="department feed specs (数据源规格)")
    for name in ("department", "files", "format", "encoding", "record"):
        table.add_column(name, no_wrap=True)
    table.add_column("columns", justify="right", no_wrap=True)
    for spec in specs:
        for index, kind in enumerate(spec.files):
            table.add_row(
                spec.department if index == 0 else "",
                kind.pattern,
                kind.format,
                kind.encoding or "",
                kind.record.kind,
                f"{len(kind.mapped)}/{len(kind.columns)}",
            )
    console.print(table)


def _spec_payload(spec: FeedSpec) -> dict[str, object]:
    return {
        "department": spec.department,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "source": spec.source,
        "authority": dict(spec.authority),
        "files": [
            {
                "pattern": kind.pattern,
                "title": kind.title,
                "format": kind.format,
                "encoding": kind.encoding,
                "record": kind.record.kind,
                "meaning": kind.record.meaning,
                "record_id": kind.record_id,
                "columns": len(kind.columns),
                "mapped": len(kind.mapped),
                "fields": [column.field for column in kind.mapped],
            }
            for kind in spec.files
        ],
    }


@feeds_app.command("check")
def check(
    spec: Annotated[
        str,
        typer.Argument(
            metavar="SPEC_OR_DEPARTMENT",
            help="a spec file (path/to/<department>.yaml) or a packaged department code",
        ),
    ],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="a delivery: the folder holding <department>/ (or a synthetic city's folder)",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Validate a spec; with --data, check that a delivery's files and headers match it."""
    try:
        feed = _resolve(spec)
    except SpecError as error:
        _print_problems(error.problems)
        raise typer.Exit(1) from None
    except UnknownDepartmentError as error:
        errors.print(str(error.args[0]), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    columns = sum(len(kind.columns) for kind in feed.files)
    console.print(
        f"spec ok: {feed.department} ({feed.source}): {len(feed.files)} file kind(s), "
        f"{columns} columns",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if data is None:
        return
    report = check_delivery(feed, data)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if report.problems:
        _print_problems(report.problems)
        errors.print(
            f"{len(report.problems)} problem(s) in {report.folder}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(
        f"delivery ok: {len(report.files)} file(s) in {report.folder} match the spec",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
