"""The console's shared layout, language negotiation and static assets."""

from hukou.web.i18n import LANGUAGES, Translator, negotiate_language
from hukou.web.pages import page_language, render
from hukou.web.templating import STATIC_DIR, templates

__all__ = [
    "LANGUAGES",
    "STATIC_DIR",
    "Translator",
    "negotiate_language",
    "page_language",
    "render",
    "templates",
]
