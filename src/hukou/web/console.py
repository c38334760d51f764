"""The staff console's home: the plan's KPIs against their targets, and its JSON twin.

Each KPI is computed by the capability that owns its data (``casework.kpis``,
``registry.kpis``); this page only lines them up beside the plan's baseline and target
(:data:`TARGETS`). ``GET /api/v1/kpis`` answers the same figures as JSON.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from hukou.accounts import CurrentSession, Permission
from hukou.casework.kpis import CaseKpis, case_kpis
from hukou.casework.routes import china_now, service_catalog
from hukou.db import session_scope
from hukou.registry.kpis import registry_kpis
from hukou.web import page_language, render
from hukou.web.session import PageActor, landing_page

__all__ = ["TARGETS", "Kpi", "kpis", "router"]

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Kpi:
    """One of the plan's KPIs: its value, the plan's baseline and target, and whether met."""

    key: str
    zh: str
    en: str
    value: float | None
    unit: str  # share | workdays | count | score | hours
    baseline: float | None
    target: float | None
    higher_is_better: bool

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


TARGETS: Final[dict[str, tuple[float | None, float | None]]] = {
    # key: (the plan's baseline, its target)
    "instant_share": (None, 0.50),
    "zero_visit_share": (None, 0.90),
    "median_workdays": (15.0, 5.0),
    "error_rate": (0.083, 0.01),
    "update_hours": (180 * 24.0, 24.0),
    "rating_mean": (None, 4.5),
}


def kpis(db: Session, today: datetime.date) -> tuple[list[Kpi], CaseKpis]:
    """The home page's KPIs on ``today``, and the casework figures behind them."""
    cases = case_kpis(db, today)
    registry = registry_kpis(db)
    hours = None
    if registry.last_update is not None:
        last = registry.last_update
        if last.tzinfo is None:
            last = last.replace(tzinfo=datetime.UTC)
        hours = (datetime.datetime.now(datetime.UTC) - last).total_seconds() / 3600

    def kpi(key: str, zh: str, en: str, value: float | None, unit: str, *, higher: bool) -> Kpi:
        baseline, target = TARGETS.get(key, (None, None))
        return Kpi(key, zh, en, value, unit, baseline, target, higher)

    found = [
        kpi(
            "instant_share",
            "秒批率",
            "Instant decisions",
            cases.instant_share,
            "share",
            higher=True,
        ),
        kpi(
            "zero_visit_share",
            "零跑动率",
            "Zero visits",
            cases.zero_visit_share,
            "share",
            higher=True,
        ),
        kpi(
            "median_workdays",
            "办理时长（工作日，中位数）",
            "Working days to decision (median)",
            cases.median_workdays,
            "workdays",
            higher=False,
        ),
        kpi(
            "error_rate",
            "数据差错率",
            "Data error rate",
            registry.error_rate,
            "share",
            higher=False,
        ),
        kpi(
            "update_hours",
            "数据更新间隔（小时）",
            "Hours since the last data update",
            hours,
            "hours",
            higher=False,
        ),
        kpi(
            "registered_elsewhere",
            "人户分离人数",
            "Registered elsewhere (人户分离)",
            float(registry.registered_elsewhere),
            "count",
            higher=False,
        ),
        kpi(
            "rating_mean",
            "好差评平均分",
            "Service rating (mean of 5)",
            cases.rating_mean,
            "score",
            higher=True,
        ),
    ]
    return found, cases


@router.get("/api/v1/kpis", tags=["console"], summary="The plan's KPIs against their targets")
def kpis_json(request: Request, actor: CurrentSession) -> dict[str, object]:
    """The console home's figures (the page's JSON twin)."""
    actor.require(Permission.INSIGHT_READ)
    today = china_now().date()
    with session_scope(request.app.state.engine) as db:
        found, cases = kpis(db, today)
    return {
        "on": today.isoformat(),
        "kpis": [{**asdict(k), "met": k.met} for k in found],
        "cases": asdict(cases),
    }


@router.get("/console", include_in_schema=False)
def home(request: Request, actor: PageActor) -> Response:
    """The console's home page (an administrator, who may not see KPIs, goes to the page
    of their duty; an account with neither, to the status page)."""
    if not actor.has(Permission.INSIGHT_READ):
        landing = landing_page(actor)
        return RedirectResponse("/" if landing == "/console" else landing, status_code=303)
    today = china_now().date()
    with session_scope(request.app.state.engine) as db:
        found, cases = kpis(db, today)
    catalog = service_catalog(request)
    english = page_language(request) == "en"
    rows = [
        (catalog[code].name.en if english else catalog[code].name.zh, count)
        if code in catalog
        else (code, count)
        for code, count in cases.by_service.items()
    ]
    chart = {"labels": [r[0] for r in rows], "values": [r[1] for r in rows]}
    return render(
        request,
        "console_home.html",
        {"actor": actor, "kpis": found, "cases": cases, "chart": chart, "rows": rows},
    )
