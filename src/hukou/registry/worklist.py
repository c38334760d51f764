"""A data officer's worklist (数据管理): feed batches, quarantined lines and the registry's
open issues — departments disagreeing on a field (conflicts kept, not overwritten) and the
cross-checks' quality flags.

One place reads these for the console page and its JSON twin, so both show the same
thing. Nothing personal leaves: a batch is counts and reasons, a quarantined line its
position and reasons (values were masked at ingest; the line stays encrypted), an issue
the person's registry id, the field or check, and the departments involved. The values
themselves are read on the person's profile, through ``exchange``, as a ledger entry.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hukou.registry.model import Batch, Person, QuarantinedRow
from hukou.registry.quality import is_quality_flag

__all__ = [
    "BatchLine",
    "Issue",
    "IssueSummary",
    "QuarantineLine",
    "batches",
    "issues",
    "quarantine",
]


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One ingested file: rows in = accepted + quarantined, and why lines were refused."""

    batch_id: str
    department: str
    file: str
    status: str
    rows_in: int
    accepted: int
    quarantined: int
    reasons: dict[str, int]
    seconds: float | None
    finished_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class QuarantineLine:
    batch_id: str
    department: str
    file: str
    position: int
    reasons: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Issue:
    """One person's open issues: fields the departments disagree on, and quality flags."""

    person_id: str
    conflicts: list[dict[str, Any]]  # {"field", "chosen": department, "others": [departments]}
    flags: list[dict[str, Any]]  # {"code", "departments"}


@dataclass(frozen=True, slots=True)
class IssueSummary:
    """Counts over the whole registry, and the first ``limit`` persons with an issue."""

    persons_with_issues: int
    conflicts_by_field: dict[str, int]
    flags_by_code: dict[str, int]
    persons: list[Issue]


def batches(db: Session, *, limit: int = 100) -> list[BatchLine]:
    """The latest batches, newest first, the three most frequent reasons each."""
    found = []
    for batch in db.scalars(select(Batch).order_by(Batch.started_at.desc()).limit(limit)):
        report = json.loads(batch.report) if batch.report else {}
        reasons = sorted(report.get("reasons", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        found.append(
            BatchLine(
                batch_id=batch.id,
                department=batch.department,
                file=batch.file_name,
                status=batch.status,
                rows_in=batch.rows_in,
                accepted=batch.rows_accepted,
                quarantined=batch.rows_quarantined,
                reasons=dict(reasons[:3]),
                seconds=report.get("seconds"),
                finished_at=_utc(batch.finished_at),
            )
        )
    return found


def _utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Stored in UTC; SQLite hands it back without the zone (RFC 3339 wants one)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=datetime.UTC)


def quarantine(db: Session, *, limit: int = 50) -> list[QuarantineLine]:
    """The latest quarantined lines with every reason (values masked at ingest)."""
    rows = db.scalars(select(QuarantinedRow).order_by(QuarantinedRow.id.desc()).limit(limit))
    return [
        QuarantineLine(
            row.batch_id, row.department, row.file_name, row.position, json.loads(row.reasons)
        )
        for row in rows
    ]


def _conflicts(text: str | None) -> list[dict[str, Any]]:
    return [
        {
            "field": c["field"],
            "chosen": c["chosen"],
            "others": sorted({o["department"] for o in c.get("others", ())}),
        }
        for c in json.loads(text or "[]")
    ]


def _flags(text: str | None) -> list[dict[str, Any]]:
    return [
        {"code": f["code"], "departments": list(f.get("departments", ()))}
        for f in json.loads(text or "[]")
        if is_quality_flag(f)
    ]


def issues(db: Session, *, limit: int = 50, code: str | None = None) -> IssueSummary:
    """Every person with a conflict or a quality flag, counted; the first ``limit`` listed
    (persons with a quality flag first: a flag asks for action, a conflict for a look).

    ``code`` keeps only persons with that flag code or conflicting field.
    """
    rows = db.execute(
        select(Person.id, Person.conflicts, Person.flags)
        .where(or_(Person.conflicts.is_not(None), Person.flags.is_not(None)))
        .order_by(Person.id)
    )
    by_field: Counter[str] = Counter()
    by_code: Counter[str] = Counter()
    flagged: list[Issue] = []
    conflicted: list[Issue] = []
    for person_id, conflicts_text, flags_text in rows:
        issue = Issue(person_id, _conflicts(conflicts_text), _flags(flags_text))
        if not issue.conflicts and not issue.flags:
            continue
        by_field.update(c["field"] for c in issue.conflicts)
        by_code.update(f["code"] for f in issue.flags)
        names = {c["field"] for c in issue.conflicts} | {f["code"] for f in issue.flags}
        if code is not None and code not in names:
            continue
        (flagged if issue.flags else conflicted).append(issue)
    listed = [*flagged, *conflicted]
    return IssueSummary(
        persons_with_issues=len(listed),
        conflicts_by_field=dict(by_field.most_common()),
        flags_by_code=dict(by_code.most_common()),
        persons=listed[:limit],
    )
