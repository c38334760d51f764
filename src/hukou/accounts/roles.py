"""Departments, account kinds, roles and permissions: who may do what, as plain values.

Access is role-based: an account holds roles, a role grants a fixed set of
:class:`Permission`, and code asks for a permission, never for a role (so a
role can be split or renamed without touching a route). The table
:data:`ROLE_PERMISSIONS` is least-privileged: each role gets what its daily
work needs and nothing else; in particular no administrator role can read
personal data, and the three administrator roles hold disjoint permissions.

三权分立 (separation of the three powers): the system, security and audit
administrator roles are mutually exclusive, so that the person who runs the
system cannot also grant themselves rights or audit their own actions.
:func:`check_roles` enforces it here; the store enforces it again with a
database constraint, so that two concurrent grants cannot slip past.

>>> sorted(str(p) for p in permissions_of({Role.WINDOW_CLERK}))
['case.file', 'case.read', 'insight.read', 'person.read']
>>> check_roles(AccountKind.STAFF, {Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN})
Traceback (most recent call last):
...
hukou.accounts.errors.SeparationOfDutiesError: Separation of duties: the system, security and \
audit administrator roles cannot be held by one account (conflict: audit_admin, system_admin).
>>> requires_second_factor({Role.DATA_OFFICER}), requires_second_factor({Role.ANALYST})
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from hukou.accounts.errors import (
    RoleKindError,
    SelfGrantError,
    SeparationOfDutiesError,
)

__all__ = [
    "ADMIN_ROLES",
    "PERMISSION_DESCRIPTIONS",
    "ROLE_PERMISSIONS",
    "SECOND_FACTOR_ROLES",
    "STAFF_ROLES",
    "AccountKind",
    "Department",
    "Level",
    "Permission",
    "Role",
    "check_department_code",
    "check_grant",
    "check_roles",
    "permissions_of",
    "requires_second_factor",
]


class Level(StrEnum):
    """The administrative level of a department (省、市、区县、街道)."""

    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"


class AccountKind(StrEnum):
    """Staff (工作人员) work for a department; residents (居民) act only on their own data."""

    STAFF = "staff"
    RESIDENT = "resident"


_DEPARTMENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_department_code(code: str) -> str:
    """``code`` if it is a well-formed department code, else :class:`ValueError`.

    Codes are ASCII (e.g. ``public_security`` or an 18-character unified social
    credit code) because they end up in URLs, ledger entries and feed file names.
    """
    if not isinstance(code, str) or not _DEPARTMENT_CODE.fullmatch(code):
        raise ValueError(
            "a department code has 1 to 64 ASCII letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return code


@dataclass(frozen=True, slots=True)
class Department:
    """A government department (部门): the unit a staff account works for."""

    code: str
    name: str
    level: Level

    def __post_init__(self) -> None:
        check_department_code(self.code)
        if not self.name.strip():
            raise ValueError("a department needs a name")
        object.__setattr__(self, "level", Level(self.level))


class Role(StrEnum):
    """The roles an account can hold; every staff role but the resident's."""

    WINDOW_CLERK = "window_clerk"
    """窗口受理人员: receives residents at a window and files their cases."""
    DEPARTMENT_REVIEWER = "department_reviewer"
    """部门审核人员: decides a department's part of a case."""
    DATA_OFFICER = "data_officer"
    """数据专员: approves sharing agreements, resolves linkage reviews."""
    ANALYST = "analyst"
    """分析人员: aggregates, forecasts, simulations; pseudonymised data only."""
    SYSTEM_ADMIN = "system_admin"
    """系统管理员: accounts, departments, system settings."""
    SECURITY_ADMIN = "security_admin"
    """安全管理员: roles, keys, security policy, unlocking."""
    AUDIT_ADMIN = "audit_admin"
    """审计管理员: reads and verifies the ledger."""
    RESIDENT = "resident"
    """居民: their own data, consents and applications."""


class Permission(StrEnum):
    """What a request may do; :data:`PERMISSION_DESCRIPTIONS` documents each."""

    PERSON_READ = "person.read"
    PERSON_UNMASK = "person.unmask"
    PERSON_BATCH_READ = "person.batch_read"
    AGREEMENT_READ = "agreement.read"
    AGREEMENT_PROPOSE = "agreement.propose"
    AGREEMENT_APPROVE = "agreement.approve"
    REGISTRY_REVIEW = "registry.review"
    CASE_FILE = "case.file"
    CASE_READ = "case.read"
    REVIEW_DECIDE = "review.decide"
    POINTS_SIMULATE = "points.simulate"
    INSIGHT_READ = "insight.read"
    ANALYTICS_EXPORT = "analytics.export"
    USER_MANAGE = "user.manage"
    DEPARTMENT_MANAGE = "department.manage"
    SYSTEM_CONFIGURE = "system.configure"
    ROLE_GRANT = "role.grant"
    ACCOUNT_UNLOCK = "account.unlock"
    SESSION_REVOKE = "session.revoke"
    KEY_ROTATE = "key.rotate"
    SECURITY_CONFIGURE = "security.configure"
    LEDGER_READ = "ledger.read"
    LEDGER_VERIFY = "ledger.verify"
    SELF_READ = "self.read"
    SELF_EXPORT = "self.export"
    CONSENT_MANAGE = "consent.manage"
    CASE_APPLY = "case.apply"


PERMISSION_DESCRIPTIONS: Mapping[Permission, tuple[str, str]] = MappingProxyType(
    {
        Permission.PERSON_READ: (
            "Read a person's fields through exchange, under an agreement and a purpose; "
            "masked by default.",
            "依据共享协议和用途，经 exchange 读取人员字段（默认脱敏）。",
        ),
        Permission.PERSON_UNMASK: (
            "See a field unmasked, with a stated reason (each unmasking is a ledger entry).",
            "查看未脱敏字段，须说明理由（每次均记入审计账本）。",
        ),
        Permission.PERSON_BATCH_READ: (
            "Read many persons at once for a department, with the same agreement rules.",
            "按相同协议规则为本部门批量读取人员数据。",
        ),
        Permission.AGREEMENT_READ: ("See sharing agreements.", "查看数据共享协议。"),
        Permission.AGREEMENT_PROPOSE: (
            "Draft a sharing agreement for one's department.",
            "为本部门起草数据共享协议。",
        ),
        Permission.AGREEMENT_APPROVE: (
            "Approve a sharing agreement (not one's own draft: exchange checks that).",
            "审批数据共享协议（不得审批本人起草的协议，由 exchange 校验）。",
        ),
        Permission.REGISTRY_REVIEW: (
            "Resolve linkage review pairs and quarantined rows of the registry.",
            "处理人员关联待审记录和隔离数据。",
        ),
        Permission.CASE_FILE: (
            "File a case for a resident at a window (首接负责).",
            "在窗口为居民受理办件（首接负责）。",
        ),
        Permission.CASE_READ: ("Read the cases of one's department.", "查看本部门办件。"),
        Permission.REVIEW_DECIDE: (
            "Decide one's department's review task of a case.",
            "对办件中本部门的审核事项作出决定。",
        ),
        Permission.POINTS_SIMULATE: (
            "Simulate a points policy reform over the applicant pool.",
            "对积分政策调整进行模拟测算。",
        ),
        Permission.INSIGHT_READ: (
            "See aggregates, forecasts, KPIs and warnings (no person-level data).",
            "查看汇总、预测、指标与预警（不含个人数据）。",
        ),
        Permission.ANALYTICS_EXPORT: (
            "Export pseudonymised data for analysis.",
            "导出假名化的分析数据。",
        ),
        Permission.USER_MANAGE: (
            "Create, disable and enable accounts; reset a password.",
            "创建、停用、启用账号，重置密码。",
        ),
        Permission.DEPARTMENT_MANAGE: ("Create and rename departments.", "创建和修改部门。"),
        Permission.SYSTEM_CONFIGURE: (
            "Change system settings: holiday notices, feed specifications.",
            "修改系统配置：节假日通知、数据接入规格等。",
        ),
        Permission.ROLE_GRANT: ("Grant and revoke roles.", "授予和撤销角色。"),
        Permission.ACCOUNT_UNLOCK: (
            "Unlock a locked user name; reset an account's second factor.",
            "解除用户名锁定，重置账号的第二因子。",
        ),
        Permission.SESSION_REVOKE: (
            "End every session of an account.",
            "强制结束某账号的全部会话。",
        ),
        Permission.KEY_ROTATE: (
            "Rotate the field-encryption keys.",
            "轮换字段加密密钥。",
        ),
        Permission.SECURITY_CONFIGURE: (
            "Change security policy (passwords, lockout, what may never be shared).",
            "修改安全策略（口令、锁定、禁止共享清单等）。",
        ),
        Permission.LEDGER_READ: ("Read the audit ledger.", "查看审计账本。"),
        Permission.LEDGER_VERIFY: (
            "Verify the audit ledger and its checkpoints.",
            "校验审计账本及其检查点。",
        ),
        Permission.SELF_READ: (
            "See one's own data and every access to it.",
            "查看本人数据及其全部访问记录。",
        ),
        Permission.SELF_EXPORT: (
            "Download everything the platform holds on oneself (PIPL Art. 45).",
            "下载平台持有的本人全部数据（《个人信息保护法》第四十五条）。",
        ),
        Permission.CONSENT_MANAGE: ("Give or withdraw one's own consent.", "授予或撤回本人同意。"),
        Permission.CASE_APPLY: (
            "Apply for a service for oneself.",
            "为本人申请办理事项。",
        ),
    }
)

_P = Permission
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        # Front-line roles see the plan's KPIs (aggregates only): their work is measured
        # against them (秒批率, 办理时长, 好差评), and 效能监督 shows staff the figures.
        Role.WINDOW_CLERK: frozenset({_P.PERSON_READ, _P.CASE_FILE, _P.CASE_READ, _P.INSIGHT_READ}),
        Role.DEPARTMENT_REVIEWER: frozenset(
            {_P.PERSON_READ, _P.PERSON_UNMASK, _P.CASE_READ, _P.REVIEW_DECIDE, _P.INSIGHT_READ}
        ),
        Role.DATA_OFFICER: frozenset(
            {
                _P.PERSON_READ,
                _P.PERSON_UNMASK,
                _P.PERSON_BATCH_READ,
                _P.AGREEMENT_READ,
                _P.AGREEMENT_PROPOSE,
                _P.AGREEMENT_APPROVE,
                _P.REGISTRY_REVIEW,
                _P.INSIGHT_READ,
            }
        ),
        Role.ANALYST: frozenset({_P.INSIGHT_READ, _P.POINTS_SIMULATE, _P.ANALYTICS_EXPORT}),
        Role.SYSTEM_ADMIN: frozenset({_P.USER_MANAGE, _P.DEPARTMENT_MANAGE, _P.SYSTEM_CONFIGURE}),
        Role.SECURITY_ADMIN: frozenset(
            {
                _P.ROLE_GRANT,
                _P.ACCOUNT_UNLOCK,
                _P.SESSION_REVOKE,
                _P.KEY_ROTATE,
                _P.SECURITY_CONFIGURE,
            }
        ),
        Role.AUDIT_ADMIN: frozenset({_P.LEDGER_READ, _P.LEDGER_VERIFY, _P.AGREEMENT_READ}),
        Role.RESIDENT: frozenset({_P.SELF_READ, _P.SELF_EXPORT, _P.CONSENT_MANAGE, _P.CASE_APPLY}),
    }
)
"""Role → permissions. Auditors read agreements to compare them with the accesses."""

ADMIN_ROLES: frozenset[Role] = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
"""The three administrators of 三权分立: an account holds at most one of them."""

SECOND_FACTOR_ROLES: frozenset[Role] = ADMIN_ROLES | {Role.DATA_OFFICER}
"""Roles whose holders must pass a TOTP second factor at every login."""

STAFF_ROLES: frozenset[Role] = frozenset(Role) - {Role.RESIDENT}
"""Roles a staff account may hold; a resident account holds only :attr:`Role.RESIDENT`."""


def permissions_of(roles: Iterable[Role | str]) -> frozenset[Permission]:
    """The union of the permissions of ``roles`` (unknown role names raise ValueError)."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)


def requires_second_factor(roles: Iterable[Role | str]) -> bool:
    """Whether an account holding ``roles`` must pass a second factor to log in."""
    return any(Role(role) in SECOND_FACTOR_ROLES for role in roles)


def check_roles(kind: AccountKind | str, roles: Iterable[Role | str]) -> frozenset[Role]:
    """``roles`` as a set if an account of ``kind`` may hold them all at once.

    Raises :class:`SeparationOfDutiesError` for two or more administrator roles,
    :class:`RoleKindError` for a staff role on a resident or the resident role on
    staff (a resident account must never gain staff rights by a mistaken grant).
    """
    held = frozenset(Role(role) for role in roles)
    admins = held & ADMIN_ROLES
    if len(admins) > 1:
        raise SeparationOfDutiesError(admins)
    account_kind = AccountKind(kind)
    allowed = STAFF_ROLES if account_kind is AccountKind.STAFF else {Role.RESIDENT}
    for role in sorted(held):
        if role not in allowed:
            raise RoleKindError(role, account_kind)
    return held


def check_grant(
    kind: AccountKind | str,
    held: Iterable[Role | str],
    role: Role | str,
    *,
    user_id: str,
    granted_by: str | None,
) -> frozenset[Role]:
    """The roles after granting ``role``, or the :class:`~hukou.accounts.errors.RoleError`.

    ``granted_by`` is the granting account (``None`` for the installer's bootstrap);
    nobody grants a role to themselves.
    """
    if granted_by is not None and granted_by == user_id:
        raise SelfGrantError
    return check_roles(kind, {*held, role})
