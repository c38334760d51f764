"""Service ratings (政务服务好差评, GB/T 39735-2020) and the rectification a 差评 opens.

After delivery the resident rates the case once, on the standard's five levels (5 非常满意,
4 满意, 3 基本满意, 2 不满意, 1 非常不满意), with reasons picked from a fixed list: free
text would collect personal data nobody needs. A rating of 1 or 2 is a 差评: it opens a
rectification task for the first-contact department, due in ``RECTIFY_WORKDAYS`` working
days (国办发〔2019〕51号 asks that every named 差评 be looked into, put right and answered;
the deadline is the city's rule, fifteen working days here). Both are ledger entries.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.casework.catalog import Service
from hukou.casework.lifecycle import CaseState, StepRefusedError
from hukou.casework.model import CaseRating, CaseRow, Rectification
from hukou.casework.store import CaseNotFoundError, record_step
from hukou.holidays.store import clock_calendar
from hukou.standards.workdays import WorkCalendar

__all__ = [
    "BAD_SCORES",
    "REASONS",
    "RECTIFY_WORKDAYS",
    "RatingError",
    "close_rectification",
    "rate",
]

RECTIFY_WORKDAYS: Final = 15
BAD_SCORES: Final = frozenset({1, 2})
"""不满意 and 非常不满意: a 差评."""
REASONS: Final = {
    "fast": ("办理快捷", "quick"),
    "no_visit": ("不用跑腿", "no trip needed"),
    "clear_guidance": ("指引清楚", "clear guidance"),
    "courteous": ("态度热情", "courteous staff"),
    "slow": ("办理时间长", "took too long"),
    "repeated_material": ("重复提交材料", "asked for material twice"),
    "unclear_guidance": ("指引不清楚", "unclear guidance"),
    "several_trips": ("多次跑腿", "several trips"),
    "discourteous": ("态度不好", "discourteous staff"),
    "other": ("其他", "other"),
}
"""The reasons a resident may tick (zh, en)."""


class RatingError(ValueError):
    """A rating that cannot be taken: not delivered, rated already, or out of range."""


def rate(
    db: Session,
    case_id: str,
    score: int,
    reasons: Sequence[str],
    *,
    by: str,
    service: Service,
    now: datetime.datetime,
    calendar: WorkCalendar | None = None,
) -> Rectification | None:
    """Store the resident's rating of a delivered case; the rectification a 差评 opens."""
    case = db.get(CaseRow, case_id)
    if case is None:
        raise CaseNotFoundError(case_id)
    if case.state != CaseState.DELIVERED:
        raise StepRefusedError(case.state, "rate")
    if not 1 <= score <= 5:
        raise RatingError("a rating is 1 to 5 (非常不满意 to 非常满意)")
    unknown = sorted(set(reasons) - set(REASONS))
    if unknown:
        raise RatingError(f"unknown reasons {unknown}; pick from {sorted(REASONS)}")
    if db.get(CaseRating, case_id) is not None:
        raise RatingError("this case is rated already (one rating per case)")
    db.add(
        CaseRating(
            case_id=case_id,
            score=score,
            reasons=json.dumps(sorted(set(reasons))),
            rated_by=by,
            rated_at=now,
        )
    )
    who = {"actor": by, "department": "resident", "purpose": service.purpose}
    record_step(db, case, f"case.rated_{score}", at=now, **who)
    if score not in BAD_SCORES:
        db.flush()
        return None
    due = (calendar or clock_calendar(db, now.date())).add_workdays(now.date(), RECTIFY_WORKDAYS)
    task = Rectification(case_id=case_id, department=case.first_contact, due_on=due, opened_at=now)
    db.add(task)
    db.flush()
    system = {**who, "actor": "system:casework", "department": case.first_contact}
    record_step(db, case, "case.rectification_opened", at=now, **system)
    return task


def close_rectification(
    db: Session, case_id: str, *, by: str, department: str, service: Service, now: datetime.datetime
) -> Rectification:
    """The department put it right and answered the resident."""
    task = db.scalar(select(Rectification).where(Rectification.case_id == case_id))
    if task is None:
        raise CaseNotFoundError(f"rectification of {case_id}")
    if task.department != department or task.closed_at is not None:
        raise StepRefusedError("closed" if task.closed_at else "open", f"close by {department}")
    task.closed_at, task.closed_by = now, by
    case = db.get(CaseRow, case_id)
    assert case is not None
    record_step(
        db,
        case,
        "case.rectification_closed",
        actor=by,
        department=department,
        purpose=service.purpose,
        at=now,
    )
    db.flush()
    return task
