"""The account store on SQLite and PostgreSQL: login, second factor, lockout, sessions, roles."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hukou.accounts import (
    Account,
    AccountEvent,
    AccountKind,
    AccountStore,
    ActiveSession,
    CsrfError,
    DepartmentExistsError,
    InvalidUsernameError,
    Level,
    LoginOutcome,
    LoginResult,
    PasswordHashing,
    PasswordPolicyError,
    Permission,
    RateLimit,
    RateLimits,
    ResidentAccountExistsError,
    Role,
    RoleKindError,
    SelfGrantError,
    SeparationOfDutiesError,
    UnknownDepartmentError,
    UsernameTakenError,
)
from hukou.accounts.model import (
    LoginAttemptRow,
    SessionRow,
    UserRoleRow,
    UserRow,
)
from hukou.accounts.sessions import token_key
from hukou.accounts.store import TOTP_CONTEXT
from hukou.accounts.totp import secret_from_base32, totp_code
from hukou.db import session_scope
from hukou.security import FieldCipher

from .conftest import SECRET_KEY, STRONG, CountingHashing, FakeClock

pytestmark = pytest.mark.storage

ADDRESS = "10.1.2.3"


def make_user(
    engine: Engine,
    store: AccountStore,
    username: str = "wang.li",
    roles: tuple[Role, ...] = (Role.WINDOW_CLERK,),
    *,
    must_change_password: bool = False,
) -> Account:
    with session_scope(engine) as db:
        return store.create_user(
            db,
            kind=AccountKind.STAFF,
            username=username,
            password=STRONG,
            display_name="王丽",
            department_code="public_security",
            roles=roles,
            must_change_password=must_change_password,
        )


def login(
    engine: Engine,
    store: AccountStore,
    username: str = "wang.li",
    password: str = STRONG,
    **kwargs: str | None,
) -> LoginResult:
    kwargs.setdefault("client_address", ADDRESS)
    with session_scope(engine) as db:
        return store.login(db, username, password, **kwargs)


def second_factor(engine: Engine, store: AccountStore, token: str, code: str) -> LoginResult:
    with session_scope(engine) as db:
        return store.verify_second_factor(db, token, code, client_address=ADDRESS)


def session_for(engine: Engine, store: AccountStore, token: str | None) -> ActiveSession:
    """The session of ``token``; tests that expect none compare the result with ``None``."""
    with session_scope(engine) as db:
        return store.session_for(db, token)  # type: ignore[return-value]


def answer(result: LoginResult) -> tuple[object, ...]:
    """Everything a client can see of a refused login."""
    return (
        result.outcome,
        result.message,
        result.token,
        result.csrf_token,
        result.expires_at,
        result.retry_after,
        result.enrolment,
        result.password_change_due,
    )


# --- departments and accounts ----------------------------------------------------------


def test_departments(accounts_engine: Engine, store: AccountStore) -> None:
    with session_scope(accounts_engine) as db:
        store.create_department(db, "hr_social_security", "市人社局", "city")
        with pytest.raises(DepartmentExistsError):
            store.create_department(db, "public_security", "again", Level.CITY)
        assert [d.code for d in store.departments(db)] == ["hr_social_security", "public_security"]
        assert store.department(db, "public_security").level is Level.CITY
        with pytest.raises(UnknownDepartmentError):
            store.department(db, "tax")


def test_create_user_stores_an_argon2id_hash(accounts_engine: Engine, store: AccountStore) -> None:
    account = make_user(accounts_engine, store, "Wang.Li")
    assert account.username == "wang.li"
    assert account.roles == {Role.WINDOW_CLERK}
    with session_scope(accounts_engine) as db:
        row = db.get(UserRow, account.id)
        assert row is not None
        assert row.password_hash.startswith("$argon2id$v=19$")
        assert STRONG not in row.password_hash
        assert store.find_account(db, "ＷＡＮＧ.ＬＩ") == account


def test_create_user_refusals(accounts_engine: Engine, store: AccountStore) -> None:
    make_user(accounts_engine, store)
    with session_scope(accounts_engine) as db:
        common = {"kind": "staff", "display_name": "x", "department_code": "public_security"}
        with pytest.raises(UsernameTakenError):
            store.create_user(db, username="WANG.LI", password=STRONG, **common)  # type: ignore[arg-type]
        with pytest.raises(InvalidUsernameError):
            store.create_user(db, username="a b", password=STRONG, **common)  # type: ignore[arg-type]
        with pytest.raises(PasswordPolicyError) as weak:
            store.create_user(db, username="zhao.min", password="zhao.min2026", **common)  # type: ignore[arg-type]
        assert {v.code for v in weak.value.violations} == {"password.contains_username"}
        with pytest.raises(UnknownDepartmentError):
            store.create_user(
                db,
                kind="staff",
                username="zhao.min",
                password=STRONG,
                display_name="赵敏",
                department_code="tax",
            )
        with pytest.raises(SeparationOfDutiesError):
            store.create_user(
                db,
                roles=(Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),
                username="zhao.min",
                password=STRONG,
                **common,  # type: ignore[arg-type]
            )


def test_resident_accounts(accounts_engine: Engine, store: AccountStore) -> None:
    with session_scope(accounts_engine) as db:
        resident = store.create_user(
            db,
            kind=AccountKind.RESIDENT,
            username="13800138000",
            password="bluesky42",
            display_name="张三",
            person_id="P000000000001",
        )
        assert resident.roles == {Role.RESIDENT}
        with pytest.raises(ResidentAccountExistsError):
            store.create_user(
                db,
                kind="resident",
                username="another",
                password="bluesky42",
                display_name="张三",
                person_id="P000000000001",
            )
        with pytest.raises(RoleKindError):
            store.grant_role(db, resident.id, Role.WINDOW_CLERK, granted_by=None)
        with pytest.raises(ValueError, match="resident account has a registry person"):
            store.create_user(
                db,
                kind="resident",
                username="nobody",
                password="bluesky42",
                display_name="x",
            )
    result = login(accounts_engine, store, "13800138000", "bluesky42")
    assert result.ok
    actor = session_for(accounts_engine, store, result.token)
    assert actor.person_id == "P000000000001"
    assert actor.permissions == {
        Permission.SELF_READ,
        Permission.SELF_EXPORT,
        Permission.CONSENT_MANAGE,
        Permission.CASE_APPLY,
    }


# --- 三权分立 ---------------------------------------------------------------------------


@pytest.mark.parametrize("second", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_store_refuses_a_second_admin_role(
    accounts_engine: Engine, store: AccountStore, second: Role
) -> None:
    admin = make_user(accounts_engine, store, "sys.admin", (Role.SYSTEM_ADMIN,))
    granter = make_user(accounts_engine, store, "sec.admin", (Role.SECURITY_ADMIN,))
    with session_scope(accounts_engine) as db:
        with pytest.raises(SeparationOfDutiesError) as caught:
            store.grant_role(db, admin.id, second, granted_by=granter.id)
        assert set(caught.value.conflicting) == {"system_admin", second.value}
        assert store.account(db, admin.id).roles == {Role.SYSTEM_ADMIN}
        # an ordinary role beside one admin role is fine
        updated = store.grant_role(db, admin.id, Role.ANALYST, granted_by=granter.id)
        assert updated.roles == {Role.SYSTEM_ADMIN, Role.ANALYST}


def test_database_refuses_two_admin_roles_even_past_the_store(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    admin = make_user(accounts_engine, store, "sys.admin", (Role.SYSTEM_ADMIN, Role.ANALYST))
    with Session(accounts_engine) as db:  # straight to the table, no store in the way
        db.add(
            UserRoleRow(user_id=admin.id, role="audit_admin", granted_at=clock.now, granted_by=None)
        )
        with pytest.raises(IntegrityError):
            db.flush()
    with session_scope(accounts_engine) as db:  # a non-admin role still goes in
        db.add(
            UserRoleRow(
                user_id=admin.id, role="data_officer", granted_at=clock.now, granted_by=None
            )
        )
    with session_scope(accounts_engine) as db:
        assert store.account(db, admin.id).roles == {
            Role.SYSTEM_ADMIN,
            Role.ANALYST,
            Role.DATA_OFFICER,
        }


def test_self_grant_and_revoke(
    accounts_engine: Engine, store: AccountStore, events: list[AccountEvent]
) -> None:
    granter = make_user(accounts_engine, store, "sec.admin", (Role.SECURITY_ADMIN,))
    clerk = make_user(accounts_engine, store)
    with session_scope(accounts_engine) as db:
        with pytest.raises(SelfGrantError):
            store.grant_role(db, granter.id, Role.ANALYST, granted_by=granter.id)
        store.grant_role(db, clerk.id, Role.DEPARTMENT_REVIEWER, granted_by=granter.id)
        store.grant_role(db, clerk.id, Role.DEPARTMENT_REVIEWER, granted_by=granter.id)  # no-op
        granted_by = db.scalar(
            select(UserRoleRow.granted_by).where(
                UserRoleRow.user_id == clerk.id, UserRoleRow.role == "department_reviewer"
            )
        )
        assert granted_by == granter.id
    result = login(accounts_engine, store)
    assert session_for(accounts_engine, store, result.token).has(Permission.REVIEW_DECIDE)
    with session_scope(accounts_engine) as db:
        store.revoke_role(db, clerk.id, Role.DEPARTMENT_REVIEWER, revoked_by=granter.id)
    # the very next request no longer has it: permissions are computed per request
    assert not session_for(accounts_engine, store, result.token).has(Permission.REVIEW_DECIDE)
    kinds = [(e.kind, e.detail) for e in events if e.kind.startswith("role.")]
    assert ("role.granted", "department_reviewer") in kinds
    assert ("role.revoked", "department_reviewer") in kinds
    assert kinds.count(("role.granted", "department_reviewer")) == 1


# --- login ------------------------------------------------------------------------------


def test_login_gives_a_fresh_session_with_csrf(
    accounts_engine: Engine, store: AccountStore
) -> None:
    account = make_user(accounts_engine, store)
    result = login(accounts_engine, store)
    assert result.outcome is LoginOutcome.OK
    assert result.ok
    assert result.token
    assert result.csrf_token
    assert result.token not in repr(result)
    assert result.csrf_token not in repr(result)
    assert result.message.code == "login.ok"
    assert result.expires_at == store._now() + datetime.timedelta(minutes=30)
    actor = session_for(accounts_engine, store, result.token)
    assert actor is not None
    assert actor.user_id == account.id
    assert actor.permissions == {
        Permission.PERSON_READ,
        Permission.CASE_FILE,
        Permission.CASE_READ,
        Permission.INSIGHT_READ,
    }
    assert actor.csrf_token == result.csrf_token
    actor.check_csrf(result.csrf_token)
    with session_scope(accounts_engine) as db:
        keys = db.scalars(select(SessionRow.key)).all()
    assert keys == [token_key(result.token)]  # only the digest is stored


def test_a_presented_pre_login_id_is_dropped_never_reused(
    accounts_engine: Engine, store: AccountStore
) -> None:
    make_user(accounts_engine, store)
    first = login(accounts_engine, store)
    second = login(accounts_engine, store, previous_token=first.token)
    assert second.ok
    assert second.token != first.token
    assert session_for(accounts_engine, store, first.token) is None
    assert session_for(accounts_engine, store, second.token) is not None
    # a made-up id planted before login is not adopted either
    planted = "planted-session-id-from-an-attacker-0000000"
    third = login(accounts_engine, store, previous_token=planted)
    assert third.token != planted
    assert session_for(accounts_engine, store, planted) is None


def test_unknown_user_and_wrong_password_get_the_same_answer_and_cost(
    accounts_engine: Engine, store: AccountStore, hashing: CountingHashing
) -> None:
    disabled = make_user(accounts_engine, store, "gone.user")
    make_user(accounts_engine, store)
    with session_scope(accounts_engine) as db:
        store.set_disabled(db, disabled.id, True, actor_id=None)
    answers, costs = [], []
    for username, password in [
        ("wang.li", "Wrong-Password-1"),  # account, wrong password
        ("nobody.here", "Wrong-Password-1"),  # no account
        ("gone.user", STRONG),  # disabled account, right password
        ("not a valid name", STRONG),  # not even a user name
    ]:
        before = hashing.verifications
        result = login(accounts_engine, store, username, password)
        costs.append(hashing.verifications - before)
        answers.append(answer(result))
    assert costs == [1, 1, 1, 1]
    assert all(a == answers[0] for a in answers)
    assert answers[0][0] is LoginOutcome.REFUSED
    assert answers[0][1].code == "login.refused"


def test_lockout_is_the_same_for_existing_and_unknown_names(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    make_user(accounts_engine, store)
    sequences = {}
    for username in ("wang.li", "nobody.here"):
        seen = []
        for _ in range(5):
            seen.append(answer(login(accounts_engine, store, username, "Wrong-Password-1")))
        # the right password does not help while locked, and is not even checked
        seen.append(answer(login(accounts_engine, store, username, STRONG)))
        sequences[username] = seen
    assert sequences["wang.li"] == sequences["nobody.here"]
    outcomes = [a[0] for a in sequences["wang.li"]]
    assert outcomes == [LoginOutcome.REFUSED] * 4 + [LoginOutcome.LOCKED] * 2
    locked = sequences["wang.li"][-1]
    assert locked[5] == clock.now + datetime.timedelta(minutes=15)
    assert locked[1].code == "login.locked"
    assert "15" in locked[1].en
    clock.advance(minutes=14, seconds=59)
    assert login(accounts_engine, store).outcome is LoginOutcome.LOCKED
    clock.advance(seconds=1)
    assert login(accounts_engine, store).ok


def test_a_success_resets_the_count(accounts_engine: Engine, store: AccountStore) -> None:
    make_user(accounts_engine, store)
    for _ in range(4):
        assert login(accounts_engine, store, password="nope").outcome is LoginOutcome.REFUSED
    assert login(accounts_engine, store).ok
    for _ in range(4):
        assert login(accounts_engine, store, password="nope").outcome is LoginOutcome.REFUSED
    assert login(accounts_engine, store).ok


def test_unlock(accounts_engine: Engine, store: AccountStore) -> None:
    make_user(accounts_engine, store)
    for _ in range(5):
        login(accounts_engine, store, password="nope")
    assert login(accounts_engine, store).outcome is LoginOutcome.LOCKED
    with session_scope(accounts_engine) as db:
        assert store.unlock(db, "WANG.LI", actor_id=None) is True
        assert store.unlock(db, "wang.li", actor_id=None) is False
    assert login(accounts_engine, store).ok


def test_rate_limits_per_name_and_per_address(
    engine: Engine, cipher: FieldCipher, clock: FakeClock, hashing: CountingHashing
) -> None:
    store = AccountStore(
        cipher,
        SECRET_KEY,
        hashing=hashing,
        clock=clock,
        rate_limits=RateLimits(
            per_username=RateLimit(3, datetime.timedelta(minutes=10)),
            per_address=RateLimit(5, datetime.timedelta(minutes=10)),
        ),
    )
    with session_scope(engine) as db:
        store.create_department(db, "public_security", "市公安局", Level.CITY)
    make_user(engine, store)
    # per user name, from many addresses: three attempts, then wait
    for n in range(3):
        login(engine, store, password="nope", client_address=f"10.0.0.{n}")
        clock.advance(minutes=1)
    before = hashing.verifications
    limited = login(engine, store, client_address="10.9.9.9")
    assert limited.outcome is LoginOutcome.RATE_LIMITED
    assert limited.retry_after == clock.now + datetime.timedelta(minutes=7)
    assert limited.message.code == "login.rate_limited"
    assert hashing.verifications == before  # refused before any argon2 work
    clock.advance(minutes=7)
    assert login(engine, store, client_address="10.9.9.9").ok
    # per address, spraying many names (once wang.li's own window has emptied)
    clock.advance(minutes=3)
    for n in range(5):
        login(engine, store, f"user{n}", "nope", client_address="10.7.7.7")
    assert login(engine, store, client_address="10.7.7.7").outcome is LoginOutcome.RATE_LIMITED
    assert login(engine, store, client_address="10.7.7.8").ok
    with session_scope(engine) as db:  # attempts are kept as keyed digests only
        rows = db.scalars(select(LoginAttemptRow)).all()
        assert rows
        assert all(len(r.username_key) == 64 for r in rows)
        assert not {"wang.li", "10.7.7.7"} & {r.username_key for r in rows}
        assert not {"10.7.7.7"} & {r.address_key for r in rows}


def test_rehash_on_login_when_parameters_change(
    accounts_engine: Engine, store: AccountStore, cipher: FieldCipher, clock: FakeClock
) -> None:
    account = make_user(accounts_engine, store)
    stronger = CountingHashing()
    stronger_parameters = type(stronger.parameters)(
        type=stronger.parameters.type,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=2,
        memory_cost=16,
        parallelism=1,
    )
    upgraded = AccountStore(
        cipher, SECRET_KEY, hashing=PasswordHashing(stronger_parameters), clock=clock
    )
    assert login(accounts_engine, upgraded).ok
    with session_scope(accounts_engine) as db:
        row = db.get(UserRow, account.id)
        assert row is not None
        assert row.password_hash.startswith("$argon2id$v=19$m=16,t=2,p=1$")
    assert login(accounts_engine, upgraded).ok


# --- second factor ----------------------------------------------------------------------


def test_admins_enrol_then_pass_a_totp_second_factor(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock, cipher: FieldCipher
) -> None:
    admin = make_user(accounts_engine, store, "audit.admin", (Role.AUDIT_ADMIN,))
    first = login(accounts_engine, store, "audit.admin")
    assert first.outcome is LoginOutcome.NEEDS_SECOND_FACTOR
    assert first.message.code == "login.enrol_second_factor"
    assert first.csrf_token is None
    assert first.enrolment is not None
    assert first.enrolment.uri.startswith("otpauth://totp/")
    assert session_for(accounts_engine, store, first.token) is None  # pending is no session
    secret = secret_from_base32(first.enrolment.secret_base32)
    with session_scope(accounts_engine) as db:
        row = db.get(UserRow, admin.id)
        assert row is not None
        assert row.totp_secret is not None
        assert row.totp_secret.startswith("sm4gcm:v1:k2026a:")
        assert first.enrolment.secret_base32 not in row.totp_secret
        assert cipher.decrypt(row.totp_secret, context=TOTP_CONTEXT) == (
            first.enrolment.secret_base32
        )
    code = totp_code(secret, clock.now)
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    refused = second_factor(accounts_engine, store, first.token, wrong)
    assert refused.outcome is LoginOutcome.REFUSED
    assert refused.message.code == "login.code_refused"
    done = second_factor(accounts_engine, store, first.token, code)
    assert done.ok
    assert done.token not in (None, first.token)
    assert second_factor(accounts_engine, store, first.token, code).outcome is LoginOutcome.REFUSED
    actor = session_for(accounts_engine, store, done.token)
    assert actor is not None
    assert actor.has(Permission.LEDGER_VERIFY)
    with session_scope(accounts_engine) as db:
        assert store.account(db, admin.id).second_factor_enrolled

    # next login: no new secret; the code just used cannot be replayed in its step
    clock.advance(seconds=5)
    again = login(accounts_engine, store, "audit.admin")
    assert again.outcome is LoginOutcome.NEEDS_SECOND_FACTOR
    assert again.enrolment is None
    assert again.message.code == "login.second_factor"
    assert second_factor(accounts_engine, store, again.token, code).outcome is (
        LoginOutcome.REFUSED
    )
    clock.advance(seconds=30)
    assert second_factor(accounts_engine, store, again.token, totp_code(secret, clock.now)).ok


def test_wrong_codes_count_towards_the_lockout(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    make_user(accounts_engine, store, "data.officer", (Role.DATA_OFFICER,))
    pending = login(accounts_engine, store, "data.officer")
    assert pending.enrolment is not None
    secret = secret_from_base32(pending.enrolment.secret_base32)
    wrong = f"{(int(totp_code(secret, clock.now)) + 500_000) % 1_000_000:06d}"
    outcomes = [
        second_factor(accounts_engine, store, pending.token, wrong).outcome for _ in range(5)
    ]
    assert outcomes == [LoginOutcome.REFUSED] * 4 + [LoginOutcome.LOCKED]
    # the pending login is gone, and the password alone does not reopen it
    right = totp_code(secret, clock.now)
    assert second_factor(accounts_engine, store, pending.token, right).outcome is (
        LoginOutcome.REFUSED
    )
    assert login(accounts_engine, store, "data.officer").outcome is LoginOutcome.LOCKED


def test_a_pending_second_factor_expires(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    make_user(accounts_engine, store, "sys.admin", (Role.SYSTEM_ADMIN,))
    pending = login(accounts_engine, store, "sys.admin")
    assert pending.enrolment is not None
    assert pending.expires_at == clock.now + datetime.timedelta(minutes=5)
    secret = secret_from_base32(pending.enrolment.secret_base32)
    clock.advance(minutes=5)
    late = second_factor(accounts_engine, store, pending.token, totp_code(secret, clock.now))
    assert late.outcome is LoginOutcome.REFUSED
    assert late.message.code == "login.code_refused"


def test_reset_second_factor_forces_a_new_enrolment(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    admin = make_user(accounts_engine, store, "sys.admin", (Role.SYSTEM_ADMIN,))
    pending = login(accounts_engine, store, "sys.admin")
    assert pending.enrolment is not None
    secret = secret_from_base32(pending.enrolment.secret_base32)
    done = second_factor(accounts_engine, store, pending.token, totp_code(secret, clock.now))
    assert done.ok
    with session_scope(accounts_engine) as db:
        store.reset_second_factor(db, admin.id, actor_id=None)
    assert session_for(accounts_engine, store, done.token) is None
    again = login(accounts_engine, store, "sys.admin")
    assert again.enrolment is not None
    assert again.enrolment.secret_base32 != pending.enrolment.secret_base32


def test_a_provisioned_second_factor_asks_for_its_code_at_once(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    admin = make_user(accounts_engine, store, "sys.admin", (Role.SYSTEM_ADMIN,))
    secret = bytes(range(20))
    with session_scope(accounts_engine) as db:
        with pytest.raises(ValueError, match="20 bytes"):
            store.provision_second_factor(db, admin.id, secret[:10], actor_id=None)
        store.provision_second_factor(db, admin.id, secret, actor_id=None)
    pending = login(accounts_engine, store, "sys.admin")
    assert pending.outcome is LoginOutcome.NEEDS_SECOND_FACTOR
    assert pending.enrolment is None  # no enrolment step: the secret is known
    assert second_factor(accounts_engine, store, pending.token, "000000").outcome is (
        LoginOutcome.REFUSED
    )
    done = second_factor(accounts_engine, store, pending.token, totp_code(secret, clock.now))
    assert done.ok


# --- sessions ---------------------------------------------------------------------------


def test_idle_timeout(accounts_engine: Engine, store: AccountStore, clock: FakeClock) -> None:
    make_user(accounts_engine, store)
    token = login(accounts_engine, store).token
    clock.advance(minutes=29)
    assert session_for(accounts_engine, store, token) is not None  # touches it
    clock.advance(minutes=29)
    actor = session_for(accounts_engine, store, token)
    assert actor is not None
    assert actor.expires_at == clock.now + datetime.timedelta(minutes=30)
    clock.advance(minutes=30)
    assert session_for(accounts_engine, store, token) is None
    with session_scope(accounts_engine) as db:  # and it is gone
        assert db.get(SessionRow, token_key(token or "")) is None


def test_many_sessions_are_looked_up_at_once_each_on_its_own(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    make_user(accounts_engine, store)
    make_user(accounts_engine, store, "zhao.min", (Role.WINDOW_CLERK, Role.DEPARTMENT_REVIEWER))
    stale = login(accounts_engine, store).token
    clock.advance(minutes=29)
    wang = login(accounts_engine, store).token
    zhao = login(accounts_engine, store, "zhao.min").token
    clock.advance(minutes=2)  # the first session is now idle for 31 minutes
    tokens = [wang, None, "no-such-session", stale, zhao, wang]
    with session_scope(accounts_engine) as db:
        found = store.sessions_for(db, tokens)
    assert [a.username if a else None for a in found] == [
        "wang.li",
        None,
        None,
        None,
        "zhao.min",
        "wang.li",
    ]
    # Each as the one-at-a-time look-up gives it: its own roles, its own CSRF token.
    assert found[4] is not None
    assert found[0] is not None
    assert found[4].roles == {Role.WINDOW_CLERK, Role.DEPARTMENT_REVIEWER}
    assert found[0].roles == {Role.WINDOW_CLERK}
    assert found[0] == session_for(accounts_engine, store, wang)
    with session_scope(accounts_engine) as db:  # the expired one was met and deleted
        assert db.get(SessionRow, token_key(stale or "")) is None
        assert db.get(SessionRow, token_key(wang or "")) is not None
    with session_scope(accounts_engine) as db:
        assert store.sessions_for(db, []) == []


def test_absolute_timeout(accounts_engine: Engine, store: AccountStore, clock: FakeClock) -> None:
    make_user(accounts_engine, store)
    token = login(accounts_engine, store).token
    for _ in range(12 * 3 - 1):  # busy every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert session_for(accounts_engine, store, token) is not None
    clock.advance(minutes=20)  # 12 h after login
    assert session_for(accounts_engine, store, token) is None


def test_logout_and_logout_all(accounts_engine: Engine, store: AccountStore) -> None:
    account = make_user(accounts_engine, store)
    a, b, c = (login(accounts_engine, store).token for _ in range(3))
    with session_scope(accounts_engine) as db:
        assert store.logout(db, a) is True
        assert store.logout(db, a) is False
        assert store.logout(db, None) is False
    assert session_for(accounts_engine, store, a) is None
    assert session_for(accounts_engine, store, b) is not None
    with session_scope(accounts_engine) as db:
        assert store.logout_all(db, account.id, actor_id=None) == 2
    assert session_for(accounts_engine, store, b) is None
    assert session_for(accounts_engine, store, c) is None
    assert session_for(accounts_engine, store, "") is None


def test_disabling_an_account_ends_its_sessions(
    accounts_engine: Engine, store: AccountStore
) -> None:
    account = make_user(accounts_engine, store)
    token = login(accounts_engine, store).token
    with session_scope(accounts_engine) as db:
        store.set_disabled(db, account.id, True, actor_id=None)
    assert session_for(accounts_engine, store, token) is None
    assert login(accounts_engine, store).outcome is LoginOutcome.REFUSED
    with session_scope(accounts_engine) as db:
        store.set_disabled(db, account.id, False, actor_id=None)
    assert login(accounts_engine, store).ok


def test_csrf_is_bound_to_the_session(accounts_engine: Engine, store: AccountStore) -> None:
    make_user(accounts_engine, store)
    first, second = login(accounts_engine, store), login(accounts_engine, store)
    actor = session_for(accounts_engine, store, first.token)
    assert actor is not None
    actor.check_csrf(first.csrf_token)
    with pytest.raises(CsrfError):
        actor.check_csrf(second.csrf_token)
    with pytest.raises(CsrfError):
        actor.check_csrf("")


# --- passwords --------------------------------------------------------------------------


def test_password_change_due(
    accounts_engine: Engine, store: AccountStore, clock: FakeClock
) -> None:
    account = make_user(accounts_engine, store, must_change_password=True)
    first = login(accounts_engine, store)
    assert first.password_change_due
    actor = session_for(accounts_engine, store, first.token)
    assert actor is not None
    assert actor.password_change_due
    other = login(accounts_engine, store).token
    with session_scope(accounts_engine) as db:
        wrong = store.change_password(db, actor, "Not-The-Password-1", "Another-Horse-8")
    assert wrong.outcome is LoginOutcome.REFUSED
    assert wrong.message.code == "password.wrong_current"
    with session_scope(accounts_engine) as db:
        with pytest.raises(PasswordPolicyError) as same:
            store.change_password(db, actor, STRONG, STRONG)
        assert [v.code for v in same.value.violations] == ["password.unchanged"]
        assert store.change_password(db, actor, STRONG, "Another-Horse-8").ok
    assert session_for(accounts_engine, store, first.token) is not None  # this one stays
    assert session_for(accounts_engine, store, other) is None  # the others end
    assert not login(accounts_engine, store, password="Another-Horse-8").password_change_due
    clock.advance(days=90)
    assert login(accounts_engine, store, password="Another-Horse-8").password_change_due
    with session_scope(accounts_engine) as db:
        store.reset_password(db, account.id, "Reset-By-Admin-9", actor_id=None)
    result = login(accounts_engine, store, password="Reset-By-Admin-9")
    assert result.ok
    assert result.password_change_due


def test_guessing_the_current_password_locks_and_ends_sessions(
    accounts_engine: Engine, store: AccountStore
) -> None:
    make_user(accounts_engine, store)
    token = login(accounts_engine, store).token
    actor = session_for(accounts_engine, store, token)
    assert actor is not None
    outcomes = []
    for _ in range(5):
        with session_scope(accounts_engine) as db:
            result = store.change_password(db, actor, "Guess-Guess-1", "Another-Horse-8")
        outcomes.append(result.outcome)
    assert outcomes == [LoginOutcome.REFUSED] * 4 + [LoginOutcome.LOCKED]
    assert session_for(accounts_engine, store, token) is None
    assert login(accounts_engine, store).outcome is LoginOutcome.LOCKED


# --- housekeeping and hygiene ------------------------------------------------------------


def test_prune(accounts_engine: Engine, store: AccountStore, clock: FakeClock) -> None:
    make_user(accounts_engine, store)
    kept = login(accounts_engine, store).token
    login(accounts_engine, store, "nobody.here", "nope")
    clock.advance(minutes=20)
    assert session_for(accounts_engine, store, kept) is not None
    clock.advance(days=1, minutes=1)
    with session_scope(accounts_engine) as db:
        assert store.prune(db) == {"sessions": 1, "attempts": 2, "counters": 1}
        assert db.scalars(select(SessionRow)).all() == []


def test_events_carry_no_secrets(
    accounts_engine: Engine, store: AccountStore, events: list[AccountEvent], clock: FakeClock
) -> None:
    make_user(accounts_engine, store, "sys.admin", (Role.SYSTEM_ADMIN,))
    pending = login(accounts_engine, store, "sys.admin")
    assert pending.enrolment is not None
    code = totp_code(secret_from_base32(pending.enrolment.secret_base32), clock.now)
    done = second_factor(accounts_engine, store, pending.token, code)
    login(accounts_engine, store, "Typed-Password-In-Name", "x")
    text = repr(events)
    for secret in (
        STRONG,
        pending.token,
        pending.enrolment.secret_base32,
        code,
        done.token,
        done.csrf_token,
        "typed-password-in-name",
        "Typed-Password-In-Name",
    ):
        assert secret
        assert secret not in text
    kinds = [e.kind for e in events]
    assert "login.password_accepted" in kinds
    assert "second_factor.enrolled" in kinds
    assert "login.succeeded" in kinds
    assert "login.failed" in kinds
    failed = [e for e in events if e.kind == "login.failed"]
    assert failed[-1].user_id is None
    assert repr(store).startswith("AccountStore(PasswordHashing(")
    assert "secret" in repr(store)
    assert SECRET_KEY.decode() not in repr(store)
