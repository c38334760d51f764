"""The residents pages of the console (人员查询): find a person, read their profile through
``exchange`` for a stated purpose, unmask an item with a reason.

Every find and every read is a ledger entry the resident sees in their portal; the
profile shows the entry's number. Items come masked; an item the reader's department may
not read for the purpose is listed with the reason it was withheld (no agreement, not
for this purpose, never shared …), so a clerk sees the governance at work instead of a
blank. Unmasking needs ``person.unmask`` and a reason, kept beside the ledger entry.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from hukou.accounts import ActiveSession, Permission
from hukou.audit.entry import EntryError
from hukou.casework.routes import china_now, service_catalog
from hukou.casework.views import cases_seen_by
from hukou.db import session_scope
from hukou.exchange.routes import request_exchange
from hukou.exchange.service import Exchange, PersonView, ReadRefusedError
from hukou.registry.households import household_of
from hukou.registry.residence import WEIGHTS, Evidence, evidence_from
from hukou.standards.dates import as_date
from hukou.web import page_language, render
from hukou.web.session import PageActor, first, form_fields

__all__ = [
    "MEMBER_ITEMS",
    "PROFILE_ITEMS",
    "profile_rows",
    "residence_evidence",
    "router",
]

router = APIRouter(include_in_schema=False)

PROFILE_ITEMS: Final = (
    "identity_number",
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "registered_division",
    "registered_address",
    "household_number",
    "relationship",
    "person_status",
    "marital_status",
    "phone",
    "address",
    "residence_division",
    "lease_start",
    "care_division",
    "filing_date",
    "employer_division",
    "actual_residence_division",
    "residence_confidence",
    "residence_since",
    "registered_elsewhere",
    "employer_name",
    "contribution_months",
    "medical_scheme",
    "school_name",
)
"""What a profile asks for: who, where registered and where living (with the evidence's
dates), work, cover, school."""
MEMBER_ITEMS: Final = ("name", "relationship", "sex", "birth_date")
"""What a profile shows of each household member: each member's own read and ledger entry."""

_PERSON_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,24}$")


def _purposes(request: Request) -> dict[str, str]:
    english = page_language(request) == "en"
    catalog = request_exchange(request).catalog
    return {
        code: (p.en if english else p.zh)
        for code, p in catalog.purposes.items()
        if code != "self_access"
    }


def _search_page(
    request: Request,
    actor: ActiveSession,
    *,
    found: list[str] | None = None,
    purpose: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "persons.html",
        {
            "actor": actor,
            "purposes": _purposes(request),
            "purpose": purpose,
            "found": found,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/console/persons")
def persons_page(request: Request, actor: PageActor) -> Response:
    """人员查询: by identity number, or by name and birth date, for a stated purpose."""
    actor.require(Permission.PERSON_READ)
    return _search_page(request, actor)


@router.post("/console/persons")
async def search(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.PERSON_READ)
    fields = await form_fields(request)
    purpose = first(fields, "purpose")
    number, name, born = (first(fields, k) for k in ("identity_number", "name", "birth_date"))
    try:
        birth = datetime.date.fromisoformat(born) if born else None
        with session_scope(request.app.state.engine) as db:
            found = request_exchange(request).search(
                db,
                actor,
                purpose=purpose,
                identity_number=number or None,
                name=None if number else (name or None),
                birth_date=None if number else birth,
            )
    except (ReadRefusedError, EntryError, ValueError) as error:
        message = str(error) if not isinstance(error, ValueError) else "birth_date: YYYY-MM-DD"
        return _search_page(request, actor, purpose=purpose, error=message, status_code=422)
    return _search_page(request, actor, found=found, purpose=purpose)


def _profile(
    request: Request,
    actor: ActiveSession,
    person_id: str,
    purpose: str,
    *,
    unmask: list[str] | None = None,
    reason: str | None = None,
) -> Response:
    if not _PERSON_ID.match(person_id):
        raise HTTPException(404, "no such person")
    exchange = request_exchange(request)
    try:
        with session_scope(request.app.state.engine) as db:
            view = exchange.read(
                db,
                actor,
                person_id,
                PROFILE_ITEMS,
                purpose,
                unmask=unmask or (),
                reason=reason,
            )
            members = _members(db, exchange, actor, view, purpose) if view.found else []
            cases = (
                cases_seen_by(
                    db, person_id, department=actor.department_code, today=china_now().date()
                )
                if actor.has(Permission.CASE_READ)
                else []
            )
    except (ReadRefusedError, EntryError) as error:
        raise HTTPException(422, str(error)) from None
    if not view.found:
        raise HTTPException(404, "no such person")
    return render(
        request,
        "person.html",
        {
            "actor": actor,
            "view": view,
            "rows": profile_rows(view),
            "evidence": residence_evidence(view),
            "members": members,
            "cases": cases,
            "services": service_catalog(request),
            "purpose": purpose,
            "purpose_name": _purposes(request).get(purpose, purpose),
            "may_unmask": actor.has(Permission.PERSON_UNMASK),
        },
    )


def residence_evidence(view: PersonView) -> list[Evidence]:
    """The evidence of residence among the items read, strongest first: each department's
    fields go through the registry's own rule (:func:`evidence_from`), so the profile
    shows what the inference weighed — as far as this reader may see it."""
    fields: dict[str, dict[str, object]] = {}
    as_of: dict[str, datetime.date] = {}
    for item in _EVIDENCE_ITEMS:
        value, source = view.values.get(item), view.provenance.get(item)
        day = None if source is None else as_date(source.as_of)
        if value is None or source is None or day is None:
            continue
        fields.setdefault(source.department, {})[item] = value
        as_of[source.department] = max(as_of.get(source.department, day), day)
    found = [
        evidence
        for department, given in fields.items()
        for evidence in evidence_from(department, given, as_of[department])
    ]
    hukou = view.values.get("registered_division")
    source = view.provenance.get("registered_division")
    day = None if source is None else as_date(source.as_of)
    if isinstance(hukou, str) and source is not None and day is not None:
        weight = WEIGHTS["registered_division"]
        found.append(Evidence(hukou, "registered_division", weight, day, source.department))
    return sorted(found, key=lambda e: (-e.weight, e.since))


_EVIDENCE_ITEMS: Final = (
    "residence_division",
    "lease_start",
    "care_division",
    "filing_date",
    "employer_division",
    "address",
)


def _members(
    db: Any, exchange: Exchange, actor: ActiveSession, view: PersonView, purpose: str
) -> list[PersonView]:
    """The person's household, each member read for the same purpose (a ledger entry
    each) — only when the reader may see the household at all."""
    if "household_number" not in view.values:
        return []
    return [
        exchange.read(db, actor, member.person_id, MEMBER_ITEMS, purpose)
        for member in household_of(db, view.person_id)
        if member.person_id != view.person_id
    ]


def profile_rows(view: PersonView) -> list[dict[str, Any]]:
    """One row per item asked for: its value and source, or why it was withheld."""
    rows = []
    for item in PROFILE_ITEMS:
        source = view.provenance.get(item)
        rows.append(
            {
                "item": item,
                "value": view.values.get(item),
                "shown": item in view.values,
                "unmasked": item in view.unmasked,
                "denied": view.denied.get(item),
                "department": None if source is None else source.department,
                "as_of": None if source is None else source.as_of,
                "file": None if source is None else source.file,
                "position": None if source is None else source.position,
            }
        )
    return rows


@router.get("/console/persons/{person_id}")
def profile_page(
    request: Request,
    person_id: str,
    actor: PageActor,
    purpose: str = Query(default="household_registration", max_length=64),
) -> Response:
    """A person as the reader's department may see them for ``purpose`` (a ledger entry)."""
    actor.require(Permission.PERSON_READ)
    return _profile(request, actor, person_id, purpose)


@router.post("/console/persons/{person_id}/unmask")
async def unmask_page(request: Request, person_id: str, actor: PageActor) -> Response:
    """Items shown in clear with a stated reason (refused without the permission)."""
    actor.require(Permission.PERSON_READ)
    fields = await form_fields(request)
    items = [i for i in fields.get("item", []) if i in PROFILE_ITEMS]
    reason = first(fields, "reason")[:500]
    return _profile(
        request,
        actor,
        person_id,
        first(fields, "purpose") or "household_registration",
        unmask=items,
        reason=reason or None,
    )
