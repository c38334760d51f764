"""Who the demo seats at the console: one account per role, named for what they do.

Pure data, no I/O: :mod:`hukou.demo.setup` creates these accounts. A reviewer sits in
every department that reviews one-window cases; a data officer in every department the
service catalog's agreements name (the consumer's proposes, the provider's approves);
the three administrators (三权分立) in the platform's own department. Every demo
account shares one password, printed by ``hukou demo`` — a demo, never a city.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from hukou.accounts import Role
from hukou.casework.sharing import Needed

__all__ = [
    "DEMO_PASSWORD",
    "PLATFORM",
    "REGISTRY",
    "RESIDENT_SEATS",
    "Seat",
    "staff_departments",
    "staff_seats",
]

DEMO_PASSWORD: Final = "Hukou-Demo-2026"  # noqa: S105 (a published demo password, by design)
"""The password of every demo account (staff and residents)."""

PLATFORM: Final = ("platform", "平台运维中心")
"""The administrators' department: code and name."""

REGISTRY: Final = ("registry", "大数据中心（人口库）")
"""The department answering for what the platform infers itself (actual residence,
人户分离): the provider ``registry`` of the sharing catalogue, with its data officer."""

RESIDENT_SEATS: Final = 3
"""Residents given a portal account (persons registered in the city, chosen by id)."""


@dataclass(frozen=True, slots=True)
class Seat:
    """One demo staff account."""

    username: str
    role: Role
    department: str
    display_name: str


def staff_departments(casework: Mapping[str, str]) -> dict[str, str]:
    """Every department a demo account sits in: the casework departments (code → name),
    the platform's and the registry's."""
    return {**casework, PLATFORM[0]: PLATFORM[1], REGISTRY[0]: REGISTRY[1]}


def staff_seats(casework: Mapping[str, str], needed: Iterable[Needed]) -> list[Seat]:
    """The staff accounts for the ``casework`` departments (code → Chinese name) and the
    agreements ``needed`` (whose both sides get a data officer)."""
    departments = staff_departments(casework)
    officers = sorted({d for n in needed for d in (n.provider, n.consumer)} | {"public_security"})
    platform = PLATFORM[0]
    return [
        Seat("clerk", Role.WINDOW_CLERK, "public_security", "窗口受理员（演示）"),
        Seat("analyst", Role.ANALYST, "public_security", "分析人员（演示）"),
        *(
            Seat(f"reviewer-{code}", Role.DEPARTMENT_REVIEWER, code, f"{name}审核员（演示）")
            for code, name in sorted(casework.items())
        ),
        *(
            Seat(f"officer-{code}", Role.DATA_OFFICER, code, f"{departments[code]}数据专员（演示）")
            for code in officers
        ),
        Seat("sysadmin", Role.SYSTEM_ADMIN, platform, "系统管理员（演示）"),
        Seat("secadmin", Role.SECURITY_ADMIN, platform, "安全管理员（演示）"),
        Seat("auditor", Role.AUDIT_ADMIN, platform, "审计管理员（演示）"),
    ]
