"""Retention of quarantined lines: purged when their period ends, erased by crypto-shredding.

A quarantined line is the raw text of a feed row that failed validation, kept so
that a data officer can see why and the department can correct its export. It
holds personal data that never entered the registry; keeping it longer than that
work needs would break PIPL art. 19 (no longer than necessary for the purpose).

Ingest encrypts each batch's quarantined lines under the batch's own data key
(scope ``registry.quarantine``, subject = batch id). Purging a batch deletes its
rows *and* shreds that key, in one transaction with its ledger entry: copies of
the lines in the WAL, a replica or a backup become unreadable with today's keys,
and with any key once the master key of the backup's day is retired (see
``docs/security.md``). The batch's counts stay (rows in = accepted + quarantined is
history, not personal data); its report notes when the lines were purged.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, select

from hukou.db import session_scope
from hukou.registry.changes import record_change
from hukou.registry.model import QUARANTINE_RAW_CONTEXT, Batch, QuarantinedRow
from hukou.security import DataKeys, scope_of

__all__ = ["DEFAULT_QUARANTINE_DAYS", "PurgeReport", "purge_quarantine", "quarantine_due"]

DEFAULT_QUARANTINE_DAYS = 365
"""How long quarantined lines are kept after their batch finished: a year of corrections."""
QUARANTINE_SCOPE = scope_of(QUARANTINE_RAW_CONTEXT)


@dataclass(slots=True)
class PurgeReport:
    """What a purge erased: per batch id, the lines deleted; and the data keys shredded."""

    before: datetime.datetime
    lines: dict[str, int] = field(default_factory=dict)
    keys_shredded: int = 0

    @property
    def total(self) -> int:
        """Lines deleted over all batches."""
        return sum(self.lines.values())


def quarantine_due(engine: Engine, before: datetime.datetime) -> dict[str, int]:
    """Batch id → quarantined lines still held, for batches finished before ``before``."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(QuarantinedRow.batch_id, func.count())
            .join(Batch, Batch.id == QuarantinedRow.batch_id)
            .where(Batch.finished_at.is_not(None), Batch.finished_at < before)
            .group_by(QuarantinedRow.batch_id)
            .order_by(QuarantinedRow.batch_id)
        ).all()
    return {str(batch_id): int(count) for batch_id, count in rows}


def purge_quarantine(
    engine: Engine, data_keys: DataKeys, *, before: datetime.datetime, actor: str
) -> PurgeReport:
    """Delete the quarantined lines of batches finished before ``before`` and shred their keys.

    One transaction per batch: its rows, its key and its ledger entry go
    together, so a purge that stops midway leaves whole batches purged or not,
    and running it again finishes the rest.
    """
    report = PurgeReport(before)
    for batch_id in quarantine_due(engine, before):
        with session_scope(engine) as session:
            batch = session.get_one(Batch, batch_id)
            deleted = (
                session.connection()
                .execute(delete(QuarantinedRow).where(QuarantinedRow.batch_id == batch_id))
                .rowcount
            )
            shredded = data_keys.shred(
                QUARANTINE_SCOPE, [batch_id], connection=session.connection()
            )
            now = datetime.datetime.now(datetime.UTC)
            saved = json.loads(batch.report or "{}")
            saved["quarantine_purged"] = {"at": now.isoformat(), "lines": deleted}
            batch.report = json.dumps(saved, ensure_ascii=False)
            record_change(
                session,
                actor=actor,
                department=batch.department,
                action="quarantine.purged",
                object_id=batch_id,
                purpose="retention",
                fields=("raw",),
                at=now,
            )
        report.lines[batch_id] = int(deleted)
        report.keys_shredded += shredded
    return report
