"""The casework HTTP API: the catalog, filing at a window (or for an employer's staff),
a department's review inbox, the reviewer's decision, and the resident's own cases.

Staff routes (``/api/v1/cases``, ``/api/v1/inbox``, ``/api/v1/tasks``) act as the
logged-in account of a department; resident routes (``/api/v1/me/cases``) only ever
touch the resident's own cases. A case a caller may not see answers 404, as one that
does not exist: its number reveals nothing. Two reviewers deciding one task answer
200 to the first and 409 to the second, with what to do (reload). Every step is a
ledger entry (:mod:`hukou.casework.store`); no submitted value is echoed in an error.
"""

from __future__ import annotations

import asyncio
import datetime
import re
import threading
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from hukou.accounts import ActiveSession, Permission, current_session
from hukou.audit import ledger
from hukou.audit.entry import EntryError, LedgerEntry, Outcome
from hukou.casework.catalog import Catalog, Channel, Material, Service, load_catalog
from hukou.casework.desk import FilingDesk
from hukou.casework.lifecycle import StepRefusedError, TaskState
from hukou.casework.materials import (
    CONTENT_CONTEXT,
    MAX_BYTES,
    MAX_FORM_BYTES,
    MEDIA_TYPES,
    MaterialError,
    MaterialFile,
    Upload,
    materials_of,
    read_material,
    store_materials,
)
from hukou.casework.model import CaseRow, CaseTask
from hukou.casework.rating import REASONS, RatingError, rate
from hukou.casework.service import Casework
from hukou.casework.store import (
    CaseNotFoundError,
    ConflictError,
    Filing,
    FilingError,
    act_on_task,
    deliver,
    supply_material,
    withdraw,
)
from hukou.casework.views import CaseView, case_view, inbox, may_see, own_cases
from hukou.db import session_scope
from hukou.db.batcher import BatcherClosedError
from hukou.exchange.routes import ErrorBody, request_exchange
from hukou.exchange.service import ReadRefusedError
from hukou.keyring import data_cipher
from hukou.registry import person_facts
from hukou.security.datakeys import scope_of
from hukou.web.keys import request_keyring

__all__ = [
    "MATERIAL_ITEM",
    "apply_as",
    "case_materials",
    "casework_of",
    "china_now",
    "decide_as",
    "deliver_as",
    "open_material",
    "rate_as",
    "router",
    "service_catalog",
    "supply_as",
    "supply_files",
    "visible_case",
]

Actor = Annotated[ActiveSession, Depends(current_session)]
_Strict = ConfigDict(extra="forbid")
_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_CODE = r"^[a-z][a-z0-9_]{0,63}$"
PersonId = Annotated[str, Field(pattern=_ID)]
Code = Annotated[str, Field(pattern=_CODE)]
CasePath = Annotated[str, Path(pattern=r"^C[0-9]{8}[0-9A-F]{10}$")]
TaskPath = Annotated[int, Path(ge=1, le=2**63 - 1)]  # past BIGINT: a 422, not a 500
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="the version as it was seen")]

_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "not logged in"},
    403: {"model": ErrorBody, "description": "not permitted"},
    404: {"model": ErrorBody, "description": "no such case (or not yours to see)"},
    409: {"model": ErrorBody, "description": "someone acted first: reload and look again"},
    422: {"model": ErrorBody, "description": "the request is malformed or the step refused"},
}

router = APIRouter(prefix="/api/v1", tags=["casework"], responses=_REFUSALS)


def china_now() -> datetime.datetime:
    """Now in China Standard Time: a case filed at 07:00 is filed on that day, not the
    UTC day before (working days are Beijing's)."""
    return datetime.datetime.now(SHANGHAI)


def service_catalog(request: Request) -> Catalog:
    catalog: Catalog | None = getattr(request.app.state, "service_catalog", None)
    if catalog is None:
        catalog = request.app.state.service_catalog = load_catalog()
    return catalog


def _service(request: Request, code: str) -> Service:
    catalog = service_catalog(request)
    if code not in catalog:
        raise HTTPException(422, "service: not a service of the catalog")
    return catalog[code]


def casework_of(request: Request) -> Casework:
    return Casework(request_exchange(request), request.app.state.settings.city_division)


_desk_lock = threading.Lock()


async def filing_desk(request: Request) -> FilingDesk:
    """The app's filing desk (:mod:`hukou.casework.desk`), made on first use (it needs
    the field keys, read from a file: in a thread, not on the event loop)."""
    desk: FilingDesk | None = getattr(request.app.state, "filing_desk", None)
    if desk is not None:
        return desk

    def make() -> FilingDesk:
        with _desk_lock:
            made: FilingDesk | None = getattr(request.app.state, "filing_desk", None)
            if made is None:
                made = FilingDesk(request.app.state.engine, casework_of(request), china_now)
                request.app.state.filing_desk = made
            return made

    return await run_in_threadpool(make)


# --------------------------------------------------------------------------- models


class Named(BaseModel):
    model_config = _Strict
    zh: str
    en: str


class FactOut(BaseModel):
    model_config = _Strict
    name: str
    label: Named
    of: str
    item: str | None = Field(description="the registry item that proves it (免证明), if any")
    material: str | None = Field(description="the material that stands in when it cannot")


class ServiceOut(BaseModel):
    model_config = _Strict
    code: str
    name: Named
    legal_reference: str
    first_contact: str
    time_limit_workdays: int
    channels: list[str]
    facts: list[FactOut]
    reviews: list[dict[str, object]]


class ServiceList(BaseModel):
    model_config = _Strict
    services: list[ServiceOut]
    rating_reasons: dict[str, Named]


class FilingIn(BaseModel):
    """A clerk files at the window, or for a helper (帮办代办)."""

    model_config = _Strict
    service: Code
    channel: Literal["window", "assisted"] = "window"
    applicant_id: PersonId
    subject_id: PersonId | None = Field(default=None, description="default: the applicant")
    helper_id: PersonId | None = None
    helper_relation: str | None = Field(default=None, min_length=1, max_length=32)
    supplied: list[Code] = Field(default_factory=list, max_length=50)


class BatchIn(BaseModel):
    """An employer's enterprise service station files for many employees (企业服务站)."""

    model_config = _Strict
    service: Code
    employer_code: str = Field(pattern=r"^[0-9A-Z]{18}$")
    employees: list[PersonId] = Field(min_length=1, max_length=500)


class ApplyIn(BaseModel):
    """A resident applies online for themselves or a member of their household."""

    model_config = _Strict
    service: Code
    subject_id: PersonId | None = None
    supplied: list[Code] = Field(default_factory=list, max_length=50)


class MaterialIn(BaseModel):
    model_config = _Strict
    version: Version
    supplied: list[Code] = Field(min_length=1, max_length=50)


class VersionIn(BaseModel):
    model_config = _Strict
    version: Version


class DecisionIn(BaseModel):
    model_config = _Strict
    action: Literal["approved", "rejected", "material_requested"]
    version: Version
    note: str | None = Field(default=None, max_length=2000)
    materials: list[Code] = Field(default_factory=list, max_length=50)


class RatingIn(BaseModel):
    model_config = _Strict
    score: int = Field(ge=1, le=5)
    reasons: list[Code] = Field(default_factory=list, max_length=10)


class FactState(BaseModel):
    model_config = _Strict
    name: str
    holds: bool | None
    source: str
    ledger_seq: int | None


class TaskOut(BaseModel):
    model_config = _Strict
    id: int
    department: str
    stage: int
    state: str
    version: int
    decided_at: datetime.datetime | None
    note: str | None


class CaseOut(BaseModel):
    model_config = _Strict
    id: str
    service: str
    channel: str
    state: str
    version: int
    first_contact: str
    filed_at: datetime.datetime
    instant_decision: bool
    proposed: str | None
    reason: Named | None
    decided_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    limit_workdays: int
    deadline: datetime.date
    deadline_provisional: bool = Field(
        description="the deadline's year has no State Council holiday notice loaded yet"
    )
    workdays_used: int
    sla: str
    escalated: str | None
    materials_asked: list[str]
    rated: int | None
    facts: list[FactState]
    tasks: list[TaskOut]


class CaseList(BaseModel):
    model_config = _Strict
    cases: list[CaseOut]


class InboxOut(BaseModel):
    model_config = _Strict
    department: str
    tasks: list[dict[str, object]]


class RatingOut(BaseModel):
    model_config = _Strict
    case_id: str
    score: int
    rectification_due: datetime.date | None


# --------------------------------------------------------------------------- helpers


def _case_out(view: CaseView) -> CaseOut:
    reason = None
    if view.reason_zh is not None and view.reason_en is not None:
        reason = Named(zh=view.reason_zh, en=view.reason_en)
    return CaseOut(
        id=view.id,
        service=view.service,
        channel=view.channel,
        state=view.state,
        version=view.version,
        first_contact=view.first_contact,
        filed_at=view.filed_at,
        instant_decision=view.instant_decision,
        proposed=view.proposed,
        reason=reason,
        decided_at=view.decided_at,
        delivered_at=view.delivered_at,
        limit_workdays=view.limit_workdays,
        deadline=view.deadline,
        deadline_provisional=view.deadline_provisional,
        workdays_used=view.workdays_used,
        sla=view.sla,
        escalated=view.escalated,
        materials_asked=list(view.materials_asked),
        rated=view.rated,
        facts=[
            FactState(name=f.name, holds=f.holds, source=f.source, ledger_seq=f.ledger_seq)
            for f in view.facts
        ],
        tasks=[
            TaskOut(
                id=t.id,
                department=t.department,
                stage=t.stage,
                state=t.state,
                version=t.version,
                decided_at=t.decided_at,
                note=t.note,
            )
            for t in view.tasks
        ],
    )


def _staff_department(actor: ActiveSession) -> str:
    if actor.department_code is None:
        raise HTTPException(403, "only staff of a department act on cases")
    return actor.department_code


def visible_case(db: Session, case_id: str, actor: ActiveSession) -> CaseRow:
    """The case if the actor's department may see it; 404 otherwise (existence is not told)."""
    case = db.get(CaseRow, case_id)
    if case is None:
        raise HTTPException(404, "no such case")
    tasks = list(db.query(CaseTask).filter(CaseTask.case_id == case_id))
    if not may_see(case, tasks, department=actor.department_code):
        raise HTTPException(404, "no such case")
    return case


def _own_case(db: Session, case_id: str, actor: ActiveSession) -> CaseRow:
    """The case if the resident applied for it or it is about them; 404 otherwise."""
    case = db.get(CaseRow, case_id)
    if case is None or actor.person_id is None:
        raise HTTPException(404, "no such case")
    if actor.person_id not in (case.applicant_id, case.subject_id):
        raise HTTPException(404, "no such case")
    return case


def _first_contact(case: CaseRow, actor: ActiveSession) -> str:
    department = _staff_department(actor)
    if case.first_contact != department:
        raise HTTPException(403, "only the first-contact department (首接部门) takes this step")
    return department


def _refused(error: Exception) -> HTTPException:
    if isinstance(error, ConflictError):
        return HTTPException(409, str(error))
    if isinstance(error, CaseNotFoundError):
        return HTTPException(404, "no such case or task")
    return HTTPException(422, str(error))


_STEP_ERRORS: Final = (
    ConflictError,
    CaseNotFoundError,
    FilingError,
    StepRefusedError,
    RatingError,
    ReadRefusedError,
    EntryError,
)


def _materials(service: Service, codes: Sequence[str], key: str) -> list[Material]:
    """The service's materials named by ``codes``; 422 if one is not the service's."""
    known = service.materials()
    if not set(codes) <= set(known):
        raise HTTPException(422, f"{key}: a code that is not a material of this service")
    return [known[code] for code in dict.fromkeys(codes)]


def _view(db: Session, case_id: str, department: str | None = None) -> CaseOut:
    return _case_out(case_view(db, case_id, today=china_now().date(), department=department))


def _committed(request: Request, case_id: str, department: str | None = None) -> CaseOut:
    """The case as stored, read after the step's transaction committed: the step holds
    the ledger's write lock until then, so nothing that can wait is done inside it."""
    with session_scope(request.app.state.engine) as db:
        return _view(db, case_id, department)


# --------------------------------------------------------------------------- catalog


@router.get("/services", response_model=ServiceList)
def list_services(request: Request, actor: Actor) -> ServiceList:
    """The service catalog (办事指南): facts the registry proves, materials, reviews, limits."""
    del actor  # any logged-in account may read the guide
    services = []
    for service in service_catalog(request).services.values():
        services.append(
            ServiceOut(
                code=service.code,
                name=Named(zh=service.name.zh, en=service.name.en),
                legal_reference=service.legal_reference,
                first_contact=service.first_contact,
                time_limit_workdays=service.time_limit_workdays,
                channels=[str(c) for c in service.channels],
                facts=[
                    FactOut(
                        name=name,
                        label=Named(zh=fact.zh, en=fact.en),
                        of=fact.of,
                        item=fact.item,
                        material=None if fact.material is None else fact.material.code,
                    )
                    for name, fact in service.facts.items()
                ],
                reviews=[
                    {"department": r.department, "stage": r.stage, "task": r.task.zh}
                    for r in service.reviews
                ],
            )
        )
    return ServiceList(
        services=services,
        rating_reasons={code: Named(zh=zh, en=en) for code, (zh, en) in REASONS.items()},
    )


# --------------------------------------------------------------------------- staff


@router.post("/cases", response_model=CaseOut, status_code=201)
async def file_at_window(request: Request, body: FilingIn, actor: Actor) -> CaseOut:
    """A clerk files for a resident (窗口) or for a helper (帮办代办); decided at once where
    the registry proves the case (秒批), otherwise sent to the departments."""
    actor.require(Permission.CASE_FILE)
    department = _staff_department(actor)
    service = _service(request, body.service)
    _materials(service, body.supplied, "supplied")
    filing = Filing(
        service=service,
        channel=Channel(body.channel),
        applicant_id=body.applicant_id,
        subject_id=body.subject_id or body.applicant_id,
        filed_by=actor.user_id,
        department=department,
        helper_id=body.helper_id,
        helper_relation=body.helper_relation,
    )
    desk = await filing_desk(request)
    try:
        view = await asyncio.wrap_future(desk.submit(filing, frozenset(body.supplied)))
    except _STEP_ERRORS as error:
        raise _refused(error) from None
    except BatcherClosedError as error:
        raise HTTPException(503, str(error)) from None
    return _case_out(view)


@router.post("/cases/batch", response_model=CaseList, status_code=201)
def file_for_employees(request: Request, body: BatchIn, actor: Actor) -> CaseList:
    """An enterprise service station files one case per employee, in one batch."""
    actor.require(Permission.CASE_FILE)
    department = _staff_department(actor)
    service = _service(request, body.service)
    try:
        with session_scope(request.app.state.engine) as db:
            cases = casework_of(request).file_batch(
                db,
                service,
                employer_code=body.employer_code,
                employees=body.employees,
                filed_by=actor.user_id,
                department=department,
                now=china_now(),
            )
            ids = [case.id for case in cases]
    except _STEP_ERRORS as error:
        raise _refused(error) from None
    return CaseList(cases=[_committed(request, case_id) for case_id in ids])


@router.get("/cases/{case_id}", response_model=CaseOut)
def read_case(request: Request, case_id: CasePath, actor: Actor) -> CaseOut:
    """A case as the actor's department sees it (the first contact: every task)."""
    actor.require(Permission.CASE_READ)
    with session_scope(request.app.state.engine) as db:
        visible_case(db, case_id, actor)
        return _view(db, case_id, actor.department_code)


class MaterialFileOut(BaseModel):
    id: int
    material: str
    file_name: str
    media_type: str
    size: int
    sm3: str
    uploaded_at: datetime.datetime


class MaterialList(BaseModel):
    materials: list[MaterialFileOut]


MaterialPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
_UPLOAD_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["version", "material", "file"],
                    "properties": {
                        "version": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        "material": {
                            "type": "array",
                            "items": {"type": "string", "pattern": _CODE},
                            "description": "the material of each file, in the order of the files",
                        },
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "PDF, JPEG or PNG, at most 5 MiB each",
                        },
                    },
                }
            }
        },
    }
}
"""The upload's body, documented by hand: it is read only after the caller is known (a
large body from an anonymous caller is never parsed)."""
_UPLOAD_REFUSALS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ErrorBody, "description": "not a multipart body"},
    413: {"model": ErrorBody, "description": "the files are too large"},
}


async def api_uploads(request: Request) -> tuple[int, list[Upload]]:
    """``version`` and the files of an upload request, each paired with its material."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise HTTPException(413, "the files are too large")
    form = await request.form()
    try:
        version = str(form.get("version") or "")
        if not version.isdigit() or not 1 <= int(version) < 2**31:
            raise HTTPException(422, "version: the case's version as it was seen")
        codes = [c for c in form.getlist("material") if isinstance(c, str)]
        if not all(re.fullmatch(_CODE, c) for c in codes):
            raise HTTPException(422, "material: codes of the service's materials")
        files = [f for f in form.getlist("file") if not isinstance(f, str)]
        return int(version), await _read_uploads(codes, files)
    finally:
        await form.close()


async def _read_uploads(codes: Sequence[str], files: Sequence[UploadFile]) -> list[Upload]:
    """The files of a multipart request, each with its material (paired in order)."""
    if len(codes) != len(files):
        raise HTTPException(422, "material: one code per file, in the order of the files")
    return [
        Upload(code, file.filename or "file", await file.read(MAX_BYTES + 1))
        for code, file in zip(codes, files, strict=True)
    ]


async def supply_files(
    request: Request,
    actor: ActiveSession,
    case_id: str,
    version: int,
    uploads: Sequence[Upload],
    *,
    staff: bool,
) -> CaseOut:
    """:func:`supply_as` with files and nothing else, off the event loop (it reads the
    registry, encrypts and writes); 422 when no file came."""
    if not uploads:
        raise HTTPException(422, NO_FILE)
    return await run_in_threadpool(
        supply_as, request, actor, case_id, version, [], staff=staff, uploads=uploads
    )


def open_material(
    request: Request, actor: ActiveSession, case_id: str, material_id: int
) -> Response:
    """A case's file, for a department that may see the case: a read of the applicant's
    data with the case as purpose, so a ledger entry the resident sees."""
    cipher = data_cipher(request.app.state.engine, request_keyring(request), _MATERIAL_SCOPE)
    with session_scope(request.app.state.engine) as db:
        case = visible_case(db, case_id, actor)
        try:
            found, content = read_material(db, cipher, case_id, material_id)
        except LookupError:
            raise HTTPException(404, "no such material in this case") from None
        except MaterialError as error:
            raise HTTPException(409, str(error)) from None
        entry = LedgerEntry.access(
            actor=actor.user_id,
            department=actor.department_code or "unknown",
            purpose=_service(request, case.service).purpose,
            fields=[MATERIAL_ITEM],
            outcome=Outcome.ALLOWED,
            person_id=case.subject_id or case.applicant_id,
            case_id=case_id,
        )
        ledger.append(db, [entry])
    disposition = f"attachment; filename*=UTF-8''{quote(found.file_name)}"
    return Response(
        content,
        media_type=found.media_type,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


def case_materials(request: Request, actor: ActiveSession, case_id: str) -> list[MaterialFile]:
    """The files of a case the actor's department may see (no content)."""
    with session_scope(request.app.state.engine) as db:
        visible_case(db, case_id, actor)
        return materials_of(db, case_id)


@router.get("/cases/{case_id}/materials", response_model=MaterialList)
def list_materials(request: Request, case_id: CasePath, actor: Actor) -> MaterialList:
    """The files handed in for a case (name, type, size, SM3 digest)."""
    actor.require(Permission.CASE_READ)
    found = case_materials(request, actor, case_id)
    return MaterialList(
        materials=[MaterialFileOut.model_validate(f, from_attributes=True) for f in found]
    )


@router.get(
    "/cases/{case_id}/materials/{material_id}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES}}},
)
def download_material(
    request: Request, case_id: CasePath, material_id: MaterialPath, actor: Actor
) -> Response:
    """One file of a case, as it was handed in (a ledger entry)."""
    actor.require(Permission.CASE_READ)
    return open_material(request, actor, case_id, material_id)


@router.post(
    "/cases/{case_id}/material/files",
    response_model=CaseOut,
    openapi_extra=_UPLOAD_BODY,
    responses=_UPLOAD_REFUSALS,
)
async def upload_at_window(request: Request, case_id: CasePath, actor: Actor) -> CaseOut:
    """The window scans the material handed in (补正): stored encrypted, the case judged again."""
    actor.require(Permission.CASE_FILE)
    version, uploads = await api_uploads(request)
    return await supply_files(request, actor, case_id, version, uploads, staff=True)


@router.post("/cases/{case_id}/material", response_model=CaseOut)
def supply_at_window(
    request: Request, case_id: CasePath, body: MaterialIn, actor: Actor
) -> CaseOut:
    """The clerk records material handed in (补正): the case is judged again."""
    actor.require(Permission.CASE_FILE)
    return supply_as(request, actor, case_id, body.version, body.supplied, staff=True)


@router.post("/cases/{case_id}/deliver", response_model=CaseOut)
def deliver_result(request: Request, case_id: CasePath, actor: Actor) -> CaseOut:
    """The first-contact department hands over the result (办结)."""
    return _committed(request, case_id, deliver_as(request, actor, case_id))


def deliver_as(request: Request, actor: ActiveSession, case_id: str) -> str:
    """The first contact's delivery of a decided case (the API's and the case page's);
    the department that delivered."""
    actor.require(Permission.CASE_FILE)
    try:
        with session_scope(request.app.state.engine) as db:
            case = visible_case(db, case_id, actor)
            department = _first_contact(case, actor)
            deliver(
                db,
                case_id,
                by=actor.user_id,
                department=department,
                service=_service(request, case.service),
                now=china_now(),
            )
    except _STEP_ERRORS as error:
        raise _refused(error) from None
    return department


@router.get("/inbox", response_model=InboxOut)
def review_inbox(request: Request, actor: Actor) -> InboxOut:
    """The department's open tasks with their working-day countdown, nearest deadline first."""
    actor.require(Permission.REVIEW_DECIDE)
    department = _staff_department(actor)
    with session_scope(request.app.state.engine) as db:
        items = inbox(db, department, today=china_now().date())
    return InboxOut(
        department=department,
        tasks=[
            {
                "task_id": i.task_id,
                "version": i.task_version,
                "case_id": i.case_id,
                "service": i.service,
                "stage": i.stage,
                "filed_on": i.filed_on.isoformat(),
                "deadline": i.deadline.isoformat(),
                "workdays_left": i.workdays_left,
                "sla": i.sla,
                "escalated": i.escalated,
            }
            for i in items
        ],
    )


@router.post("/tasks/{task_id}/decision", response_model=CaseOut)
def decide_task(
    request: Request,
    task_id: TaskPath,
    body: DecisionIn,
    actor: Actor,
) -> CaseOut:
    """A reviewer approves, rejects or asks for material on a task seen at ``version``;
    the loser of two decisions at once gets 409."""
    case_id = decide_as(
        request,
        actor,
        task_id,
        action=body.action,
        version=body.version,
        note=body.note,
        material_codes=body.materials,
    )
    return _committed(request, case_id, actor.department_code)


def decide_as(
    request: Request,
    actor: ActiveSession,
    task_id: int,
    *,
    action: str,
    version: int,
    note: str | None,
    material_codes: Sequence[str],
) -> str:
    """The reviewer's decision on a task seen at ``version`` (the API's and the inbox
    page's); the case's id. HTTP errors as the API answers them: 404 not the
    department's task, 409 someone decided first, 422 a refused step."""
    actor.require(Permission.REVIEW_DECIDE)
    department = _staff_department(actor)
    if action not in {"approved", "rejected", "material_requested"}:
        raise HTTPException(422, "action: approved, rejected or material_requested")
    try:
        with session_scope(request.app.state.engine) as db:
            task = db.get(CaseTask, task_id)
            if task is None or task.department != department:
                raise HTTPException(404, "no such task in your department")
            case = db.get(CaseRow, task.case_id)
            assert case is not None  # a task's case exists (foreign key)
            service = _service(request, case.service)
            materials = _materials(service, material_codes, "materials")
            if action == "material_requested" and not materials:
                raise HTTPException(422, "materials: name what the resident must supply")
            act_on_task(
                db,
                task_id,
                TaskState(action),
                version=version,
                by=actor.user_id,
                department=department,
                service=service,
                now=china_now(),
                note=note,
                materials=materials,
            )
            return case.id
    except _STEP_ERRORS as error:
        raise _refused(error) from None


# --------------------------------------------------------------------------- residents


def _household(db: Session, request: Request, person_id: str) -> object:
    facts = person_facts(db, request_exchange(request).cipher, person_id, ["household_number"])
    return None if facts is None else facts.values.get("household_number")


@router.post("/me/cases", response_model=CaseOut, status_code=201)
def apply_online(request: Request, body: ApplyIn, actor: Actor) -> CaseOut:
    """The resident applies online (网上办), for themselves or a member of their household
    (a parent for a child); anyone else is filed for at a window (帮办代办)."""
    return _committed(
        request, apply_as(request, actor, body.service, body.subject_id, body.supplied)
    )


def apply_as(
    request: Request,
    actor: ActiveSession,
    service_code: str,
    subject_id: str | None,
    supplied: Sequence[str],
) -> str:
    """A resident's online application (the API's and the portal's); the case's id."""
    actor.require(Permission.CASE_APPLY)
    if actor.person_id is None:
        raise HTTPException(403, "only a resident applies online")
    service = _service(request, service_code)
    _materials(service, supplied, "supplied")
    subject = subject_id or actor.person_id
    try:
        with session_scope(request.app.state.engine) as db:
            if subject != actor.person_id:
                mine = _household(db, request, actor.person_id)
                if mine is None or _household(db, request, subject) != mine:
                    raise HTTPException(
                        422, "subject_id: apply for yourself or a member of your household"
                    )
            filing = Filing(
                service=service,
                channel=Channel.ONLINE,
                applicant_id=actor.person_id,
                subject_id=subject,
                filed_by=actor.user_id,
                department="resident",
            )
            return (
                casework_of(request)
                .file(db, filing, supplied=frozenset(supplied), now=china_now())
                .id
            )
    except _STEP_ERRORS as error:
        raise _refused(error) from None


@router.get("/me/cases", response_model=CaseList)
def my_cases(request: Request, actor: Actor) -> CaseList:
    """The resident's cases, newest first: state, decision, deadline, what is asked."""
    actor.require(Permission.CASE_APPLY)
    if actor.person_id is None:
        raise HTTPException(403, "only a resident has cases of their own")
    with session_scope(request.app.state.engine) as db:
        found = own_cases(db, actor.person_id, today=china_now().date())
        return CaseList(cases=[_case_out(view) for view in found])


@router.get("/me/cases/{case_id}", response_model=CaseOut)
def my_case(request: Request, case_id: CasePath, actor: Actor) -> CaseOut:
    actor.require(Permission.CASE_APPLY)
    with session_scope(request.app.state.engine) as db:
        _own_case(db, case_id, actor)
        return _view(db, case_id)


@router.post("/me/cases/{case_id}/material", response_model=CaseOut)
def supply_online(request: Request, case_id: CasePath, body: MaterialIn, actor: Actor) -> CaseOut:
    """The resident uploads the material asked for (补正)."""
    actor.require(Permission.CASE_APPLY)
    return supply_as(request, actor, case_id, body.version, body.supplied, staff=False)


@router.post(
    "/me/cases/{case_id}/material/files",
    response_model=CaseOut,
    openapi_extra=_UPLOAD_BODY,
    responses=_UPLOAD_REFUSALS,
)
async def upload_online(request: Request, case_id: CasePath, actor: Actor) -> CaseOut:
    """The resident uploads the files asked for (补正): stored encrypted, the case judged again."""
    actor.require(Permission.CASE_APPLY)
    version, uploads = await api_uploads(request)
    return await supply_files(request, actor, case_id, version, uploads, staff=False)


@router.post("/me/cases/{case_id}/withdraw", response_model=CaseOut)
def withdraw_online(request: Request, case_id: CasePath, body: VersionIn, actor: Actor) -> CaseOut:
    """The resident withdraws a case not yet decided."""
    actor.require(Permission.CASE_APPLY)
    try:
        with session_scope(request.app.state.engine) as db:
            case = _own_case(db, case_id, actor)
            withdraw(
                db,
                case_id,
                version=body.version,
                by=actor.user_id,
                department="resident",
                service=_service(request, case.service),
                now=china_now(),
            )
    except _STEP_ERRORS as error:
        raise _refused(error) from None
    return _committed(request, case_id)


@router.post("/me/cases/{case_id}/rating", response_model=RatingOut, status_code=201)
def rate_case(request: Request, case_id: CasePath, body: RatingIn, actor: Actor) -> RatingOut:
    """政务服务好差评: 1–5 with reasons after delivery; a 差评 opens a rectification."""
    due = rate_as(request, actor, case_id, body.score, body.reasons)
    return RatingOut(case_id=case_id, score=body.score, rectification_due=due)


def rate_as(
    request: Request, actor: ActiveSession, case_id: str, score: int, reasons: Sequence[str]
) -> datetime.date | None:
    """The resident's rating of their delivered case (the API's and the portal's); the
    rectification's deadline when it opened one."""
    actor.require(Permission.CASE_APPLY)
    try:
        with session_scope(request.app.state.engine) as db:
            case = _own_case(db, case_id, actor)
            task = rate(
                db,
                case_id,
                score,
                list(reasons),
                by=actor.user_id,
                service=_service(request, case.service),
                now=china_now(),
            )
            return None if task is None else task.due_on
    except _STEP_ERRORS as error:
        raise _refused(error) from None


_MATERIAL_SCOPE: Final = scope_of(CONTENT_CONTEXT)
NO_FILE: Final = "choose a file for at least one material / 请至少选择一个文件"
MATERIAL_ITEM: Final = "material"
"""The item a material file's read names in the ledger."""


def supply_as(
    request: Request,
    actor: ActiveSession,
    case_id: str,
    version: int,
    supplied: Sequence[str],
    *,
    staff: bool,
    uploads: Sequence[Upload] = (),
) -> CaseOut:
    """Material in: the files (if any) stored encrypted, the facts read again with the
    material counted, and the case judged again — in one transaction. The API and the
    pages (the window scanning, the resident uploading) take this one step."""
    codes = list(dict.fromkeys([*supplied, *(u.material for u in uploads)]))
    cipher = data_cipher(request.app.state.engine, request_keyring(request), _MATERIAL_SCOPE)
    try:
        with session_scope(request.app.state.engine) as db:
            if staff:
                case = visible_case(db, case_id, actor)
                department = _first_contact(case, actor)
            else:
                case = _own_case(db, case_id, actor)
                department = "resident"
            service = _service(request, case.service)
            _materials(service, codes, "supplied")
            now = china_now()
            judgement = casework_of(request).judge(
                db,
                service,
                case_id=case_id,
                applicant_id=case.applicant_id,
                subject_id=case.subject_id,
                supplied=frozenset(codes),
                now=now,
            )
            supply_material(
                db,
                case_id,
                judgement.findings,
                version=version,
                by=actor.user_id,
                department=department,
                service=service,
                now=now,
            )
            store_materials(db, cipher, case_id, list(uploads), by=actor.user_id, now=now)
    except _STEP_ERRORS as error:
        raise _refused(error) from None
    except MaterialError as error:
        raise HTTPException(422, str(error)) from None
    return _committed(request, case_id, department if staff else None)
