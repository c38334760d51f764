"""The resident portal: my cases, and who read my data and why.

Composed from the capabilities' own functions: the cases (``casework.views``) and the
access history with its Merkle proofs (``exchange.tracker``, the ledger's entries about
this person). Each item has its JSON twin: ``/api/v1/me/cases`` and
``/api/v1/me/accesses`` (the proofs to check against the signed checkpoint).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hukou.accounts import AccountKind, Permission
from hukou.accounts.errors import PermissionDeniedError
from hukou.casework.routes import china_now, service_catalog
from hukou.casework.views import case_view, cases_of_person
from hukou.db import session_scope
from hukou.exchange import tracker
from hukou.exchange.routes import ledger_signer
from hukou.web import render
from hukou.web.session import PageActor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/me")
def my_page(request: Request, actor: PageActor) -> Response:
    """My cases and the latest accesses to my data."""
    if actor.kind is not AccountKind.RESIDENT or actor.person_id is None:
        raise PermissionDeniedError(Permission.SELF_READ)
    today = china_now().date()
    with session_scope(request.app.state.engine) as db:
        cases = [case_view(db, c, today=today) for c in cases_of_person(db, actor.person_id)]
        history = tracker.my_accesses(db, actor, signer=ledger_signer(request))
    accesses = sorted(history.records, key=lambda r: r.seq, reverse=True)
    return render(
        request,
        "portal.html",
        {
            "actor": actor,
            "cases": cases,
            "services": service_catalog(request),
            "accesses": accesses,
            "checkpoint": history.checkpoint,
        },
    )
