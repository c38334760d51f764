"""The account store: departments, accounts, roles, and the login flow, on the database.

One :class:`AccountStore` per process holds the configuration (field cipher,
server secret, policies, clock); every method takes the SQLAlchemy session of
the caller's transaction, so an HTTP route does::

    with session_scope(engine) as db:
        result = store.login(db, form.username, form.password, client_address=ip)

The login methods never raise for a refusal: they return a :class:`LoginResult`,
so that the caller's transaction commits the failure counters and attempts.
Administrative methods raise the errors of :mod:`hukou.accounts.errors`; they do
not check the caller's permission, which is the route's job
(``require(actor, Permission.USER_MANAGE)``) and keeps the store usable from the
installer and the command line.

The login flow:

1. the rate limits (per typed user name, per client address) — ``rate_limited``;
2. the lockout of the typed user name — ``locked``;
3. one argon2id verification, against the account's hash or, when there is no
   such (enabled) account, against a dummy hash — ``refused`` either way, with the
   same message, after the same work;
4. a correct password with a second factor due — ``needs_second_factor`` and a
   short-lived pending token (plus a new TOTP secret if none is enrolled yet); the
   code goes to :meth:`AccountStore.verify_second_factor`;
5. otherwise — ``ok``, a fresh session id, its CSRF token, and when it expires.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hukou.accounts.access import ActiveSession
from hukou.accounts.clock import Clock, as_utc, utc_now
from hukou.accounts.errors import (
    DepartmentExistsError,
    Message,
    PasswordPolicyError,
    ResidentAccountExistsError,
    SeparationOfDutiesError,
    UnknownDepartmentError,
    UnknownUserError,
    UsernameTakenError,
)
from hukou.accounts.events import AccountEvent, EventSink, ignore_events
from hukou.accounts.lockout import (
    DEFAULT_LOCKOUT,
    DEFAULT_RATE_LIMITS,
    LockoutPolicy,
    LockoutState,
    RateLimits,
    register_failure,
)
from hukou.accounts.model import (
    DepartmentRow,
    LoginAttemptRow,
    LoginCounterRow,
    SessionRow,
    UserRoleRow,
    UserRow,
)
from hukou.accounts.passwords import (
    RESIDENT_POLICY,
    STAFF_POLICY,
    PasswordHashing,
    PasswordPolicy,
)
from hukou.accounts.roles import (
    ADMIN_ROLES,
    AccountKind,
    Department,
    Level,
    Role,
    check_grant,
    check_roles,
    permissions_of,
    requires_second_factor,
)
from hukou.accounts.sessions import (
    DEFAULT_SESSIONS,
    Expiry,
    SessionPolicy,
    csrf_token,
    expires_at,
    needs_touch,
    new_token,
    session_expiry,
    token_key,
)
from hukou.accounts.totp import (
    ISSUER,
    SECRET_BYTES,
    TotpEnrolment,
    new_secret,
    provisioning_uri,
    secret_from_base32,
    secret_to_base32,
    verify_code,
)
from hukou.accounts.usernames import fold_username, normalise_username
from hukou.security.fields import FieldCipher
from hukou.security.sm import DecryptionError, HmacSM3, hmac_sm3

__all__ = [
    "TOTP_CONTEXT",
    "Account",
    "AccountStore",
    "LoginOutcome",
    "LoginResult",
]

TOTP_CONTEXT = "accounts.user.totp_secret"
"""The FieldCipher context of the TOTP secret column."""

_STAGE_SECOND_FACTOR = "second_factor"
_STAGE_ACTIVE = "active"
_MIN_SECRET_BYTES = 16
_STALE_COUNTER = datetime.timedelta(days=1)


class LoginOutcome(StrEnum):
    """How a login step ended."""

    OK = "ok"
    NEEDS_SECOND_FACTOR = "needs_second_factor"
    REFUSED = "refused"
    LOCKED = "locked"
    RATE_LIMITED = "rate_limited"


_OK = Message("login.ok", "Logged in.", "登录成功。")
_SECOND_FACTOR = Message(
    "login.second_factor",
    "Enter the 6-digit code from your authenticator app.",
    "请输入身份验证器应用中的 6 位动态码。",
)
_ENROL = Message(
    "login.enrol_second_factor",
    "This account needs a second factor: add it to an authenticator app, then enter the "
    "6-digit code the app shows.",
    "该账号须使用第二因子：请将其添加到身份验证器应用，然后输入应用显示的 6 位动态码。",
)
_REFUSED = Message("login.refused", "Wrong user name or password.", "用户名或密码错误。")
_WRONG_CURRENT = Message(
    "password.wrong_current", "The current password is wrong.", "当前密码错误。"
)
_UNCHANGED = Message(
    "password.unchanged",
    "Choose a password different from the current one.",
    "新密码不得与当前密码相同。",
)
_CHANGED = Message("password.changed", "The password has been changed.", "密码已修改。")
_CODE_REFUSED = Message(
    "login.code_refused",
    "The code was not accepted. Enter the current code, or log in again.",
    "动态码不正确或已失效，请输入当前动态码或重新登录。",
)


def _wait(code: str, en: str, zh: str, until: datetime.datetime, now: datetime.datetime) -> Message:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return Message(code, en.format(minutes=minutes), zh.format(minutes=minutes))


def _locked(until: datetime.datetime, now: datetime.datetime) -> Message:
    return _wait(
        "login.locked",
        "Too many failed attempts for this user name; try again in {minutes} minute(s).",
        "该用户名登录失败次数过多，请 {minutes} 分钟后再试。",
        until,
        now,
    )


def _rate_limited(until: datetime.datetime, now: datetime.datetime) -> Message:
    return _wait(
        "login.rate_limited",
        "Too many login attempts; try again in {minutes} minute(s).",
        "登录尝试过于频繁，请 {minutes} 分钟后再试。",
        until,
        now,
    )


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The answer to a login step; ``token`` and ``csrf_token`` never show in its repr.

    - ``ok``: ``token`` is the new session id (set it as an HttpOnly, Secure,
      SameSite=Strict cookie), ``csrf_token`` its CSRF token, ``expires_at`` when
      it ends if unused;
    - ``needs_second_factor``: ``token`` is a pending token valid for a few minutes,
      only for :meth:`AccountStore.verify_second_factor`; ``enrolment`` is set when
      the account has no authenticator yet (show its QR code once);
    - ``refused``, ``locked``, ``rate_limited``: no token; ``retry_after`` for the
      last two. ``refused`` never says whether the account exists.

    :meth:`AccountStore.change_password` answers with the same type (``ok``,
    ``refused`` for a wrong current password, ``locked``).
    """

    outcome: LoginOutcome
    message: Message
    token: str | None = field(default=None, repr=False)
    csrf_token: str | None = field(default=None, repr=False)
    expires_at: datetime.datetime | None = None
    retry_after: datetime.datetime | None = None
    enrolment: TotpEnrolment | None = None
    password_change_due: bool = False

    @property
    def ok(self) -> bool:
        """Whether the user is now logged in."""
        return self.outcome is LoginOutcome.OK


@dataclass(frozen=True, slots=True)
class Account:
    """An account as administrators see it: no hash, no secret."""

    id: str
    kind: AccountKind
    username: str
    display_name: str
    department_code: str | None
    person_id: str | None
    roles: frozenset[Role]
    disabled: bool
    second_factor_enrolled: bool
    must_change_password: bool


class AccountStore:
    """Accounts and logins over the caller's database session; one per process.

    ``secret_key`` is the server secret (``HUKOU_SECRET_KEY``); separate keys are
    derived from it for CSRF tokens and for the keyed digests of typed user names
    and client addresses. Changing it ends every CSRF token and restarts the
    login counters, nothing else. ``hashing`` defaults to argon2id with RFC 9106's
    low-memory profile; tests pass cheaper parameters.
    """

    def __init__(
        self,
        cipher: FieldCipher,
        secret_key: bytes | str,
        *,
        hashing: PasswordHashing | None = None,
        clock: Clock = utc_now,
        lockout: LockoutPolicy = DEFAULT_LOCKOUT,
        rate_limits: RateLimits = DEFAULT_RATE_LIMITS,
        sessions: SessionPolicy = DEFAULT_SESSIONS,
        password_max_age: datetime.timedelta | None = datetime.timedelta(days=90),
        issuer: str = ISSUER,
        on_event: EventSink = ignore_events,
    ) -> None:
        secret = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
        if len(secret) < _MIN_SECRET_BYTES:
            raise ValueError(f"the secret key needs at least {_MIN_SECRET_BYTES} bytes")
        self._cipher = cipher
        self._csrf_key = hmac_sm3(secret, b"hukou.accounts.csrf-key")
        self._name_mac = HmacSM3(hmac_sm3(secret, b"hukou.accounts.username-key"))
        self._address_mac = HmacSM3(hmac_sm3(secret, b"hukou.accounts.address-key"))
        self._hashing = hashing or PasswordHashing()
        self._clock = clock
        self.lockout = lockout
        self.rate_limits = rate_limits
        self.sessions = sessions
        self.password_max_age = password_max_age
        self.issuer = issuer
        self._emit = on_event

    def __repr__(self) -> str:
        return f"AccountStore({self._hashing!r}, <secrets hidden>)"

    # --- plumbing ---------------------------------------------------------------------

    def _now(self) -> datetime.datetime:
        return as_utc(self._clock())

    def _name_key(self, folded: str) -> str:
        return self._name_mac.digest(folded.encode("utf-8")).hex()

    def _address_key(self, address: str | None) -> str:
        return self._address_mac.digest((address or "").encode("utf-8")).hex()

    def _event(
        self,
        db: Session,
        kind: str,
        *,
        user_id: str | None = None,
        actor_id: str | None = None,
        detail: str = "",
    ) -> None:
        self._emit(db, AccountEvent(kind, self._now(), user_id, actor_id, str(detail)))

    def _user(self, db: Session, user_id: str) -> UserRow:
        row = db.get(UserRow, user_id)
        if row is None:
            raise UnknownUserError
        return row

    def _roles(self, db: Session, user_id: str) -> frozenset[Role]:
        names = db.scalars(select(UserRoleRow.role).where(UserRoleRow.user_id == user_id))
        return frozenset(Role(name) for name in names)

    def _account(self, db: Session, row: UserRow, roles: frozenset[Role] | None = None) -> Account:
        return Account(
            id=row.id,
            kind=AccountKind(row.kind),
            username=row.username,
            display_name=row.display_name,
            department_code=row.department_code,
            person_id=row.person_id,
            roles=self._roles(db, row.id) if roles is None else roles,
            disabled=row.disabled,
            second_factor_enrolled=row.totp_confirmed,
            must_change_password=row.must_change_password,
        )

    def _end_sessions(self, db: Session, user_id: str, *, keep: str | None = None) -> int:
        query = delete(SessionRow).where(SessionRow.user_id == user_id)
        if keep is not None:
            query = query.where(SessionRow.key != keep)
        return int(db.execute(query).rowcount)  # type: ignore[attr-defined]

    # --- departments ------------------------------------------------------------------

    def create_department(
        self,
        db: Session,
        code: str,
        name: str,
        level: Level | str,
        *,
        actor_id: str | None = None,
    ) -> Department:
        """Add a department; :class:`DepartmentExistsError` if the code is taken."""
        department = Department(code, name.strip(), Level(level))
        if db.get(DepartmentRow, code) is not None:
            raise DepartmentExistsError(code)
        db.add(
            DepartmentRow(
                code=department.code,
                name=department.name,
                level=department.level.value,
                created_at=self._now(),
            )
        )
        db.flush()
        self._event(db, "department.created", actor_id=actor_id, detail=code)
        return department

    def department(self, db: Session, code: str) -> Department:
        """The department with ``code``; :class:`UnknownDepartmentError` if none."""
        row = db.get(DepartmentRow, code)
        if row is None:
            raise UnknownDepartmentError(code)
        return Department(row.code, row.name, Level(row.level))

    def departments(self, db: Session) -> tuple[Department, ...]:
        """Every department, by code."""
        rows = db.scalars(select(DepartmentRow).order_by(DepartmentRow.code))
        return tuple(Department(row.code, row.name, Level(row.level)) for row in rows)

    # --- accounts ---------------------------------------------------------------------

    def policy_for(self, kind: AccountKind | str) -> PasswordPolicy:
        """The password policy of an account kind."""
        return STAFF_POLICY if AccountKind(kind) is AccountKind.STAFF else RESIDENT_POLICY

    def create_user(
        self,
        db: Session,
        *,
        kind: AccountKind | str,
        username: str,
        password: str,
        display_name: str,
        department_code: str | None = None,
        person_id: str | None = None,
        roles: Iterable[Role | str] = (),
        created_by: str | None = None,
        must_change_password: bool = True,
    ) -> Account:
        """Create an account; the password must meet the kind's policy.

        A staff account names its department; a resident account names its registry
        person and always holds the resident role. ``roles`` are granted at once
        (for the installer's first administrators; later grants go through
        :meth:`grant_role`). ``must_change_password`` defaults to true: a password
        an administrator chose is known to two people.
        """
        account_kind = AccountKind(kind)
        name = normalise_username(username)
        self.policy_for(account_kind).check(password, username=name)
        if not display_name.strip():
            raise ValueError("an account needs a display name")
        held = set(roles)
        if account_kind is AccountKind.STAFF:
            if department_code is None or person_id is not None:
                raise ValueError("a staff account has a department and no registry person")
            self.department(db, department_code)
        else:
            if person_id is None or department_code is not None:
                raise ValueError("a resident account has a registry person and no department")
            held.add(Role.RESIDENT)
            if db.scalar(select(UserRow.id).where(UserRow.person_id == person_id)):
                raise ResidentAccountExistsError
        granted = check_roles(account_kind, held)
        if db.scalar(select(UserRow.id).where(UserRow.username == name)):
            raise UsernameTakenError
        now = self._now()
        row = UserRow(
            id=str(uuid.uuid4()),
            kind=account_kind.value,
            username=name,
            display_name=display_name.strip(),
            department_code=department_code,
            person_id=person_id,
            password_hash=self._hashing.hash(password),
            password_changed_at=now,
            must_change_password=must_change_password,
            totp_secret=None,
            totp_confirmed=False,
            totp_last_step=None,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        try:
            db.flush()
        except IntegrityError:  # a concurrent creation took the name (or the person)
            raise UsernameTakenError from None
        for role in sorted(granted):
            db.add(UserRoleRow(user_id=row.id, role=role.value, granted_at=now, granted_by=None))
        db.flush()
        self._event(db, "user.created", user_id=row.id, actor_id=created_by, detail=kind)
        for role in sorted(granted):
            self._event(db, "role.granted", user_id=row.id, actor_id=created_by, detail=role)
        return self._account(db, row)

    def account(self, db: Session, user_id: str) -> Account:
        """The account with ``user_id``; :class:`UnknownUserError` if none."""
        return self._account(db, self._user(db, user_id))

    def find_account(self, db: Session, username: str) -> Account | None:
        """The account with this user name (any typing of it), or ``None``."""
        row = db.scalars(select(UserRow).where(UserRow.username == fold_username(username)))
        found = row.one_or_none()
        return None if found is None else self._account(db, found)

    def staff_accounts(
        self,
        db: Session,
        *,
        department_code: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> tuple[Account, ...]:
        """Staff accounts by user name, a page at a time (``limit`` from ``offset``).

        Staff only: residents are many and are found one at a time by user name
        (:meth:`find_account`), so that administering accounts never means paging
        through the population.
        """
        query = select(UserRow).where(UserRow.kind == AccountKind.STAFF.value)
        if department_code is not None:
            query = query.where(UserRow.department_code == department_code)
        rows = db.scalars(query.order_by(UserRow.username).limit(limit).offset(offset)).all()
        held: dict[str, set[Role]] = {row.id: set() for row in rows}
        if held:
            found = select(UserRoleRow.user_id, UserRoleRow.role)
            for user_id, role in db.execute(found.where(UserRoleRow.user_id.in_(held))):
                held[user_id].add(Role(role))
        return tuple(self._account(db, row, frozenset(held[row.id])) for row in rows)

    def lockouts(self, db: Session, usernames: Iterable[str]) -> dict[str, datetime.datetime]:
        """User name → until when it is locked, for those of ``usernames`` locked now."""
        keys = {self._name_key(fold_username(name)): name for name in usernames}
        if not keys:
            return {}
        rows = db.execute(
            select(LoginCounterRow.username_key, LoginCounterRow.locked_until).where(
                LoginCounterRow.username_key.in_(keys),
                LoginCounterRow.locked_until.is_not(None),
            )
        )
        now = self._now()
        return {
            keys[key]: as_utc(until)
            for key, until in rows
            if until is not None and as_utc(until) > now
        }

    def grant_role(
        self, db: Session, user_id: str, role: Role | str, *, granted_by: str | None
    ) -> Account:
        """Grant ``role``; a role already held is left as it is.

        Refused with :class:`SeparationOfDutiesError` when it would give the account
        a second administrator role (三权分立), :class:`RoleKindError` for the wrong
        account kind, :class:`SelfGrantError` when ``granted_by`` is the account.
        """
        row = self._user(db, user_id)
        held = self._roles(db, user_id)
        wanted = Role(role)
        check_grant(row.kind, held, wanted, user_id=user_id, granted_by=granted_by)
        if wanted in held:
            return self._account(db, row)
        db.add(
            UserRoleRow(
                user_id=user_id, role=wanted.value, granted_at=self._now(), granted_by=granted_by
            )
        )
        try:
            db.flush()
        except IntegrityError:
            # A concurrent transaction granted another administrator role: the partial
            # unique index refused this one. The transaction is spoilt; the caller's
            # session_scope rolls it back.
            raise SeparationOfDutiesError((held & ADMIN_ROLES) | {wanted}) from None
        self._event(db, "role.granted", user_id=user_id, actor_id=granted_by, detail=wanted)
        return self._account(db, row)

    def revoke_role(
        self, db: Session, user_id: str, role: Role | str, *, revoked_by: str | None
    ) -> Account:
        """Revoke ``role`` (a no-op if not held); effective at the account's next request."""
        row = self._user(db, user_id)
        wanted = Role(role)
        removed = db.execute(
            delete(UserRoleRow).where(
                UserRoleRow.user_id == user_id, UserRoleRow.role == wanted.value
            )
        )
        if removed.rowcount:  # type: ignore[attr-defined]
            self._event(db, "role.revoked", user_id=user_id, actor_id=revoked_by, detail=wanted)
        return self._account(db, row)

    def set_disabled(
        self, db: Session, user_id: str, disabled: bool, *, actor_id: str | None
    ) -> Account:
        """Disable (ending every session) or re-enable an account.

        Accounts are disabled, never deleted: the ledger refers to them for ever.
        """
        row = self._user(db, user_id)
        row.disabled = disabled
        row.updated_at = self._now()
        if disabled:
            self._end_sessions(db, user_id)
        db.flush()
        kind = "user.disabled" if disabled else "user.enabled"
        self._event(db, kind, user_id=user_id, actor_id=actor_id)
        return self._account(db, row)

    def reset_password(
        self, db: Session, user_id: str, new_password: str, *, actor_id: str | None
    ) -> Account:
        """Set a password chosen by an administrator; it must be changed at next login."""
        row = self._user(db, user_id)
        self.policy_for(row.kind).check(new_password, username=row.username)
        now = self._now()
        row.password_hash = self._hashing.hash(new_password)
        row.password_changed_at = now
        row.must_change_password = True
        row.updated_at = now
        self._end_sessions(db, user_id)
        db.flush()
        self._event(db, "password.reset", user_id=user_id, actor_id=actor_id)
        return self._account(db, row)

    def change_password(
        self,
        db: Session,
        actor: ActiveSession,
        current_password: str,
        new_password: str,
        *,
        client_address: str | None = None,
    ) -> LoginResult:
        """The logged-in user changes their own password; their other sessions end.

        A new password that breaks the policy (or equals the current one) raises
        :class:`PasswordPolicyError` before anything is checked. A wrong current
        password is answered, not raised, like a failed login: it counts towards the
        user name's lockout and the caller's transaction must commit that, so a
        stolen session cannot guess the password freely. The failure that locks
        the name also ends every session of the account.
        """
        row = self._user(db, actor.user_id)
        violations = list(self.policy_for(row.kind).violations(new_password, username=row.username))
        if new_password == current_password:
            violations.append(_UNCHANGED)
        if violations:
            raise PasswordPolicyError(violations)
        now = self._now()
        name_key = self._name_key(row.username)
        address_key = self._address_key(client_address)
        counter = self._counter(db, name_key)
        state = self._state(counter)
        if state.is_locked(now) and state.locked_until is not None:
            return LoginResult(
                LoginOutcome.LOCKED,
                _locked(state.locked_until, now),
                retry_after=state.locked_until,
            )
        if not self._hashing.verify(row.password_hash, current_password).ok:
            result = self._refuse(
                db,
                now,
                name_key,
                address_key,
                counter,
                user_id=row.id,
                message=_WRONG_CURRENT,
                event="password.change_refused",
            )
            if result.outcome is LoginOutcome.LOCKED:
                self._end_sessions(db, row.id)
            return result
        row.password_hash = self._hashing.hash(new_password)
        row.password_changed_at = now
        row.must_change_password = False
        row.updated_at = now
        self._end_sessions(db, row.id, keep=actor.session_key)
        db.flush()
        self._event(db, "password.changed", user_id=row.id)
        return LoginResult(LoginOutcome.OK, _CHANGED)

    def reset_second_factor(self, db: Session, user_id: str, *, actor_id: str | None) -> Account:
        """Forget the account's authenticator (a lost phone); it enrols anew at next login."""
        return self._set_second_factor(db, user_id, None, "second_factor.reset", actor_id)

    def provision_second_factor(
        self, db: Session, user_id: str, secret: bytes, *, actor_id: str | None
    ) -> Account:
        """Enrol an authenticator whose secret was made outside a login (a hardware
        token issued with its seed, or the demo's printed secrets): the account's next
        login asks for a code at once, with no enrolment step."""
        if len(secret) < SECRET_BYTES:  # RFC 4226 §4: at least 128 bits, 160 recommended
            raise ValueError(f"a TOTP secret has at least {SECRET_BYTES} bytes")
        return self._set_second_factor(db, user_id, secret, "second_factor.provisioned", actor_id)

    def _set_second_factor(
        self, db: Session, user_id: str, secret: bytes | None, kind: str, actor_id: str | None
    ) -> Account:
        """Replace the authenticator (``None``: none) and end the account's sessions."""
        row = self._user(db, user_id)
        row.totp_secret = (
            None
            if secret is None
            else self._cipher.encrypt(secret_to_base32(secret), context=TOTP_CONTEXT)
        )
        row.totp_confirmed = secret is not None
        row.totp_last_step = None
        row.updated_at = self._now()
        self._end_sessions(db, user_id)
        db.flush()
        self._event(db, kind, user_id=user_id, actor_id=actor_id)
        return self._account(db, row)

    def unlock(self, db: Session, username: str, *, actor_id: str | None) -> bool:
        """Lift the lockout of a user name; True if it had failures on record."""
        removed = db.execute(
            delete(LoginCounterRow).where(
                LoginCounterRow.username_key == self._name_key(fold_username(username))
            )
        )
        found = bool(removed.rowcount)  # type: ignore[attr-defined]
        account = self.find_account(db, username)
        self._event(
            db, "user.unlocked", user_id=None if account is None else account.id, actor_id=actor_id
        )
        return found

    # --- login ------------------------------------------------------------------------

    def _retry_after(
        self, db: Session, name_key: str, address_key: str, now: datetime.datetime
    ) -> datetime.datetime | None:
        waits = []
        for column, key, rule in (
            (LoginAttemptRow.username_key, name_key, self.rate_limits.per_username),
            (LoginAttemptRow.address_key, address_key, self.rate_limits.per_address),
        ):
            recent = db.scalars(
                select(LoginAttemptRow.at)
                .where(column == key, LoginAttemptRow.at > rule.window_start(now))
                .order_by(LoginAttemptRow.at.desc())
                .limit(rule.limit)
            )
            wait = rule.retry_after([as_utc(at) for at in recent], now)
            if wait is not None:
                waits.append(wait)
        return max(waits, default=None)

    def _attempt(
        self,
        db: Session,
        now: datetime.datetime,
        name_key: str,
        address_key: str,
        *,
        succeeded: bool,
    ) -> None:
        db.add(
            LoginAttemptRow(
                at=now, username_key=name_key, address_key=address_key, succeeded=succeeded
            )
        )

    def _counter(self, db: Session, name_key: str) -> LoginCounterRow | None:
        query = select(LoginCounterRow).where(LoginCounterRow.username_key == name_key)
        return db.scalars(query.with_for_update()).one_or_none()

    @staticmethod
    def _state(counter: LoginCounterRow | None) -> LockoutState:
        if counter is None:
            return LockoutState()
        until = None if counter.locked_until is None else as_utc(counter.locked_until)
        return LockoutState(counter.failures, until)

    def _count_failure(
        self,
        db: Session,
        name_key: str,
        counter: LoginCounterRow | None,
        now: datetime.datetime,
    ) -> LockoutState:
        state = register_failure(self._state(counter), now, self.lockout)
        if counter is not None:  # locked FOR UPDATE when it was read (PostgreSQL)
            counter.failures = state.failures
            counter.locked_until = state.locked_until
            counter.updated_at = now
            db.flush()
            return state
        # No row yet: an upsert, so that two first failures at once cannot collide.
        dialect = sqlite if db.get_bind().dialect.name == "sqlite" else postgresql
        values = {
            "username_key": name_key,
            "failures": state.failures,
            "locked_until": state.locked_until,
            "updated_at": now,
        }
        statement = dialect.insert(LoginCounterRow).values(**values)
        db.execute(
            statement.on_conflict_do_update(
                index_elements=[LoginCounterRow.username_key],
                set_={
                    "failures": statement.excluded.failures,
                    "locked_until": statement.excluded.locked_until,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
        return state

    def _refuse(
        self,
        db: Session,
        now: datetime.datetime,
        name_key: str,
        address_key: str,
        counter: LoginCounterRow | None,
        *,
        user_id: str | None,
        message: Message,
        event: str = "login.failed",
    ) -> LoginResult:
        self._attempt(db, now, name_key, address_key, succeeded=False)
        state = self._count_failure(db, name_key, counter, now)
        self._event(db, event, user_id=user_id)
        if state.is_locked(now) and state.locked_until is not None:
            self._event(db, "login.locked", user_id=user_id)
            return LoginResult(
                LoginOutcome.LOCKED,
                _locked(state.locked_until, now),
                retry_after=state.locked_until,
            )
        return LoginResult(LoginOutcome.REFUSED, message)

    def _open_session(self, db: Session, user_id: str, stage: str, now: datetime.datetime) -> str:
        token = new_token()
        db.add(
            SessionRow(
                key=token_key(token),
                user_id=user_id,
                stage=stage,
                created_at=now,
                last_seen_at=now,
            )
        )
        db.flush()
        return token

    def _password_change_due(self, row: UserRow, now: datetime.datetime) -> bool:
        if row.must_change_password:
            return True
        age = now - as_utc(row.password_changed_at)
        return self.password_max_age is not None and age >= self.password_max_age

    def _succeed(
        self,
        db: Session,
        row: UserRow,
        now: datetime.datetime,
        name_key: str,
        address_key: str,
    ) -> LoginResult:
        self._attempt(db, now, name_key, address_key, succeeded=True)
        db.execute(delete(LoginCounterRow).where(LoginCounterRow.username_key == name_key))
        token = self._open_session(db, row.id, _STAGE_ACTIVE, now)
        self._event(db, "login.succeeded", user_id=row.id)
        return LoginResult(
            LoginOutcome.OK,
            _OK,
            token=token,
            csrf_token=csrf_token(self._csrf_key, token),
            expires_at=expires_at(created_at=now, last_seen_at=now, policy=self.sessions),
            password_change_due=self._password_change_due(row, now),
        )

    def login(
        self,
        db: Session,
        username: str,
        password: str,
        *,
        client_address: str | None = None,
        previous_token: str | None = None,
    ) -> LoginResult:
        """Check a user name and password; see the module docstring for the steps.

        ``previous_token`` is whatever session id the client presented with the
        login form: it is deleted, never upgraded, so a session id planted before
        login (session fixation) is worthless after it.
        """
        now = self._now()
        if previous_token:
            db.execute(delete(SessionRow).where(SessionRow.key == token_key(previous_token)))
        folded = fold_username(username)
        name_key = self._name_key(folded)
        address_key = self._address_key(client_address)

        retry = self._retry_after(db, name_key, address_key, now)
        if retry is not None:
            self._event(db, "login.rate_limited")
            return LoginResult(
                LoginOutcome.RATE_LIMITED, _rate_limited(retry, now), retry_after=retry
            )

        counter = self._counter(db, name_key)
        state = self._state(counter)
        if state.is_locked(now) and state.locked_until is not None:
            self._attempt(db, now, name_key, address_key, succeeded=False)
            return LoginResult(
                LoginOutcome.LOCKED,
                _locked(state.locked_until, now),
                retry_after=state.locked_until,
            )

        row = db.scalars(select(UserRow).where(UserRow.username == folded)).one_or_none()
        if row is None:
            self._hashing.verify_dummy(password)
            return self._refuse(
                db, now, name_key, address_key, counter, user_id=None, message=_REFUSED
            )
        verdict = self._hashing.verify(row.password_hash, password)
        if not verdict.ok or row.disabled:
            return self._refuse(
                db, now, name_key, address_key, counter, user_id=row.id, message=_REFUSED
            )
        if verdict.needs_rehash:
            row.password_hash = self._hashing.hash(password)
            row.updated_at = now
            self._event(db, "password.rehashed", user_id=row.id)

        if not (row.totp_confirmed or requires_second_factor(self._roles(db, row.id))):
            return self._succeed(db, row, now, name_key, address_key)

        enrolment = None
        if not row.totp_confirmed:
            secret = new_secret()
            row.totp_secret = self._cipher.encrypt(secret_to_base32(secret), context=TOTP_CONTEXT)
            row.totp_last_step = None
            row.updated_at = now
            enrolment = TotpEnrolment(
                secret_to_base32(secret), provisioning_uri(secret, row.username, issuer=self.issuer)
            )
        self._attempt(db, now, name_key, address_key, succeeded=True)
        token = self._open_session(db, row.id, _STAGE_SECOND_FACTOR, now)
        self._event(db, "login.password_accepted", user_id=row.id)
        return LoginResult(
            LoginOutcome.NEEDS_SECOND_FACTOR,
            _SECOND_FACTOR if enrolment is None else _ENROL,
            token=token,
            expires_at=now + self.sessions.second_factor,
            enrolment=enrolment,
        )

    def verify_second_factor(
        self,
        db: Session,
        pending_token: str,
        code: str,
        *,
        client_address: str | None = None,
    ) -> LoginResult:
        """Check the TOTP code of a login that passed its password.

        On success the pending token is deleted and a fresh session id issued, and
        a first code confirms a new enrolment. A wrong code counts towards the
        user name's lockout (the pending token stays usable until it locks or
        expires), so the password holder gets a handful of guesses, not a million.
        """
        now = self._now()
        pending = db.get(SessionRow, token_key(pending_token)) if pending_token else None
        if pending is None or pending.stage != _STAGE_SECOND_FACTOR:
            return LoginResult(LoginOutcome.REFUSED, _CODE_REFUSED)
        row = db.get(UserRow, pending.user_id)
        if (
            row is None
            or row.disabled
            or row.totp_secret is None
            or now >= as_utc(pending.created_at) + self.sessions.second_factor
        ):
            db.delete(pending)
            return LoginResult(LoginOutcome.REFUSED, _CODE_REFUSED)

        name_key = self._name_key(row.username)
        address_key = self._address_key(client_address)
        retry = self._retry_after(db, name_key, address_key, now)
        if retry is not None:
            self._event(db, "login.rate_limited", user_id=row.id)
            return LoginResult(
                LoginOutcome.RATE_LIMITED, _rate_limited(retry, now), retry_after=retry
            )
        counter = self._counter(db, name_key)
        state = self._state(counter)
        if state.is_locked(now) and state.locked_until is not None:
            db.delete(pending)
            return LoginResult(
                LoginOutcome.LOCKED,
                _locked(state.locked_until, now),
                retry_after=state.locked_until,
            )

        try:
            secret = self._secret(row.totp_secret)
        except DecryptionError:
            db.delete(pending)
            return LoginResult(LoginOutcome.REFUSED, _CODE_REFUSED)
        step = verify_code(secret, code, at=now, last_used_step=row.totp_last_step)
        if step is None:
            result = self._refuse(
                db, now, name_key, address_key, counter, user_id=row.id, message=_CODE_REFUSED
            )
            if result.outcome is LoginOutcome.LOCKED:
                db.delete(pending)
            return result
        row.totp_last_step = step
        if not row.totp_confirmed:
            row.totp_confirmed = True
            self._event(db, "second_factor.enrolled", user_id=row.id)
        row.updated_at = now
        db.delete(pending)
        return self._succeed(db, row, now, name_key, address_key)

    def _secret(self, token: str) -> bytes:
        return secret_from_base32(self._cipher.decrypt(token, context=TOTP_CONTEXT))

    # --- sessions ---------------------------------------------------------------------

    def session_for(self, db: Session, token: str | None) -> ActiveSession | None:
        """The logged-in account of a session id, or ``None``; refreshes its idle time.

        An expired session is deleted when met; so is the session of an account
        disabled meanwhile. A pending second-factor token is not a session.
        """
        return self.sessions_for(db, [token])[0]

    def sessions_for(self, db: Session, tokens: Sequence[str | None]) -> list[ActiveSession | None]:
        """:meth:`session_for` of each token, in one query for the sessions, their
        accounts and their roles (a server asks this of every request: many at once
        are answered together, :mod:`hukou.accounts.web`)."""
        keys = {token: token_key(token) for token in tokens if token}
        rows: dict[str, list[Any]] = {}
        if keys:
            for found in db.execute(
                select(SessionRow, UserRow, UserRoleRow.role)
                .outerjoin(UserRow, UserRow.id == SessionRow.user_id)
                .outerjoin(UserRoleRow, UserRoleRow.user_id == SessionRow.user_id)
                .where(SessionRow.key.in_(set(keys.values())))
            ):
                rows.setdefault(found[0].key, []).append(found)
        now = self._now()
        answers: dict[str, ActiveSession | None] = {}
        for token, key in keys.items():
            answers[token] = self._active(db, token, rows.get(key, []), now)
        return [answers.get(token) if token else None for token in tokens]

    def _active(
        self, db: Session, token: str, found: Sequence[Any], now: datetime.datetime
    ) -> ActiveSession | None:
        """One session's rows (one per role of its account) as the caller, or ``None``."""
        if not found or found[0][0].stage != _STAGE_ACTIVE:
            return None
        row, user = found[0][0], found[0][1]
        created, last_seen = as_utc(row.created_at), as_utc(row.last_seen_at)
        expiry = session_expiry(
            created_at=created, last_seen_at=last_seen, now=now, policy=self.sessions
        )
        if expiry is not Expiry.ACTIVE or user is None or user.disabled:
            db.delete(row)
            db.flush()
            self._event(db, "session.expired", user_id=row.user_id, detail=expiry)
            return None
        if needs_touch(last_seen, now, self.sessions):
            row.last_seen_at = last_seen = now
        roles = frozenset(Role(name) for _row, _user, name in found if name is not None)
        return ActiveSession(
            session_key=row.key,
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            kind=AccountKind(user.kind),
            department_code=user.department_code,
            person_id=user.person_id,
            roles=roles,
            permissions=permissions_of(roles),
            created_at=created,
            expires_at=expires_at(created_at=created, last_seen_at=last_seen, policy=self.sessions),
            password_change_due=self._password_change_due(user, now),
            csrf_token=csrf_token(self._csrf_key, token),
        )

    def logout(self, db: Session, token: str | None) -> bool:
        """End the session (or pending login) with this id; True if there was one."""
        if not token:
            return False
        row = db.get(SessionRow, token_key(token))
        if row is None:
            return False
        db.delete(row)
        db.flush()
        self._event(db, "session.ended", user_id=row.user_id)
        return True

    def logout_all(self, db: Session, user_id: str, *, actor_id: str | None) -> int:
        """End every session of an account (forced logout); how many there were."""
        ended = self._end_sessions(db, user_id)
        self._event(db, "session.revoked", user_id=user_id, actor_id=actor_id, detail=str(ended))
        return ended

    def prune(self, db: Session) -> dict[str, int]:
        """Delete expired sessions, attempts older than any window, and stale counters.

        Nothing depends on pruning for correctness (expired rows are ignored where
        they are read); run it from a periodic job to keep the tables small.
        """
        now = self._now()
        oldest_window = max(
            self.rate_limits.per_username.window, self.rate_limits.per_address.window
        )
        attempts = db.execute(
            delete(LoginAttemptRow).where(LoginAttemptRow.at <= now - oldest_window)
        )
        counters = db.execute(
            delete(LoginCounterRow).where(
                LoginCounterRow.updated_at <= now - _STALE_COUNTER,
                (LoginCounterRow.locked_until.is_(None)) | (LoginCounterRow.locked_until <= now),
            )
        )
        policy = self.sessions
        sessions = db.execute(
            delete(SessionRow).where(
                or_(
                    and_(
                        SessionRow.stage == _STAGE_SECOND_FACTOR,
                        SessionRow.created_at <= now - policy.second_factor,
                    ),
                    SessionRow.created_at <= now - policy.absolute,
                    SessionRow.last_seen_at <= now - policy.idle,
                )
            )
        )
        return {
            "sessions": int(sessions.rowcount),  # type: ignore[attr-defined]
            "attempts": int(attempts.rowcount),  # type: ignore[attr-defined]
            "counters": int(counters.rowcount),  # type: ignore[attr-defined]
        }
