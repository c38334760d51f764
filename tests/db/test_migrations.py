"""Migrations run on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import hukou.models  # noqa: F401  (every table on Base.metadata)
from hukou.db import Base, current_revision, head_revision, upgrade
from hukou.db.migrate import alembic_config

pytestmark = pytest.mark.storage


def test_upgrade_from_empty_reaches_head(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert {"holiday_notice", "registry_batch", "registry_record", "registry_quarantine"} <= tables


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "base")
    assert "holiday_notice" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "holiday_notice" in inspect(engine).get_table_names()
