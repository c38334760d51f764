"""Schemathesis over the whole OpenAPI document: no 5xx, every unauthenticated or forbidden
call refused, no traceback or stack frame in any response.

The app runs on SQLite with a small linked registry and a signed ledger checkpoint
(:mod:`tests.fuzz_support`), one logged-in account per role, and push tokens configured.
Schemathesis generates valid and invalid requests (examples, coverage and fuzzing phases,
positive and negative data, a fixed seed, derandomized Hypothesis, no example database)
and sends them to the app in process. What each test accepts:

* without credentials (or with made-up ones: schemathesis also fills in the bearer
  header and the session cookie), an operation that needs a session or a push token
  answers **401**. Refusals that come before authentication are accepted too: FastAPI
  parses the body before it runs any dependency, so a body that is not JSON gets 422
  (``json_invalid``) and one that is not UTF-8 gets 400; and a method the path does not
  have gets 405. The public operations (:data:`tests.fuzz_support.PUBLIC`: login, second
  factor, logout, the ledger's checkpoint and proofs) only must not fail;
* with a session of a role that lacks the operation's permission
  (:data:`tests.fuzz_support.SESSION_OPERATIONS`), the answer is **403**, or 422 when the
  request is invalid (the body is validated before the route checks the permission; 400
  or 422 for an unparsable body, as above); the push endpoints answer 401 to a session
  id. Never 2xx, never 5xx. The one 2xx a resident may get is a read of their own record
  for ``self_access``. Every role is tried on every operation: those that hold the
  permission only must not fail;
* as a window clerk, a data officer and a resident, every operation but logout (which would end
  the session the other tests use) answers without 5xx and in the declared content type
  and response schema of the OpenAPI document (whose response models forbid extra
  fields), and a session operation never answers 401 (the session is still live);
* every response: no 5xx, and :func:`tests.fuzz_support.leaks` finds no traceback,
  stack frame, source line number, library module path or exception class.

The last test pins inputs the fuzzing found (or that sat next to what it found), so that
a fix is checked directly. 30 examples per operation keep the file near a minute.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from hukou.accounts import Role, permissions_of
from tests.fuzz_support import (
    PUBLIC,
    PUSH_TOKEN_OPERATIONS,
    SESSION_OPERATIONS,
    FuzzApp,
    build_fuzz_app,
    leaks,
    openapi_document,
)

SEED = 6962
FUZZ_SETTINGS = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# The document depends on no setting; the calls go to the fixture's app (``app=``). A schema
# from ``schemathesis.pytest.from_fixture`` would spare the throwaway app, but its lazy
# parametrization sets ``Function._nodeid``, which pytest 9.2 no longer has.
schema = schemathesis.openapi.from_dict(
    openapi_document(),
    config=SchemathesisConfig.from_dict({"seed": SEED, "generation": {"mode": "all"}}),
)
api = schema.include(path_regex="^/api/")
PUBLIC_PATHS = "^/api/v1/(auth/(login|second-factor|logout)|ledger/)"  # see PUBLIC


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> FuzzApp:
    return build_fuzz_app(tmp_path_factory.mktemp("fuzz"))


def _operation(case: Case) -> tuple[str, str]:
    return case.operation.method.upper(), case.operation.path


def _described(case: Case, response: Any) -> str:
    return (
        f"{case.method.upper()} {case.formatted_path} query={case.query!r} body={case.body!r}"
        f" -> {response.status_code} {response.text[:500]!r}"
    )


def _sound(case: Case, response: Any) -> None:
    """No 5xx and nothing from the server's insides, whoever called."""
    assert response.status_code < 500, _described(case, response)
    found = leaks(response.text, response.headers)
    assert not found, f"{', '.join(found)} in {_described(case, response)}"


def _unparsable_body(response: Any) -> bool:
    """FastAPI's own refusal of a body it cannot parse, given before any dependency runs:
    422 ``json_invalid`` for broken JSON, 400 for bytes that are not UTF-8."""
    if response.status_code not in {400, 422}:
        return False
    detail = response.json().get("detail")
    if response.status_code == 400:
        return detail == "There was an error parsing the body"
    return isinstance(detail, list) and any(item.get("type") == "json_invalid" for item in detail)


def _unexpected_method(case: Case) -> bool:
    return case.method.upper() != case.operation.method.upper()


def test_only_the_listed_operations_are_public() -> None:
    """Every operation under /api/ is public, push-token or session, and each session
    operation has a row in the permission table: a new route cannot skip the fuzz tests."""
    document = schema.raw_schema
    secured: dict[tuple[str, str], set[str]] = {}
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            schemes = {name for item in operation.get("security") or [] for name in item}
            secured[(method.upper(), path)] = schemes
    assert {op for op, schemes in secured.items() if not schemes} == PUBLIC - {
        ("POST", "/api/v1/auth/logout")
    }
    assert {op for op, schemes in secured.items() if "department push token" in schemes} == set(
        PUSH_TOKEN_OPERATIONS
    )
    assert {op for op, schemes in secured.items() if "session token" in schemes} == set(
        SESSION_OPERATIONS
    ) | {("POST", "/api/v1/auth/logout")}


@FUZZ_SETTINGS
@api.parametrize()
def test_unauthenticated_calls_are_refused(case: Case, fuzz_app: FuzzApp) -> None:
    response = case.call(app=fuzz_app.app)
    _sound(case, response)
    if _operation(case) in PUBLIC:
        return
    if _unexpected_method(case) and response.status_code == 405:
        return
    assert response.status_code == 401 or _unparsable_body(response), _described(case, response)


@FUZZ_SETTINGS
@api.exclude(path_regex=PUBLIC_PATHS).parametrize()
def test_roles_without_the_permission_are_refused(case: Case, fuzz_app: FuzzApp) -> None:
    operation = _operation(case)
    for role, headers in fuzz_app.headers.items():
        response = case.call(app=fuzz_app.app, headers=dict(headers))
        _sound(case, response)
        if _unexpected_method(case) and response.status_code == 405:
            continue
        if operation in PUSH_TOKEN_OPERATIONS:
            assert response.status_code == 401, f"{role}: {_described(case, response)}"
            continue
        needed = SESSION_OPERATIONS[operation]
        if needed is None or needed in permissions_of({role}):
            continue
        if _own_self_access(case, role, fuzz_app) and response.status_code == 200:
            continue
        refused = response.status_code in {403, 422} or _unparsable_body(response)
        assert refused, f"{role}: {_described(case, response)}"


def _own_self_access(case: Case, role: Role, fuzz_app: FuzzApp) -> bool:
    body = case.body if isinstance(case.body, Mapping) else {}
    return (
        role is Role.RESIDENT
        and _operation(case) == ("POST", "/api/v1/persons/{person_id}/read")
        and (case.path_parameters or {}).get("person_id") == fuzz_app.resident_person_id
        and body.get("purpose") == "self_access"
    )


@FUZZ_SETTINGS
@schema.exclude(path_regex="^/api/v1/auth/logout$").parametrize()
def test_clerk_data_officer_and_resident_get_conformant_answers(
    case: Case, fuzz_app: FuzzApp
) -> None:
    for role in (Role.WINDOW_CLERK, Role.DATA_OFFICER, Role.RESIDENT):
        headers = dict(fuzz_app.headers[role])
        response = case.call(app=fuzz_app.app, headers=headers)
        _sound(case, response)
        if _operation(case) in SESSION_OPERATIONS:
            live = response.status_code != 401
            assert live, f"{role}'s session ended: {_described(case, response)}"
        case.validate_response(
            response,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
            headers=headers,
            transport_kwargs={"app": fuzz_app.app},
        )


NUMBER = "<the resident's identity number>"
OWN = "<the resident's person id>"
READ = {"fields": ["name"], "purpose": "household_registration"}
CONSENT = "community_services"  # a purpose that rests on consent
PERSON = f"/api/v1/persons/{OWN}/read"
BATCH = "/api/v1/persons/batch"


def _pinned(name: str, role: Role, method: str, path: str, body: dict[str, Any] | None) -> Any:
    return pytest.param(role, method, path, body, id=name)


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        _pinned("read-blank-field", Role.DATA_OFFICER, "POST", PERSON, {**READ, "fields": [""]}),
        _pinned(
            "read-chinese-field", Role.WINDOW_CLERK, "POST", PERSON, {**READ, "fields": ["姓名"]}
        ),
        _pinned("read-blank-case", Role.WINDOW_CLERK, "POST", PERSON, {**READ, "case_id": ""}),
        _pinned(
            "read-phone-case", Role.WINDOW_CLERK, "POST", PERSON, {**READ, "case_id": "13800138000"}
        ),
        _pinned(
            "read-control-purpose", Role.WINDOW_CLERK, "POST", PERSON, {**READ, "purpose": "a\x01"}
        ),
        _pinned(
            "read-control-person", Role.WINDOW_CLERK, "POST", "/api/v1/persons/a%01/read", READ
        ),
        _pinned(
            "batch-blank-person", Role.DATA_OFFICER, "POST", BATCH, {**READ, "person_ids": [""]}
        ),
        _pinned(
            "batch-blank-field",
            Role.DATA_OFFICER,
            "POST",
            BATCH,
            {**READ, "person_ids": [OWN], "fields": [""]},
        ),
        _pinned(
            "search-blank-case",
            Role.WINDOW_CLERK,
            "POST",
            "/api/v1/persons/search",
            {"identity_number": NUMBER, "purpose": "household_registration", "case_id": ""},
        ),
        _pinned(
            "accesses-after-2**63", Role.RESIDENT, "GET", f"/api/v1/me/accesses?after={2**63}", None
        ),
        _pinned(
            "consent-phone-department",
            Role.RESIDENT,
            "POST",
            "/api/v1/me/consents",
            {"department": "13800138000", "purpose": CONSENT},
        ),
        _pinned(
            "consent-control-department",
            Role.RESIDENT,
            "POST",
            "/api/v1/me/consents",
            {"department": "a\x01", "purpose": CONSENT},
        ),
    ],
)
def test_inputs_the_fuzzing_led_to_are_refused_without_failing(
    fuzz_app: FuzzApp, role: Role, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """Pinned cases, found by the tests above or next to what they found: a value the
    ledger refuses to record (a blank, a control character, something that looks like a
    phone number, a field name that is not one) or an integer beyond SQLite's. Each must
    be refused with a 4xx, not end in a 500."""
    client = TestClient(fuzz_app.app)
    resident = dict(fuzz_app.headers[Role.RESIDENT])
    export = client.get("/api/v1/me/data", headers=resident)
    assert export.status_code == 200, export.text
    number = export.json()["facts"]["identity_number"]["value"]
    text_ = json.dumps(body).replace(NUMBER, number).replace(OWN, fuzz_app.resident_person_id)
    response = client.request(
        method,
        path.replace(OWN, fuzz_app.resident_person_id),
        content=None if body is None else text_,
        headers={**fuzz_app.headers[role], "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, f"{response.status_code} {response.text[:300]}"
    assert not leaks(response.text, response.headers)
