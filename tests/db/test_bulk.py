"""Bulk inserts store exactly what SQLAlchemy's own INSERT stores, on SQLite and PostgreSQL.

``insert_rows`` bypasses SQLAlchemy's per-row parameter handling (COPY on
PostgreSQL, the driver's executemany on SQLite). Each kind of value a capability
writes — text with CJK, integers past 2**31, floats, dates, aware datetimes,
booleans, bytes, NULLs — is inserted through it and through ``insert()`` into a
twin table; the stored values must be identical, read back raw from the driver.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from hukou.db.bulk import insert_frame, insert_rows

pytestmark = pytest.mark.storage


class _Base(DeclarativeBase):
    pass


def _columns() -> dict[str, object]:
    return {
        "id": mapped_column(sa.BigInteger, primary_key=True, autoincrement=False),
        "name": mapped_column(sa.String(64), nullable=True),
        "note": mapped_column(sa.Text, nullable=True),
        "count": mapped_column(sa.BigInteger, nullable=True),
        "score": mapped_column(sa.Float, nullable=True),
        "born": mapped_column(sa.Date, nullable=True),
        "at": mapped_column(sa.DateTime(timezone=True), nullable=True),
        "ok": mapped_column(sa.Boolean, nullable=True),
        "blob": mapped_column(sa.LargeBinary, nullable=True),
    }


class Fast(_Base):
    __tablename__ = "t_bulk_fast"
    __annotations__ = {"id": Mapped[int]}
    locals().update(_columns())


class Plain(_Base):
    __tablename__ = "t_bulk_plain"
    __annotations__ = {"id": Mapped[int]}
    locals().update(_columns())


class WithDefault(_Base):
    __tablename__ = "t_bulk_default"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(sa.String(16), default="running")


ROWS = [
    {
        "id": 1,
        "name": "张三",
        "note": '{"地址": "江苏省苏州市昆山市柏庐路55号", "n": 1}',
        "count": 2**40,
        "score": 0.1 + 0.2,
        "born": datetime.date(1949, 12, 31),
        "at": datetime.datetime(2026, 12, 6, 8, 30, 1, 123456, tzinfo=datetime.UTC),
        "ok": True,
        "blob": b"\x00\x01\xff",
    },
    {
        "id": 2,
        "name": None,
        "note": None,
        "count": -1,
        "score": -1e-300,
        "born": None,
        "at": datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=8))),
        "ok": False,
        "blob": None,
    },
]


@pytest.fixture
def tables(empty_engine: Engine) -> Iterator[Engine]:
    _Base.metadata.create_all(empty_engine)
    yield empty_engine
    _Base.metadata.drop_all(empty_engine)


def _raw(engine: Engine, table: str) -> list[tuple[object, ...]]:
    """The stored rows as the driver returns them, with no SQLAlchemy type processing."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()


def test_bulk_insert_stores_what_sqlalchemy_stores(tables: Engine) -> None:
    with Session(tables) as session, session.begin():
        insert_rows(session, Fast, ROWS)  # type: ignore[arg-type]
        session.execute(sa.insert(Plain.__table__), ROWS)
    fast, plain = _raw(tables, "t_bulk_fast"), _raw(tables, "t_bulk_plain")
    assert fast == plain
    assert len(fast) == 2
    with Session(tables) as session:
        read = session.execute(sa.select(Fast.__table__).order_by(Fast.__table__.c.id)).all()
    assert (read[0].name, read[0].count, read[0].blob) == ("张三", 2**40, b"\x00\x01\xff")


def test_many_rows_take_the_copy_path_and_store_the_same(tables: Engine) -> None:
    """A few rows go by INSERT, many by COPY on PostgreSQL: both store what SQLAlchemy does."""
    many = [{**ROWS[i % 2], "id": i + 1} for i in range(40)]
    with Session(tables) as session, session.begin():
        insert_rows(session, Fast, many)  # type: ignore[arg-type]
        session.execute(sa.insert(Plain.__table__), many)
    fast = _raw(tables, "t_bulk_fast")
    assert fast == _raw(tables, "t_bulk_plain")
    assert len(fast) == 40


def test_frame_insert_stores_what_sqlalchemy_stores(tables: Engine) -> None:
    """A frame's rows go to the driver as tuples; what is stored must not change."""
    frame = pl.DataFrame(ROWS, schema_overrides={"at": pl.Datetime("us", "UTC")})
    with Session(tables) as session, session.begin():
        insert_frame(session, Fast, frame)  # type: ignore[arg-type]
        session.execute(sa.insert(Plain.__table__), frame.to_dicts())
        insert_frame(session, WithDefault, pl.DataFrame({"id": [7]}))  # type: ignore[arg-type]
    fast, plain = _raw(tables, "t_bulk_fast"), _raw(tables, "t_bulk_plain")
    assert fast == plain
    assert len(fast) == 2
    assert _raw(tables, "t_bulk_default") == [(7, "running")]


def test_bulk_insert_is_part_of_the_session_transaction(tables: Engine) -> None:
    session = Session(tables)
    transaction = session.begin()
    insert_rows(session, Fast, ROWS)  # type: ignore[arg-type]
    transaction.rollback()
    session.close()
    assert _raw(tables, "t_bulk_fast") == []


def test_columns_left_out_get_their_defaults(tables: Engine) -> None:
    with Session(tables) as session, session.begin():
        insert_rows(session, WithDefault, [{"id": 1}, {"id": 2}])  # type: ignore[arg-type]
    assert [row[1] for row in _raw(tables, "t_bulk_default")] == ["running", "running"]
