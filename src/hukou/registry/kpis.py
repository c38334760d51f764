"""The registry's KPIs for the console's home page, from what is stored (no ground truth).

- 差错率 ``error_rate``: source rows with an unresolved issue / all rows received — a
  row is unresolved while it sits in quarantine or is named by a quality flag of its
  person (:mod:`hukou.registry.quality`). The plan's KPI: from 8.3 % to under 1 %.
  (``hukou registry evaluate`` measures the same against a synthetic city's truth.)
- 人户分离 ``registered_elsewhere``: persons living somewhere other than where they are
  registered, as inferred (:mod:`hukou.registry.residence`).
- 数据更新 ``last_update``: when the last batch finished: the update latency's clock.
- ``pending_reviews``: pairs waiting in the clerical-review queue.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hukou.registry.model import Batch, Person, ReviewPair
from hukou.registry.quality import is_quality_flag

__all__ = ["RegistryKpis", "registry_kpis"]


@dataclass(frozen=True, slots=True)
class RegistryKpis:
    rows_in: int
    accepted: int
    quarantined: int
    persons: int
    flagged_records: int
    error_rate: float | None
    registered_elsewhere: int
    pending_reviews: int
    last_update: datetime.datetime | None


def _flagged_records(db: Session) -> int:
    """Distinct source records named by a quality flag of any person."""
    named: set[int] = set()
    for (flags,) in db.execute(select(Person.flags).where(Person.flags.is_not(None))):
        for entry in json.loads(flags or "[]"):
            if is_quality_flag(entry):
                named.update(int(r) for r in entry.get("records", ()))
    return len(named)


def registry_kpis(db: Session) -> RegistryKpis:
    rows_in, accepted, quarantined, last = db.execute(
        select(
            func.coalesce(func.sum(Batch.rows_in), 0),
            func.coalesce(func.sum(Batch.rows_accepted), 0),
            func.coalesce(func.sum(Batch.rows_quarantined), 0),
            func.max(Batch.finished_at),
        ).where(Batch.status == "done")
    ).one()
    flagged = _flagged_records(db)
    persons = db.scalar(select(func.count()).select_from(Person)) or 0
    elsewhere = (
        db.scalar(
            select(func.count()).select_from(Person).where(Person.registered_elsewhere.is_(True))
        )
        or 0
    )
    pending = (
        db.scalar(
            select(func.count()).select_from(ReviewPair).where(ReviewPair.status == "pending")
        )
        or 0
    )
    rows = int(rows_in)
    return RegistryKpis(
        rows_in=rows,
        accepted=int(accepted),
        quarantined=int(quarantined),
        persons=int(persons),
        flagged_records=flagged,
        error_rate=(int(quarantined) + flagged) / rows if rows else None,
        registered_elsewhere=int(elsewhere),
        pending_reviews=int(pending),
        last_update=last,
    )
