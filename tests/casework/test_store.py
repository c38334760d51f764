"""Cases in the database, on SQLite and PostgreSQL: instant decisions, parallel and staged
reviews, material, withdrawal, delivery, the ledger, and one winner when two act at once."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hukou.casework.catalog import Channel
from hukou.casework.clock import SlaStatus
from hukou.casework.lifecycle import STEPS, CaseState, StepRefusedError, TaskState
from hukou.casework.model import CaseFact, CaseNotification, CasePause, CaseRow, CaseTask
from hukou.casework.rules import find_facts
from hukou.casework.store import (
    REVIEWER_ACTIONS,
    ConflictError,
    FilingError,
    act_on_task,
    clock_of,
    deliver,
    escalate,
    file_case,
    withdraw,
)
from hukou.db import session_scope
from tests.casework.cases import (
    BIRTH,
    BOOKLET,
    BOTH,
    CITY,
    HERE,
    MOVE,
    NEWBORN,
    NOW,
    actions,
    file_on_facts,
    filing,
    supply,
)

pytestmark = pytest.mark.storage


def test_registry_facts_decide_a_birth_at_once(engine: Engine) -> None:
    case_id = file_on_facts(engine, HERE | NEWBORN)
    with session_scope(engine) as db:
        case = db.get(CaseRow, case_id)
        assert case is not None
        assert (case.state, case.instant_decision) == ("approved", True)
        assert case.decided_on == NOW.date()
        assert db.scalar(select(func.count()).select_from(CaseTask)) == 0
        assert {f.fact: f.source for f in db.scalars(select(CaseFact))} == {
            "parent_registered_here": "registry",
            "born_recently": "registry",
        }
        assert actions(db, case_id) == ["case.filed", "case.instant_decision"]
        assert {n.channel for n in db.scalars(select(CaseNotification))} == {"sms", "in_app"}


def test_missing_material_is_asked_for_at_once_and_stops_the_clock(engine: Engine) -> None:
    case_id = file_on_facts(engine, HERE)  # the child is not in the registry yet
    with session_scope(engine) as db:
        case = db.get(CaseRow, case_id)
        assert case is not None
        assert case.state == CaseState.AWAITING_MATERIAL
        (pause,) = db.scalars(select(CasePause))
        assert (pause.started_on, pause.ended_on) == (NOW.date(), None)
        assert "birth_medical_certificate" in pause.materials
        version = case.version
    later = NOW + datetime.timedelta(days=2)
    with session_scope(engine) as db:
        stored = db.get(CaseRow, case_id)
        assert stored is not None
        assert stored.version == version
        case = supply(db, stored, frozenset({"birth_medical_certificate"}), later)
        # Approved on paper is a person's call: three departments review in parallel.
        assert (case.state, case.proposed) == ("in_review", "approve")
        assert {t.state for t in db.scalars(select(CaseTask))} == {"open"}
        (pause,) = db.scalars(select(CasePause))
        assert pause.ended_on == later.date()


def test_no_material_is_asked_when_the_table_already_decided(engine: Engine) -> None:
    # Registered here: a permit is refused whatever the lease or the job; a person confirms.
    values = {("subject", "registered_division"): "320508"}
    case_id = file_on_facts(engine, values, code="residence_permit_application")
    with session_scope(engine) as db:
        case = db.get(CaseRow, case_id)
        assert case is not None
        assert (case.state, case.proposed) == ("in_review", "reject")
        assert db.scalar(select(func.count()).select_from(CasePause)) == 0


def _tasks(db: Session, case_id: str) -> dict[str, CaseTask]:
    return {
        t.department: t for t in db.scalars(select(CaseTask).where(CaseTask.case_id == case_id))
    }


def _act(
    engine: Engine, case_id: str, department: str, action: TaskState, service=BIRTH
) -> CaseRow:  # type: ignore[no-untyped-def]
    with session_scope(engine) as db:
        task = _tasks(db, case_id)[department]
        case = act_on_task(
            db,
            task.id,
            action,
            version=task.version,
            by=f"u-{department}",
            department=department,
            service=service,
            now=NOW,
        )
        db.expunge(case)
        return case


def _review_case(engine: Engine) -> str:
    return file_on_facts(engine, HERE, supplied=frozenset({"birth_medical_certificate"}))


def test_parallel_tasks_approve_the_case_when_all_approve(engine: Engine) -> None:
    case_id = _review_case(engine)
    assert _act(engine, case_id, "public_security", TaskState.APPROVED).state == "in_review"
    assert _act(engine, case_id, "medical_insurance", TaskState.APPROVED).state == "in_review"
    case = _act(engine, case_id, "hr_social_security", TaskState.APPROVED)
    assert case.state == "approved"
    assert not case.instant_decision
    with session_scope(engine) as db:
        delivered = deliver(
            db, case_id, by="u-clerk", department="public_security", service=BIRTH, now=NOW
        )
        assert delivered.state == "delivered"
        assert actions(db, case_id)[-2:] == ["case.approved", "case.delivered"]
        with pytest.raises(StepRefusedError):
            deliver(db, case_id, by="u-clerk", department="public_security", service=BIRTH, now=NOW)


def test_one_rejection_rejects_the_case_and_cancels_the_rest(engine: Engine) -> None:
    case_id = _review_case(engine)
    case = _act(engine, case_id, "medical_insurance", TaskState.REJECTED)
    assert case.state == "rejected"
    with session_scope(engine) as db:
        states = {d: t.state for d, t in _tasks(db, case_id).items()}
    assert states == {
        "medical_insurance": "rejected",
        "public_security": "cancelled",
        "hr_social_security": "cancelled",
    }


def test_a_later_stage_opens_only_after_the_earlier_one(engine: Engine) -> None:
    values = {
        ("subject", "actual_residence_division"): "320508",
        ("subject", "lease_start"): "2025-03-01",  # a lease, but not a year old
    }
    case_id = file_on_facts(
        engine,
        values,
        code="household_move",
        supplied=frozenset({"tenancy_contract", "property_deed"}),
    )
    with session_scope(engine) as db:
        states = {d: t.state for d, t in _tasks(db, case_id).items()}
        assert states == {"housing": "open", "public_security": "waiting"}
        police = _tasks(db, case_id)["public_security"]
        with pytest.raises(StepRefusedError):  # cannot skip ahead of housing
            act_on_task(
                db,
                police.id,
                TaskState.APPROVED,
                version=police.version,
                by="u-ps",
                department="public_security",
                service=MOVE,
                now=NOW,
            )
    _act(engine, case_id, "housing", TaskState.APPROVED, service=MOVE)
    with session_scope(engine) as db:
        assert _tasks(db, case_id)["public_security"].state == "open"
    assert _act(engine, case_id, "public_security", TaskState.APPROVED, service=MOVE).state == (
        "approved"
    )


def test_a_reviewer_asks_for_material_and_the_task_reopens_when_it_comes(engine: Engine) -> None:
    case_id = _review_case(engine)
    with session_scope(engine) as db:
        task = _tasks(db, case_id)["public_security"]
        case = act_on_task(
            db,
            task.id,
            TaskState.MATERIAL_REQUESTED,
            version=task.version,
            by="u-ps",
            department="public_security",
            service=BIRTH,
            now=NOW,
            materials=[BOOKLET],
        )
        assert case.state == "awaiting_material"
    with session_scope(engine) as db:
        stored = db.get(CaseRow, case_id)
        assert stored is not None
        case = supply(db, stored, BOTH)
        assert case.state == "in_review"
        assert {d: t.state for d, t in _tasks(db, case_id).items()} == {
            "public_security": "open",
            "medical_insurance": "open",
            "hr_social_security": "open",
        }


def test_withdrawal_before_a_decision_only(engine: Engine) -> None:
    case_id = _review_case(engine)
    with session_scope(engine) as db:
        case = db.get(CaseRow, case_id)
        assert case is not None
        withdraw(
            db,
            case_id,
            version=case.version,
            by="u-resident",
            department="resident",
            service=BIRTH,
            now=NOW,
        )
        assert {t.state for t in _tasks(db, case_id).values()} == {"cancelled"}
    instant = file_on_facts(engine, HERE | NEWBORN)
    with session_scope(engine) as db:
        case = db.get(CaseRow, instant)
        assert case is not None
        with pytest.raises(StepRefusedError):
            withdraw(
                db,
                instant,
                version=case.version,
                by="u-resident",
                department="resident",
                service=BIRTH,
                now=NOW,
            )


@pytest.mark.parametrize(
    ("department", "action"),
    [
        ("tax", TaskState.APPROVED),  # not the task's department
        ("medical_insurance", TaskState.CANCELLED),  # not a reviewer's action
        ("medical_insurance", TaskState.OPEN),
    ],
)
def test_only_the_tasks_department_may_decide_it_and_only_so(
    engine: Engine, department: str, action: TaskState
) -> None:
    case_id = _review_case(engine)
    with session_scope(engine) as db:
        task = _tasks(db, case_id)["medical_insurance"]
        with pytest.raises(StepRefusedError):
            act_on_task(
                db,
                task.id,
                action,
                version=task.version,
                by="u-someone",
                department=department,
                service=BIRTH,
                now=NOW,
            )
        assert task.state == "open"


def test_two_reviewers_at_once_one_decision_wins(engine: Engine) -> None:
    case_id = _review_case(engine)
    with session_scope(engine) as db:
        task = _tasks(db, case_id)["public_security"]
        task_id, version = task.id, task.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def review(action: TaskState) -> None:
        try:
            with session_scope(engine) as db:
                barrier.wait()
                act_on_task(
                    db,
                    task_id,
                    action,
                    version=version,
                    by=f"u-{action}",
                    department="public_security",
                    service=BIRTH,
                    now=NOW,
                )
            outcomes.append(f"won:{action}")
        except ConflictError:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=review, args=(action,))
        for action in (TaskState.APPROVED, TaskState.REJECTED)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"]
    with session_scope(engine) as db:
        stored = db.get(CaseTask, task_id)
        assert stored is not None
        assert f"won:{stored.state}" in outcomes  # the stored decision is the winner's
        assert stored.version == version + 1
        decided = [a for a in actions(db, case_id) if a.startswith("task.")]
        assert len(decided) == 1  # the loser left no trace in the ledger


class _CaseMachine(RuleBasedStateMachine):
    """Reviewers, clerks and the resident try any step in any order on one case; whatever
    is refused changes nothing, and whatever is stored is an allowed edge."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.case_id = _review_case(engine)
        self.state = CaseState.IN_REVIEW

    def _try(self, work: Callable[[Session, CaseRow], object]) -> None:
        try:
            with session_scope(self.engine) as db:
                case = db.get(CaseRow, self.case_id)
                assert case is not None
                work(db, case)
        except (StepRefusedError, ConflictError):
            pass
        with session_scope(self.engine) as db:
            stored = db.get(CaseRow, self.case_id)
            assert stored is not None
            following = CaseState(stored.state)
        allowed = {STEPS[edge] for edge in STEPS if edge[0] is self.state}
        if CaseState.SUBMITTED in allowed:  # supplied material is judged again at once
            allowed |= {STEPS[edge] for edge in STEPS if edge[0] is CaseState.SUBMITTED}
        if following is not self.state:
            assert following in allowed, f"{self.state} -> {following} is not a step"
        self.state = following

    @rule(
        department=st.sampled_from(["public_security", "medical_insurance", "hr_social_security"]),
        action=st.sampled_from(sorted(REVIEWER_ACTIONS)),
    )
    def review(self, department: str, action: TaskState) -> None:
        def work(db: Session, _case: CaseRow) -> None:
            task = _tasks(db, self.case_id)[department]
            act_on_task(
                db,
                task.id,
                action,
                version=task.version,
                by="u-r",
                department=department,
                service=BIRTH,
                now=NOW,
                materials=[BOOKLET],
            )

        self._try(work)

    @rule()
    def supply(self) -> None:
        self._try(lambda db, case: supply(db, case, BOTH))

    @rule()
    def withdraw(self) -> None:
        self._try(
            lambda db, case: withdraw(
                db,
                case.id,
                version=case.version,
                by="u-res",
                department="resident",
                service=BIRTH,
                now=NOW,
            )
        )

    @rule()
    def deliver(self) -> None:
        self._try(
            lambda db, case: deliver(
                db, case.id, by="u-c", department="public_security", service=BIRTH, now=NOW
            )
        )

    @invariant()
    def stored_facts_agree_with_the_state(self) -> None:
        with session_scope(self.engine) as db:
            case = db.get(CaseRow, self.case_id)
            assert case is not None
            tasks = [t.state for t in _tasks(db, self.case_id).values()]
            open_pauses = db.scalar(
                select(func.count())
                .select_from(CasePause)
                .where(CasePause.case_id == self.case_id, CasePause.ended_on.is_(None))
            )
        if case.state == CaseState.APPROVED:
            assert set(tasks) == {"approved"}
        if case.state == CaseState.REJECTED:
            assert "rejected" in tasks
        if case.state == CaseState.DELIVERED:
            assert case.decided_at is not None
            assert case.delivered_at is not None
        if case.state == CaseState.WITHDRAWN:
            assert not {"open", "waiting", "material_requested"} & set(tasks)
        assert (open_pauses == 1) is (case.state == CaseState.AWAITING_MATERIAL)


def test_no_sequence_of_attempts_skips_a_step(engine: Engine) -> None:
    run_state_machine_as_test(
        lambda: _CaseMachine(engine),
        settings=settings(max_examples=15, stateful_step_count=12, deadline=None),
    )


def test_escalation_at_risk_then_breached_once_each_never_while_waiting(engine: Engine) -> None:
    in_review = _review_case(engine)  # filed Monday 16 June, five working days
    waiting = file_on_facts(engine, HERE)  # waiting for the birth certificate: its clock stands
    on = {day: datetime.datetime(2025, 6, day, 8, tzinfo=datetime.UTC) for day in (18, 20, 24)}
    with session_scope(engine) as db:
        assert escalate(db, now=on[18]) == []
    with session_scope(engine) as db:
        assert escalate(db, now=on[20]) == [(in_review, SlaStatus.AT_RISK)]
        assert escalate(db, now=on[20]) == []  # once per level
    with session_scope(engine) as db:
        assert escalate(db, now=on[24]) == [(in_review, SlaStatus.BREACHED)]
        case = db.get(CaseRow, in_review)
        assert case is not None
        assert (case.state, case.escalated, case.version) == ("in_review", "breached", 2)
        assert actions(db, in_review)[-2:] == ["case.escalated_at_risk", "case.escalated_breached"]
        supervisor = db.scalars(
            select(CaseNotification.template).where(
                CaseNotification.case_id == in_review, CaseNotification.person_id.is_(None)
            )
        ).all()
        assert sorted(supervisor) == ["supervisor.at_risk", "supervisor.breached"]
        stood = db.get(CaseRow, waiting)
        assert stood is not None
        assert stood.escalated is None
        assert clock_of(db, stood).paused(on[24].date()) == 6


@pytest.mark.parametrize(
    "extra",
    [
        {"channel": Channel.ASSISTED},  # a helper with no name or relation
        {"channel": Channel.ASSISTED, "helper_id": "Rhelper"},
        {"helper_id": "Rhelper", "helper_relation": "neighbour"},  # an unrecorded proxy
        {"channel": Channel.ENTERPRISE_STATION},  # no employer
        {"employer_code": "91320508T9RE71X0FN"},  # an employer at a window
    ],
)
def test_the_channel_and_its_parties_fit_together(engine: Engine, extra: dict[str, object]) -> None:
    findings = find_facts(BIRTH, HERE | NEWBORN, filed_on=NOW.date(), city=CITY)
    with session_scope(engine) as db, pytest.raises(FilingError):
        file_case(db, replace(filing(), **extra), findings, now=NOW)  # type: ignore[arg-type]


def test_an_assisted_filing_records_the_helper(engine: Engine) -> None:
    findings = find_facts(BIRTH, HERE | NEWBORN, filed_on=NOW.date(), city=CITY)
    assisted = replace(
        filing(), channel=Channel.ASSISTED, helper_id="Rhelper", helper_relation="community_worker"
    )
    with session_scope(engine) as db:
        case = file_case(db, assisted, findings, now=NOW)
        assert (case.channel, case.helper_id, case.helper_relation) == (
            "assisted",
            "Rhelper",
            "community_worker",
        )
