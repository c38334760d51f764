"""The casework API over HTTP on a linked registry, both engines: a window filing decided
at once (秒批), a case returned for material and then reviewed, the loser of two decisions
answered 409, delivery and a 差评 by the resident, and who may see which case."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from hukou.accounts import Role
from hukou.audit import ledger
from hukou.db import session_scope
from tests.accounts.http import logged_in_headers, resident_headers
from tests.exchange.conftest import Registry, persons_with

pytestmark = pytest.mark.storage

CITY = "3205"


def _staff(client: TestClient, role: Role, department: str = "public_security") -> dict[str, str]:
    return logged_in_headers(client, role, department=department)


def _registered_here(registry: Registry) -> list[str]:
    return [
        person
        for person, values in persons_with(registry, ["registered_division", "death_date"])
        if str(values.get("registered_division", "")).startswith(CITY)
        and not values.get("death_date")
    ]


def test_the_catalog_lists_every_service_with_what_the_registry_proves(
    client: TestClient,
) -> None:
    clerk = _staff(client, Role.WINDOW_CLERK)
    answer = client.get("/api/v1/services", headers=clerk)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    services = {s["code"]: s for s in body["services"]}
    assert len(services) == 15
    birth = services["birth_registration"]
    assert {f["item"] for f in birth["facts"]} == {"registered_division", "birth_date"}
    assert {r["department"] for r in birth["reviews"]} == {
        "public_security",
        "medical_insurance",
        "hr_social_security",
    }
    assert body["rating_reasons"]["slow"]["zh"] == "办理时间长"


def test_a_window_filing_the_registry_proves_is_decided_at_once(
    client: TestClient, registry: Registry
) -> None:
    person = _registered_here(registry)[0]
    clerk = _staff(client, Role.WINDOW_CLERK)
    answer = client.post(
        "/api/v1/cases",
        json={"service": "register_certificate", "applicant_id": person},
        headers=clerk,
    )
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert (case["state"], case["instant_decision"], case["sla"]) == ("approved", True, "on_track")
    assert case["reason"]["en"]
    (fact,) = case["facts"]
    assert (fact["name"], fact["holds"], fact["source"]) == ("registered_here", True, "registry")
    # The fact's read is in the ledger of the person, for this case.
    with session_scope(registry.engine) as db:
        entry = json.loads(
            ledger.person_entries(db, person, after=fact["ledger_seq"] - 1, limit=1)[0][1]
        )
    assert (entry["case_id"], entry["kind"]) == (case["id"], "access")
    # The clerk sees the case; another department, with no task on it, does not.
    assert client.get(f"/api/v1/cases/{case['id']}", headers=clerk).status_code == 200
    school = _staff(client, Role.WINDOW_CLERK, "education")
    hidden = client.get(f"/api/v1/cases/{case['id']}", headers=school)
    assert hidden.status_code == 404
    assert hidden.json()["correlation_id"]


def test_material_then_review_then_a_conflict_then_delivery_and_a_bad_rating(
    client: TestClient, registry: Registry
) -> None:
    here = _registered_here(registry)
    deceased, family = here[0], here[1]
    clerk = _staff(client, Role.WINDOW_CLERK)
    filed = client.post(
        "/api/v1/cases",
        json={"service": "death_cancellation", "applicant_id": family, "subject_id": deceased},
        headers=clerk,
    )
    assert filed.status_code == 201, filed.text
    case = filed.json()
    # Civil affairs shares no deaths yet: the certificate is asked for, the clock stops.
    assert case["state"] == "awaiting_material"
    assert case["materials_asked"] == ["death_certificate"]
    supplied = client.post(
        f"/api/v1/cases/{case['id']}/material",
        json={"version": case["version"], "supplied": ["death_certificate"]},
        headers=clerk,
    )
    assert supplied.status_code == 200, supplied.text
    case = supplied.json()
    # A paper approves nothing alone: a person reviews the proposed approval.
    assert (case["state"], case["proposed"]) == ("in_review", "approve")
    (task,) = case["tasks"]

    first = _staff(client, Role.DEPARTMENT_REVIEWER)
    second = _staff(client, Role.DEPARTMENT_REVIEWER)
    inbox = client.get("/api/v1/inbox", headers=first).json()
    mine = next(t for t in inbox["tasks"] if t["task_id"] == task["id"])
    assert mine["case_id"] == case["id"]
    assert mine["workdays_left"] <= 1
    decision = {"action": "approved", "version": mine["version"], "note": "证明核验无误"}
    won = client.post(f"/api/v1/tasks/{task['id']}/decision", json=decision, headers=first)
    lost = client.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={**decision, "action": "rejected"},
        headers=second,
    )
    assert won.status_code == 200, won.text
    assert won.json()["state"] == "approved"
    assert lost.status_code == 409
    assert "reload" in lost.json()["detail"]
    # A reviewer of another department cannot touch the task at all.
    other = _staff(client, Role.DEPARTMENT_REVIEWER, "civil_affairs")
    assert (
        client.post(
            f"/api/v1/tasks/{task['id']}/decision", json=decision, headers=other
        ).status_code
        == 404
    )

    delivered = client.post(f"/api/v1/cases/{case['id']}/deliver", headers=clerk)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["state"] == "delivered"

    resident = resident_headers(client, family)
    mine_now = client.get("/api/v1/me/cases", headers=resident).json()["cases"]
    assert [c["id"] for c in mine_now] == [case["id"]]
    rated = client.post(
        f"/api/v1/me/cases/{case['id']}/rating",
        json={"score": 1, "reasons": ["repeated_material"]},
        headers=resident,
    )
    assert rated.status_code == 201, rated.text
    assert rated.json()["rectification_due"] is not None
    again = client.post(
        f"/api/v1/me/cases/{case['id']}/rating", json={"score": 5}, headers=resident
    )
    assert again.status_code == 422
    # Someone else's resident account does not see the case.
    stranger = resident_headers(client, here[2])
    assert client.get(f"/api/v1/me/cases/{case['id']}", headers=stranger).status_code == 404


def test_a_resident_applies_online_for_themselves_not_for_a_stranger(
    client: TestClient, registry: Registry
) -> None:
    households = {
        person: values.get("household_number")
        for person, values in persons_with(registry, ["household_number"])
    }
    here = _registered_here(registry)
    person = here[0]
    stranger = next(p for p in here if households.get(p) != households.get(person))
    resident = resident_headers(client, person)
    own = client.post(
        "/api/v1/me/cases", json={"service": "register_certificate"}, headers=resident
    )
    assert own.status_code == 201, own.text
    assert (own.json()["channel"], own.json()["state"]) == ("online", "approved")
    other = client.post(
        "/api/v1/me/cases",
        json={"service": "register_certificate", "subject_id": stranger},
        headers=resident,
    )
    assert other.status_code == 422
    assert "household" in other.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"service": "no_such_service", "applicant_id": "P1"}, 422),
        ({"service": "register_certificate", "applicant_id": "P1", "supplied": ["nope"]}, 422),
        ({"service": "register_certificate", "applicant_id": "P1", "channel": "assisted"}, 422),
        ({"service": "register_certificate", "applicant_id": "bad id!"}, 422),
    ],
)
def test_a_bad_filing_is_refused_with_a_reason(
    client: TestClient, body: dict[str, object], status: int
) -> None:
    clerk = _staff(client, Role.WINDOW_CLERK)
    answer = client.post("/api/v1/cases", json=body, headers=clerk)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]
    assert "Traceback" not in answer.text


def test_a_resident_cannot_use_staff_routes(client: TestClient, registry: Registry) -> None:
    person = registry.person_ids[-1]  # no other test of the module logs in as this one
    resident = resident_headers(client, person)
    assert client.get("/api/v1/inbox", headers=resident).status_code == 403
    filed = client.post(
        "/api/v1/cases",
        json={"service": "register_certificate", "applicant_id": person},
        headers=resident,
    )
    assert filed.status_code == 403
