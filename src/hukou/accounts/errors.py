"""Messages (a code with English and Chinese text) and the exceptions of ``hukou.accounts``.

Every refusal carries a :class:`Message`: the console shows ``zh`` or ``en`` by the
user's language, an API returns the ``code``, and tests assert on the code so that
rewording a sentence breaks nothing. No message ever contains a password, a TOTP
secret or code, a session token or an identity number.

Exception hierarchy::

    AccountsError
    ├── PasswordPolicyError        a new password breaks the policy (all violations listed)
    ├── InvalidUsernameError       not a well-formed user name
    ├── UsernameTakenError
    ├── ResidentAccountExistsError a registry person has an account already
    ├── UnknownDepartmentError
    ├── DepartmentExistsError
    ├── UnknownUserError
    ├── RoleError                  a role set no account may hold
    │   ├── SeparationOfDutiesError    two of the three administrator roles (三权分立)
    │   ├── RoleKindError              a staff role on a resident account, or the reverse
    │   └── SelfGrantError             an account granting itself a role
    └── AccessError                what the HTTP layer turns into 401/403
        ├── NotAuthenticatedError      no valid session
        ├── PermissionDeniedError      a session without the permission asked for
        └── CsrfError                  a state-changing request without the session's token

>>> error = SeparationOfDutiesError(("audit_admin", "system_admin"))
>>> error.code
'role.separation_of_duties'
>>> print(error.message.zh)
三权分立：系统管理员、安全管理员、审计管理员三种角色不得由同一账号兼任（冲突：audit_admin、system_admin）。
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "AccessError",
    "AccountsError",
    "CsrfError",
    "DepartmentExistsError",
    "InvalidUsernameError",
    "Message",
    "NotAuthenticatedError",
    "PasswordPolicyError",
    "PermissionDeniedError",
    "ResidentAccountExistsError",
    "RoleError",
    "RoleKindError",
    "SelfGrantError",
    "SeparationOfDutiesError",
    "UnknownDepartmentError",
    "UnknownUserError",
    "UsernameTakenError",
]


@dataclass(frozen=True, slots=True)
class Message:
    """A user-facing sentence: a stable code, and its English and Chinese text."""

    code: str
    en: str
    zh: str

    def text(self, language: str) -> str:
        """The text in ``language`` (``"en"``, else Chinese, the console's default)."""
        return self.en if language.lower().startswith("en") else self.zh


class AccountsError(Exception):
    """Base of every error this package raises on purpose; ``str()`` is the English text."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(message.en)

    @property
    def code(self) -> str:
        """The message code, for APIs and tests."""
        return self.message.code


class PasswordPolicyError(AccountsError, ValueError):
    """A new password breaks the policy; ``violations`` lists every rule it breaks."""

    def __init__(self, violations: Iterable[Message]) -> None:
        self.violations = tuple(violations)
        super().__init__(
            Message(
                "password.policy",
                "The password does not meet the policy: " + " ".join(v.en for v in self.violations),
                "密码不符合策略要求：" + "".join(v.zh for v in self.violations),
            )
        )


class InvalidUsernameError(AccountsError, ValueError):
    """A user name outside the allowed shape (it is not repeated: it may be a typed password)."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "user.invalid_username",
                "A user name has 3 to 64 characters: letters, digits, '.', '_', '-' or '@', "
                "starting with a letter or digit.",
                "用户名须为 3 至 64 个字符，由字母、数字及 . _ - @ 组成，并以字母或数字开头。",
            )
        )


class UsernameTakenError(AccountsError):
    """Another account already has this user name."""

    def __init__(self) -> None:
        super().__init__(
            Message("user.username_taken", "This user name is taken.", "该用户名已被使用。")
        )


class ResidentAccountExistsError(AccountsError):
    """The registry person already has a resident account: one person, one account."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "user.resident_exists",
                "This person already has a resident account.",
                "该居民已有账号。",
            )
        )


class UnknownDepartmentError(AccountsError, LookupError):
    """No department has this code."""

    def __init__(self, code: str) -> None:
        self.department_code = code
        super().__init__(
            Message(
                "department.unknown",
                f"No department has the code {code!r}.",
                f"不存在代码为 {code!r} 的部门。",
            )
        )


class DepartmentExistsError(AccountsError):
    """A department with this code exists already."""

    def __init__(self, code: str) -> None:
        self.department_code = code
        super().__init__(
            Message(
                "department.exists",
                f"A department with the code {code!r} exists already.",
                f"代码为 {code!r} 的部门已存在。",
            )
        )


class UnknownUserError(AccountsError, LookupError):
    """No account has this id."""

    def __init__(self) -> None:
        super().__init__(Message("user.unknown", "No such account.", "账号不存在。"))


class RoleError(AccountsError, ValueError):
    """A set of roles that no account may hold."""


class SeparationOfDutiesError(RoleError):
    """Two of system, security and audit administrator on one account (三权分立).

    Separation of duties only works if no single person can both act and erase the
    trace (system + audit), or grant themselves what they configure (system + security).
    """

    def __init__(self, conflicting: Iterable[str]) -> None:
        self.conflicting = tuple(sorted(str(role) for role in conflicting))
        names_en = ", ".join(self.conflicting)
        names_zh = "、".join(self.conflicting)
        super().__init__(
            Message(
                "role.separation_of_duties",
                "Separation of duties: the system, security and audit administrator roles "
                f"cannot be held by one account (conflict: {names_en}).",
                "三权分立：系统管理员、安全管理员、审计管理员三种角色不得由同一账号兼任"
                f"（冲突：{names_zh}）。",
            )
        )


class RoleKindError(RoleError):
    """A staff role on a resident account, or the resident role on a staff account."""

    def __init__(self, role: str, kind: str) -> None:
        self.role = str(role)
        self.kind = str(kind)
        kind_zh = "居民" if self.kind == "resident" else "工作人员"
        super().__init__(
            Message(
                "role.wrong_account_kind",
                f"The role {self.role!r} cannot be held by a {self.kind} account.",
                f"{kind_zh}账号不能持有角色 {self.role!r}。",
            )
        )


class SelfGrantError(RoleError):
    """An account granting a role to itself: every grant needs a second person."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "role.self_grant",
                "An account cannot grant a role to itself.",
                "不得为本人账号授予角色。",
            )
        )


class AccessError(AccountsError):
    """A request that may not proceed; the HTTP layer maps these to 401 and 403."""


class NotAuthenticatedError(AccessError):
    """No valid session: never logged in, logged out, or timed out."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "session.required",
                "Please log in (the session has ended or does not exist).",
                "请登录（会话已结束或不存在）。",
            )
        )


class PermissionDeniedError(AccessError):
    """The session's roles do not grant the permission asked for."""

    def __init__(self, permission: str) -> None:
        self.permission = str(permission)
        super().__init__(
            Message(
                "permission.denied",
                f"This account lacks the permission {self.permission!r}.",
                f"当前账号没有权限 {self.permission!r}。",
            )
        )


class CsrfError(AccessError):
    """A state-changing request whose CSRF token is missing or not this session's."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "session.csrf",
                "The form has expired or did not come from this site; reload and try again.",
                "表单已过期或并非来自本站，请刷新后重试。",
            )
        )
