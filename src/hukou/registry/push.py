"""Pushed batches: a department POSTs its records as JSON instead of delivering a file.

``POST /api/registry/batches/{department}`` with ``{"file_name": …, "records": […]}``
runs the records through the same core as a file (:func:`ingest_records`), so a
pushed row is standardised, quarantined, encrypted and counted exactly as the same
row in the department's export file would be. ``file_name`` chooses the spec's file
kind (its column mapping) and names the batch; the batch is known by the SHA-256 of
the body's canonical JSON, so a department that retries a push it is unsure about
gets ``already_ingested`` instead of a second copy.

Until accounts arrive, each department pushes with a bearer token of its own from
the settings (``HUKOU_PUSH_TOKENS`` or ``HUKOU_PUSH_TOKENS_FILE``), compared in
constant time. Errors never repeat a record's values: they are personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from hukou.config import ConfigurationError, Settings
from hukou.db import session_scope
from hukou.registry.ingest import BatchReport, IngestError, ingest_records
from hukou.registry.model import Batch
from hukou.registry.readers import RawRecord, cell_text
from hukou.registry.spec import FeedSpec, FileSpec, UnknownDepartmentError, find_spec
from hukou.web.keys import request_keyring

__all__ = [
    "MIN_PRODUCTION_TOKEN",
    "BatchReportBody",
    "PushedBatch",
    "batch_digest",
    "load_push_tokens",
    "pushed_records",
    "router",
]

log = logging.getLogger("hukou.registry.push")

MIN_PRODUCTION_TOKEN: Final = 32
"""Characters a push token needs in production: it is the only thing guarding the door."""

_EXAMPLE: Final[dict[str, JsonValue]] = {
    "file_name": "cbry_20251231.csv",
    "records": [
        {
            "GRBH": "320500000001",
            "SFZHM": "11010519491231002X",
            "XM": "张三",
            "XB": "2",
            "CSRQ": "1949-12-31",
        }
    ],
}


class PushedBatch(BaseModel):
    """The body of a push: which kind of file the records stand for, and the records."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    file_name: str = Field(
        min_length=1,
        max_length=300,
        pattern=r"^[^/\\]+$",
        description="a file name the department's spec matches (its file kind's column "
        "mapping applies); it also names the batch",
    )
    records: list[Any] = Field(
        description="one JSON object per row: the columns of the department's export file "
        "(the spec's `source` names) → text, number, true/false or null",
    )


class BatchReportBody(BaseModel):
    """What a batch did (the answer to a push, and ``GET /api/registry/batches/{id}``)."""

    batch_id: str
    department: str
    file: str
    outcome: str = Field(description="ingested | resumed | already_ingested")
    status: str = Field(description="done, or running while a batch is unfinished")
    rows_in: int
    accepted: int
    quarantined: int
    reasons: dict[str, int] = Field(description="quarantined rows by field:rule")
    repairs: dict[str, int] = Field(description="repairs made by field:rule")
    seconds: float


# --------------------------------------------------------------------------- settings


def load_push_tokens(settings: Settings) -> dict[str, str]:
    """Department → bearer token, from ``HUKOU_PUSH_TOKENS`` or ``HUKOU_PUSH_TOKENS_FILE``.

    Read once when the app is built, so a malformed setting stops the start instead
    of failing the first push. Messages name the setting, never a token.

    Raises:
        ConfigurationError: not a JSON object of department → non-empty text, a token
            shared by two departments, or (production) a token shorter than
            :data:`MIN_PRODUCTION_TOKEN`.
    """
    if settings.push_tokens is not None:
        source, text = "HUKOU_PUSH_TOKENS", settings.push_tokens.get_secret_value()
    elif settings.push_tokens_file is not None:
        source = f"HUKOU_PUSH_TOKENS_FILE ({settings.push_tokens_file})"
        try:
            text = settings.push_tokens_file.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigurationError(f"{source}: cannot read ({error.strerror})") from None
    else:
        return {}
    try:
        tokens = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigurationError(f'{source}: not JSON; write {{"department": "token"}}') from None
    if not isinstance(tokens, dict) or not all(
        isinstance(token, str) and token.strip() for token in tokens.values()
    ):
        raise ConfigurationError(f'{source}: must be a JSON object {{"department": "token"}}')
    if len(set(tokens.values())) != len(tokens):
        raise ConfigurationError(f"{source}: two departments share a token; give each its own")
    if settings.env == "production":
        short = sorted(d for d, token in tokens.items() if len(token) < MIN_PRODUCTION_TOKEN)
        if short:
            raise ConfigurationError(
                f"{source}: tokens of {', '.join(short)} are shorter than "
                f"{MIN_PRODUCTION_TOKEN} characters"
            )
    return {str(department): token for department, token in tokens.items()}


# --------------------------------------------------------------------------- records


def batch_digest(batch: PushedBatch) -> str:
    """SHA-256 of the body's canonical JSON: key order and spacing do not make a new batch."""
    canonical = json.dumps(
        {"file_name": batch.file_name, "records": batch.records},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pushed_records(records: Sequence[object], file: FileSpec) -> Iterator[RawRecord]:
    """The pushed records as the rows of a file of kind ``file``: nothing dropped.

    Position = index + 2, so record 0 reads like line 2 of an export under its
    header. ``raw`` is the record's JSON with sorted keys (exact copies are then
    recognised as duplicates whatever their key order). A key missing from a record
    is an empty cell, as in JSON Lines. A record that is not an object, has a value
    that is a list or an object, or has keys the spec does not declare is still a
    record: malformed, with a reason that names spec columns only (an unknown key
    could be anything, so it is counted, not quoted).
    """
    columns = file.sources
    known = frozenset(columns)
    for index, record in enumerate(records):
        position = index + 2
        raw = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
        if not isinstance(record, dict):
            yield RawRecord(position, None, raw, "a record must be a JSON object")
            continue
        unknown = sum(1 for key in record if key not in known)
        if unknown:
            problem = f"{unknown} key(s) not among the columns of {file.pattern}"
            yield RawRecord(position, None, raw, problem)
            continue
        nested = [key for key in columns if isinstance(record.get(key), dict | list)]
        if nested:
            problem = f"not a text, number, true/false or null: {', '.join(nested)}"
            yield RawRecord(position, None, raw, problem)
            continue
        yield RawRecord(position, {name: cell_text(record.get(name)) for name in columns}, raw)


# --------------------------------------------------------------------------- HTTP

router = APIRouter(prefix="/api/registry", tags=["registry"])

_ERROR: Final[dict[str, Any]] = {
    "content": {
        "application/json": {
            "example": {"error": "…", "detail": "…", "correlation_id": "0123456789abcdef…"}
        }
    }
}


def _invalid(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    """A 422 in the shape FastAPI's own validation errors take (app.py renders them)."""
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


_bearer = HTTPBearer(
    auto_error=False,  # a missing token is our 401 (or 503 when push is not configured)
    scheme_name="department push token",
    description="the department's token from HUKOU_PUSH_TOKENS",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _fingerprint(token: str) -> bytes:
    # Compared as digests, so the comparison takes as long whatever the token's length.
    return hashlib.sha256(token.encode("utf-8")).digest()


def _departments_of(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> frozenset[str]:
    """The departments whose token the request carries: 503 unset, 401 none matches."""
    tokens: dict[str, str] = request.app.state.push_tokens
    if not tokens:
        raise HTTPException(503, "push not configured: set HUKOU_PUSH_TOKENS")
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or not credentials.credentials.strip():
        raise HTTPException(401, "a bearer token is required", headers=challenge)
    given = _fingerprint(credentials.credentials.strip())
    # Every token is compared, none skipped: the time taken says nothing about them.
    matched = [
        department
        for department, token in tokens.items()
        if hmac.compare_digest(given, _fingerprint(token))
    ]
    if not matched:
        raise HTTPException(401, "the bearer token is not valid", headers=challenge)
    return frozenset(matched)


def _spec(department: str) -> FeedSpec:
    try:
        return find_spec(department)
    except UnknownDepartmentError:
        raise HTTPException(404, f"no department {department!r}") from None


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    too_large = HTTPException(413, f"the body is larger than {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes) -> PushedBatch:
    try:
        value = json.loads(body)
    except json.JSONDecodeError as error:
        # Where, not what: the text around the error may be a name or a number.
        where = f"line {error.lineno}, column {error.colno}"
        raise _invalid(("body",), f"not valid JSON ({error.msg} at {where})") from None
    except (UnicodeDecodeError, RecursionError):
        raise _invalid(("body",), "not valid JSON (not UTF-8, or nested too deeply)") from None
    try:
        return PushedBatch.model_validate(value)
    except ValidationError as error:
        details = error.errors(include_url=False, include_input=False, include_context=False)
        raise RequestValidationError(
            [{**detail, "loc": ("body", *detail["loc"])} for detail in details]
        ) from None


def _correlation(request: Request) -> str:
    return str(getattr(request.state, "correlation_id", "-"))


def _report_body(report: BatchReport, status: str) -> dict[str, object]:
    return {**report.as_json(), "status": status}


@router.post(
    "/batches/{department}",
    summary="Push a batch of a department's records (JSON)",
    status_code=201,
    responses={
        201: {"model": BatchReportBody, "description": "a new batch, ingested"},
        200: {"model": BatchReportBody, "description": "the same batch was already ingested"},
        401: {"description": "no bearer token, or not a valid one", **_ERROR},
        403: {"description": "the token is another department's", **_ERROR},
        404: {"description": "no such department", **_ERROR},
        409: {"description": "the same batch is being ingested right now", **_ERROR},
        413: {"description": "too many records or bytes", **_ERROR},
        422: {"description": "not a valid body, or a file_name no file kind matches"},
        503: {"description": "push not configured, or field keys unavailable", **_ERROR},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": PushedBatch.model_json_schema(),
                    "example": _EXAMPLE,
                }
            },
        },
    },
)
async def push_batch(department: str, request: Request, credentials: Credentials) -> JSONResponse:
    """Ingest pushed records as one batch of ``department``, exactly as a file would be.

    The body is read here rather than declared as a parameter so that its size is
    checked while it streams in (413), before anything parses it. Every record
    comes back counted: ``rows_in`` = ``accepted`` + ``quarantined``.
    """
    settings: Settings = request.app.state.settings
    allowed = _departments_of(request, credentials)
    spec = _spec(department)
    if department not in allowed:
        raise HTTPException(403, f"the token is not {department}'s")
    batch = _parse(await _body(request, settings.push_max_bytes))
    if len(batch.records) > settings.push_max_records:
        raise HTTPException(413, f"at most {settings.push_max_records} records per batch")
    if not batch.records:
        raise _invalid(("body", "records"), "no records: a batch has at least one")
    kinds = spec.files_for(batch.file_name)
    if len(kinds) != 1:
        patterns = ", ".join(p for kind in spec.files for p in kind.patterns)
        raise _invalid(
            ("body", "file_name"),
            f"matches {len(kinds)} file kinds of {department}; it must match one of {patterns}",
        )
    kind = kinds[0]
    keyring = request_keyring(request)

    def open_records() -> tuple[str | None, Iterable[RawRecord]]:
        return "utf-8", pushed_records(batch.records, kind)

    try:
        report = await run_in_threadpool(
            ingest_records,
            request.app.state.engine,
            department,
            batch.file_name,
            batch_digest(batch),
            open_records,
            keyring=keyring,
            actor=f"push:{department}",
        )
    except IntegrityError:
        # Two identical pushes at once: the other one holds the batch.
        raise HTTPException(409, "the same batch is being ingested right now; retry") from None
    except IngestError as error:  # the spec changed between the check and the ingest
        raise _invalid(("body", "file_name"), str(error)) from None
    log.info(
        "push %s: batch %s %s, %d in, %d accepted, %d quarantined (correlation id %s)",
        department,
        report.batch_id,
        report.outcome,
        report.rows_in,
        report.accepted,
        report.quarantined,
        _correlation(request),
    )
    status = "done" if report.balanced else "running"
    code = 200 if report.outcome == "already_ingested" else 201
    return JSONResponse(_report_body(report, status), status_code=code)


@router.get(
    "/batches/{batch_id}",
    summary="The report of a batch (pushed or from a file)",
    responses={
        200: {"model": BatchReportBody},
        401: {"description": "no bearer token, or not a valid one", **_ERROR},
        403: {"description": "the batch is another department's", **_ERROR},
        404: {"description": "no such batch", **_ERROR},
        503: {"description": "push not configured", **_ERROR},
    },
)
def batch_report(batch_id: str, request: Request, credentials: Credentials) -> JSONResponse:
    """The stored report of a batch, for the department whose batch it is."""
    allowed = _departments_of(request, credentials)
    with session_scope(request.app.state.engine) as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise HTTPException(404, "no such batch")
        if batch.department not in allowed:
            raise HTTPException(403, "the batch is another department's")
        saved: dict[str, Any] = json.loads(batch.report) if batch.report else {}
        body = {
            "batch_id": batch.id,
            "department": batch.department,
            "file": batch.file_name,
            "outcome": saved.get("outcome", "ingested"),
            "status": batch.status,
            "rows_in": batch.rows_in,
            "accepted": batch.rows_accepted,
            "quarantined": batch.rows_quarantined,
            "reasons": saved.get("reasons", {}),
            "repairs": saved.get("repairs", {}),
            "seconds": saved.get("seconds", 0.0),
        }
    return JSONResponse(body)
