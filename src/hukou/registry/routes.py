"""The data officer's JSON: batches, quarantine, open issues and the clerical-review queue.

The twin of the console's 数据管理 page (:mod:`hukou.registry.pages`): the same functions
read the same data. Every route needs ``registry.review`` (data officers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from hukou.accounts import ActiveSession, Permission, current_session
from hukou.db import session_scope
from hukou.registry import worklist
from hukou.registry.link import ReviewError, decide, list_pairs
from hukou.web.keys import request_keyring

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])

Session = Annotated[ActiveSession, Depends(current_session)]
Limit = Annotated[int, Query(ge=1, le=1000)]
_MAX_ID: Final = 2**62


@dataclass(frozen=True, slots=True)
class BatchList:
    batches: list[worklist.BatchLine]


@dataclass(frozen=True, slots=True)
class QuarantineList:
    lines: list[worklist.QuarantineLine]


@dataclass(frozen=True, slots=True)
class ReviewList:
    pairs: list[dict[str, Any]]


class ReviewDecision(BaseModel):
    decision: str = Field(pattern="^(same|different)$", description="same | different")


@router.get("/batches", response_model=BatchList, summary="The latest feed batches")
def list_batches(request: Request, actor: Session, limit: Limit = 100) -> BatchList:
    """Rows in = accepted + quarantined per file, newest first, the top reasons."""
    actor.require(Permission.REGISTRY_REVIEW)
    with session_scope(request.app.state.engine) as db:
        return BatchList(worklist.batches(db, limit=limit))


@router.get("/quarantine", response_model=QuarantineList, summary="The latest quarantined lines")
def list_quarantine(request: Request, actor: Session, limit: Limit = 50) -> QuarantineList:
    """Where each refused line was and every reason (values masked)."""
    actor.require(Permission.REGISTRY_REVIEW)
    with session_scope(request.app.state.engine) as db:
        return QuarantineList(worklist.quarantine(db, limit=limit))


@router.get("/issues", response_model=worklist.IssueSummary, summary="Conflicts and quality flags")
def list_issues(
    request: Request,
    actor: Session,
    limit: Limit = 50,
    code: Annotated[str | None, Query(max_length=64, pattern="^[a-z_]+$")] = None,
) -> worklist.IssueSummary:
    """Counts by field and by check over the registry; the persons (ids only) listed."""
    actor.require(Permission.REGISTRY_REVIEW)
    with session_scope(request.app.state.engine) as db:
        return worklist.issues(db, limit=limit, code=code)


@router.get("/reviews", response_model=ReviewList, summary="The clerical-review queue")
def list_reviews(
    request: Request,
    actor: Session,
    limit: Limit = 50,
    status: Annotated[str, Query(pattern="^(pending|same|different|all)$")] = "pending",
) -> ReviewList:
    """Pairs with both records side by side, masked, most probable first."""
    actor.require(Permission.REGISTRY_REVIEW)
    keyring = request_keyring(request)
    return ReviewList(list_pairs(request.app.state.engine, keyring, status=status, limit=limit))


@router.post("/reviews/{pair_id}", status_code=204, summary="Decide a review pair")
def decide_review(
    request: Request,
    pair_id: Annotated[int, Path(ge=1, lt=_MAX_ID)],
    body: ReviewDecision,
    actor: Session,
) -> None:
    """Same person, or keep apart: a ledger entry, honoured by every later link run."""
    actor.require(Permission.REGISTRY_REVIEW)
    try:
        decide(request.app.state.engine, pair_id, body.decision, by=actor.user_id)
    except ReviewError as error:
        raise HTTPException(404 if "no review pair" in str(error) else 422, str(error)) from None
