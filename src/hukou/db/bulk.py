"""Write many rows at once: PostgreSQL's COPY where it is there, batched INSERT elsewhere.

An INSERT per row costs a round trip of parsing and planning; at millions of feed
rows that is most of an ingest on PostgreSQL. COPY streams the rows in the same
transaction as the rest of the session's work, so a chunk is still all or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import sql
from sqlalchemy import Table, insert
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
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        connection.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
