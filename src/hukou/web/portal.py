"""The resident portal: my cases, and who read my data and why.

Composed from the capabilities' own functions: the cases (``casework.views``) and the
access history with its Merkle proofs (``exchange.tracker``, the ledger's entries about
this person). Each item has its JSON twin: ``/api/v1/me/cases`` and
``/api/v1/me/accesses`` (the proofs to check against the signed checkpoint).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from hukou.accounts import AccountKind, ActiveSession, Permission
from hukou.accounts.errors import PermissionDeniedError
from hukou.casework.catalog import Channel
from hukou.casework.pages import supply_from_form
from hukou.casework.rating import REASONS
from hukou.casework.routes import apply_as, china_now, rate_as, service_catalog
from hukou.casework.views import own_cases
from hukou.db import session_scope
from hukou.exchange import tracker
from hukou.exchange.pages import PROFILE_ITEMS, profile_rows
from hukou.exchange.routes import ledger_signer, request_exchange
from hukou.registry.households import household_of
from hukou.web import render
from hukou.web.session import PageActor, first, form_fields

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _resident(actor: ActiveSession) -> str:
    if actor.kind is not AccountKind.RESIDENT or actor.person_id is None:
        raise PermissionDeniedError(Permission.SELF_READ)
    return actor.person_id


@router.get("/me")
def my_page(request: Request, actor: PageActor) -> Response:
    """My cases and the latest accesses to my data."""
    return _portal(request, actor)


def _portal(
    request: Request, actor: ActiveSession, *, notice: str | None = None, status_code: int = 200
) -> Response:
    person = _resident(actor)
    today = china_now().date()
    with session_scope(request.app.state.engine) as db:
        cases = own_cases(db, person, today=today)
        history = tracker.my_accesses(db, actor, signer=ledger_signer(request), newest=True)
        household = _household(db, person)
    accesses = sorted(history.records, key=lambda r: r.seq, reverse=True)
    catalog = service_catalog(request)
    return render(
        request,
        "portal.html",
        {
            "actor": actor,
            "cases": cases,
            "services": catalog,
            "online": [s for s in catalog.services.values() if Channel.ONLINE in s.channels],
            "reasons": REASONS,
            "accesses": accesses,
            "household": household,
            "checkpoint": history.checkpoint,
            "notice": notice,
        },
        status_code=status_code,
    )


def _household(db: Session, person: str) -> list[dict[str, object]]:
    """The other members of my household, for "apply for": their relationship to the head
    and an ordinal among the same relationship (子女 1, 子女 2). The household's make-up is
    on its own 户口本; no member's name, number or birth date is read for it."""
    found: list[dict[str, object]] = []
    seen: dict[str | None, int] = {}
    for member in household_of(db, person):
        if member.person_id == person:
            continue
        seen[member.relationship] = seen.get(member.relationship, 0) + 1
        found.append(
            {
                "person_id": member.person_id,
                "relationship": member.relationship,
                "ordinal": seen[member.relationship],
            }
        )
    return found


@router.post("/me/apply")
async def apply_page(request: Request, actor: PageActor) -> Response:
    """网上办: apply for oneself or a member of one's household (a parent for a child);
    decided at once where the registry proves it."""
    _resident(actor)
    fields = await form_fields(request)
    try:
        subject = first(fields, "subject") or None
        apply_as(request, actor, first(fields, "service"), subject, fields.get("material", []))
    except HTTPException as error:
        return _portal(request, actor, notice=str(error.detail), status_code=error.status_code)
    return RedirectResponse("/me?step=cases", status_code=303)


@router.post("/me/cases/{case_id}/rating")
async def rating_page(request: Request, case_id: str, actor: PageActor) -> Response:
    """好差评 of a delivered case: 1–5 and reasons (a 差评 opens a rectification)."""
    _resident(actor)
    fields = await form_fields(request)
    score = first(fields, "score")
    try:
        rate_as(
            request,
            actor,
            case_id,
            int(score) if score.isdigit() else 0,
            [r for r in fields.get("reason", []) if r in REASONS],
        )
    except HTTPException as error:
        return _portal(request, actor, notice=str(error.detail), status_code=error.status_code)
    return RedirectResponse("/me?step=cases", status_code=303)


@router.post("/me/cases/{case_id}/material")
async def material_page(request: Request, case_id: str, actor: PageActor) -> Response:
    """补正: upload the files a case waits for (PDF, JPEG or PNG); the case is judged again."""
    _resident(actor)
    try:
        await supply_from_form(request, actor, case_id, staff=False)
    except HTTPException as error:
        return _portal(request, actor, notice=str(error.detail), status_code=error.status_code)
    return RedirectResponse("/me?step=cases", status_code=303)


@router.get("/me/data")
def my_data_page(request: Request, actor: PageActor) -> Response:
    """我的数据: what the registry holds on me, in clear, and which department, file and
    line each item came from (a self-access read: a ledger entry in my own history)."""
    person = _resident(actor)
    with session_scope(request.app.state.engine) as db:
        view = request_exchange(request).read(db, actor, person, PROFILE_ITEMS, "self_access")
    return render(
        request, "portal_data.html", {"actor": actor, "view": view, "rows": profile_rows(view)}
    )
