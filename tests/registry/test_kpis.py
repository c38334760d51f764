"""The registry's KPIs from what is stored, on both engines: the error rate counts rows in
quarantine and rows named by a person's quality flag (not linkage's reason strings)."""

from __future__ import annotations

import datetime
import json

from sqlalchemy import Engine

from hukou.db import session_scope
from hukou.registry.kpis import registry_kpis
from hukou.registry.model import Batch, Person

AT = datetime.datetime(2025, 12, 31, 8, tzinfo=datetime.UTC)


def _batch(batch_id: str, rows_in: int, quarantined: int, status: str = "done") -> Batch:
    return Batch(
        id=batch_id,
        department="public_security",
        file_name=f"{batch_id}.csv",
        content_sha256=batch_id * 8,
        status=status,
        rows_in=rows_in,
        rows_accepted=rows_in - quarantined,
        rows_quarantined=quarantined,
        started_at=AT,
        finished_at=AT,
    )


def _person(person_id: str, flags: list[object] | None, *, elsewhere: bool | None) -> Person:
    return Person(
        id=person_id,
        golden="{}",
        flags=None if flags is None else json.dumps(flags),
        records=2,
        registered_elsewhere=elsewhere,
        updated_at=AT,
    )


def test_error_rate_counts_quarantine_and_flagged_records(engine: Engine) -> None:
    with session_scope(engine) as db:
        db.add_all([_batch("b1", 150, 3), _batch("b2", 50, 1), _batch("b3", 999, 999, "running")])
        db.add_all(
            [
                _person("P1", [{"code": "death_not_cancelled", "records": [1, 2]}], elsewhere=True),
                _person("P2", [{"code": "lease_expired", "records": [2, 7]}], elsewhere=False),
                _person("P3", ["two valid identity numbers"], elsewhere=True),  # linkage's
                _person("P4", None, elsewhere=None),
            ]
        )
    with session_scope(engine) as db:
        found = registry_kpis(db)
    assert found.rows_in == 200  # the running batch is not counted yet
    assert found.quarantined == 4
    assert found.flagged_records == 3  # records 1, 2, 7
    assert found.error_rate == (4 + 3) / 200
    assert found.persons == 4
    assert found.registered_elsewhere == 2
    assert found.pending_reviews == 0
    assert found.last_update is not None


def test_an_empty_registry_has_no_rate(engine: Engine) -> None:
    with session_scope(engine) as db:
        found = registry_kpis(db)
    assert found.error_rate is None
    assert found.last_update is None
