"""The exchange's HTTP API (``/api/v1/persons``, ``/api/v1/agreements``, ``/api/v1/me``).

Reads are POST: each appends a ledger entry, and identity numbers belong in a body,
never in a URL that proxies and access logs keep. Response models forbid extra
fields, so a value can only leave through a field the schema names. A read where
nothing was allowed answers 403 after its ledger entry is committed.
"""

from __future__ import annotations

import datetime
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hukou.accounts import ActiveSession, Permission, current_session
from hukou.audit.checkpoint import NoteSigner
from hukou.audit.entry import EntryError, Outcome
from hukou.audit.keys import LedgerKeyError, signer_for
from hukou.db import session_scope
from hukou.exchange import agreements as deals
from hukou.exchange import tracker
from hukou.exchange.catalog import load_catalog
from hukou.exchange.service import Exchange, PersonView, ReadRefusedError
from hukou.keyring import data_cipher
from hukou.web.keys import request_keyring

__all__ = ["ErrorBody", "ledger_signer", "request_exchange", "router", "visible_agreements"]

log = logging.getLogger("hukou.exchange")

Session = Annotated[ActiveSession, Depends(current_session)]
_Strict = ConfigDict(extra="forbid")
# Identifiers only: what a ledger entry may hold, so a malformed one is a 422 here,
# not a refusal deep in the ledger. No value a caller sends comes back in an error.
_ITEM = r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$"
_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_PURPOSE = r"^[a-z][a-z_]{0,63}$"
_CASE = r"^[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}$"
_PERSON = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
Item = Annotated[str, Field(pattern=_ITEM)]
PersonId = Annotated[str, Field(pattern=_PERSON)]
PersonPath = Annotated[str, Path(pattern=_PERSON)]
AgreementPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,32}$")]


class ErrorBody(BaseModel):
    """Every refusal: a title, what to fix (text, or the invalid parts), a correlation id."""

    error: str
    detail: str | list[dict[str, Any]] | None = None
    correlation_id: str


_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "not logged in"},
    403: {"model": ErrorBody, "description": "not permitted, or nothing asked may be read"},
    422: {"model": ErrorBody, "description": "the request is malformed or refused"},
}

router = APIRouter(prefix="/api/v1", tags=["exchange"], responses=_REFUSALS)


def ledger_signer(request: Request) -> NoteSigner | None:
    """The checkpoint signer, loaded once (``None`` in production until one is made)."""
    if not hasattr(request.app.state, "ledger_signer"):
        try:
            request.app.state.ledger_signer = signer_for(request.app.state.settings)
        except LedgerKeyError:
            log.exception("checkpoint key unavailable")
            request.app.state.ledger_signer = None
    signer: NoteSigner | None = request.app.state.ledger_signer
    return signer


def request_exchange(request: Request) -> Exchange:
    """The app's exchange (field cipher and sharing catalogue), built on first use."""
    exchange: Exchange | None = getattr(request.app.state, "exchange", None)
    if exchange is None:
        exchange = Exchange(
            data_cipher(request.app.state.engine, request_keyring(request)), load_catalog()
        )
        request.app.state.exchange = exchange
    return exchange


# --------------------------------------------------------------------------- models


class ReadRequest(BaseModel):
    model_config = _Strict
    fields: list[Item] = Field(min_length=1, max_length=100)
    purpose: str = Field(pattern=_PURPOSE)
    case_id: str | None = Field(default=None, pattern=_CASE)
    unmask: list[Item] = Field(default_factory=list, max_length=100)
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class PersonRead(BaseModel):
    model_config = _Strict
    person_id: str
    values: dict[str, Any]
    sources: dict[str, str] = Field(description="item → the department its value came from")
    unmasked: list[str]
    denied: dict[str, str] = Field(description="item → why it was withheld")
    outcome: str
    ledger_seq: int
    unmask_refused: bool
    found: bool


class SearchRequest(BaseModel):
    model_config = _Strict
    purpose: str = Field(pattern=_PURPOSE)
    identity_number: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=60)
    birth_date: datetime.date | None = None
    case_id: str | None = Field(default=None, pattern=_CASE)


class SearchResult(BaseModel):
    model_config = _Strict
    person_ids: list[str]


class BatchRequest(BaseModel):
    model_config = _Strict
    person_ids: list[PersonId] = Field(min_length=1, max_length=10_000)
    fields: list[Item] = Field(min_length=1, max_length=100)
    purpose: str = Field(pattern=_PURPOSE)
    case_id: str | None = Field(default=None, pattern=_CASE)


class BatchResult(BaseModel):
    model_config = _Strict
    results: list[PersonRead]


class AgreementIn(BaseModel):
    model_config = _Strict
    provider: str = Field(pattern=_CODE)
    fields: list[Item] = Field(min_length=1, max_length=100)
    purposes: list[Annotated[str, Field(pattern=_PURPOSE)]] = Field(min_length=1, max_length=20)
    valid_from: datetime.date
    valid_until: datetime.date | None = None


class AgreementOut(BaseModel):
    model_config = _Strict
    id: str
    provider: str
    consumer: str
    fields: list[str]
    purposes: list[str]
    valid_from: datetime.date
    valid_until: datetime.date | None
    status: str


class AgreementList(BaseModel):
    model_config = _Strict
    agreements: list[AgreementOut]


class ConsentIn(BaseModel):
    model_config = _Strict
    department: str = Field(pattern=_CODE)
    purpose: str = Field(pattern=_PURPOSE)


class ConsentOut(BaseModel):
    model_config = _Strict
    department: str
    purpose: str
    in_force: bool


class AccessOut(BaseModel):
    model_config = _Strict
    seq: int
    at: datetime.datetime
    department: str
    purpose: str | None
    case_id: str | None
    fields: list[str]
    outcome: str
    kind: str
    entry: str = Field(description="the canonical entry: the leaf data the proof is over")
    proof: list[str] | None = Field(description="base64 audit path, bottom first")
    tree_size: int | None


class AccessList(BaseModel):
    model_config = _Strict
    person_id: str
    accesses: list[AccessOut]
    checkpoint: str | None = Field(description="signed note: origin, size, root, signature")
    hash: str | None
    next_after: int | None


class CatalogItem(BaseModel):
    model_config = _Strict
    name: str
    provider: str
    share: str
    mask: str
    sensitive: bool


class PurposeOut(BaseModel):
    model_config = _Strict
    code: str
    zh: str
    en: str
    basis: str
    law: str


class CatalogOut(BaseModel):
    model_config = _Strict
    items: list[CatalogItem]
    purposes: list[PurposeOut]
    must_share: dict[str, list[str]]


# --------------------------------------------------------------------------- helpers


def _person_read(view: PersonView) -> PersonRead:
    return PersonRead(
        person_id=view.person_id,
        values=dict(view.values),
        sources={name: source.department for name, source in view.provenance.items()},
        unmasked=list(view.unmasked),
        denied={name: str(reason) for name, reason in view.denied.items()},
        outcome=str(view.outcome),
        ledger_seq=view.ledger_seq,
        unmask_refused=view.unmask_refused,
        found=view.found,
    )


def _agreement_out(view: deals.AgreementView) -> AgreementOut:
    return AgreementOut(
        id=view.id,
        provider=view.provider,
        consumer=view.consumer,
        fields=list(view.fields),
        purposes=list(view.purposes),
        valid_from=view.valid_from,
        valid_until=view.valid_until,
        status=view.status,
    )


def _refused(error: Exception) -> HTTPException:
    return HTTPException(422, str(error))


# --------------------------------------------------------------------------- catalogue


@router.get("/catalog", response_model=CatalogOut)
def sharing_catalog(actor: Session) -> CatalogOut:
    """The 共享清单: every shareable item, its provider and class, purposes, must-share lists."""
    del actor  # any logged-in account may see what can be shared and why
    catalog = load_catalog()
    return CatalogOut(
        items=[
            CatalogItem(
                name=item.name,
                provider=item.provider,
                share=str(item.share),
                mask=str(item.mask),
                sensitive=item.sensitive,
            )
            for item in catalog.fields.values()
        ],
        purposes=[
            PurposeOut(code=p.code, zh=p.zh, en=p.en, basis=p.basis, law=p.law)
            for p in catalog.purposes.values()
        ],
        must_share={department: list(items) for department, items in catalog.must_share.items()},
    )


# --------------------------------------------------------------------------- persons


@router.post("/persons/search", response_model=SearchResult)
def search_persons(request: Request, body: SearchRequest, actor: Session) -> SearchResult:
    """Find persons by identity number, or by name and birth date; each find is logged."""
    exchange = request_exchange(request)
    try:
        with session_scope(request.app.state.engine) as db:
            found = exchange.search(
                db,
                actor,
                purpose=body.purpose,
                identity_number=body.identity_number,
                name=body.name,
                birth_date=body.birth_date,
                case_id=body.case_id,
            )
    except (ReadRefusedError, EntryError) as error:
        raise _refused(error) from None
    return SearchResult(person_ids=found)


@router.post("/persons/{person_id}/read", response_model=PersonRead)
def read_person(
    request: Request, person_id: PersonPath, body: ReadRequest, actor: Session
) -> PersonRead:
    """Read items of one person for a purpose; masked unless unmasking is permitted."""
    exchange = request_exchange(request)
    try:
        with session_scope(request.app.state.engine) as db:
            view = exchange.read(
                db,
                actor,
                person_id,
                body.fields,
                body.purpose,
                case_id=body.case_id,
                unmask=body.unmask,
                reason=body.reason,
            )
    except (ReadRefusedError, EntryError) as error:
        raise _refused(error) from None
    if view.outcome is Outcome.DENIED:
        raise HTTPException(403, "no item asked for may be read for this purpose")
    return _person_read(view)


@router.post("/persons/batch", response_model=BatchResult)
def read_batch(request: Request, body: BatchRequest, actor: Session) -> BatchResult:
    """The same items of many persons for a department, masked, one ledger entry each."""
    actor.require(Permission.PERSON_BATCH_READ)
    exchange = request_exchange(request)
    try:
        with session_scope(request.app.state.engine) as db:
            views = exchange.read_batch(
                db, actor, body.person_ids, body.fields, body.purpose, case_id=body.case_id
            )
    except (ReadRefusedError, EntryError) as error:
        raise _refused(error) from None
    return BatchResult(results=[_person_read(view) for view in views])


# --------------------------------------------------------------------------- agreements


def visible_agreements(request: Request, actor: ActiveSession) -> list[deals.AgreementView]:
    """Agreements the actor's department provides or consumes (auditors: all of them);
    the console's agreements page lists the same."""
    actor.require(Permission.AGREEMENT_READ)
    everyone = actor.has(Permission.LEDGER_READ)
    with session_scope(request.app.state.engine) as db:
        return deals.list_agreements(db, None if everyone else actor.department_code or "")


@router.get("/agreements", response_model=AgreementList)
def list_agreements(request: Request, actor: Session) -> AgreementList:
    """Agreements the actor's department provides or consumes (auditors: all of them)."""
    found = visible_agreements(request, actor)
    return AgreementList(agreements=[_agreement_out(view) for view in found])


@router.post("/agreements", response_model=AgreementOut, status_code=201)
def propose_agreement(request: Request, body: AgreementIn, actor: Session) -> AgreementOut:
    """The consumer's data officer proposes an agreement."""
    try:
        with session_scope(request.app.state.engine) as db:
            view = deals.propose(
                db,
                load_catalog(),
                actor,
                provider=body.provider,
                fields=body.fields,
                purposes=body.purposes,
                valid_from=body.valid_from,
                valid_until=body.valid_until,
            )
    except (deals.AgreementError, EntryError) as error:
        raise _refused(error) from None
    return _agreement_out(view)


def _decided(
    request: Request, actor: ActiveSession, agreement_id: str, action: str
) -> AgreementOut:
    step = {"approve": deals.approve, "reject": deals.reject, "revoke": deals.revoke}[action]
    try:
        with session_scope(request.app.state.engine) as db:
            view = step(db, actor, agreement_id)
    except (deals.AgreementError, EntryError) as error:
        raise _refused(error) from None
    return _agreement_out(view)


@router.post("/agreements/{agreement_id}/approve", response_model=AgreementOut)
def approve_agreement(
    request: Request, agreement_id: AgreementPath, actor: Session
) -> AgreementOut:
    """The provider's data officer approves (not their own proposal)."""
    return _decided(request, actor, agreement_id, "approve")


@router.post("/agreements/{agreement_id}/reject", response_model=AgreementOut)
def reject_agreement(request: Request, agreement_id: AgreementPath, actor: Session) -> AgreementOut:
    """The provider's data officer refuses."""
    return _decided(request, actor, agreement_id, "reject")


@router.post("/agreements/{agreement_id}/revoke", response_model=AgreementOut)
def revoke_agreement(request: Request, agreement_id: AgreementPath, actor: Session) -> AgreementOut:
    """Either side's data officer ends an approved agreement."""
    return _decided(request, actor, agreement_id, "revoke")


# --------------------------------------------------------------------------- the resident


@router.get("/me/accesses", response_model=AccessList)
def my_accesses(
    request: Request, actor: Session, after: Annotated[int, Query(ge=-1, le=2**63 - 1)] = -1
) -> AccessList:
    """Every access to my data, each with an inclusion proof against the signed checkpoint."""
    with session_scope(request.app.state.engine) as db:
        page = tracker.my_accesses(db, actor, after=after, signer=ledger_signer(request))
    return AccessList(
        person_id=page.person_id,
        accesses=[
            AccessOut(
                seq=record.seq,
                at=record.entry.at,
                department=record.entry.department,
                purpose=record.entry.purpose,
                case_id=record.entry.case_id,
                fields=list(record.entry.fields),
                outcome=str(record.entry.outcome),
                kind=str(record.entry.kind),
                entry=record.text,
                proof=None if record.proof is None else list(record.proof),
                tree_size=record.tree_size,
            )
            for record in page.records
        ],
        checkpoint=page.checkpoint,
        hash=page.hash_name,
        next_after=page.next_after,
    )


@router.get("/me/data")
def my_data(request: Request, actor: Session) -> dict[str, Any]:
    """Everything the platform holds on me, as one JSON document (PIPL art. 45)."""
    exchange = request_exchange(request)
    with session_scope(request.app.state.engine) as db:
        return tracker.my_data(db, exchange.cipher, actor)


@router.post("/me/consents", response_model=ConsentOut, status_code=201)
def give_consent(request: Request, body: ConsentIn, actor: Session) -> ConsentOut:
    """I consent to a department processing my data for a consent-based purpose."""
    try:
        with session_scope(request.app.state.engine) as db:
            deals.give_consent(
                db, load_catalog(), actor, department=body.department, purpose=body.purpose
            )
    except (deals.AgreementError, EntryError) as error:
        raise _refused(error) from None
    return ConsentOut(department=body.department, purpose=body.purpose, in_force=True)


@router.post("/me/consents/withdraw", response_model=ConsentOut)
def withdraw_consent(request: Request, body: ConsentIn, actor: Session) -> ConsentOut:
    """I withdraw my consent; processing for that purpose stops now."""
    with session_scope(request.app.state.engine) as db:
        deals.withdraw_consent(db, actor, department=body.department, purpose=body.purpose)
    return ConsentOut(department=body.department, purpose=body.purpose, in_force=False)
