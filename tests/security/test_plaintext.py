"""No identity number is stored in the clear, anywhere, after the whole workload.

The promise (issue 5): the raw database file and its WAL/journal hold no plaintext
identity number after any workload. The workload (``tests/security/workload.py``)
runs every writer there is; then, on SQLite and PostgreSQL:

- every text column of every table is searched with SQL ``LIKE`` for every number;
- every binary column is searched byte for byte, and Parquet blobs (the linkage
  model's term frequencies, compressed) are opened and their strings searched;
- every column that holds a token must be declared for key rotation;

and on SQLite the raw bytes of the database file, its ``-wal``, ``-shm`` and
``-journal`` (while the engine is open, and again after it closed) are searched.

The numbers: every 18-character number of the city's truth, its 15-digit legacy
form, and every number-like string in the feeds within two characters of one
(the feeds' transposed and mistyped numbers), each as ASCII and as UTF-16
(little and big endian), with the check character upper and lower case.
Findings are reported with masked numbers only.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, LargeBinary, String, Text, inspect, or_, select, table, text
from sqlalchemy import column as sql_column
from sqlalchemy.sql.expression import ColumnClause

from hukou.security import KeyRing
from hukou.security.columns import discover
from hukou.standards.identity import mask
from tests.security.workload import run_workload

pytestmark = pytest.mark.storage

# Digits may follow a letter: a 全国学籍号 is "G" + the pupil's number.
_NUMBER = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15})(?![\dXx])")
_LIKE_CHUNK = 40  # numbers per SQL statement


def _legacy(number: str) -> str:
    """The 15-digit form: no century, no check character (GB 11643-1989)."""
    return number[:6] + number[8:17]


def _feed_texts(city: Path) -> Iterator[str]:
    for path in sorted((city / "feeds").rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":  # zipped XML: the cells are in the parts
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.endswith(".xml"):
                        yield archive.read(name).decode("utf-8")
            continue
        data = path.read_bytes()
        try:
            yield data.decode("utf-8")
        except UnicodeDecodeError:
            yield data.decode("gb18030")


def _near(candidate: str, numbers: set[str]) -> bool:
    return any(
        len(candidate) == len(n) and sum(a != b for a, b in zip(candidate, n, strict=True)) <= 2
        for n in numbers
    )


def identity_numbers(city: Path) -> tuple[set[str], dict[str, int]]:
    """Every number to look for, and how many of each kind the feeds hold."""
    truth = set(pl.read_parquet(city / "truth" / "persons.parquet")["identity_number"].to_list())
    legacy = {_legacy(n) for n in truth}
    in_feeds = {m.upper() for text in _feed_texts(city) for m in _NUMBER.findall(text)}
    damaged = {n for n in in_feeds - truth - legacy if _near(n, truth if len(n) == 18 else legacy)}
    kinds = {
        "truth in feeds": len(in_feeds & truth),
        "legacy 15-digit in feeds": len(in_feeds & legacy),
        "damaged in feeds": len(damaged),
    }
    return truth | legacy | damaged, kinds


def _forms(number: str) -> set[bytes]:
    texts = {number, number.lower()}
    return {
        text.encode(encoding) for text in texts for encoding in ("ascii", "utf-16-le", "utf-16-be")
    }


def _in_bytes(data: bytes, numbers: set[str]) -> set[str]:
    return {n for n in numbers if any(form in data for form in _forms(n))}


def _blob_strings(blob: bytes) -> bytes:
    """A Parquet blob's string cells (compressed on disk), else the blob itself."""
    if not blob.startswith(b"PAR1"):
        return blob
    frame = pl.read_parquet(io.BytesIO(blob))
    cells = [str(v) for name in frame.columns for v in frame[name].to_list() if v is not None]
    return "\n".join(cells).encode("utf-8")


def _findings(engine: Engine, numbers: set[str]) -> tuple[list[str], set[tuple[str, str]]]:
    """Where numbers are stored (``table.column: masked numbers``), and the token columns."""
    ordered = sorted(numbers | {n.lower() for n in numbers})
    found: list[str] = []
    tokens: set[tuple[str, str]] = set()
    schema = inspect(engine)
    with engine.connect() as connection:
        for name in schema.get_table_names():
            for info in schema.get_columns(name):
                kind = info["type"]
                column: ColumnClause[Any] = sql_column(info["name"])
                source = table(name, column)
                if isinstance(kind, String | Text):
                    token_rows = connection.execute(
                        select(column).select_from(source).where(column.like("%sm4gcm:%")).limit(1)
                    ).first()
                    if token_rows is not None:
                        tokens.add((name, info["name"]))
                    hits: set[str] = set()
                    for start in range(0, len(ordered), _LIKE_CHUNK):
                        chunk = ordered[start : start + _LIKE_CHUNK]
                        rows = connection.execute(
                            select(column)
                            .select_from(source)
                            .where(or_(*(column.like(f"%{n}%") for n in chunk)))
                        )
                        for (value,) in rows:
                            hits |= {n for n in chunk if n in str(value)}
                    if hits:
                        found.append(f"{name}.{info['name']}: {sorted(mask(n) for n in hits)}")
                elif isinstance(kind, LargeBinary):
                    rows = connection.execute(select(column).select_from(source))
                    blob = b"\n".join(_blob_strings(bytes(v)) for (v,) in rows if v is not None)
                    hits = _in_bytes(blob, numbers)
                    if hits:
                        found.append(f"{name}.{info['name']}: {sorted(mask(n) for n in hits)}")
    return found, tokens


def _files(database: Path) -> dict[str, bytes]:
    suffixes = ("", "-wal", "-shm", "-journal")
    return {
        database.name + s: (database.parent / (database.name + s)).read_bytes()
        for s in suffixes
        if (database.parent / (database.name + s)).exists()
    }


def test_no_identity_number_is_stored_in_the_clear(engine: Engine, city: Path) -> None:
    numbers, kinds = identity_numbers(city)
    # The search is meaningful: the feeds hold numbers of every kind.
    assert all(count > 0 for count in kinds.values()), kinds

    run_workload(engine, city, KeyRing.generate("k2025a"))

    found, token_columns = _findings(engine, numbers)
    assert found == [], "identity numbers stored in the clear: " + "; ".join(found)
    declared = {(c.table, c.column) for c in discover()}
    assert token_columns <= declared, f"tokens in undeclared columns: {token_columns - declared}"

    if engine.dialect.name != "sqlite":
        return
    database = Path(str(engine.url.database))
    leaks: dict[str, set[str]] = {}
    open_files = _files(database)  # the WAL holds the newest pages while connections are open
    engine.dispose()
    closed_files = _files(database)
    assert database.name in closed_files
    for label, files in (("open", open_files), ("closed", closed_files)):
        for name, data in files.items():
            hits = _in_bytes(data, numbers)
            if hits:
                leaks[f"{name} ({label})"] = {mask(n) for n in hits}
    assert leaks == {}, f"identity numbers in the raw database files: {leaks}"


def test_the_search_finds_a_planted_number(empty_engine: Engine) -> None:
    """The detector itself: a number in text, in UTF-16, or inside a compressed Parquet blob."""
    number, legacy = "11010519491231002X", "110105491231002"
    buffer = io.BytesIO()
    pl.DataFrame({"value": [f"a {number.lower()} b"]}).write_parquet(buffer, compression="zstd")
    with empty_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t_leak (id INTEGER PRIMARY KEY, note TEXT)")
        connection.exec_driver_sql(
            "CREATE TABLE t_blob (id INTEGER PRIMARY KEY, data "
            + ("BLOB" if empty_engine.dialect.name == "sqlite" else "BYTEA")
            + ")"
        )
        connection.execute(
            text("INSERT INTO t_leak (id, note) VALUES (1, :note)"),
            {"note": f"reason: {legacy}; token sm4gcm:v1:k1:AAAA"},
        )
        connection.execute(
            table("t_blob", sql_column("id"), sql_column("data", LargeBinary)).insert(),
            [{"id": 1, "data": buffer.getvalue()}, {"id": 2, "data": number.encode("utf-16-le")}],
        )
    found, tokens = _findings(empty_engine, {number, legacy})
    assert sorted(found) == [f"t_blob.data: {[mask(number)]}", f"t_leak.note: {[mask(legacy)]}"]
    assert tokens == {("t_leak", "note")}
    assert _in_bytes(b"..." + number.encode("utf-16-be") + b"...", {number}) == {number}
