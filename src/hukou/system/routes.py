"""The status page and its JSON twin ``/healthz``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from hukou.system.health import check_health
from hukou.web import render

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", tags=["system"], summary="Health of database, schema and reference data")
def healthz(request: Request) -> JSONResponse:
    """200 when healthy, 503 when the database is unreachable or its schema is behind."""
    health = check_health(request.app.state.engine)
    return JSONResponse(health.as_json(), status_code=200 if health.ok else 503)


@router.get("/", include_in_schema=False)
def status_page(request: Request) -> Response:
    """The console's home for now: the system status, in the user's language."""
    health = check_health(request.app.state.engine)
    return render(request, "status.html", {"health": health}, status_code=200 if health.ok else 503)
