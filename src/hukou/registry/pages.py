"""The data pages of the console (数据管理), for data officers: the feed batches with their
reports (rows in = accepted + quarantined, the reasons), the quarantine's latest lines
with every reason (values masked), the open issues (departments disagreeing on a field,
quality flags; each person links to their profile), and the clerical-review queue — two
records side by side, masked, decided "same person" or "keep apart" (a ledger entry; the
next link run honours it).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hukou.accounts import ActiveSession, Permission
from hukou.db import session_scope
from hukou.registry import worklist
from hukou.registry.link import ReviewError, decide, list_pairs
from hukou.web import render
from hukou.web.keys import request_keyring
from hukou.web.session import PageActor, first, form_fields

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

BATCHES: Final = 100
QUARANTINE: Final = 50
PAIRS: Final = 50
ISSUES: Final = 50


def _page(
    request: Request, actor: ActiveSession, *, notice: str | None = None, status_code: int = 200
) -> Response:
    with session_scope(request.app.state.engine) as db:
        found_batches = worklist.batches(db, limit=BATCHES)
        found_quarantine = worklist.quarantine(db, limit=QUARANTINE)
        found_issues = worklist.issues(db, limit=ISSUES)
    pairs = list_pairs(request.app.state.engine, request_keyring(request), limit=PAIRS)
    return render(
        request,
        "data.html",
        {
            "actor": actor,
            "batches": found_batches,
            "quarantine": found_quarantine,
            "issues": found_issues,
            "pairs": pairs,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/console/data")
def data_page(request: Request, actor: PageActor) -> Response:
    """Batches, quarantine and the review queue."""
    actor.require(Permission.REGISTRY_REVIEW)
    return _page(request, actor)


@router.post("/console/data/review/{pair_id}")
async def review_page(request: Request, pair_id: int, actor: PageActor) -> Response:
    """Same person, or keep apart: remembered, and honoured by every later link run."""
    actor.require(Permission.REGISTRY_REVIEW)
    fields = await form_fields(request)
    decision = first(fields, "decision")
    if not 0 < pair_id < 2**62:
        raise HTTPException(404, "no such pair")
    try:
        decide(request.app.state.engine, pair_id, decision, by=actor.user_id)
    except ReviewError as error:
        return _page(request, actor, notice=str(error), status_code=422)
    return RedirectResponse("/console/data#review", status_code=303)
