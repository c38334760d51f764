"""Rendering a console page: language, elderly-friendly mode and the shared context.

``?lang=en`` and ``?mode=elder`` are remembered in cookies so that the choice holds
on every page (适老化 mode must be switchable everywhere and then stay switched).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from typing import Any

from fastapi import Request
from starlette.responses import Response

from hukou.web.i18n import Translator, negotiate_language
from hukou.web.templating import templates

__all__ = ["LANG_COOKIE", "MODE_COOKIE", "page_language", "render"]

LANG_COOKIE = "hukou_lang"
MODE_COOKIE = "hukou_mode"
_YEAR = 365 * 24 * 3600


def page_language(request: Request) -> str:
    """The language this request is rendered in."""
    default = getattr(request.app.state, "default_language", "zh-CN")
    return negotiate_language(
        request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), default
    )


def _elder(request: Request) -> bool:
    mode = request.query_params.get("mode") or request.cookies.get(MODE_COOKIE)
    return mode == "elder"


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """Render ``template`` with the shared context and remember explicit choices."""
    lang = page_language(request)
    elder = _elder(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "elder": elder,
            "t": Translator(lang),
            "version": metadata.version("hukou"),
            **(context or {}),
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=_YEAR, samesite="lax", httponly=True)
    if request.query_params.get("mode") in {"elder", "standard"}:
        mode = "elder" if elder else "standard"
        response.set_cookie(MODE_COOKIE, mode, max_age=_YEAR, samesite="lax", httponly=True)
    return response
