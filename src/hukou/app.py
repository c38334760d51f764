"""The FastAPI application factory: mounts every capability's routes, templates and assets.

Errors become friendly pages (or JSON for API clients) with a correlation id; the
traceback goes to the server log only, under that id.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import random
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hukou.accounts.admin_pages import router as admin_pages
from hukou.accounts.admin_routes import router as admin_router
from hukou.accounts.errors import AccessError, NotAuthenticatedError
from hukou.accounts.events import AccountEvent
from hukou.accounts.pages import router as login_pages
from hukou.accounts.routes import router as accounts_router
from hukou.accounts.web import message_detail
from hukou.audit import ledger
from hukou.audit.entry import LedgerEntry, Outcome
from hukou.audit.pages import router as audit_pages
from hukou.audit.routes import router as audit_router
from hukou.casework.catalog import load_catalog as load_service_catalog
from hukou.casework.pages import router as casework_pages
from hukou.casework.routes import router as casework_router
from hukou.config import Settings, get_settings
from hukou.db import create_engine_for
from hukou.db.engine import SERVER_POOL
from hukou.exchange.agreement_pages import router as agreement_pages
from hukou.exchange.pages import router as exchange_pages
from hukou.exchange.routes import router as exchange_router
from hukou.points.pages import router as points_pages
from hukou.registry.pages import router as registry_pages
from hukou.registry.push import load_push_tokens
from hukou.registry.push import router as registry_push_router
from hukou.registry.routes import router as registry_router
from hukou.security import selftest
from hukou.system.routes import router as system_router
from hukou.web import STATIC_DIR, Translator, page_language, render
from hukou.web.admin_keys import router as admin_keys
from hukou.web.console import router as console_router
from hukou.web.portal import router as portal_router
from hukou.web.session import LoginRequired, login_url

__all__ = ["account_event_to_ledger", "create_app", "run_server"]


def _swagger_ui_dir() -> Path:
    """Swagger UI 5 files shipped in the swagger-ui-py wheel, found without importing it."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


log = logging.getLogger("hukou.app")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def _error_response(
    request: Request,
    status_code: int,
    correlation_id: str,
    *,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The friendly error; API clients also get ``detail``, the route's own words.

    Routes write ``detail`` for the caller (what to fix: a token, a file name, a
    size) and never put submitted values in it.
    """
    title_key = "error.not_found" if status_code == 404 else "error.title"
    if _wants_json(request):
        body = {"error": Translator(page_language(request))(title_key)}
        if detail is not None:
            body["detail"] = detail
        return JSONResponse(
            {**body, "correlation_id": correlation_id},
            status_code=status_code,
            headers=headers,
        )
    title = Translator(page_language(request))(title_key)
    context = {"title": title, "correlation_id": correlation_id}
    return render(request, "error.html", context, status_code=status_code)


def account_event_to_ledger(db: Session, event: AccountEvent) -> None:
    """Logins, grants and lockouts are state changes: each is a ledger entry, in the
    same transaction as the change itself."""
    ledger.append(
        db,
        [
            LedgerEntry.state_change(
                actor=event.actor_id or event.user_id or "anonymous",
                department="platform",
                capability="accounts",
                action=event.kind,
                object_id=event.user_id or "unknown-account",
                outcome=Outcome.FAILED if event.failed else Outcome.SUCCEEDED,
                at=event.at,
            )
        ],
    )


_ROUTERS: Final = (
    system_router,
    registry_push_router,
    registry_router,
    audit_router,
    accounts_router,
    admin_router,
    exchange_router,
    casework_router,
    login_pages,
    console_router,
    admin_keys,
    admin_pages,
    agreement_pages,
    casework_pages,
    points_pages,
    audit_pages,
    exchange_pages,
    registry_pages,
    portal_router,
)
"""Every capability's API routes, then the console's pages."""


_ids = random.Random(secrets.randbits(128))  # noqa: S311 (an id to quote, not a secret)


def new_correlation_id() -> str:
    """32 hex digits naming one request in the log and on its error page. Not a secret,
    so not from the operating system's random source (a system call per request)."""
    return f"{_ids.getrandbits(128):032x}"


class CorrelationMiddleware:
    """Every answer carries an ``x-correlation-id`` (the caller's, or a new one), and an
    unhandled error becomes the friendly 500 naming it, logged under the same id.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware``
    runs the rest of the app in a task of its own and streams the answer through a
    memory channel, which cost a filing over a tenth of its time in the server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        correlation_id = request.headers.get("x-correlation-id") or new_correlation_id()
        request.state.correlation_id = correlation_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["x-correlation-id"] = correlation_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error, correlation id %s", correlation_id)
            if started:  # the answer is on its way: nothing else can be said
                raise
            response = _error_response(request, 500, correlation_id)
            await response(scope, receive, send_with_id)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: the environment's)."""
    settings = settings or get_settings()
    engine = create_engine_for(settings.database_url, pool_size=SERVER_POOL)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Refuse to serve on a crypto library that fails the official SM3/SM4 vectors:
        # a wrong cipher would silently write unreadable or unprotected data.
        try:
            selftest.run_self_tests()
        except selftest.SelfTestError as error:
            log.critical("refusing to start: %s", error)
            engine.dispose()
            raise
        # The catalogues are read once per process; read them now, not in the first
        # requests: forty worker threads would each parse every spec at the same time.
        await run_in_threadpool(load_service_catalog)
        if getattr(_app.state, "serving", False):
            # Everything loaded so far (modules, catalogues, the routes) lives as long as
            # the serving process: out of the collector's sight, a full collection walks
            # only what requests made, not the whole app again (it paused every request
            # in flight for a tenth of a second and more). Not in tests, which build and
            # drop many apps: a frozen app's reference cycles are never collected.
            gc.collect()
            gc.freeze()
        yield
        # What the batchers were given is served before the engine goes; an app started
        # again (tests do) makes new ones.
        for name in ("filing_desk", "session_lookups"):
            batcher = getattr(_app.state, name, None)
            if batcher is not None:
                setattr(_app.state, name, None)
                await run_in_threadpool(batcher.close)
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="Hukou 户籍支援服务平台",
        version=metadata.version("hukou"),
        docs_url=None,  # served below from local files: government networks are air-gapped
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.default_language = settings.default_language
    app.state.engine = engine
    # Department → token for pushed batches; read now so a bad setting stops the start.
    app.state.push_tokens = load_push_tokens(settings)
    # Field keys are loaded on first use (hukou.registry.push): a node that never
    # encrypts never needs the key file.
    app.state.keyring = None
    # Built on first use by hukou.accounts.get_account_store (it needs the field keys).
    app.state.account_store = None
    app.state.account_event_sink = account_event_to_ledger
    # The more specific mount first: Starlette routes to the first prefix that matches.
    app.mount("/static/swagger", StaticFiles(directory=_swagger_ui_dir()), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="Hukou API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    for router in _ROUTERS:
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def login_required(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    app.add_middleware(CorrelationMiddleware)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        correlation_id = getattr(request.state, "correlation_id", None) or new_correlation_id()
        detail = exc.detail if isinstance(exc.detail, str) else None
        return _error_response(
            request, exc.status_code, correlation_id, detail=detail, headers=exc.headers
        )

    @app.exception_handler(AccessError)
    async def access_refused(request: Request, exc: AccessError) -> Response:
        # A permission check deep in a capability (ActiveSession.require) ends here.
        correlation_id = getattr(request.state, "correlation_id", None) or new_correlation_id()
        status = 401 if isinstance(exc, NotAuthenticatedError) else 403
        return _error_response(request, status, correlation_id, detail=message_detail(exc.message))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        correlation_id = getattr(request.state, "correlation_id", None) or new_correlation_id()
        # The offending input is left out: it may be an identity number or a name.
        detail = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse(
            {"error": "invalid request", "detail": detail, "correlation_id": correlation_id},
            status_code=422,
        )

    return app


def serving_app(settings: Settings | None = None) -> FastAPI:
    """:func:`create_app` for a process that only serves it (``hukou serve``)."""
    app = create_app(settings)
    app.state.serving = True
    return app


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve the console and API until interrupted (``hukou serve``, ``hukou demo``)."""
    import uvicorn  # noqa: PLC0415 (only the serving commands pay for it)

    from hukou.clikit import console  # noqa: PLC0415

    console.print(f"Hukou console: http://{host}:{port}/  (API docs: /api/docs)")
    if workers == 1:
        uvicorn.run(serving_app(settings), host=host, port=port, log_level="info")
        return
    # Each process builds its own app from the same environment (settings are read there).
    uvicorn.run(
        "hukou.app:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
