"""The console's casework KPIs from stored cases, on both engines: shares over all cases,
working days (pauses excluded) over the decided, breaches against each case's limit."""

from __future__ import annotations

import datetime

from sqlalchemy import Engine

from hukou.casework.kpis import case_kpis
from hukou.casework.model import CasePause, CaseRating, CaseRow
from hukou.db import session_scope

MONDAY = datetime.date(2025, 6, 9)  # an ordinary working week (no holiday until 端午 on 5/31)


def _case(
    case_id: str,
    channel: str,
    *,
    instant: bool,
    decided_on: datetime.date | None,
    limit: int = 5,
) -> CaseRow:
    at = datetime.datetime.combine(MONDAY, datetime.time(9), tzinfo=datetime.UTC)
    return CaseRow(
        id=case_id,
        service="register_certificate" if instant else "household_move",
        channel=channel,
        applicant_id="P1",
        subject_id="P1",
        first_contact="public_security",
        filed_by="u1",
        state="approved" if decided_on else "in_review",
        version=1,
        filed_at=at,
        filed_on=MONDAY,
        limit_workdays=limit,
        instant_decision=instant,
        decided_on=decided_on,
        decided_at=None if decided_on is None else at,
    )


def test_kpis_count_what_the_plan_counts(engine: Engine) -> None:
    with session_scope(engine) as db:
        db.add_all(
            [
                _case("A", "online", instant=True, decided_on=MONDAY),
                _case("B", "window", instant=False, decided_on=MONDAY + datetime.timedelta(3)),
                # Online but asked for material: not zero-visit; 12 working days used,
                # 2 of them paused, so 10 counted against a limit of 5: breached.
                _case("C", "online", instant=False, decided_on=datetime.date(2025, 6, 25)),
                _case("D", "window", instant=False, decided_on=None),
            ]
        )
        db.flush()
        db.add(
            CasePause(
                case_id="C",
                started_on=datetime.date(2025, 6, 16),
                ended_on=datetime.date(2025, 6, 18),
                materials="[]",
            )
        )
        at = datetime.datetime(2025, 6, 30, tzinfo=datetime.UTC)
        db.add_all(
            [
                CaseRating(case_id="A", score=5, reasons="[]", rated_by="r", rated_at=at),
                CaseRating(case_id="B", score=3, reasons="[]", rated_by="r", rated_at=at),
            ]
        )
    with session_scope(engine) as db:
        found = case_kpis(db, datetime.date(2025, 6, 30))
    assert found.cases == 4
    assert found.decided == 3
    assert found.instant_share == 0.25
    assert found.zero_visit_share == 0.25
    assert found.median_workdays == 3.0
    assert found.p95_workdays == 10.0
    assert found.sla_breach_share == 1 / 3
    assert found.ratings == 2
    assert found.rating_mean == 4.0
    assert found.good_rating_share == 0.5
    assert found.by_service == {"household_move": 3, "register_certificate": 1}


def test_no_cases_is_no_share_not_zero(engine: Engine) -> None:
    with session_scope(engine) as db:
        found = case_kpis(db, datetime.date(2025, 6, 30))
    assert found.cases == 0
    assert found.instant_share is None
    assert found.median_workdays is None
    assert found.rating_mean is None
