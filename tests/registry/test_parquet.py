"""Parquet feeds: read in batches as text like every other format, declared per file kind
(also as another format of a CSV kind), ingested exactly like the same rows in CSV, and a
file that is not Parquet refused with a clear message."""

from __future__ import annotations

import datetime
import decimal
import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from hukou.db import session_scope
from hukou.registry.feeds_cli import HeaderError, read_header
from hukou.registry.ingest import ingest_file
from hukou.registry.model import Batch
from hukou.registry.readers import ReadError, cell_text, read_parquet
from hukou.registry.spec import ISO_DATE, SpecError, find_spec, parse_spec
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from tests.registry.stored import aligned, outcomes, wellformed_rows

TODAY = datetime.date(2025, 12, 31)
KEYRING = KeyRing.generate()
DEPARTMENT = "hr_social_security"


# --------------------------------------------------------------------------- reading


def test_cells_read_as_the_text_a_csv_would_hold(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "name": ["张三", "", None],
            "months": [392, None, 7],
            "amount": [3000.0, 2.5, None],
            "born": [datetime.date(1970, 10, 1), None, datetime.date(2001, 1, 2)],
            "at": [datetime.datetime(2025, 1, 21, 9, 30), None, None],
            "retired": [True, False, None],
            "rent": [decimal.Decimal("1200.00"), decimal.Decimal("1200.50"), None],
        }
    )
    path = tmp_path / "typed.parquet"
    frame.write_parquet(path)
    header, records = read_parquet(path)
    rows = list(records)
    assert header == ["name", "months", "amount", "born", "at", "retired", "rent"]
    assert [r.position for r in rows] == [2, 3, 4]  # the header is line 1, as in a CSV
    assert rows[0].values == {
        "name": "张三",
        "months": "392",
        "amount": "3000",
        "born": "1970-10-01",
        "at": "2025-01-21T09:30:00",
        "retired": "true",
        "rent": "1200",
    }
    assert rows[1].values == {
        "name": None,
        "months": None,
        "amount": "2.5",
        "born": None,
        "at": None,
        "retired": "false",
        "rent": "1200.50",
    }
    assert set(rows[2].values or {}) == set(header)
    assert json.loads(rows[0].raw) == rows[0].values


def test_cell_text_of_edge_values() -> None:
    assert cell_text(float("nan")) is None
    assert cell_text(-4.0) == "-4"
    assert cell_text(1e20) == "1e+20"  # too large to be an exact integer: left as written
    assert cell_text(b"\xe5\xbc\xa0") == "张"
    assert cell_text([1, "a"]) == '[1, "a"]'


def test_streams_across_row_groups_and_batches(tmp_path: Path) -> None:
    path = tmp_path / "many.parquet"
    pl.DataFrame({"n": list(range(1000))}).write_parquet(path, row_group_size=128)
    _header, records = read_parquet(path, batch_rows=50)
    rows = list(records)
    assert [r.position for r in rows] == list(range(2, 1002))
    assert [r.values for r in rows][::333] == [{"n": str(n)} for n in range(0, 1000, 333)]


def test_a_corrupt_row_group_is_quarantined_row_by_row(tmp_path: Path) -> None:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]  # noqa: PLC0415

    path = tmp_path / "damaged.parquet"
    frame = pl.DataFrame({"a": [f"value-{i}" * 5 for i in range(300)], "b": list(range(300))})
    frame.write_parquet(path, row_group_size=100, compression="zstd", statistics=False)
    column = pq.ParquetFile(path).metadata.row_group(1).column(0)
    data = bytearray(path.read_bytes())
    start = column.data_page_offset
    for offset in range(start + 30, start + column.total_compressed_size - 5):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    _header, records = read_parquet(path, batch_rows=40)
    rows = list(records)
    assert [r.position for r in rows] == list(range(2, 302))  # nothing skipped
    broken = [r for r in rows if r.values is None]
    assert [r.position for r in broken] == list(range(102, 202))
    assert broken[0].problem == "row group 1 is unreadable (OSError)"


@pytest.mark.parametrize(
    "content", [b"", b"PAR1", b"GRBH,SFZHM\n1,2\n", b"PAR1" + b"\x00" * 64 + b"PAR1"]
)
def test_not_parquet_is_a_read_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cbry_320505.parquet"
    path.write_bytes(content)
    with pytest.raises(ReadError) as caught:
        read_parquet(path)
    assert str(caught.value).startswith("cbry_320505.parquet: not a readable Parquet file (")
    assert "Traceback" not in str(caught.value)


# --------------------------------------------------------------------------- specs

_SPEC = """\
department: demo
name_zh: 演示
name_en: Demo
files:
  - pattern: "demo_*.csv"
    format: csv
    other_formats: [parquet]
    encoding: gbk
    record: {kind: state, meaning: one person as the demo office knows them}
    record_id: null
    subject: {identity: 身份证号, name: 姓名}
    columns:
      - {source: 身份证号, field: identity_number, required: true}
      - {source: 姓名, field: name}
      - {source: 出生日期, field: birth_date, dates: ["%Y%m%d"]}
      - {source: 登记时间, field: registered_at, dates: ["%Y%m%d%H%M%S"]}
"""


def test_a_file_kind_accepts_parquet_by_extension() -> None:
    spec = parse_spec(_SPEC, "demo.yaml")
    [kind] = spec.files
    assert kind.patterns == ("demo_*.csv", "demo_*.parquet")
    [as_csv] = spec.files_for("demo_1.csv")
    [as_parquet] = spec.files_for("demo_1.parquet")
    assert as_csv is kind
    assert (as_parquet.format, as_parquet.pattern, as_parquet.encoding) == (
        "parquet",
        "demo_*.parquet",
        None,
    )
    assert as_parquet.sources == kind.sources  # one mapping for both
    # Typed Parquet dates read as ISO text: tried after the department's own pattern.
    assert as_parquet.column("出生日期").dates == ("%Y%m%d", ISO_DATE)
    assert as_parquet.column("登记时间").dates == ("%Y%m%d%H%M%S",)  # datetimes read ISO anyway
    assert spec.files_for("demo_1.xlsx") == ()


def test_parquet_as_the_declared_format() -> None:
    text = _SPEC.replace('"demo_*.csv"', '"demo_*.parquet"').replace(
        "    format: csv\n    other_formats: [parquet]\n    encoding: gbk\n",
        "    format: parquet\n",
    )
    [kind] = parse_spec(text, "demo.yaml").files
    assert (kind.format, kind.encoding, kind.delimiter) == ("parquet", None, None)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "other_formats: [parquet]",
            "other_formats: [csv]",
            "demo.yaml:7: files[0].other_formats[0]: 'csv' is already the format",
        ),
        (
            "other_formats: [parquet]",
            "other_formats: [parquet, parquet]",
            "demo.yaml:7: files[0].other_formats[1]: 'parquet' appears twice",
        ),
        (
            "other_formats: [parquet]",
            "other_formats: [parket]",
            "demo.yaml:7: files[0].other_formats[0]: must be one of csv, xlsx, jsonl, parquet, "
            "not 'parket' (did you mean 'parquet'?)",
        ),
        (
            '"demo_*.csv"',
            '"demo_*"',
            "demo.yaml:5: files[0].pattern: must end in '.csv' for other_formats to swap the "
            "extension",
        ),
        (
            "format: csv\n    other_formats: [parquet]\n    encoding: gbk",
            "format: parquet\n    encoding: gbk",
            "demo.yaml:7: files[0].encoding: Parquet has no text encoding; remove the key",
        ),
    ],
)
def test_other_formats_are_validated(old: str, new: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_SPEC.replace(old, new), "demo.yaml")
    assert message in str(caught.value).splitlines()


def test_a_derived_pattern_cannot_be_another_kinds() -> None:
    second = (
        _SPEC.split("files:\n")[1]
        .replace('"demo_*.csv"', '"demo_*.parquet"')
        .replace(
            "    format: csv\n    other_formats: [parquet]\n    encoding: gbk\n",
            "    format: parquet\n",
        )
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(_SPEC + second, "demo.yaml")
    assert "'demo_*.parquet' is already an other_formats pattern of files[0]" in str(caught.value)


def test_the_pension_register_accepts_parquet() -> None:
    [kind] = find_spec(DEPARTMENT).files_for("cbry_320505.parquet")
    assert kind.format == "parquet"


# --------------------------------------------------------------------------- ingest


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parquet-city")
    generate_city(CityConfig(population=800, seed=12), out)
    return out


@pytest.mark.storage
def test_parquet_ingests_exactly_like_the_csv(engine: Engine, city: Path, tmp_path: Path) -> None:
    """Each pension-register CSV and the same rows as Parquet: same counts, same records."""
    quarantined = 0
    for csv_path in sorted((city / "feeds" / DEPARTMENT).glob("cbry_*.csv")):
        header, lines = wellformed_rows(csv_path)
        frame = pl.DataFrame(
            [values for _line, values in lines],
            schema=dict.fromkeys(header, pl.String),
            orient="row",
        )
        parquet_path = tmp_path / csv_path.with_suffix(".parquet").name
        frame.write_parquet(parquet_path, row_group_size=16)  # several row groups
        from_csv = ingest_file(engine, DEPARTMENT, csv_path, keyring=KEYRING, today=TODAY)
        from_parquet = ingest_file(engine, DEPARTMENT, parquet_path, keyring=KEYRING, today=TODAY)
        assert from_csv.balanced
        assert from_parquet.balanced
        malformed = from_csv.rows_in - len(lines)  # CSV lines no other format can hold
        assert from_parquet.rows_in == len(lines)
        assert from_parquet.accepted == from_csv.accepted
        assert from_parquet.quarantined == from_csv.quarantined - malformed
        expected = outcomes(engine, from_csv.batch_id, KEYRING)
        stored = aligned(lines, outcomes(engine, from_parquet.batch_id, KEYRING))
        assert stored == {line: expected[line] for line, _values in lines}
        quarantined += from_parquet.quarantined
    assert quarantined > 0  # the city's defects made it through both formats


@pytest.mark.storage
def test_typed_parquet_columns_read_like_the_csv_text(
    engine: Engine, city: Path, tmp_path: Path
) -> None:
    """Dates as Date, counts as integers: the records are those of the CSV."""
    csv_path = sorted((city / "feeds" / DEPARTMENT).glob("cbry_*.csv"))[0]
    header, lines = wellformed_rows(csv_path)
    text = pl.DataFrame(
        [values for _line, values in lines], schema=dict.fromkeys(header, pl.String), orient="row"
    )
    typed = text.with_columns(
        pl.col("CSRQ").str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        pl.col("CBRQ").str.strptime(pl.Date, "%Y/%m/%d", strict=False),
        pl.col("JFYS").cast(pl.Int64, strict=False),
        pl.col("XB").cast(pl.Int64, strict=False),
    )
    # Rows whose text a type would change (an impossible date, a typo) stay out: Parquet
    # cannot hold them typed, so no department's typed export carries them.
    same = (
        (typed["CSRQ"].is_null() == text["CSRQ"].is_null())
        & (typed["CBRQ"].is_null() == text["CBRQ"].is_null())
        & (typed["JFYS"].is_null() == text["JFYS"].is_null())
        & (typed["XB"].is_null() == text["XB"].is_null())
    )
    kept = [line for line, keep in zip(lines, same, strict=True) if keep]
    assert len(kept) > 20
    parquet_path = tmp_path / csv_path.with_suffix(".parquet").name
    typed.filter(same).write_parquet(parquet_path)
    from_csv = ingest_file(engine, DEPARTMENT, csv_path, keyring=KEYRING, today=TODAY)
    from_parquet = ingest_file(engine, DEPARTMENT, parquet_path, keyring=KEYRING, today=TODAY)
    assert from_parquet.balanced
    assert from_parquet.accepted > 0
    expected = outcomes(engine, from_csv.batch_id, KEYRING)
    stored = aligned(kept, outcomes(engine, from_parquet.batch_id, KEYRING))
    assert stored == {line: expected[line] for line, _values in kept}


@pytest.mark.storage
def test_a_file_that_is_not_parquet_is_refused_clearly(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cbry_320505.parquet"
    path.write_bytes(b"GRBH,SFZHM\n320500000001,11010519491231002X\n")
    with pytest.raises(ReadError, match=r"^cbry_320505\.parquet: not a readable Parquet file"):
        ingest_file(engine, DEPARTMENT, path, keyring=KEYRING, today=TODAY)
    with session_scope(engine) as session:  # nothing left half-open to resume
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


def test_feeds_check_reads_a_parquet_header(tmp_path: Path) -> None:
    """`hukou feeds check --data` compares a Parquet file's schema with its spec."""
    [kind] = find_spec(DEPARTMENT).files_for("cbry_320505.parquet")
    columns = [column.source for column in kind.columns]
    path = tmp_path / "cbry_320505.parquet"
    pl.DataFrame(schema=dict.fromkeys(columns, pl.String)).write_parquet(path)
    assert read_header(path, kind) == (tuple(columns), 1)
    path.write_bytes(b"not parquet")
    with pytest.raises(HeaderError, match="not a readable Parquet file"):
        read_header(path, kind)
