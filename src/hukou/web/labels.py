"""Names for the codes pages show: departments, purposes, items, and times in China.

Pages hold codes (``public_security``, ``case_processing``, ``registered_division``);
residents and clerks read names. The names come from where the codes are defined: the
casework departments, the sharing catalogue's purposes, the registry's standard fields.
Times are stored in UTC and shown in China Standard Time.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "department_name",
    "division_name",
    "item_name",
    "local_time",
    "purpose_name",
    "relationship_name",
]

CHINA: Final = ZoneInfo("Asia/Shanghai")
_OWN: Final = {
    "registry": ("人口库（平台推断）", "Registry (inferred by the platform)"),
    "platform": ("平台运维中心", "Platform operations"),
    "resident": ("居民本人", "The resident"),
}
_ITEMS: Final = {
    "lookup": ("身份查找", "Identity look-up"),
    "material": ("补正材料文件", "Material file"),
}
_UNMASKED: Final = ":unmasked"


def _pick(names: tuple[str, str], lang: str) -> str:
    return names[0] if lang == "zh-CN" else names[1]


@cache
def _departments() -> dict[str, tuple[str, str]]:
    from hukou.casework.catalog import load_departments  # noqa: PLC0415 (loads YAML once)

    return {**{c: (d.zh, d.en) for c, d in load_departments().items()}, **_OWN}


@cache
def _purposes() -> dict[str, tuple[str, str]]:
    from hukou.exchange.catalog import load_catalog  # noqa: PLC0415

    return {c: (p.zh, p.en) for c, p in load_catalog().purposes.items()}


def department_name(code: str | None, lang: str) -> str:
    if not code:
        return "—"
    return _pick(_departments().get(code, (code, code)), lang)


def purpose_name(code: str | None, lang: str) -> str:
    if not code:
        return "—"
    return _pick(_purposes().get(code, (code, code)), lang)


def item_name(name: str, lang: str) -> str:
    """A read item's name; ``…:unmasked`` (shown in clear) says so."""
    from hukou.registry.fields import STANDARD_FIELDS  # noqa: PLC0415

    base = name.removesuffix(_UNMASKED)
    known = STANDARD_FIELDS.get(base)
    names = (known.zh, known.en) if known else _ITEMS.get(base, (base, base))
    shown = _pick(names, lang)
    if name.endswith(_UNMASKED):
        shown += "（明文）" if lang == "zh-CN" else " (in clear)"
    return shown


def local_time(moment: datetime.datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """``moment`` in China Standard Time (a naive time is taken as UTC, as stored)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(CHINA).strftime(pattern)


def division_name(code: object, lang: str) -> str:
    """An administrative division's name (GB/T 2260), the code itself if unknown."""
    from hukou.standards import divisions  # noqa: PLC0415

    if not isinstance(code, str) or not code:
        return "—"
    found = divisions.get(code)
    if found is None:
        return code
    return found.name if lang == "zh-CN" else f"{found.name} ({code})"


def relationship_name(code: object, lang: str) -> str:
    """A GB/T 4761 relationship to the head of household; a masked or unknown value as is."""
    from hukou.standards.codelists import RELATIONSHIP  # noqa: PLC0415

    if not isinstance(code, str) or not code:
        return "—"
    entry = RELATIONSHIP.get(code)
    return code if entry is None else _pick((entry.zh, entry.en), lang)
