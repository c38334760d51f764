"""What tests/test_api_fuzz.py needs: an app on a small registry, a session per role, who may
call what, and the check that no response leaks a traceback.

The app runs on SQLite, with a 40-person synthetic city ingested and linked (so reads can
find someone) and a signed ledger checkpoint (so the ledger endpoints give proofs). Push
tokens are configured, so the push endpoints answer 401 (not 503, their answer when push
is switched off) to a caller without one. Every session is opened before any fuzzing,
because a fuzzed login counts towards the per-address rate limit.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text

from hukou.accounts import Permission, Role
from hukou.app import create_app
from hukou.audit import ledger
from hukou.audit.checkpoint import NoteSigner
from hukou.config import Settings
from hukou.db import create_engine_for, session_scope, upgrade
from hukou.registry.ingest import ingest_file
from hukou.registry.link import link_all
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from tests.accounts.http import create_resident, create_staff, install_store, log_in

__all__ = [
    "DEPARTMENT",
    "PUBLIC",
    "PUSH_TOKEN_OPERATIONS",
    "SESSION_OPERATIONS",
    "FuzzApp",
    "build_fuzz_app",
    "leaks",
    "openapi_document",
]

DEPARTMENT: Final = "public_security"
TODAY: Final = datetime.date(2025, 12, 31)
ORIGIN: Final = "hukou.test/fuzz"

Operation = tuple[str, str]  # (METHOD, path template as the OpenAPI document writes it)

PUBLIC: Final[frozenset[Operation]] = frozenset(
    {
        # Logging in is how a caller gets a session; both steps refuse with 401/415/422/423/429.
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/second-factor"),
        # Ends whatever session the request carries; 204 even if none was live (docs/accounts.md).
        ("POST", "/api/v1/auth/logout"),
        # A signed checkpoint and proofs are hashes only, public by design (docs/audit.md).
        ("GET", "/api/v1/ledger/checkpoint"),
        ("GET", "/api/v1/ledger/proof/inclusion"),
        ("GET", "/api/v1/ledger/proof/consistency"),
    }
)
"""Operations under /api/ that answer without a session."""

PUSH_TOKEN_OPERATIONS: Final[frozenset[Operation]] = frozenset(
    {
        ("POST", "/api/registry/batches/{department}"),
        ("GET", "/api/registry/batches/{batch_id}"),
    }
)
"""Operations behind a department's push token: a session id is no way in."""

SESSION_OPERATIONS: Final[Mapping[Operation, Permission | None]] = {
    ("GET", "/api/v1/auth/me"): None,  # any live session
    ("GET", "/api/v1/catalog"): None,  # what may be shared is no secret to any account
    ("POST", "/api/v1/persons/search"): Permission.PERSON_READ,
    ("POST", "/api/v1/persons/{person_id}/read"): Permission.PERSON_READ,
    ("POST", "/api/v1/persons/batch"): Permission.PERSON_BATCH_READ,
    ("GET", "/api/v1/agreements"): Permission.AGREEMENT_READ,
    ("POST", "/api/v1/agreements"): Permission.AGREEMENT_PROPOSE,
    ("POST", "/api/v1/agreements/{agreement_id}/approve"): Permission.AGREEMENT_APPROVE,
    ("POST", "/api/v1/agreements/{agreement_id}/reject"): Permission.AGREEMENT_APPROVE,
    ("POST", "/api/v1/agreements/{agreement_id}/revoke"): Permission.AGREEMENT_APPROVE,
    ("GET", "/api/v1/me/accesses"): Permission.SELF_READ,
    ("GET", "/api/v1/me/data"): Permission.SELF_EXPORT,
    ("POST", "/api/v1/me/consents"): Permission.CONSENT_MANAGE,
    ("POST", "/api/v1/me/consents/withdraw"): Permission.CONSENT_MANAGE,
    ("GET", "/api/v1/services"): None,  # the service guide (办事指南) is for everyone
    ("POST", "/api/v1/cases"): Permission.CASE_FILE,
    ("POST", "/api/v1/cases/batch"): Permission.CASE_FILE,
    ("GET", "/api/v1/cases/{case_id}"): Permission.CASE_READ,
    ("POST", "/api/v1/cases/{case_id}/material"): Permission.CASE_FILE,
    ("POST", "/api/v1/cases/{case_id}/deliver"): Permission.CASE_FILE,
    ("GET", "/api/v1/inbox"): Permission.REVIEW_DECIDE,
    ("POST", "/api/v1/tasks/{task_id}/decision"): Permission.REVIEW_DECIDE,
    ("POST", "/api/v1/me/cases"): Permission.CASE_APPLY,
    ("GET", "/api/v1/me/cases"): Permission.CASE_APPLY,
    ("GET", "/api/v1/kpis"): Permission.INSIGHT_READ,
    ("GET", "/api/v1/points/simulate"): Permission.POINTS_SIMULATE,
    ("GET", "/api/v1/me/cases/{case_id}"): Permission.CASE_APPLY,
    ("POST", "/api/v1/me/cases/{case_id}/material"): Permission.CASE_APPLY,
    ("POST", "/api/v1/me/cases/{case_id}/withdraw"): Permission.CASE_APPLY,
    ("POST", "/api/v1/me/cases/{case_id}/rating"): Permission.CASE_APPLY,
    ("GET", "/api/v1/cases/{case_id}/materials"): Permission.CASE_READ,
    ("GET", "/api/v1/cases/{case_id}/points"): Permission.CASE_READ,
    ("GET", "/api/v1/cases/{case_id}/materials/{material_id}"): Permission.CASE_READ,
    ("POST", "/api/v1/cases/{case_id}/material/files"): Permission.CASE_FILE,
    ("POST", "/api/v1/me/cases/{case_id}/material/files"): Permission.CASE_APPLY,
    ("GET", "/api/v1/registry/batches"): Permission.REGISTRY_REVIEW,
    ("GET", "/api/v1/registry/quarantine"): Permission.REGISTRY_REVIEW,
    ("GET", "/api/v1/registry/issues"): Permission.REGISTRY_REVIEW,
    ("GET", "/api/v1/registry/reviews"): Permission.REGISTRY_REVIEW,
    ("POST", "/api/v1/registry/reviews/{pair_id}"): Permission.REGISTRY_REVIEW,
    # The admin API: one duty, one permission (三权分立).
    ("GET", "/api/v1/admin/departments"): Permission.DEPARTMENT_MANAGE,
    ("POST", "/api/v1/admin/departments"): Permission.DEPARTMENT_MANAGE,
    ("GET", "/api/v1/admin/users"): Permission.USER_MANAGE,
    ("POST", "/api/v1/admin/users"): Permission.USER_MANAGE,
    ("POST", "/api/v1/admin/users/find"): Permission.USER_MANAGE,
    ("POST", "/api/v1/admin/users/{user_id}/disable"): Permission.USER_MANAGE,
    ("POST", "/api/v1/admin/users/{user_id}/enable"): Permission.USER_MANAGE,
    ("POST", "/api/v1/admin/users/{user_id}/password"): Permission.USER_MANAGE,
    ("GET", "/api/v1/admin/grants"): Permission.ROLE_GRANT,
    ("POST", "/api/v1/admin/users/{user_id}/roles"): Permission.ROLE_GRANT,
    ("DELETE", "/api/v1/admin/users/{user_id}/roles/{role}"): Permission.ROLE_GRANT,
    ("POST", "/api/v1/admin/unlock"): Permission.ACCOUNT_UNLOCK,
    ("POST", "/api/v1/admin/users/{user_id}/logout"): Permission.SESSION_REVOKE,
    ("GET", "/api/v1/admin/keys"): Permission.KEY_ROTATE,
    ("POST", "/api/v1/admin/keys/census"): Permission.KEY_ROTATE,
}
"""Every operation that needs a session, and the permission it needs beyond one."""


@dataclass(frozen=True)
class FuzzApp:
    """The app under test and a bearer header per role (the resident's linked to a person)."""

    app: FastAPI
    headers: Mapping[Role, Mapping[str, str]]
    resident_person_id: str
    push_token: str


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document; it depends on no setting, so a throwaway app gives it."""
    app = create_app(Settings(_env_file=None, database_url="sqlite://"))  # type: ignore[call-arg]
    try:
        return app.openapi()
    finally:
        app.state.engine.dispose()


def _registry(url: str, keyring: KeyRing, city: Path) -> tuple[str, ...]:
    engine = create_engine_for(url)
    try:
        upgrade(engine)
        generate_city(CityConfig(population=40, seed=71), city)
        for folder in sorted((city / "feeds").iterdir()):
            for path in sorted(folder.iterdir()):
                ingest_file(engine, folder.name, path, keyring=keyring, today=TODAY)
        link_all(engine, keyring)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id FROM registry_person ORDER BY id"))
            return tuple(str(row[0]) for row in rows)
    finally:
        engine.dispose()


def _resident(client: TestClient, app: FastAPI, person_id: str) -> Mapping[str, str]:
    return log_in(client, create_resident(app, person_id).username).headers


def build_fuzz_app(folder: Path) -> FuzzApp:
    """The app on a fresh SQLite registry in ``folder``, with one logged-in account per role."""
    keyring = KeyRing.generate("k2025a")
    url = f"sqlite:///{folder / 'hukou.db'}"
    person_ids = _registry(url, keyring, folder / "city")
    assert person_ids, "the synthetic city linked nobody"
    push_token = secrets.token_urlsafe(32)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        data_dir=folder,
        keys=SecretStr(keyring.to_json()),
        push_tokens=SecretStr(json.dumps({DEPARTMENT: push_token})),
    )
    app = create_app(settings)
    install_store(app)
    headers: dict[Role, Mapping[str, str]] = {}
    client = TestClient(app)  # no lifespan: only logs in, schemathesis runs the app itself
    for role in Role:
        if role is Role.RESIDENT:
            headers[role] = _resident(client, app, person_ids[0])
        else:
            account = create_staff(app, [role], department=DEPARTMENT)
            headers[role] = log_in(client, account.username).headers
    # A signed checkpoint, so the ledger endpoints answer with proofs rather than 404.
    with session_scope(app.state.engine) as db:
        ledger.checkpoint(db, NoteSigner.generate(ORIGIN), ORIGIN)
    return FuzzApp(app, headers, person_ids[0], push_token)


_LEAKS: Final = (
    ("a traceback", re.compile(r"Traceback \(most recent call last\)|Traceback", re.IGNORECASE)),
    ("a stack frame", re.compile(r'File "|, line \d+, in ')),
    # "line N" of a source file; the push endpoint's "(… at line 1, column 2)" of a JSON body
    # is a position in what the caller sent, not a stack frame.
    ("a line number", re.compile(r"\bline \d+(?!, column \d)")),
    (
        "a Python module path",
        re.compile(
            r"\b(?:sqlalchemy|psycopg2?|pydantic_core|starlette|fastapi|sqlite3|builtins)\.[A-Za-z_]"
        ),
    ),
    ("an exception class", re.compile(r"\b[A-Z]\w*(?:Error|Exception)(?::|\()")),
)


def leaks(body: str, headers: Mapping[str, Any] | None = None) -> list[str]:
    """What in a response's body or headers looks like a server-side error's internals.

    >>> leaks('{"detail": "not valid JSON (Expecting value at line 1, column 1)"}')
    []
    >>> leaks('Traceback (most recent call last):\\n  File "/app/x.py", line 3, in f')
    ['a traceback', 'a stack frame', 'a line number']
    >>> leaks('{"detail": "sqlalchemy.exc.IntegrityError: UNIQUE constraint failed"}')
    ['a Python module path', 'an exception class']
    """
    text_ = body + "".join(f"\n{name}: {value}" for name, value in (headers or {}).items())
    return [what for what, pattern in _LEAKS if pattern.search(text_)]
