"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["SERVER_POOL", "create_engine_for", "session_scope"]


# Page cache per connection, in KiB (negative: a size, not a page count). SQLite's
# default of 2 MiB makes every index lookup of a million-row table a read through the
# operating system; a batch touching millions of rows spends most of its time there.
_SQLITE_CACHE_KIB = 256 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked, and WAL lets the console read while
    # a batch writes. In WAL mode synchronous=NORMAL cannot corrupt the database; a
    # power cut may only undo the last commits, which ingest and link redo idempotently.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
    cursor.close()


SERVER_POOL: Final = 20
"""Connections a server keeps open to PostgreSQL (:func:`create_engine_for`'s
``pool_size`` for ``hukou serve``). SQLAlchemy's default of five closes every connection
beyond it when it comes back, so a server with more callers than that at once opened
a new connection (a new PostgreSQL process) for every other request."""


def create_engine_for(url: str, *, pool_size: int | None = None) -> Engine:
    """An engine for ``url``; for a SQLite file, its folder is created first.

    ``pool_size``: connections kept open to a server database (PostgreSQL), as many
    again opened when more are needed at once; SQLAlchemy's default (5) if not given.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Parallel ingest has several writers: wait for the lock rather than fail at 5 s.
        engine = create_engine(url, connect_args={"timeout": 120})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if pool_size is None:
        return create_engine(url, pool_pre_ping=True)
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
