"""What people see of cases: one case with its facts, tasks and clock; a department's
inbox; a resident's own cases. Read-only, and the one place that says who sees a case.

Who sees a case (首接负责制): the first-contact department sees all of it and every
task; a department with a task on it sees the case and its own task; the resident it
is about, or who applied, sees it from the portal. A fact is shown as held or not and
where it was known from (registry, material, missing) with the ledger entry of the
read, never its value: the clerk needs to know the birth date was proven, not what it is.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.casework.clock import Clock, Pause, SlaStatus
from hukou.casework.lifecycle import CaseState, TaskState
from hukou.casework.model import CaseFact, CasePause, CaseRating, CaseRow, CaseTask
from hukou.casework.store import CaseNotFoundError
from hukou.holidays.store import clock_calendar
from hukou.standards.workdays import WorkCalendar

__all__ = [
    "CaseView",
    "FactView",
    "InboxItem",
    "TaskView",
    "case_view",
    "case_views",
    "cases_of_person",
    "cases_seen_by",
    "inbox",
    "may_see",
    "own_cases",
]

_UNDECIDED = frozenset({CaseState.SUBMITTED, CaseState.AWAITING_MATERIAL, CaseState.IN_REVIEW})


@dataclass(frozen=True, slots=True)
class FactView:
    name: str
    holds: bool | None
    source: str
    ledger_seq: int | None


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    department: str
    stage: int
    state: str
    version: int
    decided_by: str | None
    decided_at: datetime.datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as of ``today``: its state, decision, clock, facts and tasks."""

    id: str
    service: str
    channel: str
    state: str
    version: int
    first_contact: str
    applicant_id: str | None
    subject_id: str | None
    filed_at: datetime.datetime
    instant_decision: bool
    proposed: str | None
    reason_zh: str | None
    reason_en: str | None
    decided_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    escalated: str | None
    limit_workdays: int
    deadline: datetime.date
    deadline_provisional: bool
    """The deadline falls in a year whose State Council holiday notice is not loaded."""
    workdays_used: int
    sla: str
    materials_asked: tuple[str, ...]
    rated: int | None
    facts: tuple[FactView, ...]
    tasks: tuple[TaskView, ...]


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An open task of a department, with its case's clock."""

    task_id: int
    task_version: int
    case_id: str
    service: str
    stage: int
    filed_on: datetime.date
    deadline: datetime.date
    workdays_left: int
    sla: str
    escalated: str | None


def may_see(case: CaseRow, tasks: Sequence[CaseTask], *, department: str | None) -> bool:
    """Whether staff of ``department`` may see ``case``: its first contact, or a reviewer."""
    if department is None:
        return False
    return case.first_contact == department or any(t.department == department for t in tasks)


def _pauses(db: Session, case_ids: Sequence[str]) -> dict[str, list[CasePause]]:
    found: dict[str, list[CasePause]] = {}
    if not case_ids:
        return found
    for pause in db.scalars(
        select(CasePause).where(CasePause.case_id.in_(case_ids)).order_by(CasePause.id)
    ):
        found.setdefault(pause.case_id, []).append(pause)
    return found


def _clock(case: CaseRow, pauses: Sequence[CasePause], calendar: WorkCalendar) -> Clock:
    return Clock(
        case.filed_on,
        case.limit_workdays,
        tuple(Pause(p.started_on, p.ended_on) for p in pauses),
        calendar,
    )


def _sla(clock: Clock, case: CaseRow, today: datetime.date) -> SlaStatus:
    decided = None if CaseState(case.state) in _UNDECIDED else (case.decided_on or today)
    return clock.status(today, decided_on=decided)


def case_view(
    db: Session,
    case_id: str,
    *,
    today: datetime.date,
    department: str | None = None,
    calendar: WorkCalendar | None = None,
) -> CaseView:
    """One case; ``department`` given: only its own task unless it is the first contact."""
    views = case_views(db, [case_id], today=today, department=department, calendar=calendar)
    if not views:
        raise CaseNotFoundError(case_id)
    return views[0]


def case_views(
    db: Session,
    case_ids: Sequence[str],
    *,
    today: datetime.date,
    department: str | None = None,
    calendar: WorkCalendar | None = None,
) -> list[CaseView]:
    """:func:`case_view` of each case that exists, in the order given, one query per table."""
    wanted = list(dict.fromkeys(case_ids))
    if not wanted:
        return []
    cases = {c.id: c for c in db.scalars(select(CaseRow).where(CaseRow.id.in_(wanted)))}
    tasks: dict[str, list[CaseTask]] = {}
    for task in db.scalars(
        select(CaseTask).where(CaseTask.case_id.in_(wanted)).order_by(CaseTask.id)
    ):
        tasks.setdefault(task.case_id, []).append(task)
    facts: dict[str, list[CaseFact]] = {}
    for fact in db.scalars(
        select(CaseFact).where(CaseFact.case_id.in_(wanted)).order_by(CaseFact.fact)
    ):
        facts.setdefault(fact.case_id, []).append(fact)
    pauses = _pauses(db, wanted)
    rated = select(CaseRating.case_id, CaseRating.score).where(CaseRating.case_id.in_(wanted))
    ratings: dict[str, int] = {row.case_id: row.score for row in db.execute(rated)}
    calendar = calendar or clock_calendar(db, today)
    return [
        _view_of(
            cases[case_id],
            tasks.get(case_id, []),
            facts.get(case_id, []),
            pauses.get(case_id, []),
            ratings.get(case_id),
            today=today,
            department=department,
            calendar=calendar,
        )
        for case_id in wanted
        if case_id in cases
    ]


def _view_of(
    case: CaseRow,
    tasks: Sequence[CaseTask],
    facts: Sequence[CaseFact],
    pauses: Sequence[CasePause],
    rated: int | None,
    *,
    today: datetime.date,
    department: str | None,
    calendar: WorkCalendar,
) -> CaseView:
    if department is not None and case.first_contact != department:
        tasks = [t for t in tasks if t.department == department]
    clock = _clock(case, pauses, calendar)
    day = case.decided_on or today
    open_pause = next((p for p in reversed(pauses) if p.ended_on is None), None)
    return CaseView(
        id=case.id,
        service=case.service,
        channel=case.channel,
        state=case.state,
        version=case.version,
        first_contact=case.first_contact,
        applicant_id=case.applicant_id,
        subject_id=case.subject_id,
        filed_at=case.filed_at,
        instant_decision=case.instant_decision,
        proposed=case.proposed,
        reason_zh=case.reason_zh,
        reason_en=case.reason_en,
        decided_at=case.decided_at,
        delivered_at=case.delivered_at,
        escalated=case.escalated,
        limit_workdays=case.limit_workdays,
        deadline=(deadline := clock.deadline(day)),
        deadline_provisional=calendar.is_provisional(deadline),
        workdays_used=clock.used(day),
        sla=_sla(clock, case, today).value,
        materials_asked=tuple(json.loads(open_pause.materials)) if open_pause else (),
        rated=rated,
        facts=tuple(FactView(f.fact, f.holds, f.source, f.ledger_seq) for f in facts),
        tasks=tuple(
            TaskView(
                t.id, t.department, t.stage, t.state, t.version, t.decided_by, t.decided_at, t.note
            )
            for t in tasks
        ),
    )


def inbox(
    db: Session,
    department: str,
    *,
    today: datetime.date,
    limit: int = 200,
    calendar: WorkCalendar | None = None,
) -> list[InboxItem]:
    """The department's open tasks, the nearest deadline first."""
    rows = db.execute(
        select(CaseTask, CaseRow)
        .join(CaseRow, CaseRow.id == CaseTask.case_id)
        .where(CaseTask.department == department, CaseTask.state == TaskState.OPEN.value)
        .order_by(CaseRow.filed_on, CaseTask.id)
        .limit(limit)
    ).all()
    pauses = _pauses(db, sorted({case.id for _task, case in rows}))
    calendar = calendar or clock_calendar(db, today)
    items = []
    for task, case in rows:
        clock = _clock(case, pauses.get(case.id, []), calendar)
        items.append(
            InboxItem(
                task_id=task.id,
                task_version=task.version,
                case_id=case.id,
                service=case.service,
                stage=task.stage,
                filed_on=case.filed_on,
                deadline=clock.deadline(today),
                workdays_left=case.limit_workdays - clock.used(today),
                sla=_sla(clock, case, today).value,
                escalated=case.escalated,
            )
        )
    return sorted(items, key=lambda item: (item.deadline, item.task_id))


def cases_of_person(db: Session, person_id: str, *, limit: int = 100) -> list[str]:
    """Ids of the cases a resident applied for or is the subject of, newest first."""
    return list(
        db.scalars(
            select(CaseRow.id)
            .where((CaseRow.applicant_id == person_id) | (CaseRow.subject_id == person_id))
            .order_by(CaseRow.filed_at.desc(), CaseRow.id)
            .limit(limit)
        )
    )


def cases_seen_by(
    db: Session, person_id: str, *, department: str | None, today: datetime.date, limit: int = 20
) -> list[CaseView]:
    """A person's cases that ``department`` may see (first contact or a reviewing
    department), as that department sees them, newest first."""
    calendar = clock_calendar(db, today)  # once for the list, not once per case
    found = []
    for case_id in cases_of_person(db, person_id, limit=limit):
        case = db.get(CaseRow, case_id)
        tasks = list(db.scalars(select(CaseTask).where(CaseTask.case_id == case_id)))
        if case is not None and may_see(case, tasks, department=department):
            view = case_view(db, case_id, today=today, department=department, calendar=calendar)
            found.append(view)
    return found


def own_cases(db: Session, person_id: str, *, today: datetime.date) -> list[CaseView]:
    """The cases a resident applied for or is the subject of, newest first, as they see
    them (the portal's list and its JSON twin)."""
    return case_views(db, cases_of_person(db, person_id), today=today)
