"""Migrations run on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import datetime
import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

import hukou.models  # noqa: F401  (every table on Base.metadata)
from hukou.db import Base, current_revision, head_revision, upgrade
from hukou.db.migrate import alembic_config
from hukou.registry.golden import stored_golden

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


_PROVENANCE = {
    "as_of": "2025-06-01",
    "batch_id": "b-hr",
    "department": "hr_social_security",
    "file": "参保.csv",
    "position": 7,
}
_POLICE = {
    "as_of": "2025-06-01",
    "batch_id": "b-ps",
    "department": "public_security",
    "file": "rk.csv",
    "position": 3,
}
# The 0011 form: provenance per field (json.dumps(..., ensure_ascii=False, sort_keys=True)).
_PER_FIELD = {
    "employer_name": {**_PROVENANCE, "rank": 1, "value": "苏州创新科技有限公司"},
    "name": {**_POLICE, "rank": 1, "value": "李杰昊"},
    "phone": {**_PROVENANCE, "rank": 1, "value": "sm4gcm:v2:d3d1721ab2ca359b8:jutQWe"},
    "retired": {**_PROVENANCE, "rank": 1, "value": False},
}


def _golden(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(text("SELECT golden FROM registry_person WHERE id = 'p1'")).scalar()
        )


def test_golden_records_move_to_the_compact_form_and_back(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0011")
    old = json.dumps(_PER_FIELD, ensure_ascii=False, sort_keys=True)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO registry_person (id, golden, records, updated_at) "
                "VALUES ('p1', :golden, 2, :now)"
            ),
            {"golden": old, "now": datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)},
        )
    upgrade(engine)
    compact = _golden(engine)
    # Each source once, by date, department, file, line; fields name them by index.
    assert json.loads(compact) == {
        "fields": {
            "employer_name": [0, 1, "苏州创新科技有限公司"],
            "name": [1, 1, "李杰昊"],
            "phone": [0, 1, "sm4gcm:v2:d3d1721ab2ca359b8:jutQWe"],
            "retired": [0, 1, False],
        },
        "sources": [_PROVENANCE, _POLICE],
    }
    chosen = stored_golden(compact)
    assert chosen["name"].provenance.file_name == "rk.csv"
    assert chosen["retired"].value is False
    command.downgrade(alembic_config(engine), "0011")
    assert _golden(engine) == old
