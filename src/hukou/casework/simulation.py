"""The simulated year: a city's applications run through the rules and the departments'
queues, day by working day, to show what the reform does to the plan's numbers.

Pure: the caller hands in the applications, each with the registry's values of its
facts (:mod:`hukou.casework.replay` reads them), and the staffing. Each application is
judged by the same code a filing is (:func:`hukou.casework.rules.first_step`):

* 秒批 — decided on the filing day, no working day counted;
* 补正 — the material is asked for and the clock stands still while the resident gets
  it (``material_workdays``), then the case is judged again and goes to review;
* review — one task per reviewing department, stages one after the other, each
  department working its queue first come first served with ``reviewers ×
  tasks_per_reviewer_day`` tasks a working day. A task can be worked from the working
  day after it was opened (the filing day is not counted). The reviewers approve an
  eligible application and refuse the others.

When the table cannot decide without material, the papers are handed over at filing at a
window (or by a helper or an employer) if the applicant has them (``documents_complete``);
otherwise, and always online, they are asked for and the clock waits.
*Zero visits* (零跑动) is the plan's measure: filed online and never asked
for material. Working days to decision follow the statutory clock (pauses excluded), and
a case past its service's limit is an SLA breach.

Time runs on an axis of working days: ``ordinal(d)`` is the number of working days up to
and including ``d``, so a case filed on a Saturday is counted from the Friday before and
its tasks open on Monday, as the clock in :mod:`hukou.casework.clock` counts it.
"""

from __future__ import annotations

import bisect
import datetime
import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Final

from pydantic import Field

from hukou.casework.catalog import Catalog, Channel, Service, data_path
from hukou.casework.rules import Route, find_facts, first_step
from hukou.standards.workdays import WorkCalendar, default_calendar
from hukou.yamldoc import DocumentModel, load_document

__all__ = [
    "BASELINE",
    "TARGETS",
    "Application",
    "Staffing",
    "YearReport",
    "load_staffing",
    "percentile",
    "simulate",
]

BASELINE: Final = {
    "median_workdays": 15,
    "several_departments_share": 0.38,
    "source": "the plan's baseline: 15 working days to a decision, 38% of business "
    "needing several departments",
}
TARGETS: Final = {"median_workdays": 5, "zero_visit_share": 0.90}

_VISITLESS: Final = frozenset({Channel.ONLINE})
_AT_COUNTER: Final = frozenset({Channel.WINDOW, Channel.ASSISTED, Channel.ENTERPRISE_STATION})
# Working days simulated past the last filing before undecided cases are given up on.
_DRAIN_WORKDAYS: Final = 750


class MaterialDays(DocumentModel):
    at_hand: int = Field(ge=0, le=60)
    to_obtain: int = Field(ge=0, le=120)


class Staffing(DocumentModel):
    """Reviewers per department (scaled to the city) and how fast they work."""

    tasks_per_reviewer_day: int = Field(ge=1, le=1000)
    reviewers_per_100k: dict[str, float]
    material_workdays: MaterialDays

    def reviewers(self, population: int, overrides: Mapping[str, int]) -> dict[str, int]:
        """Reviewers of each department for a city of ``population``; ``overrides`` win."""
        scaled = {
            department: max(1, round(rate * population / 100_000))
            for department, rate in self.reviewers_per_100k.items()
        }
        return {**scaled, **overrides}


def load_staffing() -> Staffing:
    """The shipped staffing assumptions (``casework/data/staffing.yaml``)."""
    return load_document(data_path("staffing.yaml"), Staffing)


@dataclass(frozen=True, slots=True)
class Application:
    """One application of the year, with the registry's values of its facts."""

    id: str
    service: str
    channel: Channel
    filed_on: datetime.date
    values: Mapping[tuple[str, str], object]
    """(``applicant`` | ``subject``, item) → the value the first-contact department may read."""
    eligible: bool
    documents_complete: bool


@dataclass(slots=True)
class _Case:
    service: Service
    filed: int  # working-day ordinal of the filing day
    eligible: bool
    instant: bool = False
    paused: int = 0
    decided: int | None = None
    pending: int = 0  # open tasks of the current stage
    stage: int = 0  # index into service.stages


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    applications: int
    instant_share: float
    zero_visit_share: float
    material_share: float
    median_workdays: float | None
    p95_workdays: float | None
    sla_breach_share: float
    undecided: int


@dataclass(frozen=True, slots=True)
class DepartmentFigures:
    reviewers: int
    tasks: int
    utilisation: float
    max_backlog: int


@dataclass(frozen=True, slots=True)
class YearReport:
    applications: int
    instant_share: float
    zero_visit_share: float
    median_workdays: float | None
    p95_workdays: float | None
    sla_breach_share: float
    several_departments_share: float
    undecided: int
    services: Mapping[str, ServiceFigures]
    departments: Mapping[str, DepartmentFigures]
    backlog: Sequence[Mapping[str, object]]
    skipped: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """The report with the plan's baseline and targets beside it."""
        return {
            "applications": self.applications,
            "instant_share": self.instant_share,
            "zero_visit_share": self.zero_visit_share,
            "median_workdays": self.median_workdays,
            "p95_workdays": self.p95_workdays,
            "sla_breach_share": self.sla_breach_share,
            "several_departments_share": self.several_departments_share,
            "undecided": self.undecided,
            "skipped": dict(self.skipped),
            "baseline": BASELINE,
            "targets": {
                **TARGETS,
                "median_workdays_met": self.median_workdays is not None
                and self.median_workdays <= TARGETS["median_workdays"],
                "zero_visit_share_met": self.zero_visit_share >= TARGETS["zero_visit_share"],
            },
            "services": {code: asdict(figures) for code, figures in self.services.items()},
            "departments": {code: asdict(figures) for code, figures in self.departments.items()},
            "backlog": list(self.backlog),
        }


class _Axis:
    """Working-day ordinals over the simulated span."""

    def __init__(self, first: datetime.date, last: datetime.date, calendar: WorkCalendar) -> None:
        days = (last - first).days + 1
        self.first = first
        self.workdays = [
            d
            for d in (first + datetime.timedelta(days=i) for i in range(days))
            if calendar.is_workday(d)
        ]

    def ordinal(self, day: datetime.date) -> int:
        """Working days in the span up to and including ``day``."""
        return bisect.bisect_right(self.workdays, day)

    def date(self, ordinal: int) -> datetime.date:
        return self.workdays[ordinal - 1]


def percentile(values: Sequence[int], share: float) -> float | None:
    """Nearest-rank percentile of working days (``None`` for none)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))])


def simulate(  # noqa: PLR0915 (one loop over days; splitting it hides the queue's logic)
    applications: Iterable[Application],
    catalog: Catalog,
    reviewers: Mapping[str, int],
    staffing: Staffing,
    *,
    city: str,
    calendar: WorkCalendar | None = None,
) -> YearReport:
    """Run ``applications`` (in filing order) through rules and queues; the year's figures."""
    calendar = calendar or default_calendar()
    apps = sorted(applications, key=lambda a: (a.filed_on, a.id))
    skipped: dict[str, int] = {}
    if not apps:
        return YearReport(0, 0.0, 0.0, None, None, 0.0, 0.0, 0, {}, {}, [], skipped)
    # Working days are known only for the years with a State Council notice.
    horizon = datetime.date(max(calendar.known_years()), 12, 31)
    if apps[-1].filed_on > horizon:
        raise ValueError(f"no statutory holiday data after {horizon}; load the notice first")
    axis = _Axis(
        apps[0].filed_on,
        min(horizon, apps[-1].filed_on + datetime.timedelta(days=_DRAIN_WORKDAYS * 2)),
        calendar,
    )
    cases: list[_Case] = []
    starts: dict[int, list[int]] = {}  # working day → cases whose review starts then
    zero_visit: list[bool] = []
    material: list[bool] = []
    for app in apps:
        if app.service not in catalog:
            skipped[app.service] = skipped.get(app.service, 0) + 1
            continue
        service = catalog[app.service]
        findings = find_facts(service, app.values, filed_on=app.filed_on, city=city)
        route, _decision, _missing = first_step(service, findings)
        case = _Case(service, axis.ordinal(app.filed_on), app.eligible)
        asked = route is Route.MATERIAL
        at_counter = app.channel in _AT_COUNTER and app.documents_complete
        if route is Route.INSTANT:
            case.instant, case.decided = True, case.filed
        elif asked and not at_counter:
            # Asked for all at once (一次性告知); with it, the case goes to review (a
            # declared fact decides nothing alone).
            days = staffing.material_workdays
            case.paused = days.at_hand if app.documents_complete else days.to_obtain
            starts.setdefault(case.filed + case.paused, []).append(len(cases))
        else:  # to review, with the papers handed over at the counter if any were needed
            starts.setdefault(case.filed, []).append(len(cases))
        cases.append(case)
        zero_visit.append(app.channel in _VISITLESS and not asked)
        material.append(asked)

    queues: dict[str, deque[tuple[int, int]]] = {}  # department → (case, ready day)
    done: dict[str, int] = {}
    busy: dict[str, int] = {}
    max_backlog: dict[str, int] = {}
    backlog: list[dict[str, object]] = []

    def open_stage(index: int, day: int) -> None:
        case = cases[index]
        stage = case.service.stages[case.stage]
        case.pending = len(stage)
        for review in stage:
            queues.setdefault(review.department, deque()).append((index, day + 1))

    last_start = max(starts) if starts else 0
    day = min(case.filed for case in cases) if cases else 1
    while day <= last_start or any(queues.values()):
        if day > last_start + _DRAIN_WORKDAYS or day > len(axis.workdays):
            break
        for index in starts.pop(day, ()):
            open_stage(index, day)
        for department, queue in list(queues.items()):
            capacity = reviewers.get(department, 1) * staffing.tasks_per_reviewer_day
            worked = 0
            while queue and worked < capacity and queue[0][1] <= day:
                index, _ready = queue.popleft()
                worked += 1
                case = cases[index]
                case.pending -= 1
                if case.pending == 0 and case.decided is None:
                    rejected = not case.eligible
                    if rejected or case.stage + 1 == len(case.service.stages):
                        case.decided = day
                    else:
                        case.stage += 1
                        open_stage(index, day)
            done[department] = done.get(department, 0) + worked
            busy[department] = busy.get(department, 0) + 1
            max_backlog[department] = max(max_backlog.get(department, 0), len(queue))
        if (day - 1) % 5 == 0:  # about once a week
            open_tasks = {d: len(q) for d, q in queues.items() if q}
            backlog.append(
                {
                    "week_of": axis.date(day).isoformat(),
                    "open_tasks": sum(open_tasks.values()),
                    "by_department": open_tasks,
                }
            )
        day += 1

    return _report(
        cases, zero_visit, material, reviewers, staffing, done, busy, max_backlog, backlog, skipped
    )


def _report(  # noqa: PLR0917 (the simulation's tallies, handed over once)
    cases: Sequence[_Case],
    zero_visit: Sequence[bool],
    material: Sequence[bool],
    reviewers: Mapping[str, int],
    staffing: Staffing,
    done: Mapping[str, int],
    busy: Mapping[str, int],
    max_backlog: Mapping[str, int],
    backlog: Sequence[Mapping[str, object]],
    skipped: Mapping[str, int],
) -> YearReport:
    by_service: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        by_service.setdefault(case.service.code, []).append(index)

    def figures(indexes: Sequence[int]) -> ServiceFigures:
        decided = [cases[i] for i in indexes if cases[i].decided is not None]
        used = [c.decided - c.filed - c.paused for c in decided if c.decided is not None]
        breached = sum(
            1 for c, days in zip(decided, used, strict=True) if days > c.service.time_limit_workdays
        )
        n = len(indexes)
        undecided = n - len(decided)
        return ServiceFigures(
            applications=n,
            instant_share=_share(sum(cases[i].instant for i in indexes), n),
            zero_visit_share=_share(sum(zero_visit[i] for i in indexes), n),
            material_share=_share(sum(material[i] for i in indexes), n),
            median_workdays=float(statistics.median(used)) if used else None,
            p95_workdays=percentile(used, 0.95),
            sla_breach_share=_share(breached + undecided, n),
            undecided=undecided,
        )

    overall = figures(range(len(cases)))
    several = sum(1 for c in cases if len({r.department for r in c.service.reviews}) > 1)
    departments = {
        department: DepartmentFigures(
            reviewers=count,
            tasks=done.get(department, 0),
            utilisation=_share(
                done.get(department, 0),
                busy.get(department, 0) * count * staffing.tasks_per_reviewer_day,
            ),
            max_backlog=max_backlog.get(department, 0),
        )
        for department, count in sorted(reviewers.items())
    }
    return YearReport(
        applications=len(cases),
        instant_share=overall.instant_share,
        zero_visit_share=overall.zero_visit_share,
        median_workdays=overall.median_workdays,
        p95_workdays=overall.p95_workdays,
        sla_breach_share=overall.sla_breach_share,
        several_departments_share=_share(several, len(cases)),
        undecided=overall.undecided,
        services={code: figures(ix) for code, ix in sorted(by_service.items())},
        departments=departments,
        backlog=backlog,
        skipped=skipped,
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
