"""Console language: simplified Chinese by default, English on request.

The choice comes from ``?lang=`` (remembered in a cookie), then the cookie, then the
configured default. Browser Accept-Language is deliberately not followed: a window
clerk's machine may be set to anything, and the console's working language is a
decision of the office, not of the browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["LANGUAGES", "MESSAGES", "Translator", "negotiate_language"]

LANGUAGES: Final = ("zh-CN", "en")

MESSAGES: Final[Mapping[str, Mapping[str, str]]] = {
    "app.name": {"zh-CN": "户籍支援服务平台", "en": "Hukou household-registration support"},
    "nav.status": {"zh-CN": "运行状态", "en": "System status"},
    "nav.api": {"zh-CN": "接口文档", "en": "API docs"},
    "mode.elder": {"zh-CN": "长辈模式", "en": "Elderly-friendly mode"},
    "mode.standard": {"zh-CN": "标准模式", "en": "Standard mode"},
    "lang.switch": {"zh-CN": "English", "en": "简体中文"},
    "status.title": {"zh-CN": "系统运行状态", "en": "System status"},
    "status.ok": {"zh-CN": "正常", "en": "OK"},
    "status.degraded": {"zh-CN": "异常", "en": "Degraded"},
    "status.database": {"zh-CN": "数据库", "en": "Database"},
    "status.engine": {"zh-CN": "数据库类型", "en": "Engine"},
    "status.revision": {"zh-CN": "数据结构版本", "en": "Schema revision"},
    "status.calendar": {"zh-CN": "法定工作日历已知年份", "en": "Working-day calendar years"},
    "status.divisions": {"zh-CN": "行政区划代码数据", "en": "Division code data"},
    "status.version": {"zh-CN": "软件版本", "en": "Version"},
    "error.title": {"zh-CN": "抱歉，出了点问题", "en": "Sorry, something went wrong"},
    "error.body": {
        "zh-CN": "您的操作没有完成。请稍后再试；如需帮助，请把下面的编号告诉工作人员。",
        "en": "Your request was not completed. Please try again later; if you need help, "
        "give the reference below to staff.",
    },
    "error.reference": {"zh-CN": "问题编号", "en": "Reference"},
    "error.not_found": {"zh-CN": "页面不存在", "en": "Page not found"},
    "skip.main": {"zh-CN": "跳到正文", "en": "Skip to main content"},
}


def negotiate_language(query: str | None, cookie: str | None, default: str = "zh-CN") -> str:
    """The language to render: query, then cookie, then the default.

    >>> negotiate_language("en", None), negotiate_language(None, "en")
    ('en', 'en')
    >>> negotiate_language("xx", None)
    'zh-CN'
    """
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return default if default in LANGUAGES else LANGUAGES[0]


@dataclass(frozen=True, slots=True)
class Translator:
    """Looks up console strings in one language; a missing key is a bug, so it raises."""

    language: str

    def __call__(self, key: str) -> str:
        return MESSAGES[key][self.language]
