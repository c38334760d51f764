"""The case lifecycle: only listed steps, in order; a random walk never skips one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hukou.casework.lifecycle import (
    FINAL,
    STEPS,
    CaseState,
    Step,
    StepRefusedError,
    TaskState,
    after,
    concluded,
    task_after,
)


def test_the_instant_path_and_the_review_path() -> None:
    assert after(CaseState.SUBMITTED, Step.INSTANT_DECISION) is CaseState.APPROVED
    state = after(CaseState.SUBMITTED, Step.SEND_TO_REVIEW)
    state = after(state, Step.ASK_MATERIAL)
    assert state is CaseState.AWAITING_MATERIAL
    state = after(after(state, Step.SUPPLY), Step.SEND_TO_REVIEW)
    assert after(after(state, Step.CONCLUDE_REJECT), Step.DELIVER) is CaseState.DELIVERED


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (CaseState.SUBMITTED, Step.CONCLUDE_APPROVE),  # no decision before review or rules
        (CaseState.SUBMITTED, Step.DELIVER),
        (CaseState.IN_REVIEW, Step.DELIVER),
        (CaseState.APPROVED, Step.WITHDRAW),  # too late to withdraw
        (CaseState.DELIVERED, Step.DELIVER),  # not twice
        (CaseState.WITHDRAWN, Step.SUPPLY),
    ],
)
def test_steps_the_state_does_not_allow_are_refused(state: CaseState, step: Step) -> None:
    with pytest.raises(StepRefusedError, match="不允许"):
        after(state, step)


@given(st.lists(st.sampled_from(list(Step)), max_size=30))
def test_any_sequence_of_attempts_only_walks_listed_edges(attempts: list[Step]) -> None:
    state, decided = CaseState.SUBMITTED, False
    for step in attempts:
        try:
            following = after(state, step)
        except StepRefusedError:
            assert (state, step) not in STEPS
            continue
        assert STEPS[state, step] is following
        # Nothing reaches delivery without a decision first; nothing leaves a final state.
        if following is CaseState.DELIVERED:
            assert decided
        decided = decided or following in (CaseState.APPROVED, CaseState.REJECTED)
        assert state not in FINAL
        state = following


def test_tasks_open_close_and_reopen_only_as_listed() -> None:
    assert task_after(TaskState.WAITING, TaskState.OPEN) is TaskState.OPEN
    assert task_after(TaskState.OPEN, TaskState.MATERIAL_REQUESTED) is TaskState.MATERIAL_REQUESTED
    assert task_after(TaskState.MATERIAL_REQUESTED, TaskState.OPEN) is TaskState.OPEN
    with pytest.raises(StepRefusedError):
        task_after(TaskState.APPROVED, TaskState.REJECTED)  # a decided task stays decided
    with pytest.raises(StepRefusedError):
        task_after(TaskState.WAITING, TaskState.APPROVED)  # a later stage cannot jump ahead


def test_tasks_conclude_the_case() -> None:
    open_, approved, rejected = TaskState.OPEN, TaskState.APPROVED, TaskState.REJECTED
    assert concluded([(1, approved), (1, approved), (2, approved)]) is Step.CONCLUDE_APPROVE
    assert concluded([(1, approved), (1, open_)]) is None
    assert concluded([(1, rejected), (1, open_)]) is Step.CONCLUDE_REJECT
    assert concluded([]) is None
