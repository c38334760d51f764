"""The packaged specs describe exactly what the synthetic city's departments send.

A small city is generated once for the module. Every feed file must match exactly
one file pattern of its department's spec, with a header (or JSON keys) equal to the
declared columns in order; and the values in the files must be readable the way the
spec says: codes and words map to standard values, dates parse with the declared
formats, divisions resolve. Injected defects (a mistyped date, an emptied field) are
tolerated at the rates the generator uses, never an unmapped code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import fastexcel
import pytest
from typer.testing import CliRunner

from hukou.registry.feeds_cli import check_delivery, feeds_app, read_header
from hukou.registry.fields import CODE_LISTS, STANDARD_FIELDS
from hukou.registry.spec import STANDARD_DATES, ColumnSpec, FileSpec, find_spec, load_all
from hukou.standards import divisions, identity
from hukou.standards.dates import parse_date
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

runner = CliRunner()
SNAPSHOT = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("registry") / "city"
    generate_city(CityConfig(population=1500, seed=1), out)
    return out / "feeds"


def feed_files(feeds: Path) -> list[Path]:
    return sorted(path for path in feeds.rglob("*") if path.is_file())


def the_kind(path: Path) -> FileSpec:
    [kind] = find_spec(path.parent.name).files_for(path.name)
    return kind


# --------------------------------------------------------------------------- files and headers


def test_every_department_folder_has_a_spec(feeds: Path) -> None:
    folders = {path.name for path in feeds.iterdir()}
    assert folders == {spec.department for spec in load_all()}


def test_every_file_matches_exactly_one_pattern(feeds: Path) -> None:
    files = feed_files(feeds)
    assert files
    for path in files:
        matching = find_spec(path.parent.name).files_for(path.name)
        assert len(matching) == 1, (path.name, [kind.pattern for kind in matching])


def test_every_file_kind_occurs(feeds: Path) -> None:
    for spec in load_all():
        names = [path.name for path in (feeds / spec.department).iterdir()]
        for kind in spec.files:
            assert any(kind.matches(name) for name in names), kind.pattern


def test_headers_are_the_declared_columns_in_order(feeds: Path) -> None:
    for path in feed_files(feeds):
        kind = the_kind(path)
        header, line = read_header(path, kind)
        assert header == kind.sources, path.name
        assert line == (2 if kind.format == "jsonl" else 1)


def test_check_delivery_finds_no_problem(feeds: Path) -> None:
    for spec in load_all():
        report = check_delivery(spec, feeds)
        assert report.problems == [], spec.department
        assert len(report.files) == len(list((feeds / spec.department).iterdir()))


# --------------------------------------------------------------------------- values


def records(path: Path, kind: FileSpec) -> Iterator[dict[str, object]]:
    """Every record that parses, as column -> value (malformed lines are skipped)."""
    if kind.format == "xlsx":
        frame = fastexcel.read_excel(path).load_sheet(kind.sheet or 0).to_polars()
        yield from frame.iter_rows(named=True)
        return
    text = path.read_bytes().decode(kind.encoding or "utf-8")
    if kind.format == "jsonl":
        for line in text.splitlines()[kind.skip_lines :]:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            yield record
        return
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=kind.delimiter or ",")
    header = next(reader)
    for row in reader:
        if len(row) == len(header):
            yield dict(zip(header, row, strict=True))


def within(code: str, area: str) -> bool:
    return code.startswith(area.rstrip("0") if len(area.rstrip("0")) % 2 == 0 else area[:4])


FULL_NAMES = frozenset(
    divisions.full_name(d.code, SNAPSHOT)
    for d in divisions.all_divisions()
    if divisions.valid_at(d.code, SNAPSHOT)
)


def readable(column: ColumnSpec, value: object) -> bool:
    """Whether one non-empty value can be read as the column's standard field says."""
    field = STANDARD_FIELDS[str(column.field)]
    text = str(value)
    if column.values and text in column.values:
        return True
    if field.kind == "code":
        try:
            CODE_LISTS[str(field.code_list)].lookup(text)
        except ValueError:
            return False
        return True
    if field.kind in ("enum", "boolean"):
        return isinstance(value, bool) and field.kind == "boolean"
    if field.kind in ("date", "datetime"):
        if column.excel_serial and isinstance(value, int | float):
            return isinstance(parse_date(value), dt.date)
        for pattern in column.dates:
            try:
                if pattern == STANDARD_DATES:
                    parse_date(text)
                else:
                    dt.datetime.strptime(text, pattern)
            except ValueError:
                continue
            return True
        return False
    if field.kind == "division":
        if column.division == "code":
            return divisions.get(text) is not None
        if column.division == "full_name":
            return text in FULL_NAMES
        found = divisions.lookup(text, SNAPSHOT)
        area = column.within
        return len([d for d in found if area is None or within(d.code, area)]) == 1
    if field.kind in ("integer", "decimal"):
        try:
            number = float(text)
        except ValueError:
            return False
        return field.kind == "decimal" or number == int(number)
    if field.kind == "identity_number":
        return identity.is_valid(text)
    return True


# Share of values a defect may make unreadable: dates out of range (~0.4 % at most),
# mistyped identity numbers (~4 % in the rental register).
TOLERANCE = {"date": 0.01, "datetime": 0.01, "identity_number": 0.08}


def test_values_are_readable_as_the_specs_say(feeds: Path) -> None:
    # Per file kind and column, over all its files: (values, present, unreadable samples).
    seen: dict[tuple[str, str], tuple[ColumnSpec, int, int, list[str]]] = {}
    for path in feed_files(feeds):
        kind = the_kind(path)
        rows = list(records(path, kind))
        assert rows, path.name
        for column in kind.mapped:
            values = [row[column.source] for row in rows]
            present = [v for v in values if v is not None and v != ""]
            bad = [str(v) for v in present if not readable(column, v)]
            key = (f"{path.parent.name}/{kind.pattern}", column.source)
            _, total, filled, unreadable = seen.get(key, (column, 0, 0, []))
            seen[key] = (column, total + len(values), filled + len(present), unreadable + bad)
    for key, (column, total, filled, unreadable) in seen.items():
        tolerance = TOLERANCE.get(STANDARD_FIELDS[str(column.field)].kind, 0.0)
        allowed = tolerance * filled + (1 if tolerance else 0)
        assert len(unreadable) <= allowed, (key, sorted(set(unreadable))[:5])
        if column.required:
            # missing_field defects empty about 1 % of the records, over the required columns
            assert total - filled <= 0.03 * total + 1, key
    assert sum(filled for _, _, filled, _ in seen.values()) > 50_000


def test_value_maps_cover_every_word(feeds: Path) -> None:
    """Enum and boolean columns: every word in the files is in the value map."""
    for path in feed_files(feeds):
        kind = the_kind(path)
        rows = list(records(path, kind))
        for column in kind.mapped:
            field = STANDARD_FIELDS[str(column.field)]
            if field.kind not in ("enum", "boolean") or not column.values:
                continue
            words = {
                str(row[column.source]) for row in rows if row[column.source] not in (None, "")
            }
            assert words <= set(column.values), (path.name, column.source, words)


# --------------------------------------------------------------------------- the CLI on a delivery


@pytest.mark.parametrize("department", [spec.department for spec in load_all()])
def test_cli_check_delivery(feeds: Path, department: str) -> None:
    result = runner.invoke(feeds_app, ["check", department, "--data", str(feeds)])
    assert result.exit_code == 0, result.output
    assert "delivery ok" in result.stdout


def test_cli_accepts_the_city_folder(feeds: Path) -> None:
    result = runner.invoke(feeds_app, ["check", "housing", "--data", str(feeds.parent)])
    assert result.exit_code == 0, result.output


def test_cli_reports_a_broken_delivery(feeds: Path, tmp_path: Path) -> None:
    folder = tmp_path / "public_security"
    shutil.copytree(feeds / "public_security", folder)
    victim = sorted(folder.glob("hjdj_*.csv"))[0]
    data = victim.read_bytes()
    head, rest = data.split(b"\r\n", 1)
    victim.write_bytes(head.replace("姓名".encode("gbk"), "名字".encode("gbk")) + b"\r\n" + rest)
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(feeds_app, ["check", "public_security", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{victim}:1: header[2]: unexpected column '名字' (not in the spec)" in result.stderr
    assert f"{victim}:1: header: missing column '姓名'" in result.stderr
    assert f"{folder / 'notes.txt'}: matches no file pattern of the spec" in result.stderr


def test_cli_reports_a_wrong_encoding(feeds: Path, tmp_path: Path) -> None:
    folder = tmp_path / "public_security"
    folder.mkdir()
    source = sorted((feeds / "public_security").glob("hjdj_*.csv"))[0]
    target = folder / source.name
    target.write_bytes(source.read_bytes().decode("gbk").encode("utf-8"))
    result = runner.invoke(feeds_app, ["check", "public_security", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{target}:1: encoding: not valid gbk" in result.stderr
    assert "looks like utf-8" in result.stderr


def test_cli_reports_a_missing_metadata_line(feeds: Path, tmp_path: Path) -> None:
    folder = tmp_path / "education"
    folder.mkdir()
    [source] = (feeds / "education").glob("xueji_*.jsonl")
    lines = source.read_bytes().split(b"\n")
    (folder / source.name).write_bytes(b"\n".join(lines[1:]))
    result = runner.invoke(feeds_app, ["check", "education", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "1: metadata: line 1 is not the export's metadata (no '_export' key)" in result.stderr


def test_cli_reports_a_missing_folder(tmp_path: Path) -> None:
    result = runner.invoke(feeds_app, ["check", "tax", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'tax'}: no such folder" in result.stderr
