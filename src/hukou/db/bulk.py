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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Table, insert
from sqlalchemy.orm import Session

from hukou.db.base import Base

__all__ = ["insert_rows"]


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, object]]) -> None:
    """Insert ``rows`` (all with the same keys) in the session's transaction."""
    if not rows:
        return
    table = model.__table__
    assert isinstance(table, Table)
    connection = session.connection()
    dialect = connection.dialect
    if not _without_client_defaults(table, rows[0]):
        connection.execute(insert(table), list(rows))  # SQLAlchemy fills the defaults in
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, table, rows)
    elif dialect.name == "sqlite":
        _executemany(connection, table, rows)
    else:
        connection.execute(insert(table), list(rows))


def _without_client_defaults(table: Table, row: Mapping[str, object]) -> bool:
    """Whether no column the rows leave out has a default SQLAlchemy computes in Python."""
    return all(column.default is None for column in table.columns if column.key not in row)


def _executemany(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, object]]
) -> None:
    dialect = connection.dialect
    columns = list(rows[0])
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from the model)
        dialect.identifier_preparer.format_table(table),
        ", ".join(dialect.identifier_preparer.quote(name) for name in columns),
        ", ".join("?" for _ in columns),
    )
    pairs = list(zip(columns, processors, strict=True))
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(
            statement,
            (
                [row[name] if process is None else process(row[name]) for name, process in pairs]
                for row in rows
            ),
        )
    finally:
        cursor.close()


def _copy(connection: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
