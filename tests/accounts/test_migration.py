"""Migration 0007: accounts tables up and down on both engines, matching the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import hukou.models  # noqa: F401  (every table on Base.metadata)
from hukou.db import Base, upgrade
from hukou.db.migrate import alembic_config

pytestmark = pytest.mark.storage

TABLES = {
    "accounts_department",
    "accounts_user",
    "accounts_user_role",
    "accounts_session",
    "accounts_login_counter",
    "accounts_login_attempt",
}


def _accounts_tables(engine: Engine) -> set[str]:
    return {name for name in inspect(engine).get_table_names() if name.startswith("accounts_")}


def _touches_accounts(difference: object) -> bool:
    return "accounts_" in repr(difference)


def test_upgrade_and_downgrade_0007(empty_engine: Engine) -> None:
    upgrade(empty_engine, "0006")
    assert _accounts_tables(empty_engine) == set()
    upgrade(empty_engine, "0007")
    assert _accounts_tables(empty_engine) == TABLES
    indexes = {i["name"]: i for i in inspect(empty_engine).get_indexes("accounts_user_role")}
    assert indexes["uq_accounts_user_role_one_admin"]["unique"]
    command.downgrade(alembic_config(empty_engine), "0006")
    assert _accounts_tables(empty_engine) == set()
    upgrade(empty_engine, "0007")
    assert _accounts_tables(empty_engine) == TABLES


def test_accounts_tables_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, Base.metadata) if _touches_accounts(d)]
    assert differences == []
