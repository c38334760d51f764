"""Benchmark: bulk inserts on SQLite, ``hukou.db.bulk.insert_rows`` against SQLAlchemy's INSERT.

``insert_rows`` gives the rows to the driver's ``executemany`` with each value
through its column type's bind processor; the anchor, same run, same rows, is
SQLAlchemy's own ``connection.execute(insert(table), rows)``. Rows of mixed
types (text, integers, a float, a date, an aware datetime, a boolean, JSON text).

    .venv/bin/python bench/bulk.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from hukou.db import create_engine_for
from hukou.db.bulk import insert_rows


class _Base(DeclarativeBase):
    pass


class Row(_Base):
    __tablename__ = "bench_bulk"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    person_id: Mapped[str] = mapped_column(sa.String(24))
    method: Mapped[str] = mapped_column(sa.String(16))
    probability: Mapped[float] = mapped_column(sa.Float)
    seen: Mapped[datetime.date] = mapped_column(sa.Date)
    at: Mapped[datetime.datetime] = mapped_column(sa.DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(sa.Boolean)
    doc: Mapped[str] = mapped_column(sa.Text)


def _rows(start: int, count: int) -> list[dict[str, object]]:
    now = datetime.datetime.now(datetime.UTC)
    return [
        {
            "id": start + i,
            "person_id": f"P{i:012d}",
            "method": "exact",
            "probability": 0.5,
            "seen": now.date(),
            "at": now,
            "ok": True,
            "doc": '{"地址": "江苏省苏州市昆山市", "rank": 1}',
        }
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    engine = create_engine_for(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bulk.db'}")
    _Base.metadata.create_all(engine)
    plain_rows, fast_rows = _rows(0, args.rows), _rows(args.rows, args.rows)

    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        session.connection().execute(sa.insert(Row.__table__), plain_rows)
    plain = time.perf_counter() - started

    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        insert_rows(session, Row, fast_rows)  # type: ignore[arg-type]
    fast = time.perf_counter() - started
    engine.dispose()
    print(
        f"{args.rows:,} rows: SQLAlchemy insert {args.rows / plain:,.0f} rows/s; "
        f"insert_rows {args.rows / fast:,.0f} rows/s; ratio {plain / fast:.2f}x"
    )


if __name__ == "__main__":
    main()
