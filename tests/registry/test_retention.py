"""Quarantine retention on SQLite and PostgreSQL: a purge deletes the lines past their
period, shreds their batch keys (so a copy taken before cannot be read with the live
keys), keeps the batch's counts, leaves younger batches and the registry alone, and
writes one ledger entry per batch."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from hukou.audit import ledger
from hukou.db import session_scope
from hukou.keyring import data_cipher
from hukou.registry.ingest import ingest_file
from hukou.registry.model import (
    IDENTITY_CONTEXT,
    QUARANTINE_RAW_CONTEXT,
    Batch,
    QuarantinedRow,
    SourceRecord,
)
from hukou.registry.retention import purge_quarantine, quarantine_due
from hukou.security import DataKeys, KeyRing, ShreddedKeyError
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

pytestmark = pytest.mark.storage

KEYRING = KeyRing.generate("k2026a")
TODAY = datetime.date(2025, 12, 31)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("retention-city")
    generate_city(CityConfig(population=400, seed=17), out)
    return out


def _ingest(engine: Engine, city: Path) -> None:
    for folder in sorted((city / "feeds").iterdir()):
        for path in sorted(folder.iterdir()):
            ingest_file(engine, folder.name, path, keyring=KEYRING, today=TODAY)


def test_a_purge_erases_old_quarantined_lines_by_shredding_their_keys(
    engine: Engine, city: Path
) -> None:
    _ingest(engine, city)
    now = datetime.datetime.now(datetime.UTC)
    with session_scope(engine) as session:
        lines = session.execute(
            select(QuarantinedRow.batch_id, QuarantinedRow.raw_token).order_by(QuarantinedRow.id)
        ).all()
        counts_before = {
            b.id: (b.rows_in, b.rows_accepted, b.rows_quarantined)
            for b in session.scalars(select(Batch))
        }
        record_token = session.scalars(
            select(SourceRecord.identity_token).where(SourceRecord.identity_token.is_not(None))
        ).first()
    batches = sorted({batch_id for batch_id, _token in lines})
    assert len(batches) >= 2, "the city should quarantine lines in several batches"
    # One batch is young: finished yesterday, so a 30-day retention keeps it.
    young, old = batches[0], batches[1:]
    with session_scope(engine) as session:
        session.execute(
            update(Batch)
            .where(Batch.id != young)
            .values(finished_at=now - datetime.timedelta(days=400))
        )
        session.execute(
            update(Batch)
            .where(Batch.id == young)
            .values(finished_at=now - datetime.timedelta(days=1))
        )
    cipher = data_cipher(engine, KEYRING)
    copies = {token: cipher.decrypt(token, context=QUARANTINE_RAW_CONTEXT) for _b, token in lines}
    cutoff = now - datetime.timedelta(days=30)
    assert set(quarantine_due(engine, cutoff)) == set(old)

    report = purge_quarantine(engine, DataKeys(engine, KEYRING), before=cutoff, actor="officer-7")
    assert set(report.lines) == set(old)
    assert report.total == sum(1 for batch_id, _token in lines if batch_id in old)
    assert report.keys_shredded == len(old)

    reader = data_cipher(engine, KEYRING)  # the same process: its cache was dropped
    for batch_id, token in lines:
        if batch_id == young:
            assert reader.decrypt(token, context=QUARANTINE_RAW_CONTEXT) == copies[token]
        else:  # the copy taken before the purge is unreadable with the live keys
            with pytest.raises(ShreddedKeyError):
                reader.decrypt(token, context=QUARANTINE_RAW_CONTEXT)
    assert record_token is not None
    assert reader.decrypt(record_token, context=IDENTITY_CONTEXT)  # the registry is untouched

    with session_scope(engine) as session:
        left = set(session.scalars(select(QuarantinedRow.batch_id)))
        assert left == {young}
        # The counts are history: rows in = accepted + quarantined still holds.
        for batch in session.scalars(select(Batch)):
            assert (batch.rows_in, batch.rows_accepted, batch.rows_quarantined) == counts_before[
                batch.id
            ]
            purged = json.loads(batch.report or "{}").get("quarantine_purged")
            assert (purged is not None) == (batch.id in old)
        size = ledger.ledger_size(session)
        entries = [ledger.read_entry(session, i) for i in range(size)]
    purges = [e for e in entries if e.action == "quarantine.purged"]
    assert sorted(e.object_id or "" for e in purges) == sorted(old)
    assert {(e.actor, e.capability, e.purpose) for e in purges} == {
        ("officer-7", "registry", "retention")
    }

    again = purge_quarantine(engine, DataKeys(engine, KEYRING), before=cutoff, actor="officer-7")
    assert (again.total, again.keys_shredded) == (0, 0)
