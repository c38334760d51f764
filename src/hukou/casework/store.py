"""Cases in the database: filing, department tasks, material, withdrawal, delivery.

Every step is a compare-and-set: the row is updated only if its ``version`` (and
state) is still what the actor saw, so when two reviewers act on one task at once
exactly one wins and the other gets :class:`ConflictError` with nothing changed, on
SQLite and PostgreSQL alike. Which step may follow which is
:mod:`hukou.casework.lifecycle`'s; this module only applies them. Every step is a
ledger entry (capability ``casework``) in the same transaction, and the steps a
resident must hear about put a message in the outbox.

The facts come in already judged (:func:`hukou.casework.rules.find_facts` on values
read through ``exchange``, whose ledger entry numbers come along): this module never
reads the registry.
"""

from __future__ import annotations

import datetime
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hukou.audit import ledger
from hukou.audit.entry import LedgerEntry
from hukou.audit.entry import Outcome as LedgerOutcome
from hukou.casework.catalog import Channel, Material, Outcome, Service
from hukou.casework.clock import Clock, Pause, SlaStatus
from hukou.casework.lifecycle import (
    CaseState,
    Step,
    StepRefusedError,
    TaskState,
    after,
    concluded,
    task_after,
)
from hukou.casework.model import CaseFact, CaseNotification, CasePause, CaseRow, CaseTask
from hukou.casework.rules import Decision, Finding, Route, first_step
from hukou.db.base import Base
from hukou.db.bulk import insert_rows
from hukou.holidays.store import clock_calendar
from hukou.standards.workdays import WorkCalendar

__all__ = [
    "CAPABILITY",
    "REVIEWER_ACTIONS",
    "CaseNotFoundError",
    "ConflictError",
    "Filing",
    "FilingError",
    "Judged",
    "act_on_task",
    "check_filing",
    "clock_of",
    "deliver",
    "escalate",
    "file_case",
    "file_cases",
    "new_case_id",
    "record_step",
    "step_entry",
    "supply_material",
    "withdraw",
]

CAPABILITY = "casework"


class ConflictError(RuntimeError):
    """Someone acted on the case or task first; reload and look again."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} was changed by someone else in the meantime; reload it"
            f"（{what}已被他人处理，请刷新后查看）"
        )


class CaseNotFoundError(LookupError):
    """No case (or task) with that id."""


class FilingError(ValueError):
    """A filing whose channel and parties do not fit together."""


def _check_channel(filing: Filing) -> None:
    """帮办代办 names its helper and relation; an enterprise station, its employer; the
    other channels neither (a helper on an online filing would be an unrecorded proxy)."""
    assisted = filing.channel is Channel.ASSISTED
    if assisted != (filing.helper_id is not None and bool(filing.helper_relation)):
        raise FilingError(
            "an assisted filing (帮办代办) names the helper and their relation; no other does"
        )
    if (filing.channel is Channel.ENTERPRISE_STATION) != (filing.employer_code is not None):
        raise FilingError("an enterprise-station filing names the employer; no other does")


@dataclass(frozen=True, slots=True)
class Filing:
    """Who files what, for whom, through which channel."""

    service: Service
    channel: Channel
    applicant_id: str | None
    subject_id: str | None
    filed_by: str
    """The account that filed: the clerk at a window, the resident online, the helper."""
    department: str
    """The filer's department (the resident's own filings: ``resident``)."""
    helper_id: str | None = None
    helper_relation: str | None = None
    employer_code: str | None = None
    batch_id: str | None = None


def new_case_id(day: datetime.date) -> str:
    """A fresh case number: C, the filing date, ten random hex digits (C20250616A1B2C3D4E5)."""
    return f"C{day:%Y%m%d}{secrets.token_hex(5).upper()}"


def step_entry(
    case: CaseRow,
    action: str,
    *,
    actor: str,
    department: str,
    purpose: str,
    at: datetime.datetime,
    fields: Sequence[str] = (),
) -> LedgerEntry:
    """The ledger entry of a step of ``case`` (capability ``casework``, ids only)."""
    return LedgerEntry.state_change(
        actor=actor,
        department=department,
        capability=CAPABILITY,
        action=action,
        object_id=case.id,
        outcome=LedgerOutcome.SUCCEEDED,
        purpose=purpose,
        person_id=case.subject_id or case.applicant_id,
        case_id=case.id,
        fields=tuple(fields),
        at=at,
    )


def record_step(
    db: Session,
    case: CaseRow,
    action: str,
    *,
    actor: str,
    department: str,
    purpose: str,
    at: datetime.datetime,
    fields: Sequence[str] = (),
) -> None:
    """Append the ledger entry of a step of ``case`` in ``db``'s transaction."""
    entry = step_entry(
        case, action, actor=actor, department=department, purpose=purpose, at=at, fields=fields
    )
    ledger.append(db, [entry])


def _notices(case: CaseRow, template: str, at: datetime.datetime) -> list[dict[str, object]]:
    """The outbox rows of one message to the resident, one per channel."""
    person = case.applicant_id or case.subject_id
    return [
        {
            "case_id": case.id,
            "person_id": person,
            "template": template,
            "channel": channel,
            "created_at": at,
        }
        for channel in ("in_app", "sms")
    ]


def _notify(db: Session, case: CaseRow, template: str, at: datetime.datetime) -> None:
    db.add_all(CaseNotification(**row) for row in _notices(case, template, at))


def _compare_and_set(
    db: Session, row: CaseRow | CaseTask, label: str, state: str, **values: object
) -> None:
    """Store ``state`` (and ``values``) on ``row`` if its version is still the one read."""
    model = type(row)
    done = db.execute(
        update(model)
        .where(model.id == row.id, model.version == row.version)
        .values(state=state, version=row.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(label)
    db.refresh(row)


def _step(db: Session, case: CaseRow, step: Step, **values: object) -> None:
    """Move ``case`` by ``step`` if nobody moved it since it was read (else ConflictError)."""
    following = after(CaseState(case.state), step)
    _compare_and_set(db, case, f"case {case.id}", following.value, **values)


def _decide_row(decision: Decision) -> dict[str, object]:
    return {
        "decision_row": decision.row,
        "proposed": None if decision.proposed is None else decision.proposed.value,
        "reason_zh": decision.reason.zh,
        "reason_en": decision.reason.en,
    }


def _pause(db: Session, case: CaseRow, materials: Sequence[Material], day: datetime.date) -> None:
    codes = json.dumps([m.code for m in materials])
    db.add(CasePause(case_id=case.id, started_on=day, ended_on=None, materials=codes))


@dataclass(frozen=True, slots=True)
class Judged:
    """A filing with its facts judged: what :func:`file_cases` stores."""

    filing: Filing
    findings: Mapping[str, Finding]
    reads: Mapping[str, int | None]
    """A fact → the ledger entry of the read that judged it."""
    case_id: str
    """The number the reads were made for (:func:`new_case_id`)."""


def check_filing(filing: Filing) -> None:
    """:class:`FilingError` if the channel does not fit the service or the parties."""
    if filing.channel not in filing.service.channels:
        raise FilingError(f"{filing.service.code} is not filed through {filing.channel}")
    _check_channel(filing)


def file_case(
    db: Session,
    filing: Filing,
    findings: Mapping[str, Finding],
    *,
    reads: Mapping[str, int | None] | None = None,
    now: datetime.datetime,
    case_id: str | None = None,
) -> CaseRow:
    """File a case and take its first step: decided at once (秒批), waiting for the
    material that is missing (asked for all at once), or to its departments' tasks.

    ``reads`` maps a fact to the ledger entry of the read that judged it; ``case_id``
    is the number those reads were made for (:func:`new_case_id`), a fresh one if none.
    """
    judged = Judged(filing, findings, reads or {}, case_id or new_case_id(now.date()))
    return file_cases(db, [judged], now=now)[0]


def file_cases(db: Session, judged: Sequence[Judged], *, now: datetime.datetime) -> list[CaseRow]:
    """:func:`file_case` for many filings at once: one insert per table and every ledger
    entry (each case's filing, then its first step) appended in one batch. A new case is
    stored in the state its first step leads to (nobody else can see it yet, so there is
    nothing to compare and set); both steps are entries, as for any step. The cases
    returned are not in ``db``'s identity map: read them again to change them."""
    for one in judged:
        check_filing(one.filing)
    tables: dict[type[Base], list[dict[str, object]]] = {
        model: [] for model in (CaseRow, CaseFact, CaseTask, CasePause, CaseNotification)
    }  # in this order: the cases first, the other rows refer to them
    cases: list[CaseRow] = []
    entries: list[LedgerEntry] = []
    for one in judged:
        case, rows, steps = _first_step(one, now)
        cases.append(case)
        for model, added in rows.items():
            tables[model].extend(added)
        entries.extend(steps)
    for model, added in tables.items():
        insert_rows(db, model, added)
    ledger.append(db, entries)
    return cases


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Where a case's judged facts send it: the step, the decision table's row, the
    material missing, the step's ledger action and the message to the resident."""

    route: Route
    step: Step
    decision: Decision
    missing: Sequence[Material]
    action: str
    notice: str | None

    def values(self, now: datetime.datetime) -> dict[str, object]:
        """The case's columns the step sets."""
        decided = _decide_row(self.decision)
        if self.route is Route.INSTANT:
            decided.update(instant_decision=True, decided_at=now, decided_on=now.date())
        return decided

    @property
    def fields(self) -> list[str]:
        return [m.code for m in self.missing]


def _verdict(service: Service, findings: Mapping[str, Finding]) -> _Verdict:
    route, decision, missing = first_step(service, findings)
    if route is Route.INSTANT:
        return _Verdict(
            route, Step.INSTANT_DECISION, decision, (), "case.instant_decision", "case.approved"
        )
    if route is Route.MATERIAL:
        return _Verdict(
            route,
            Step.ASK_MATERIAL,
            decision,
            missing,
            "case.material_asked",
            "case.material_needed",
        )
    return _Verdict(route, Step.SEND_TO_REVIEW, decision, (), "case.sent_to_review", None)


def _verify(
    db: Session,
    case: CaseRow,
    service: Service,
    findings: Mapping[str, Finding],
    *,
    now: datetime.datetime,
    who: Mapping[str, str],
) -> None:
    """Judge a stored case again (its material came in) and take the step it leads to."""
    verdict = _verdict(service, findings)
    _step(db, case, verdict.step, **verdict.values(now))
    if verdict.route is Route.MATERIAL:
        _pause(db, case, verdict.missing, now.date())
    elif verdict.route is Route.REVIEW:
        _open_tasks(db, case, service)
    actor = {**who, "actor": f"system:{CAPABILITY}"}
    record_step(db, case, verdict.action, at=now, fields=verdict.fields, **actor)
    if verdict.notice is not None:
        _notify(db, case, verdict.notice, now)


def _first_step(
    judged: Judged, now: datetime.datetime
) -> tuple[CaseRow, dict[type[Base], list[dict[str, object]]], list[LedgerEntry]]:
    """A judged filing's case in the state after its first step, the rows to insert by
    table (the case's among them), and the ledger entries of both steps (pure)."""
    filing, service, day = judged.filing, judged.filing.service, now.date()
    verdict = _verdict(service, judged.findings)
    values: dict[str, object] = {
        "id": judged.case_id,
        "service": service.code,
        "channel": filing.channel.value,
        "applicant_id": filing.applicant_id,
        "subject_id": filing.subject_id,
        "first_contact": service.first_contact,
        "filed_by": filing.filed_by,
        "helper_id": filing.helper_id,
        "helper_relation": filing.helper_relation,
        "employer_code": filing.employer_code,
        "batch_id": filing.batch_id,
        "state": after(CaseState.SUBMITTED, verdict.step).value,
        "version": 2,  # filed (1), then its first step
        "filed_at": now,
        "filed_on": day,
        "limit_workdays": service.time_limit_workdays,
        "instant_decision": False,
        "decided_at": None,
        "decided_on": None,
        "delivered_at": None,
        "escalated": None,
        **verdict.values(now),
    }
    case = CaseRow(**values)
    rows: dict[type[Base], list[dict[str, object]]] = {
        CaseRow: [values],
        CaseFact: [
            {
                "case_id": case.id,
                "fact": name,
                "holds": finding.holds,
                "source": finding.source.value,
                "ledger_seq": judged.reads.get(name),
            }
            for name, finding in judged.findings.items()
        ],
    }
    if verdict.route is Route.MATERIAL:
        rows[CasePause] = [
            {
                "case_id": case.id,
                "started_on": day,
                "ended_on": None,
                "materials": json.dumps(verdict.fields),
            }
        ]
    elif verdict.route is Route.REVIEW:
        first = service.stages[0][0].stage
        rows[CaseTask] = [
            {
                "case_id": case.id,
                "department": review.department,
                "stage": review.stage,
                "state": (TaskState.OPEN if review.stage == first else TaskState.WAITING).value,
                "version": 1,
            }
            for review in service.reviews
        ]
    if verdict.notice is not None:
        rows[CaseNotification] = _notices(case, verdict.notice, now)
    who = {"actor": filing.filed_by, "department": filing.department, "purpose": service.purpose}
    system = {**who, "actor": f"system:{CAPABILITY}"}
    entries = [
        step_entry(case, "case.filed", at=now, fields=sorted(judged.findings), **who),
        step_entry(case, verdict.action, at=now, fields=verdict.fields, **system),
    ]
    return case, rows, entries


def _open_tasks(db: Session, case: CaseRow, service: Service) -> None:
    existing = {
        t.department: t for t in db.scalars(select(CaseTask).where(CaseTask.case_id == case.id))
    }
    first = service.stages[0][0].stage
    for review in service.reviews:
        task = existing.get(review.department)
        if task is None:
            state = TaskState.OPEN if review.stage == first else TaskState.WAITING
            db.add(
                CaseTask(
                    case_id=case.id,
                    department=review.department,
                    stage=review.stage,
                    state=state.value,
                    version=1,
                )
            )
        elif task.state == TaskState.MATERIAL_REQUESTED:
            _task_step(db, task, TaskState.OPEN)
    db.flush()


def _task_step(db: Session, task: CaseTask, following: TaskState, **values: object) -> None:
    task_after(TaskState(task.state), following)
    _compare_and_set(db, task, f"task {task.id}", following.value, **values)


_UNDECIDED: Final = (TaskState.OPEN, TaskState.WAITING, TaskState.MATERIAL_REQUESTED)


def _cancel_undecided(db: Session, tasks: Iterable[CaseTask]) -> None:
    for task in tasks:
        if task.state in _UNDECIDED:
            _task_step(db, task, TaskState.CANCELLED)


def _end_pauses(db: Session, case: CaseRow, day: datetime.date) -> None:
    for pause in db.scalars(
        select(CasePause).where(CasePause.case_id == case.id, CasePause.ended_on.is_(None))
    ):
        pause.ended_on = day


REVIEWER_ACTIONS: Final = frozenset(
    {TaskState.APPROVED, TaskState.REJECTED, TaskState.MATERIAL_REQUESTED}
)
"""What a reviewer can do to an open task (opening and cancelling are the case's)."""


def _case(db: Session, case_id: str) -> CaseRow:
    case = db.get(CaseRow, case_id)
    if case is None:
        raise CaseNotFoundError(case_id)
    return case


def act_on_task(
    db: Session,
    task_id: int,
    action: TaskState,
    *,
    version: int,
    by: str,
    department: str,
    service: Service,
    now: datetime.datetime,
    note: str | None = None,
    materials: Sequence[Material] = (),
) -> CaseRow:
    """A reviewer's decision on a task they saw at ``version``; what it does to the case.

    A rejection rejects the case and cancels the other tasks; the last approval of a
    stage opens the next; the last approval of all approves the case; asking for
    material pauses the case's clock.
    """
    if action not in REVIEWER_ACTIONS:
        raise StepRefusedError("open", action)
    task = db.get(CaseTask, task_id)
    if task is None:
        raise CaseNotFoundError(f"task {task_id}")
    if task.department != department:
        raise StepRefusedError(task.state, f"{action} by {department}")
    if task.version != version:
        raise ConflictError(f"task {task.id}")
    _task_step(db, task, action, decided_by=by, decided_at=now, note=note)
    case = _case(db, task.case_id)
    who = {"actor": by, "department": department, "purpose": service.purpose}
    record_step(db, case, f"task.{action.value}", at=now, fields=[task.department], **who)
    if action is TaskState.MATERIAL_REQUESTED:
        _step(db, case, Step.ASK_MATERIAL)
        _pause(db, case, materials, now.date())
        _notify(db, case, "case.material_needed", now)
        return case
    tasks = list(db.scalars(select(CaseTask).where(CaseTask.case_id == case.id)))
    settled = concluded([(t.stage, TaskState(t.state)) for t in tasks])
    if settled is None:
        stage_done = all(t.state == TaskState.APPROVED for t in tasks if t.stage == task.stage)
        if stage_done:
            for waiting in tasks:
                if waiting.stage == task.stage + 1 and waiting.state == TaskState.WAITING:
                    _task_step(db, waiting, TaskState.OPEN)
        return case
    if settled is Step.CONCLUDE_REJECT:
        _cancel_undecided(db, tasks)
    _step(db, case, settled, decided_at=now, decided_on=now.date())
    outcome = Outcome.APPROVE if settled is Step.CONCLUDE_APPROVE else Outcome.REJECT
    record_step(db, case, f"case.{outcome.value}d", at=now, **who)
    _notify(db, case, f"case.{outcome.value}d", now)
    return case


def supply_material(
    db: Session,
    case_id: str,
    findings: Mapping[str, Finding],
    *,
    version: int,
    by: str,
    department: str,
    service: Service,
    now: datetime.datetime,
) -> CaseRow:
    """Material came in: the clock restarts and the case is judged again on ``findings``
    (the facts read again, the supplied material counted)."""
    case = _case(db, case_id)
    if case.version != version:
        raise ConflictError(f"case {case.id}")
    _step(db, case, Step.SUPPLY)
    _end_pauses(db, case, now.date())
    for name, finding in findings.items():
        fact = db.get(CaseFact, (case.id, name))
        if fact is not None:
            fact.holds, fact.source = finding.holds, finding.source.value
    who = {"actor": by, "department": department, "purpose": service.purpose}
    record_step(db, case, "case.material_supplied", at=now, **who)
    reviewed = db.scalar(select(CaseTask.id).where(CaseTask.case_id == case.id).limit(1))
    if reviewed is None:
        _verify(db, case, service, findings, now=now, who=who)
    else:  # a reviewer asked for it: back to the departments, whatever the table says
        _step(db, case, Step.SEND_TO_REVIEW)
        _open_tasks(db, case, service)
        record_step(
            db, case, "case.sent_to_review", at=now, **{**who, "actor": f"system:{CAPABILITY}"}
        )
    return case


def withdraw(
    db: Session,
    case_id: str,
    *,
    version: int,
    by: str,
    department: str,
    service: Service,
    now: datetime.datetime,
) -> CaseRow:
    """The resident withdraws the case before it is decided; open tasks are cancelled."""
    case = _case(db, case_id)
    if case.version != version:
        raise ConflictError(f"case {case.id}")
    _step(db, case, Step.WITHDRAW)
    _cancel_undecided(db, db.scalars(select(CaseTask).where(CaseTask.case_id == case.id)))
    _end_pauses(db, case, now.date())
    record_step(
        db, case, "case.withdrawn", at=now, actor=by, department=department, purpose=service.purpose
    )
    return case


def deliver(
    db: Session,
    case_id: str,
    *,
    by: str,
    department: str,
    service: Service,
    now: datetime.datetime,
) -> CaseRow:
    """The result (or the reasoned refusal) reached the resident; the case can be rated."""
    case = _case(db, case_id)
    _step(db, case, Step.DELIVER, delivered_at=now)
    record_step(
        db, case, "case.delivered", at=now, actor=by, department=department, purpose=service.purpose
    )
    _notify(db, case, "case.delivered", now)
    return case


# Undecided cases whose clock runs (a case waiting for material has its clock stopped).
_CLOCK_RUNNING: Final = (CaseState.SUBMITTED.value, CaseState.IN_REVIEW.value)


def clock_of(db: Session, case: CaseRow, calendar: WorkCalendar | None = None) -> Clock:
    """The case's working-day clock, with its waits for material."""
    pauses = tuple(
        Pause(pause.started_on, pause.ended_on)
        for pause in db.scalars(
            select(CasePause).where(CasePause.case_id == case.id).order_by(CasePause.id)
        )
    )
    return Clock(case.filed_on, case.limit_workdays, pauses, calendar or clock_calendar(db))


def escalate(
    db: Session,
    *,
    now: datetime.datetime,
    calendar: WorkCalendar | None = None,
) -> list[tuple[str, SlaStatus]]:
    """Escalate every undecided case that is at risk or past its deadline to the
    supervisor of its first-contact department (once per level), in the ledger and the
    supervisor's inbox. A case waiting for material is not at risk: its clock stands.

    Escalation changes no state and no version, so it never makes a reviewer's
    concurrent decision fail.
    """
    today = now.date()
    calendar = calendar or clock_calendar(db, today)
    raised: list[tuple[str, SlaStatus]] = []
    running = CaseRow.state.in_(_CLOCK_RUNNING)
    pauses: dict[str, list[Pause]] = {}
    for pause in db.scalars(
        select(CasePause)
        .join(CaseRow, CaseRow.id == CasePause.case_id)
        .where(running)
        .order_by(CasePause.id)
    ):
        pauses.setdefault(pause.case_id, []).append(Pause(pause.started_on, pause.ended_on))
    for case in db.scalars(select(CaseRow).where(running).order_by(CaseRow.id)):
        clock = Clock(case.filed_on, case.limit_workdays, pauses.get(case.id, ()), calendar)
        status = clock.status(today)
        if status is SlaStatus.ON_TRACK or case.escalated == status.value:
            continue
        if case.escalated == SlaStatus.BREACHED.value:
            continue  # never back down from breached
        db.execute(
            update(CaseRow)
            .where(CaseRow.id == case.id)
            .values(escalated=status.value)
            .execution_options(synchronize_session=False)
        )
        record_step(
            db,
            case,
            f"case.escalated_{status.value}",
            actor=f"system:{CAPABILITY}",
            department=case.first_contact,
            purpose="case_processing",
            at=now,
        )
        db.add(
            CaseNotification(
                case_id=case.id,
                person_id=None,  # the first-contact department's supervisor, not a resident
                template=f"supervisor.{status.value}",
                channel="in_app",
                created_at=now,
            )
        )
        raised.append((case.id, status))
    return raised
