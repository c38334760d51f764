"""Write many rows at once: PostgreSQL's COPY, SQLite's executemany without per-row overhead.

An INSERT per row costs a round trip of parsing and planning; at millions of feed
rows that is most of an ingest on PostgreSQL. COPY streams the rows in the same
transaction as the rest of the session's work, so a chunk is still all or nothing.

On SQLite the statement is prepared once by the driver either way; what costs is
SQLAlchemy's handling of each row's parameters (``bench/bulk.py``: 1.34× the rate
without it, 200,000 rows of mixed types). The rows go to the driver's
``executemany`` on the session's own connection, each value through the column
type's SQLite bind processor, so what is stored is byte for byte what SQLAlchemy
would store (``tests/db/test_bulk.py``). Rows that leave out a column with a
client-side default take SQLAlchemy's path on both engines, which applies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Final

import polars as pl
from psycopg import sql
from sqlalchemy import Connection, Table, insert
from sqlalchemy.orm import Session

from hukou.db.base import Base

__all__ = ["insert_frame", "insert_rows"]


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, object]]) -> None:
    """Insert ``rows`` (all with the same keys) in the session's transaction."""
    if not rows:
        return
    columns = list(rows[0])
    pick = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    _insert(
        session, model, columns, count=len(rows), dicts=lambda: list(rows), values=map(pick, rows)
    )


def insert_frame(session: Session, model: type[Base], frame: pl.DataFrame) -> None:
    """Insert a frame's rows (columns named as the table's) in the session's transaction.

    The rows go to the driver as tuples straight from the frame: building a dict per
    row first (``to_dicts``) cost a third of writing 3 M links on SQLite.
    """
    if frame.height == 0:
        return
    _insert(
        session,
        model,
        frame.columns,
        count=frame.height,
        dicts=frame.to_dicts,
        values=frame.iter_rows(buffer_size=4096),
    )


def _insert(
    session: Session,
    model: type[Base],
    columns: Sequence[str],
    *,
    count: int,
    dicts: Callable[[], Sequence[Mapping[str, object]]],
    values: Iterable[Sequence[object]],
) -> None:
    """``values`` (tuples in ``columns`` order) by the engine's fast path; the same rows as
    dicts (made by ``dicts``) through SQLAlchemy where a left-out column has a Python
    default, or on an engine without a fast path."""
    table = model.__table__
    assert isinstance(table, Table)
    connection = session.connection()
    dialect = connection.dialect
    if not _without_client_defaults(table, columns):
        connection.execute(insert(table), list(dicts()))  # SQLAlchemy fills the defaults in
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        if count < _COPY_FROM:
            _execute_few(connection, table, columns, values)
        else:
            _copy(connection, table, columns, values)
    elif dialect.name == "sqlite":
        _executemany(connection, table, columns, values)
    else:
        connection.execute(insert(table), list(dicts()))


# Rows from which COPY pays: its start and end are round trips of their own, so a
# ledger entry or two (every filing's) go faster as a plain INSERT.
_COPY_FROM: Final = 16


def _execute_few(
    connection: Connection, table: Table, columns: Sequence[str], values: Iterable[Sequence[object]]
) -> None:
    """A few rows by the driver's own INSERT: adapted by psycopg as COPY adapts them."""
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.Placeholder() for _ in columns),
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.executemany(statement, list(values))


def _without_client_defaults(table: Table, columns: Sequence[str]) -> bool:
    """Whether no column the rows leave out has a default SQLAlchemy computes in Python."""
    given = set(columns)
    return all(column.default is None for column in table.columns if column.key not in given)


def _executemany(
    connection: Connection, table: Table, columns: Sequence[str], values: Iterable[Sequence[object]]
) -> None:
    dialect = connection.dialect
    processors: list[tuple[int, Callable[[Any], Any]]] = [
        (index, process)
        for index, name in enumerate(columns)
        if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from the model)
        dialect.identifier_preparer.format_table(table),
        ", ".join(dialect.identifier_preparer.quote(name) for name in columns),
        ", ".join("?" for _ in columns),
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, _processed(values, processors) if processors else values)
    finally:
        cursor.close()


def _processed(
    values: Iterable[Sequence[object]], processors: Sequence[tuple[int, Callable[[Any], Any]]]
) -> Iterable[list[object]]:
    """Each row with the columns that have a SQLite bind processor put through it."""
    for row in values:
        out = list(row)
        for index, process in processors:
            out[index] = process(out[index])
        yield out


def _copy(
    connection: Connection, table: Table, columns: Sequence[str], values: Iterable[Sequence[object]]
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in values:
            copy.write_row(row)
