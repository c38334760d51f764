"""Ratings after delivery (GB/T 39735) and the rectification a 差评 opens, on both engines."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import Engine

from hukou.casework.lifecycle import StepRefusedError
from hukou.casework.rating import RatingError, close_rectification, rate
from hukou.casework.store import deliver
from hukou.db import session_scope
from tests.casework.cases import BIRTH, HERE, NEWBORN, NOW, actions, file_on_facts

pytestmark = pytest.mark.storage


def _delivered(engine: Engine) -> str:
    case_id = file_on_facts(engine, HERE | NEWBORN)  # decided instantly
    with session_scope(engine) as db:
        deliver(db, case_id, by="u-clerk", department="public_security", service=BIRTH, now=NOW)
    return case_id


def test_a_good_rating_is_kept_once(engine: Engine) -> None:
    case_id = _delivered(engine)
    with session_scope(engine) as db:
        assert rate(db, case_id, 5, ["fast", "no_visit"], by="r-1", service=BIRTH, now=NOW) is None
    with session_scope(engine) as db, pytest.raises(RatingError, match="rated already"):
        rate(db, case_id, 1, [], by="r-1", service=BIRTH, now=NOW)
    with session_scope(engine) as db:
        assert actions(db, case_id)[-1] == "case.rated_5"


def test_a_bad_rating_opens_a_rectification_due_in_fifteen_working_days(engine: Engine) -> None:
    case_id = _delivered(engine)
    with session_scope(engine) as db:
        task = rate(db, case_id, 2, ["slow"], by="r-1", service=BIRTH, now=NOW)
        assert task is not None
        # Monday 16 June 2025 + 15 working days (no holiday between): Monday 7 July.
        assert (task.department, task.due_on) == ("public_security", datetime.date(2025, 7, 7))
    with session_scope(engine) as db, pytest.raises(StepRefusedError):
        close_rectification(db, case_id, by="u-tax", department="tax", service=BIRTH, now=NOW)
    with session_scope(engine) as db:
        closed = close_rectification(
            db, case_id, by="u-ps", department="public_security", service=BIRTH, now=NOW
        )
        assert closed.closed_by == "u-ps"
        assert actions(db, case_id)[-3:] == [
            "case.rated_2",
            "case.rectification_opened",
            "case.rectification_closed",
        ]


@pytest.mark.parametrize(
    ("score", "reasons", "match"),
    [(0, [], "1 to 5"), (6, [], "1 to 5"), (3, ["my neighbour"], "unknown reasons")],
)
def test_ratings_out_of_range_or_with_unknown_reasons_are_refused(
    engine: Engine, score: int, reasons: list[str], match: str
) -> None:
    case_id = _delivered(engine)
    with session_scope(engine) as db, pytest.raises(RatingError, match=match):
        rate(db, case_id, score, reasons, by="r-1", service=BIRTH, now=NOW)


def test_only_a_delivered_case_is_rated(engine: Engine) -> None:
    case_id = file_on_facts(engine, HERE | NEWBORN)  # approved, not yet delivered
    with session_scope(engine) as db, pytest.raises(StepRefusedError):
        rate(db, case_id, 5, [], by="r-1", service=BIRTH, now=NOW)
