"""The points pages of the console: a policy by category, and a reform simulated on the
applicant pool with its before/after charts (``/console/points``), and the JSON twin
(``GET /api/v1/points/simulate``).

A simulation writes nothing and reads no person: it scores a pool of applicants (the
demo city's points pool when the installation has one, else the made-up pool of
:func:`~hukou.points.applicants.pool_frame`, as ``hukou points simulate`` does). So the
page takes its inputs as query parameters (GET, bookmarkable, no CSRF token needed).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from hukou.accounts import ActiveSession, CurrentSession, Permission
from hukou.casework.routes import CasePath, china_now, visible_case
from hukou.db import session_scope
from hukou.exchange.routes import request_exchange
from hukou.points.applicants import pool_arrays, pool_frame, read_synthetic
from hukou.points.attributes import read_attributes
from hukou.points.engine import admit
from hukou.points.explain import Explanation, explain
from hukou.points.policy import Category, Policy, load_policies
from hukou.points.reform import ReformError, ReformReport, compare, reformed
from hukou.web import Translator, page_language, render
from hukou.web.session import PageActor

__all__ = ["router"]

router = APIRouter()

MADE_UP_POOL: Final = 100_000


@cache
def _made_up_pool(day: datetime.date) -> pl.DataFrame:
    return pool_frame(pool_arrays(MADE_UP_POOL), day)


def _pool(request: Request, day: datetime.date, places: int) -> tuple[pl.DataFrame, str]:
    """The applicants and where they come from: the demo city's pool when it is large
    enough for the quota to bite (three applicants a place), else the made-up pool (a
    20,000-person city has a few hundred applicants against Beijing's 6,000 places)."""
    city: Path = request.app.state.settings.data_dir / "city"
    try:
        year = int(json.loads((city / "manifest.json").read_text("utf-8"))["config"]["year"])
        pool = read_synthetic(city, year)
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError):
        return _made_up_pool(day), "made_up"
    if pool.height >= _APPLICANTS_A_PLACE * places:
        return pool, "city"
    return _made_up_pool(day), "made_up"


_APPLICANTS_A_PLACE: Final = 3


def _places(policy: Policy, day: datetime.date, quota: int | None) -> int:
    if quota is not None:
        return quota
    found = policy.places_for(day.year)
    if found is None:
        raise HTTPException(422, "quota: this policy has none, give one")
    return found


def _simulate(
    request: Request, policy_code: str, change: str, starting: datetime.date, quota: int | None
) -> tuple[Policy, ReformReport, str, int]:
    policies = load_policies()
    if policy_code not in policies:
        raise HTTPException(422, "policy: not a shipped policy")
    policy = policies[policy_code]
    target, _, value = change.partition("=")
    if not value:
        raise HTTPException(422, "set: write INDICATOR.PARAMETER=VALUE, e.g. education.master=28")
    try:
        after = reformed(policy, {target.strip(): value.strip()}, starting=starting)
    except (ReformError, ValueError) as error:
        raise HTTPException(422, str(error).splitlines()[0]) from None
    places = _places(policy, starting, quota)
    applicants, source = _pool(request, starting, places)
    return (
        policy,
        compare(policy, after, applicants, starting=starting, quota=places),
        source,
        places,
    )


Change = Query(default="education.master=28", max_length=200)
Day = Query(default=None, description="first day (default: 1 January next year)")
Quota = Query(default=None, ge=0, le=10_000_000)


def _day(starting: datetime.date | None) -> datetime.date:
    return starting or datetime.date(china_now().year + 1, 1, 1)


@router.get("/api/v1/points/simulate", tags=["points"], summary="A reform of a points policy")
def simulate_json(
    request: Request,
    actor: CurrentSession,
    *,
    policy: str = "beijing",
    change: str = Change,
    starting: datetime.date | None = Day,
    quota: int | None = Quota,
) -> dict[str, object]:
    """Before and after on the applicant pool: cutoff, who changes status, categories."""
    actor.require(Permission.POINTS_SIMULATE)
    day = _day(starting)
    _policy, report, source, places = _simulate(request, policy, change, day, quota)
    return {
        "policy": policy,
        "change": change,
        "from": day.isoformat(),
        "quota": places,
        "pool": source,
    } | report.as_json()


def _categories(policy: Policy, day: datetime.date, lang: str) -> list[dict[str, Any]]:
    """The policy's indicators by category, each with the parameters in force on ``day``."""
    rows = []
    for name, indicator in policy.indicators.items():
        current = [v for v in indicator.versions if v.from_ <= day] or list(indicator.versions)
        version = current[-1]
        dumped = version.model_dump(
            mode="json", exclude_none=True, exclude_defaults=True, by_alias=True
        )
        parameters = {k: v for k, v in dumped.items() if k != "from"}
        rows.append(
            {
                "name": name,
                "category": indicator.category.value,
                "label": indicator.zh if lang == "zh-CN" else indicator.en,
                "kind": indicator.kind,
                "since": version.from_,
                "parameters": parameters,
                "reference": indicator.reference,
            }
        )
    order = [c.value for c in Category]
    return sorted(rows, key=lambda r: order.index(r["category"]))


TOP: Final = 20


def _ranking(
    request: Request, policy: Policy, day: datetime.date, quota: int | None
) -> dict[str, Any]:
    """The pool ranked against the quota: the outcome and the top of the admitted list."""
    places = _places(policy, day, quota)
    applicants, source = _pool(request, day, places)
    on_day = applicants.with_columns(pl.lit(day).alias("application_date"))
    admitted, outcome = admit(policy, on_day, places)
    top = admitted.head(TOP).select("applicant_id", "score", "rank").iter_rows(named=True)
    return {"ranking": outcome, "top": list(top), "pool": source, "places": places}


@router.get("/console/points/explain", include_in_schema=False)
def explain_page(
    request: Request,
    actor: PageActor,
    *,
    policy: str = Query(default="beijing", max_length=32),
    applicant: str = Query(max_length=40),
    starting: datetime.date | None = Day,
) -> Response:
    """One applicant's score line by line: inputs, the parameters in force and their date,
    the legal basis — the same numbers as the ranking (held equal by a property test)."""
    actor.require(Permission.POINTS_SIMULATE)
    policies = load_policies()
    if policy not in policies:
        raise HTTPException(404, "no such policy")
    chosen = policies[policy]
    day = _day(starting)
    applicants, _source = _pool(request, day, _places(chosen, day, None))
    row = applicants.filter(pl.col("applicant_id") == applicant).head(1)
    if row.height == 0:
        raise HTTPException(404, "no such applicant in the pool")
    attributes = row.with_columns(pl.lit(day).alias("application_date")).row(0, named=True)
    found = explain(chosen, attributes)
    return render(
        request,
        "points_explain.html",
        {"actor": actor, "policy": chosen, "applicant": applicant, "found": found, "starting": day},
    )


@router.get("/console/points", include_in_schema=False)
def points_page(
    request: Request,
    actor: PageActor,
    *,
    policy: str = "beijing",
    change: str | None = Query(default=None, max_length=200),
    starting: str | None = Query(default=None, max_length=10),
    quota: str | None = Query(default=None, max_length=9),
) -> Response:
    """积分政策: the policy by category; with ``change``, a reform's before and after.

    A form sends empty fields as empty strings: they mean "the default" here, and a
    malformed date or quota is said on the page, not answered with a bare 422."""
    actor.require(Permission.POINTS_SIMULATE)
    policies = load_policies()
    chosen = policies.get(policy) or policies["beijing"]
    malformed = False
    try:
        day = _day(datetime.date.fromisoformat(starting) if starting else None)
        quota_value = int(quota) if quota else None
        malformed = quota_value is not None and quota_value < 0
    except ValueError:
        day, quota_value, malformed = _day(None), None, True
    lang = page_language(request)
    context: dict[str, Any] = {
        "actor": actor,
        "policies": policies,
        "policy": chosen,
        "indicators": _categories(chosen, day, lang),
        "change": change or "",
        "starting": day,
        "quota": quota_value,
        "report": None,
        "error": None,
    }
    if malformed:
        context["error"] = "starting: a date (YYYY-MM-DD); quota: a whole number of places"
        return render(request, "points.html", context, status_code=422)
    try:
        context.update(_ranking(request, chosen, day, quota_value))
    except HTTPException as error:
        context["error"] = str(error.detail)
    if change:
        try:
            _policy, report, source, places = _simulate(
                request, chosen.code, change, day, quota_value
            )
        except HTTPException as error:
            context["error"] = str(error.detail)
            return render(request, "points.html", context, status_code=422)
        before, after = (Translator(lang)(k) for k in ("points.before", "points.after"))
        context.update(
            report=report,
            pool=source,
            places=places,
            categories_chart={
                "labels": list(report.categories),
                "series": [
                    {
                        "name": before,
                        "values": [round(b, 2) for b, _a in report.categories.values()],
                    },
                    {
                        "name": after,
                        "values": [round(a, 2) for _b, a in report.categories.values()],
                    },
                ],
            },
            distribution_chart={
                "labels": [f"{band}–{band + 5}" for band, _b, _a in report.distribution],
                "series": [
                    {"name": before, "values": [b for _band, b, _a in report.distribution]},
                    {"name": after, "values": [a for _band, _b, a in report.distribution]},
                ],
            },
        )
    return render(request, "points.html", context)


_POINTS_SERVICE: Final = "points_settlement"


@dataclass(frozen=True, slots=True)
class CaseScore:
    """A points application scored from the registry: what the page and its twin show."""

    case_id: str
    policy: Policy
    explanation: Explanation
    sources: Mapping[str, str]
    ledger_seq: int
    filed_on: datetime.date


def case_score(request: Request, actor: ActiveSession, case_id: str) -> CaseScore:
    """积分核定 of a points application: the applicant's attributes read from the registry
    by the points office's automatic check (a ledger entry with the case as purpose; what
    the registry does not hold counts as not declared), scored line by line with the
    installation's policy (``HUKOU_POINTS_POLICY``)."""
    actor.require(Permission.CASE_READ)
    chosen = load_policies().get(request.app.state.settings.points_policy)
    if chosen is None:
        raise HTTPException(503, "the configured points policy is not installed")
    with session_scope(request.app.state.engine) as db:
        case = visible_case(db, case_id, actor)
        if case.service != _POINTS_SERVICE or case.applicant_id is None:
            raise HTTPException(404, "not a points application")
        found = read_attributes(
            db,
            request_exchange(request),
            case.applicant_id,
            {},
            department=case.first_contact,
            application_id=case.id,
            application_date=case.filed_on,
            now=china_now(),
        )
    if "birth_date" not in found.values:
        raise HTTPException(422, "the registry holds no birth date for the applicant")
    return CaseScore(
        case.id,
        chosen,
        explain(chosen, found.values),
        found.sources,
        found.ledger_seq,
        case.filed_on,
    )


@router.get("/console/cases/{case_id}/points", include_in_schema=False)
def case_points_page(request: Request, case_id: str, actor: PageActor) -> Response:
    """积分核定 of a points application, line by line (see :func:`case_score`)."""
    scored = case_score(request, actor, case_id)
    return render(
        request,
        "points_explain.html",
        {
            "actor": actor,
            "policy": scored.policy,
            "applicant": scored.case_id,
            "found": scored.explanation,
            "sources": scored.sources,
            "ledger_seq": scored.ledger_seq,
            "starting": scored.filed_on,
            "back": f"/console/cases/{scored.case_id}",
        },
    )


@router.get("/api/v1/cases/{case_id}/points", tags=["points"], summary="Score a points application")
def case_points_json(
    request: Request, case_id: CasePath, actor: CurrentSession
) -> dict[str, object]:
    """The twin of the 积分核定 page: total, qualification and every line with its inputs,
    where each input came from, the dated parameters and the legal reference."""
    scored = case_score(request, actor, case_id)
    found = scored.explanation
    return {
        "case_id": scored.case_id,
        "policy": scored.policy.code,
        "score": str(found.score),
        "qualified": found.qualified,
        "unmet": list(found.unmet),
        "age": found.age,
        "ledger_seq": scored.ledger_seq,
        "sources": dict(scored.sources),
        "lines": [
            {
                "indicator": line.indicator,
                "category": line.category,
                "inputs": {k: _plain(v) for k, v in line.inputs.items()},
                "since": None if line.version_from is None else line.version_from.isoformat(),
                "parameters": {k: _plain(v) for k, v in line.parameters.items()},
                "points": str(line.points),
                "reference": line.reference,
            }
            for line in found.lines
        ],
    }


def _plain(value: object) -> object:
    """A value as JSON has it (dates as ISO text, decimals as text)."""
    if isinstance(value, datetime.date | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
