"""The window (一窗受理) and case pages of the staff console.

A clerk picks a service, gives the applicant's identity number (and the subject's,
when the case is about someone else: the newborn of 出生一件事), ticks the materials
handed over, and files — for the resident, or for a helper (帮办代办) whose identity
number and relation are recorded. Each identity number is looked up through
``exchange`` (a ledger entry for the service's purpose), and the filing is the same
:class:`~hukou.casework.service.Casework` step as ``POST /api/v1/cases``: decided at
once where the registry proves the case (秒批), otherwise sent to the departments. The
case page shows the decision, the facts with the ledger entry of each read, and the
tasks; its JSON twin is ``GET /api/v1/cases/{id}``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from hukou.accounts import ActiveSession, Permission
from hukou.audit.entry import EntryError
from hukou.casework.catalog import Channel, Service
from hukou.casework.lifecycle import StepRefusedError
from hukou.casework.routes import (
    case_materials,
    casework_of,
    china_now,
    decide_as,
    deliver_as,
    open_material,
    service_catalog,
    supply_files,
    visible_case,
)
from hukou.casework.store import Filing, FilingError
from hukou.casework.views import case_view, inbox
from hukou.db import session_scope
from hukou.demo.state import read_samples
from hukou.exchange.routes import request_exchange
from hukou.exchange.service import ReadRefusedError
from hukou.web import page_language, render
from hukou.web.session import PageActor, first, form_fields, uploaded_materials

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_CASE_ID: Final = re.compile(r"^C[0-9]{8}[0-9A-F]{10}$")
_ROLE_ZH: Final = {"applicant": "申请人", "subject": "办理对象", "helper": "代办人"}
_RELATIONS: Final = ("parent", "child", "spouse", "relative", "social_worker", "other")


def _window_services(request: Request) -> list[Service]:
    return [s for s in service_catalog(request).services.values() if Channel.WINDOW in s.channels]


def _window(
    request: Request,
    actor: ActiveSession,
    *,
    error: str | None = None,
    chosen: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "window.html",
        {
            "actor": actor,
            "services": _window_services(request),
            "chosen": chosen or request.query_params.get("service", ""),
            "relations": _RELATIONS,
            "error": error,
            "samples": read_samples(request.app.state.settings),
        },
        status_code=status_code,
    )


@router.get("/console/window")
def window_form(request: Request, actor: PageActor) -> Response:
    """一窗受理: the service, the resident, the materials at hand."""
    actor.require(Permission.CASE_FILE)
    return _window(request, actor)


class _WindowError(Exception):
    """A window form that cannot go on; the message is for the clerk (no number in it)."""


def _words(request: Request, zh: str, en: str) -> str:
    return zh if page_language(request) == "zh-CN" else en


def _window_service(request: Request, fields: dict[str, list[str]]) -> Service:
    code = first(fields, "service")
    catalog = service_catalog(request)
    if code not in catalog or Channel.WINDOW not in catalog[code].channels:
        raise _WindowError(_words(request, "请选择一项服务。", "Choose a service."))
    return catalog[code]


def _numbers(request: Request, fields: dict[str, list[str]]) -> dict[str, str]:
    numbers = {
        "applicant": first(fields, "applicant_identity_number"),
        "subject": first(fields, "subject_identity_number"),
        "helper": first(fields, "helper_identity_number"),
    }
    if not numbers["applicant"]:
        raise _WindowError(
            _words(request, "请填写申请人身份号码。", "Give the applicant's identity number.")
        )
    return numbers


def _persons(
    request: Request, db: Any, actor: ActiveSession, service: Service, numbers: dict[str, str]
) -> dict[str, str | None]:
    """Each role's registry person, found by number for the service's purpose (a ledger
    entry each); a number that finds no one, or several, stops the form."""
    exchange = request_exchange(request)
    found: dict[str, str | None] = {}
    for role, number in numbers.items():
        if not number:
            found[role] = None
            continue
        persons = exchange.search(db, actor, purpose=service.purpose, identity_number=number)
        if len(persons) != 1:
            raise _WindowError(
                _words(
                    request,
                    f"{_ROLE_ZH[role]}的身份号码在人口库中"
                    + ("未找到。" if not persons else "对应多人，请到数据管理核实。"),
                    f"The {role}'s identity number is "
                    + ("not in the registry." if not persons else "held by several persons."),
                )
            )
        found[role] = persons[0]
    return found


@router.post("/console/window")
async def file_at_window(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.CASE_FILE)
    fields = await form_fields(request)
    code = first(fields, "service")
    relation = first(fields, "helper_relation")
    try:
        service = _window_service(request, fields)
        numbers = _numbers(request, fields)
        if numbers["helper"] and relation not in _RELATIONS:
            raise _WindowError(
                _words(request, "请选择代办人与申请人的关系。", "Choose the helper's relation.")
            )
        supplied = frozenset(v for v in fields.get("material", []) if v in service.materials())
        with session_scope(request.app.state.engine) as db:
            found = _persons(request, db, actor, service, numbers)
            filing = Filing(
                service=service,
                channel=Channel.ASSISTED if numbers["helper"] else Channel.WINDOW,
                applicant_id=found["applicant"],
                subject_id=found["subject"] or found["applicant"],
                filed_by=actor.user_id,
                department=actor.department_code or "unknown",
                helper_id=found["helper"],
                helper_relation=relation if numbers["helper"] else None,
            )
            case_id = casework_of(request).file(db, filing, supplied=supplied, now=china_now()).id
    except _WindowError as refused:
        return _window(request, actor, error=str(refused), chosen=code, status_code=422)
    except (FilingError, StepRefusedError, ReadRefusedError, EntryError) as error:
        return _window(request, actor, error=str(error), chosen=code, status_code=422)
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/console/window/check")
async def check_at_window(request: Request, actor: PageActor) -> Response:
    """预审: before filing, which facts of the service the registry already proves for this
    resident, which it contradicts, and which need material — read as the service's
    automatic check (ledger entries the resident sees). The window form stays as typed
    (htmx swaps this fragment in)."""
    actor.require(Permission.CASE_FILE)
    fields = await form_fields(request)
    try:
        service = _window_service(request, fields)
        numbers = _numbers(request, fields)
        with session_scope(request.app.state.engine) as db:
            found = _persons(request, db, actor, service, numbers)
            judged = casework_of(request).judge(
                db,
                service,
                case_id=None,
                applicant_id=found["applicant"],
                subject_id=found["subject"] or found["applicant"],
                now=china_now(),
            )
    except _WindowError as refused:
        return render(request, "window_check.html", {"error": str(refused)}, status_code=422)
    except (ReadRefusedError, EntryError) as error:
        return render(request, "window_check.html", {"error": str(error)}, status_code=422)
    return render(
        request,
        "window_check.html",
        {"service": service, "findings": judged.findings, "reads": judged.reads},
    )


@router.get("/console/cases/{case_id}")
def case_page(request: Request, case_id: str, actor: PageActor) -> Response:
    """A case as the actor's department sees it (the first contact sees every task)."""
    actor.require(Permission.CASE_READ)
    if not _CASE_ID.match(case_id):
        raise HTTPException(404, "no such case")
    return _case_page(request, actor, case_id)


def _case_page(
    request: Request,
    actor: ActiveSession,
    case_id: str,
    *,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope(request.app.state.engine) as db:
        visible_case(db, case_id, actor)
        view = case_view(db, case_id, today=china_now().date(), department=actor.department_code)
    service = service_catalog(request)[view.service]
    first_contact = view.first_contact == actor.department_code and actor.has(Permission.CASE_FILE)
    return render(
        request,
        "case.html",
        {
            "actor": actor,
            "case": view,
            "service": service,
            "deliverable": first_contact and view.state in {"approved", "rejected"},
            "scannable": first_contact and view.state == "awaiting_material",
            "files": case_materials(request, actor, case_id),
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/console/cases/{case_id}/materials/{material_id}")
def material_file(request: Request, case_id: str, material_id: int, actor: PageActor) -> Response:
    """A file handed in for the case (a ledger entry: the resident sees who opened it)."""
    actor.require(Permission.CASE_READ)
    if not _CASE_ID.match(case_id) or not 0 < material_id < 2**62:
        raise HTTPException(404, "no such material")
    return open_material(request, actor, case_id, material_id)


async def supply_from_form(
    request: Request, actor: ActiveSession, case_id: str, *, staff: bool
) -> None:
    """A page's material form (``version`` and ``file:<code>`` inputs) supplied to the
    case: the window's scan and the resident's upload take this one step."""
    fields, uploads = await uploaded_materials(request)
    version = first(fields, "version")
    number = int(version) if version.isdigit() else -1
    await supply_files(request, actor, case_id, number, uploads, staff=staff)


@router.post("/console/cases/{case_id}/material")
async def scan_material(request: Request, case_id: str, actor: PageActor) -> Response:
    """补正 at the window: the clerk scans what the resident brought; the case is judged again."""
    actor.require(Permission.CASE_FILE)
    if not _CASE_ID.match(case_id):
        raise HTTPException(404, "no such case")
    try:
        await supply_from_form(request, actor, case_id, staff=True)
    except HTTPException as error:
        if error.status_code == 404:
            raise
        return _case_page(
            request, actor, case_id, notice=str(error.detail), status_code=error.status_code
        )
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/console/cases/{case_id}/deliver")
def deliver_page(request: Request, case_id: str, actor: PageActor) -> Response:
    """办结: the first contact hands over the decided result (then the resident may rate)."""
    if not _CASE_ID.match(case_id):
        raise HTTPException(404, "no such case")
    deliver_as(request, actor, case_id)
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


# --------------------------------------------------------------------------- review inbox


def _inbox(
    request: Request, actor: ActiveSession, *, notice: str | None = None, status_code: int = 200
) -> Response:
    department = actor.department_code or ""
    with session_scope(request.app.state.engine) as db:
        items = inbox(db, department, today=china_now().date())
    catalog = service_catalog(request)
    materials = {
        item.service: list(catalog[item.service].materials().values())
        for item in items
        if item.service in catalog
    }
    return render(
        request,
        "inbox.html",
        {
            "actor": actor,
            "items": items,
            "services": catalog,
            "materials": materials,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/console/inbox")
def inbox_page(request: Request, actor: PageActor) -> Response:
    """审核: the department's open tasks, nearest deadline first, with the working days left."""
    actor.require(Permission.REVIEW_DECIDE)
    return _inbox(request, actor)


@router.post("/console/tasks/{task_id}")
async def decide_page(request: Request, task_id: int, actor: PageActor) -> Response:
    """A decision from the inbox; someone who decided first wins, and this page says so."""
    fields = await form_fields(request)
    version = first(fields, "version")
    try:
        case_id = decide_as(
            request,
            actor,
            task_id,
            action=first(fields, "action"),
            version=int(version) if version.isdigit() else 0,
            note=first(fields, "note") or None,
            material_codes=[c for c in fields.get("material", []) if c],
        )
    except HTTPException as error:
        if error.status_code == _CONFLICT:
            message = _words(
                request,
                "该任务已被他人处理：已刷新，请重新查看。",
                "Someone decided this task first: the list is reloaded, look again.",
            )
            return _inbox(request, actor, notice=message, status_code=409)
        if error.status_code == _UNPROCESSABLE:
            return _inbox(request, actor, notice=str(error.detail), status_code=422)
        raise
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


_CONFLICT: Final = 409
_UNPROCESSABLE: Final = 422
