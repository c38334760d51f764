"""Who is looking at a console page, and the form fields a page posts.

Pages use the session cookie like the API (:mod:`hukou.accounts.web`) but answer
differently when there is none: a page sends the browser to the login page (and back
afterwards), where an API answers 401. State-changing forms carry the session's CSRF
token in a ``csrf_token`` field, checked by the same dependency as the API's.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import parse_qs, quote

from fastapi import Depends, HTTPException, Request

from hukou.accounts import AccountKind, ActiveSession, Permission, optional_session
from hukou.casework.materials import MAX_BYTES, MAX_FORM_BYTES, Upload

__all__ = [
    "FILE_FIELD",
    "LoginRequired",
    "PageActor",
    "first",
    "form_fields",
    "landing_page",
    "login_url",
    "page_actor",
    "require_page_permission",
    "safe_next",
    "uploaded_materials",
]


class LoginRequired(Exception):  # noqa: N818 (a signal, handled by the app: not an error)
    """Raised by a page whose visitor must log in first; the app redirects to the login
    page with ``next`` set to where they were going."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path on this site (never another site: no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"


_ADMIN_LANDINGS: Final = (
    (Permission.INSIGHT_READ, "/console"),
    (Permission.USER_MANAGE, "/console/admin"),
    (Permission.ROLE_GRANT, "/console/admin"),
    (Permission.LEDGER_READ, "/console/audit"),
)


def landing_page(actor: ActiveSession) -> str:
    """Where an account starts: residents at their portal, staff at the console's KPIs,
    administrators (who see no KPIs) at the page of their duty; ``/console`` otherwise."""
    if actor.kind is AccountKind.RESIDENT:
        return "/me"
    return next((page for wanted, page in _ADMIN_LANDINGS if actor.has(wanted)), "/console")


async def page_actor(
    request: Request, actor: Annotated[ActiveSession | None, Depends(optional_session)]
) -> ActiveSession:
    """The logged-in visitor of a page, else :class:`LoginRequired`."""
    if actor is None:
        raise LoginRequired(request.url.path)
    return actor


PageActor = Annotated[ActiveSession, Depends(page_actor)]


def require_page_permission(actor: ActiveSession, permission: Permission) -> ActiveSession:
    """``actor`` if allowed (else the app's 403 page, through :class:`AccessError`)."""
    return actor.require(permission)


async def form_fields(request: Request) -> dict[str, list[str]]:
    """The fields of a urlencoded form (every value of a repeated name, in order).

    Parsed here rather than with python-multipart: the console's forms are this simple
    shape, and the CSRF check has already read (and cached) the same body.
    """
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qs(body, keep_blank_values=True)


def first(fields: dict[str, list[str]], name: str) -> str:
    """The first value of ``name`` stripped, or ``""``."""
    values = fields.get(name)
    return values[0].strip() if values else ""


FILE_FIELD: Final = "file:"
"""A material file's form field is ``file:<material code>``."""


async def uploaded_materials(request: Request) -> tuple[dict[str, list[str]], list[Upload]]:
    """The text fields and the material files of a multipart form (``file:<code>`` fields;
    an empty file input is no upload). A body larger than a few files' limit is refused
    with 413 before it is parsed."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise HTTPException(413, "the files are too large")
    form = await request.form()
    fields: dict[str, list[str]] = {}
    uploads: list[Upload] = []
    try:
        for name, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(name, []).append(value)
            elif name.startswith(FILE_FIELD) and value.filename:
                content = await value.read(MAX_BYTES + 1)
                uploads.append(Upload(name.removeprefix(FILE_FIELD), value.filename, content))
    finally:
        await form.close()  # the spooled files
    return fields, uploads
