"""Alembic environment: runs against the engine handed over by ``hukou.db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import hukou.models  # noqa: F401  (registers every capability's tables on Base.metadata)
from hukou.db.base import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `hukou db upgrade`, which supplies the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
