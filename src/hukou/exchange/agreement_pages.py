"""The console's sharing-agreements page (共享协议): every agreement the visitor's department
provides or consumes (an auditor: all of them), with its state, parties, purposes, items
and validity; approve, reject or revoke for the data officers who may.

For ``agreement.read`` (data officers, audit administrators). The list and the steps are
those of the JSON API (``/api/v1/agreements``, the page's twin): the same scoping
(:func:`~hukou.exchange.routes.visible_agreements`) and the same service functions,
which decide who may approve (the provider's data officer, never the proposer) and who
may revoke (either side's); a refusal comes back as a notice, each step is a ledger
entry written by the service.
"""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hukou.accounts import ActiveSession, Permission
from hukou.audit.entry import EntryError
from hukou.db import session_scope
from hukou.exchange import agreements as deals
from hukou.exchange.routes import visible_agreements
from hukou.web import render
from hukou.web.session import PageActor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_HOME: Final = "/console/admin/agreements"
_ID: Final = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_STEPS: Final = {"approve": deals.approve, "reject": deals.reject, "revoke": deals.revoke}


def _page(
    request: Request, actor: ActiveSession, *, notice: str | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "admin_agreements.html",
        {
            "actor": actor,
            "agreements": visible_agreements(request, actor),
            "may_decide": actor.has(Permission.AGREEMENT_APPROVE),
            "notice": notice,
            "done": request.query_params.get("done") in _STEPS,
        },
        status_code=status_code,
    )


@router.get(_HOME)
def agreements_page(request: Request, actor: PageActor) -> Response:
    """The agreements, newest first."""
    actor.require(Permission.AGREEMENT_READ)
    return _page(request, actor)


@router.post(_HOME + "/{agreement_id}/{step}")
def decide_page(request: Request, agreement_id: str, step: str, actor: PageActor) -> Response:
    """Approve, reject or revoke; the service checks who may, the page shows why not."""
    actor.require(Permission.AGREEMENT_READ)
    if step not in _STEPS or not _ID.match(agreement_id):
        raise HTTPException(404, "no such agreement step")
    try:
        with session_scope(request.app.state.engine) as db:
            _STEPS[step](db, actor, agreement_id)
    except (deals.AgreementError, EntryError) as error:
        return _page(request, actor, notice=str(error), status_code=409)
    return RedirectResponse(f"{_HOME}?done={step}#agreement-{agreement_id}", status_code=303)
