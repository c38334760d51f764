"""The plan's casework KPIs, read from the cases themselves (the console's home page).

- 秒批率 ``instant_share``: cases decided by the rules at filing / all cases filed;
- 零跑动率 ``zero_visit_share``: cases filed online and never asked for material / all;
- 办理时长 ``median_workdays`` / ``p95_workdays``: statutory working days from filing to
  decision of the decided cases, pauses for material excluded (:class:`Clock`);
- 超期率 ``sla_breach_share``: decided cases decided after their deadline / decided;
- 好差评 ``rating_mean`` and ``good_rating_share`` (4 or 5 of 5) of the rated cases.

The same definitions as the simulated year (:mod:`hukou.casework.simulation`), applied
to what happened rather than to what was simulated. Shares are ``None`` when nothing was
counted: "no cases" is not "0 %".
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hukou.casework.catalog import Channel
from hukou.casework.clock import Clock, Pause, SlaStatus
from hukou.casework.model import CasePause, CaseRating, CaseRow
from hukou.casework.simulation import percentile

__all__ = ["CaseKpis", "case_kpis"]


@dataclass(frozen=True, slots=True)
class CaseKpis:
    """The casework KPIs on one day."""

    cases: int
    decided: int
    instant_share: float | None
    zero_visit_share: float | None
    median_workdays: float | None
    p95_workdays: float | None
    sla_breach_share: float | None
    ratings: int
    rating_mean: float | None
    good_rating_share: float | None
    by_service: dict[str, int]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def case_kpis(db: Session, today: datetime.date) -> CaseKpis:
    """The KPIs over every case filed up to ``today``."""
    pauses: dict[str, list[Pause]] = defaultdict(list)
    for row in db.scalars(select(CasePause)):
        pauses[row.case_id].append(Pause(row.started_on, row.ended_on))
    cases = instant = zero_visit = breached = 0
    workdays: list[int] = []
    by_service: dict[str, int] = defaultdict(int)
    columns = (
        CaseRow.id,
        CaseRow.service,
        CaseRow.channel,
        CaseRow.filed_on,
        CaseRow.limit_workdays,
        CaseRow.instant_decision,
        CaseRow.decided_on,
    )
    for case_id, service, channel, filed_on, limit, was_instant, decided_on in db.execute(
        select(*columns).where(CaseRow.filed_on <= today)
    ):
        cases += 1
        by_service[service] += 1
        instant += bool(was_instant)
        asked = case_id in pauses
        zero_visit += channel == Channel.ONLINE.value and not asked
        if decided_on is not None:
            clock = Clock(filed_on, limit, pauses.get(case_id, ()))
            workdays.append(clock.used(decided_on))
            breached += clock.status(today, decided_on=decided_on) is SlaStatus.BREACHED
    ratings, mean, good = db.execute(
        select(
            func.count(CaseRating.case_id),
            func.avg(CaseRating.score),
            func.sum(case((CaseRating.score >= 4, 1), else_=0)),
        )
    ).one()
    return CaseKpis(
        cases=cases,
        decided=len(workdays),
        instant_share=_share(instant, cases),
        zero_visit_share=_share(zero_visit, cases),
        median_workdays=float(statistics.median(workdays)) if workdays else None,
        p95_workdays=percentile(workdays, 0.95),
        sla_breach_share=_share(breached, len(workdays)),
        ratings=int(ratings),
        rating_mean=None if mean is None else float(mean),
        good_rating_share=_share(int(good or 0), int(ratings)),
        by_service=dict(sorted(by_service.items())),
    )
