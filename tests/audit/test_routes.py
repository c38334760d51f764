"""The ledger's HTTP API: signed checkpoint, proofs that verify against it, clear JSON errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from hukou.app import create_app
from hukou.audit.checkpoint import NoteSigner, open_checkpoint
from hukou.audit.ledger import append, checkpoint
from hukou.audit.merkle import SM3_HASHER, verify_consistency, verify_inclusion
from hukou.config import Settings
from hukou.db import session_scope
from tests.audit.conftest import ORIGIN, make_entries

pytestmark = pytest.mark.storage


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def leaf_of(engine: Engine, index: int) -> bytes:
    with engine.connect() as connection:
        entry = connection.scalar(
            text("SELECT entry FROM audit_entry WHERE seq = :i"), {"i": index}
        )
    return SM3_HASHER.hash_leaf(str(entry).encode())


def test_before_any_checkpoint(client: TestClient) -> None:
    response = client.get("/api/v1/ledger/checkpoint")
    assert response.status_code == 404
    assert response.json()["detail"] == "no checkpoint has been signed yet"
    response = client.get("/api/v1/ledger/proof/inclusion", params={"index": 0})
    assert response.status_code == 404
    assert "give size" in response.json()["detail"]


def test_inclusion_proofs_verify_against_the_signed_checkpoint(
    client: TestClient, engine: Engine, signer: NoteSigner
) -> None:
    with session_scope(engine) as session:
        append(session, make_entries(9))
        checkpoint(session, signer)
    with session_scope(engine) as session:
        append(session, make_entries(14, first=9))
        checkpoint(session, signer)
    body = client.get("/api/v1/ledger/checkpoint").json()
    assert set(body) == {"origin", "size", "root_hash", "hash", "note", "created_at"}
    assert (body["origin"], body["size"], body["hash"]) == (ORIGIN, 23, "SM3")
    # The client trusts only what the public key signed.
    head = open_checkpoint(body["note"], origin=ORIGIN, log_key=signer.verifier())
    assert base64.b64decode(body["root_hash"]) == head.root_hash
    for index in range(23):
        response = client.get("/api/v1/ledger/proof/inclusion", params={"index": index})
        assert response.status_code == 200
        proof = response.json()
        assert set(proof) == {"index", "size", "hash", "hashes"}
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        verify_inclusion(leaf_of(engine, index), index, head.size, hashes, head.root_hash)

    response = client.get(
        "/api/v1/ledger/proof/consistency", params={"first": 9, "second": 23}
    ).json()
    old_root = open_checkpoint(
        checkpoint_note(engine, 9), origin=ORIGIN, log_key=signer.verifier()
    ).root_hash
    hashes = [base64.b64decode(h) for h in response["hashes"]]
    verify_consistency(9, 23, old_root, head.root_hash, hashes)
    # The second size defaults to the latest checkpoint.
    default = client.get("/api/v1/ledger/proof/consistency", params={"first": 9}).json()
    assert default == response


def checkpoint_note(engine: Engine, size: int) -> str:
    with engine.connect() as connection:
        note = connection.scalar(
            text("SELECT note FROM audit_checkpoint WHERE size = :s"), {"s": size}
        )
    return str(note)


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("inclusion", {"index": 5, "size": 5}, 400, "entry 5 is outside a tree of size 5"),
        ("inclusion", {"index": 0, "size": 6}, 404, "tree size 6 is outside 1..5"),
        ("consistency", {"first": 4, "second": 2}, 400, "first (4) must not exceed second (2)"),
        ("consistency", {"first": 1, "second": 8}, 404, "no consistency proof from size 1 to 8"),
    ],
)
def test_errors_are_json_with_a_clear_message(
    client: TestClient,
    engine: Engine,
    path: str,
    params: dict[str, int],
    status: int,
    detail: str,
) -> None:
    with session_scope(engine) as session:
        append(session, make_entries(5))
    response = client.get(f"/api/v1/ledger/proof/{path}", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"].startswith(detail)
    assert "Traceback" not in response.text


def test_invalid_parameters_are_refused_by_the_schema(client: TestClient) -> None:
    for params in ({"index": -1}, {"index": "x"}, {}):
        response = client.get("/api/v1/ledger/proof/inclusion", params=params)
        assert response.status_code == 422
        assert response.json()["error"] == "invalid request"


def test_no_entry_endpoint_is_published(client: TestClient) -> None:
    assert client.get("/api/v1/ledger/entries/0").status_code == 404
    paths = client.get("/api/openapi.json").json()["paths"]
    ledger_paths = sorted(p for p in paths if p.startswith("/api/v1/ledger"))
    assert ledger_paths == [
        "/api/v1/ledger/checkpoint",
        "/api/v1/ledger/proof/consistency",
        "/api/v1/ledger/proof/inclusion",
    ]
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    for name in ("CheckpointBody", "InclusionProofBody", "ConsistencyProofBody"):
        assert schemas[name]["additionalProperties"] is False
