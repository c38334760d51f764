"""The exchange over HTTP, logged in through /api/v1/auth, on both engines: search and
read with masking, 403 for a refused read, agreements, and the resident's tracker
whose inclusion proofs verify against the signed checkpoint."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from sqlalchemy import select

from hukou.accounts import Role
from hukou.audit.checkpoint import open_checkpoint
from hukou.audit.keys import ledger_key_file, load_signer
from hukou.audit.merkle import SM3_HASHER, verify_inclusion
from hukou.db import session_scope
from hukou.registry import person_facts
from hukou.registry.model import Person, RecordLink, SourceRecord
from tests.accounts.http import logged_in_headers, resident_headers
from tests.exchange.conftest import Registry


def _numbered(registry: Registry) -> tuple[str, str]:
    with session_scope(registry.engine) as db:
        for person_id in registry.person_ids:
            facts = person_facts(db, registry.exchange.cipher, person_id, ["identity_number"])
            if facts is not None and isinstance(facts.values.get("identity_number"), str):
                return person_id, str(facts.values["identity_number"])
    raise AssertionError("nobody has a number")


def test_search_and_read_masked(client: TestClient, registry: Registry) -> None:
    person_id, number = _numbered(registry)
    clerk = logged_in_headers(client, Role.WINDOW_CLERK, department="public_security")
    found = client.post(
        "/api/v1/persons/search",
        json={"identity_number": number, "purpose": "household_registration"},
        headers=clerk,
    )
    assert found.status_code == 200, found.text
    assert found.json()["person_ids"] == [person_id]
    read = client.post(
        f"/api/v1/persons/{person_id}/read",
        json={"fields": ["identity_number", "name", "income"], "purpose": "household_registration"},
        headers=clerk,
    )
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["values"]["identity_number"] == number[:6] + "********" + number[-4:]
    assert body["denied"] == {"income": "never_shared"}
    # The number's source is a linked record that holds it (the register's if it does).
    with session_scope(registry.engine) as db:
        holders = set(
            db.scalars(
                select(SourceRecord.department)
                .join(RecordLink, RecordLink.record_id == SourceRecord.id)
                .join(Person, Person.id == RecordLink.person_id)
                .where(Person.id == person_id, SourceRecord.identity_index == Person.identity_index)
            )
        )
    source = body["sources"]["identity_number"]
    assert source in holders
    assert source == "public_security" or "public_security" not in holders
    assert number not in read.text


def test_refused_reads_and_unauthenticated_calls(client: TestClient, registry: Registry) -> None:
    person_id, _number = _numbered(registry)
    housing = logged_in_headers(client, Role.WINDOW_CLERK, department="housing")
    refused = client.post(
        f"/api/v1/persons/{person_id}/read",
        json={"fields": ["name"], "purpose": "residence_permit"},
        headers=housing,
    )
    assert refused.status_code == 403
    for method, path, body in [
        (
            "post",
            f"/api/v1/persons/{person_id}/read",
            {"fields": ["name"], "purpose": "statistics"},
        ),
        ("post", "/api/v1/persons/search", {"identity_number": "1", "purpose": "statistics"}),
        (
            "post",
            "/api/v1/persons/batch",
            {"person_ids": [person_id], "fields": ["name"], "purpose": "statistics"},
        ),
        ("get", "/api/v1/agreements", None),
        ("get", "/api/v1/me/accesses", None),
        ("get", "/api/v1/me/data", None),
    ]:
        response = client.request(method, path, json=body)
        assert response.status_code == 401, path
        assert "Traceback" not in response.text
    analyst = logged_in_headers(client, Role.ANALYST, department="public_security")
    forbidden = client.post(
        "/api/v1/persons/search",
        json={"identity_number": "11010519491231002X", "purpose": "statistics"},
        headers=analyst,
    )
    assert forbidden.status_code == 403
    extra = client.post(
        f"/api/v1/persons/{person_id}/read",
        json={"fields": ["name"], "purpose": "statistics", "sneaky": True},
        headers=housing,
    )
    assert extra.status_code == 422


def test_agreement_over_http_opens_the_read(client: TestClient, registry: Registry) -> None:
    person_id, _number = _numbered(registry)
    consumer = logged_in_headers(client, Role.DATA_OFFICER, department="tax")
    provider = logged_in_headers(client, Role.DATA_OFFICER, department="public_security")
    draft = client.post(
        "/api/v1/agreements",
        json={
            "provider": "public_security",
            "fields": ["registered_division"],
            "purposes": ["statistics"],
            "valid_from": "2025-01-01",
        },
        headers=consumer,
    )
    assert draft.status_code == 201, draft.text
    agreement = draft.json()["id"]
    assert (
        client.post(f"/api/v1/agreements/{agreement}/approve", headers=consumer).status_code == 422
    )
    approved = client.post(f"/api/v1/agreements/{agreement}/approve", headers=provider)
    assert approved.json()["status"] == "approved"
    clerk = logged_in_headers(client, Role.WINDOW_CLERK, department="tax")
    read = client.post(
        f"/api/v1/persons/{person_id}/read",
        json={"fields": ["registered_division"], "purpose": "statistics"},
        headers=clerk,
    )
    assert read.status_code == 200, read.text
    listed = client.get("/api/v1/agreements", headers=consumer).json()["agreements"]
    assert agreement in {item["id"] for item in listed}


def test_the_resident_sees_each_access_with_a_proof_that_verifies(
    client: TestClient, registry: Registry
) -> None:
    person_id, number = _numbered(registry)
    clerk = logged_in_headers(client, Role.WINDOW_CLERK, department="public_security")
    read = client.post(
        f"/api/v1/persons/{person_id}/read",
        json={"fields": ["name"], "purpose": "household_registration", "case_id": "CASE-1"},
        headers=clerk,
    )
    seq = read.json()["ledger_seq"]
    me = resident_headers(client, person_id)
    page = client.get("/api/v1/me/accesses", headers=me)
    assert page.status_code == 200, page.text
    body = page.json()
    mine = [item for item in body["accesses"] if item["seq"] == seq]
    assert len(mine) == 1
    access = mine[0]
    assert (access["department"], access["purpose"], access["case_id"]) == (
        "public_security",
        "household_registration",
        "CASE-1",
    )
    # A fresh checkpoint was signed for the page: verify as the resident would, with the
    # log's published key (`hukou audit key`), then the audit path to its root.
    settings = client.app.state.settings  # type: ignore[attr-defined]
    verifier = load_signer(ledger_key_file(settings)).verifier()
    head = open_checkpoint(body["checkpoint"], origin=verifier.name, log_key=verifier)
    assert head.size > seq
    leaf = SM3_HASHER.hash_leaf(access["entry"].encode("utf-8"))
    proof = [base64.b64decode(h) for h in access["proof"]]
    verify_inclusion(leaf, seq, head.size, proof, head.root_hash, hasher=SM3_HASHER)
    export = client.get("/api/v1/me/data", headers=me)
    assert export.status_code == 200
    document = export.json()
    assert document["facts"]["identity_number"]["value"] == number
    assert any(item["seq"] == seq for item in document["accesses"])
    assert document["records"], "the source records are part of the copy"


def test_the_catalogue_is_served_to_any_account(client: TestClient) -> None:
    assert client.get("/api/v1/catalog").status_code == 401
    analyst = logged_in_headers(client, Role.ANALYST, department="public_security")
    body = client.get("/api/v1/catalog", headers=analyst).json()
    items = {item["name"]: item for item in body["items"]}
    assert items["income"]["share"] == "never"
    assert items["identity_number"]["provider"] == "public_security"
    assert "identity_number" in body["must_share"]["public_security"]
