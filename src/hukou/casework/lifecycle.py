"""A case's life, as a table of allowed steps: no step can be skipped or taken twice.

::

    submitted ──instant_decision──▶ approved (秒批)   approved ─┐
        │  └──send_to_review──▶ in_review ──conclude──▶ rejected ─┴─deliver─▶ delivered
        │                   │    ▲
        └─ask_material─▶ awaiting_material ─supply─▶ submitted (verified again)
    submitted | awaiting_material | in_review ──withdraw──▶ withdrawn

A department task is ``open`` until its reviewer approves, rejects or asks for material;
tasks of one stage are open together, the next stage's open once all of them approved.
Pure: storage applies a step only if the state it read is still the stored one (one
winner when two reviewers act at once, :mod:`hukou.casework.store`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final

__all__ = [
    "FINAL",
    "STEPS",
    "CaseState",
    "Step",
    "StepRefusedError",
    "TaskState",
    "after",
    "concluded",
    "task_after",
]


class CaseState(StrEnum):
    SUBMITTED = "submitted"
    """受理: filed; its facts are read and judged next."""
    AWAITING_MATERIAL = "awaiting_material"
    """补正: the resident must supply material; the clock is paused."""
    IN_REVIEW = "in_review"
    """审核中: department tasks are open."""
    APPROVED = "approved"
    """准予."""
    REJECTED = "rejected"
    """不予: with the reason, after a person decided it."""
    DELIVERED = "delivered"
    """办结: the result reached the resident; the case can be rated."""
    WITHDRAWN = "withdrawn"
    """撤回: by the resident before a decision."""


class Step(StrEnum):
    INSTANT_DECISION = "instant_decision"
    SEND_TO_REVIEW = "send_to_review"
    ASK_MATERIAL = "ask_material"
    SUPPLY = "supply"
    CONCLUDE_APPROVE = "conclude_approve"
    CONCLUDE_REJECT = "conclude_reject"
    DELIVER = "deliver"
    WITHDRAW = "withdraw"


STEPS: Final[Mapping[tuple[CaseState, Step], CaseState]] = {
    (CaseState.SUBMITTED, Step.INSTANT_DECISION): CaseState.APPROVED,
    (CaseState.SUBMITTED, Step.SEND_TO_REVIEW): CaseState.IN_REVIEW,
    (CaseState.SUBMITTED, Step.ASK_MATERIAL): CaseState.AWAITING_MATERIAL,
    (CaseState.IN_REVIEW, Step.ASK_MATERIAL): CaseState.AWAITING_MATERIAL,
    (CaseState.AWAITING_MATERIAL, Step.SUPPLY): CaseState.SUBMITTED,
    (CaseState.IN_REVIEW, Step.CONCLUDE_APPROVE): CaseState.APPROVED,
    (CaseState.IN_REVIEW, Step.CONCLUDE_REJECT): CaseState.REJECTED,
    (CaseState.APPROVED, Step.DELIVER): CaseState.DELIVERED,
    (CaseState.REJECTED, Step.DELIVER): CaseState.DELIVERED,
    (CaseState.SUBMITTED, Step.WITHDRAW): CaseState.WITHDRAWN,
    (CaseState.AWAITING_MATERIAL, Step.WITHDRAW): CaseState.WITHDRAWN,
    (CaseState.IN_REVIEW, Step.WITHDRAW): CaseState.WITHDRAWN,
}
"""(state, step) → the state after it; anything not listed is refused."""

FINAL: Final = frozenset({CaseState.DELIVERED, CaseState.WITHDRAWN})
"""States nothing follows (a delivered case can still be rated)."""


class StepRefusedError(ValueError):
    """A step the case's (or task's) state does not allow, said in both languages."""

    def __init__(self, state: str, step: str) -> None:
        self.state, self.step = str(state), str(step)
        super().__init__(
            f"a case (or task) that is {self.state} cannot take the step {self.step!r}"
            f"（当前状态“{self.state}”不允许“{self.step}”）"
        )


def after(state: CaseState, step: Step) -> CaseState:
    """The state after ``step``, or :class:`StepRefusedError`."""
    following = STEPS.get((state, step))
    if following is None:
        raise StepRefusedError(state, step)
    return following


class TaskState(StrEnum):
    WAITING = "waiting"
    """A later stage's task: opens when every task of the stages before it approved."""
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    MATERIAL_REQUESTED = "material_requested"
    """The reviewer asked for material; reopens when it is supplied."""
    CANCELLED = "cancelled"
    """The case was withdrawn or concluded by another task's rejection."""


_TASK_STEPS: Final[Mapping[TaskState, frozenset[TaskState]]] = {
    TaskState.WAITING: frozenset({TaskState.OPEN, TaskState.CANCELLED}),
    TaskState.OPEN: frozenset(
        {
            TaskState.APPROVED,
            TaskState.REJECTED,
            TaskState.MATERIAL_REQUESTED,
            TaskState.CANCELLED,
        }
    ),
    TaskState.MATERIAL_REQUESTED: frozenset({TaskState.OPEN, TaskState.CANCELLED}),
}


def task_after(state: TaskState, following: TaskState) -> TaskState:
    """``following`` if a task may go there from ``state``, else :class:`StepRefusedError`."""
    if following not in _TASK_STEPS.get(state, frozenset()):
        raise StepRefusedError(state, following)
    return following


def concluded(tasks: Sequence[tuple[int, TaskState]]) -> Step | None:
    """Whether the tasks (``(stage, state)``) settle the case: any rejection rejects it,
    every task approved approves it, anything else leaves it in review."""
    states = [state for _stage, state in tasks]
    if TaskState.REJECTED in states:
        return Step.CONCLUDE_REJECT
    if states and all(state is TaskState.APPROVED for state in states):
        return Step.CONCLUDE_APPROVE
    return None
