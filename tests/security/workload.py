"""A small but complete workload: everything the platform stores, from feeds to ledger.

Used by the rotation test (every declared column must hold tokens to rotate) and
the plaintext test (no identity number may reach the database file in the clear).
It touches every writer that exists today: ingest (all departments), a full link,
an incremental link of a late department, accounts (staff, a resident, a TOTP
enrolment, sessions, login counters), and the exchange (a masked read, an
unmasked read with a reason, a resident reading their own data), each of which
appends to the audit ledger.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import Parameters, Type
from sqlalchemy import Engine, select, text

from hukou.accounts import AccountKind, AccountStore, Level, LoginOutcome, PasswordHashing, Role
from hukou.accounts.store import TOTP_CONTEXT
from hukou.accounts.totp import secret_from_base32, totp_code
from hukou.casework.materials import CONTENT_CONTEXT, Upload, store_materials
from hukou.casework.model import CaseRow
from hukou.db import session_scope
from hukou.exchange import Exchange, approve, load_catalog, propose
from hukou.keyring import data_cipher
from hukou.registry.link import link_all, link_pending
from hukou.registry.model import Person
from hukou.security import TOKEN_MARK, FieldCipher, KeyRing, scope_of
from hukou.security.columns import EncryptedColumn
from tests.registry.stored import ingest_city

TODAY = datetime.date(2025, 12, 31)
LATE_DEPARTMENT = "tax"  # ingested after the full link, then linked incrementally
SECRET_KEY = b"security-tests-secret-key-32byte"
STRONG = "Correct-Horse-7"
CHEAP = Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=8, parallelism=1
)


@dataclass(frozen=True)
class Done:
    """What the workload created that tests look at again."""

    person_id: str
    admin_id: str


def _login(store: AccountStore, engine: Engine, username: str) -> str:
    """A session id for ``username``, through the second factor when the role needs one."""
    with session_scope(engine) as db:
        result = store.login(db, username, STRONG, client_address="192.0.2.7")
    if result.outcome is LoginOutcome.NEEDS_SECOND_FACTOR:
        assert result.enrolment is not None
        assert result.token is not None
        secret = secret_from_base32(result.enrolment.secret_base32)
        code = totp_code(secret, datetime.datetime.now(datetime.UTC))
        with session_scope(engine) as db:
            result = store.verify_second_factor(db, result.token, code)
    assert result.ok, result.outcome
    assert result.token is not None
    return result.token


def run_workload(engine: Engine, city: Path, keyring: KeyRing) -> Done:
    """Run every writer once on ``engine``, encrypting with ``keyring``."""
    departments = sorted(p.name for p in (city / "feeds").iterdir())
    ingest_city(
        engine,
        city,
        keyring,
        today=TODAY,
        departments=[d for d in departments if d != LATE_DEPARTMENT],
    )
    link_all(engine, keyring)
    ingest_city(engine, city, keyring, today=TODAY, departments=[LATE_DEPARTMENT])
    link_pending(engine, keyring)

    cipher = data_cipher(engine, keyring, scope_of(TOTP_CONTEXT))
    store = AccountStore(cipher, SECRET_KEY, hashing=PasswordHashing(CHEAP))
    with session_scope(engine) as db:
        person_id = db.scalars(
            select(Person.id).where(Person.identity_token.is_not(None)).order_by(Person.id)
        ).first()
        assert person_id is not None
        store.create_department(db, "public_security", "市公安局", Level.CITY)
        store.create_department(db, "civil_affairs", "市民政局", Level.CITY)
        admin = store.create_user(
            db,
            kind=AccountKind.STAFF,
            username="security.admin",
            password=STRONG,
            display_name="安全管理员",
            department_code="public_security",
            roles=[Role.SECURITY_ADMIN],
            must_change_password=False,
        )
        for username, role, department in (
            ("window.clerk", Role.WINDOW_CLERK, "public_security"),
            ("civil.reviewer", Role.DEPARTMENT_REVIEWER, "civil_affairs"),
            ("civil.officer", Role.DATA_OFFICER, "civil_affairs"),
            ("police.officer", Role.DATA_OFFICER, "public_security"),
        ):
            store.create_user(
                db,
                kind=AccountKind.STAFF,
                username=username,
                password=STRONG,
                display_name="测试",
                department_code=department,
                roles=[role],
                must_change_password=False,
            )
        store.create_user(
            db,
            kind=AccountKind.RESIDENT,
            username="resident.one",
            password=STRONG,
            display_name="居民",
            person_id=person_id,
            must_change_password=False,
        )

    # An administrator's first login enrols a TOTP secret (stored as a token).
    with session_scope(engine) as db:
        enrolment = store.login(db, "security.admin", STRONG).enrolment
    assert enrolment is not None
    # A failed login leaves a counter and an attempt behind.
    with session_scope(engine) as db:
        store.login(db, "window.clerk", "wrong-password-1", client_address="192.0.2.8")

    exchange = Exchange(cipher, load_catalog())
    sessions = {
        name: _login(store, engine, name)
        for name in ("window.clerk", "civil.reviewer", "civil.officer", "police.officer")
    }
    with session_scope(engine) as db:
        officer = store.session_for(db, sessions["civil.officer"])
        provider = store.session_for(db, sessions["police.officer"])
        assert officer is not None
        assert provider is not None
        draft = propose(
            db,
            exchange.catalog,
            officer,
            provider="public_security",
            fields=["identity_number", "name"],
            purposes=["case_processing"],
            valid_from=TODAY - datetime.timedelta(days=1),
        )
        approve(db, provider, draft.id)
    with session_scope(engine) as db:
        clerk = store.session_for(db, sessions["window.clerk"])
        reviewer = store.session_for(db, sessions["civil.reviewer"])
        assert clerk is not None
        assert reviewer is not None
        exchange.read(
            db, clerk, person_id, ["identity_number", "name"], "household_registration", today=TODAY
        )
        exchange.read(
            db,
            reviewer,
            person_id,
            ["identity_number", "name"],
            "case_processing",
            unmask=["identity_number"],
            reason="核对最低生活保障申请材料",
            today=TODAY,
        )
    resident_token = _login(store, engine, "resident.one")
    with session_scope(engine) as db:
        resident = store.session_for(db, resident_token)
        assert resident is not None
        exchange.read(
            db,
            resident,
            person_id,
            ["identity_number", "name", "phone"],
            "self_access",
            today=TODAY,
        )
    # A resident's material file for a case (补正).
    files = data_cipher(engine, keyring, scope_of(CONTENT_CONTEXT))
    with session_scope(engine) as db:
        at = datetime.datetime.combine(TODAY, datetime.time(9), tzinfo=datetime.UTC)
        db.add(
            CaseRow(
                id="C20251231ABCDEF0123",
                service="household_move",
                channel="online",
                applicant_id=person_id,
                first_contact="public_security",
                filed_by="resident.one",
                state="awaiting_material",
                version=1,
                filed_at=at,
                filed_on=TODAY,
                limit_workdays=20,
                instant_decision=False,
            )
        )
        db.flush()
        upload = Upload("tenancy_contract", "合同.pdf", b"%PDF-1.4 synthetic")
        store_materials(db, files, "C20251231ABCDEF0123", [upload], by="resident.one", now=at)
    return Done(person_id=person_id, admin_id=admin.id)


# --- reading every token back -------------------------------------------------------


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}/{index}")


def _texts(engine: Engine, columns: tuple[EncryptedColumn, ...]) -> dict[tuple[str, str, str], str]:
    """(table, column, row key) → the stored text, for every row holding a token."""
    texts: dict[tuple[str, str, str], str] = {}
    with engine.connect() as connection:
        for column in columns:
            rows = connection.execute(
                text(
                    f'SELECT "{column.primary_key}", "{column.column}" FROM "{column.table}" '
                    f"WHERE \"{column.column}\" LIKE '%sm4gcm:%'"
                )
            )
            texts.update({(column.table, column.column, str(k)): v for k, v in rows})
    return texts


def stored_tokens(
    engine: Engine, columns: tuple[EncryptedColumn, ...]
) -> dict[tuple[str, str, str, str], tuple[str, str]]:
    """(table, column, row key, JSON path) → (token, context) for every stored token."""
    by_name = {(c.table, c.column): c for c in columns}
    found: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    for (table, name, key), value in _texts(engine, columns).items():
        column = by_name[table, name]
        if not column.is_json:
            found[table, name, key, ""] = (value, column.context_for())
            continue
        for field, item in column.keyed(json.loads(value)).items():
            for path, string in _strings(item, field):
                if string.startswith(TOKEN_MARK):
                    found[table, name, key, path] = (string, column.context_for(field))
    return found


def decrypted(
    tokens: dict[tuple[str, str, str, str], tuple[str, str]], cipher: FieldCipher
) -> dict[tuple[str, str, str, str], str]:
    """Every token's value (the test compares them; they are never printed)."""
    return {
        where: cipher.decrypt(token, context=context) for where, (token, context) in tokens.items()
    }


def make_legacy(
    engine: Engine,
    columns: tuple[EncryptedColumn, ...],
    current: FieldCipher,
    legacy: FieldCipher,
) -> int:
    """Rewrite every stored token as ``legacy`` encrypts it (a ``v1`` token of the master
    key): the database as it was before envelope encryption. How many were rewritten."""
    tokens = stored_tokens(engine, columns)
    texts = _texts(engine, columns)
    for (table, column_name, key, _path), (token, context) in tokens.items():
        old = current.decrypt(token, context=context)
        where = (table, column_name, key)
        texts[where] = texts[where].replace(token, legacy.encrypt(old, context=context))
    by_name = {(c.table, c.column): c for c in columns}
    with engine.begin() as connection:
        for (table, column_name, key), value in texts.items():
            column = by_name[table, column_name]
            connection.execute(
                text(
                    f'UPDATE "{table}" SET "{column_name}" = :value '
                    f'WHERE CAST("{column.primary_key}" AS VARCHAR(64)) = :key'
                ),
                {"value": value, "key": key},
            )
    return len(tokens)
