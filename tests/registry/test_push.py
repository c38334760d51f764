"""Pushed batches over HTTP on SQLite and PostgreSQL: the same records as the file, once,
only with the department's own token, and errors that say what is wrong without
repeating a single value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from hukou.app import create_app
from hukou.config import ConfigurationError, Settings
from hukou.db import session_scope
from hukou.registry.ingest import ingest_file
from hukou.registry.model import Batch, QuarantinedRow, SourceRecord
from hukou.registry.push import load_push_tokens
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from tests.registry.stored import aligned, outcomes, wellformed_rows

KEYRING = KeyRing.generate()
DEPARTMENT = "hr_social_security"
TOKENS = {DEPARTMENT: "hr-token-" + "x" * 30, "tax": "tax-token-" + "y" * 30}
URL = f"/api/registry/batches/{DEPARTMENT}"
HR = {"Authorization": f"Bearer {TOKENS[DEPARTMENT]}"}
TAX = {"Authorization": f"Bearer {TOKENS['tax']}"}
A_NUMBER = "11010519491231002X"  # a valid identity number: it must never come back


def _settings(engine: Engine, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "data_dir": tmp_path,
        "keys": SecretStr(KEYRING.to_json()),
        "push_tokens": SecretStr(json.dumps(TOKENS)),
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(_settings(engine, tmp_path, push_max_records=500))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("push-city")
    generate_city(CityConfig(population=800, seed=12), out)
    return out


def _counts(engine: Engine) -> tuple[int, int, int]:
    with session_scope(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Batch)) or 0,
            session.scalar(select(func.count()).select_from(SourceRecord)) or 0,
            session.scalar(select(func.count()).select_from(QuarantinedRow)) or 0,
        )


def _assert_friendly(response: Any, status: int) -> dict[str, Any]:
    """An error a department can act on: JSON, a correlation id, no traceback, no values."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert len(body["correlation_id"]) == 32
    assert response.headers["x-correlation-id"] == body["correlation_id"]
    assert "Traceback" not in response.text
    assert A_NUMBER not in response.text
    assert "张三" not in response.text
    return body


# --------------------------------------------------------------------------- pushing


@pytest.mark.storage
def test_a_push_stores_what_the_file_would(client: TestClient, engine: Engine, city: Path) -> None:
    # A file with defects, ingested as a file first: the push must store the same.
    for csv_path in sorted((city / "feeds" / DEPARTMENT).glob("cbry_*.csv")):
        from_file = ingest_file(engine, DEPARTMENT, csv_path, keyring=KEYRING)
        if from_file.quarantined:
            break
    _header, lines = wellformed_rows(csv_path)
    body = {"file_name": csv_path.name, "records": [values for _line, values in lines]}
    response = client.post(URL, json=body, headers=HR)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["outcome"] == "ingested"
    assert report["status"] == "done"
    assert report["department"] == DEPARTMENT
    assert report["file"] == csv_path.name
    assert report["rows_in"] == len(lines) == report["accepted"] + report["quarantined"]
    assert report["quarantined"] > 0  # the city's defects: duplicates, missing fields
    assert sum(report["reasons"].values()) >= report["quarantined"]

    malformed = from_file.rows_in - len(lines)
    assert report["accepted"] == from_file.accepted
    assert report["quarantined"] == from_file.quarantined - malformed
    expected = outcomes(engine, from_file.batch_id, KEYRING)
    stored = aligned(lines, outcomes(engine, report["batch_id"], KEYRING))
    assert stored == {line: expected[line] for line, _values in lines}

    fetched = client.get(f"/api/registry/batches/{report['batch_id']}", headers=HR)
    assert fetched.status_code == 200
    assert {k: fetched.json()[k] for k in ("batch_id", "rows_in", "accepted", "quarantined")} == {
        k: report[k] for k in ("batch_id", "rows_in", "accepted", "quarantined")
    }
    assert fetched.json()["reasons"] == report["reasons"]


@pytest.mark.storage
def test_the_same_push_twice_is_a_no_op(client: TestClient, engine: Engine) -> None:
    record = {"GRBH": "320500000001", "SFZHM": A_NUMBER, "XM": "张三", "XB": "2"}
    body = {"file_name": "cbry_push.csv", "records": [record]}
    first = client.post(URL, json=body, headers=HR)
    assert first.status_code == 201
    before = _counts(engine)
    # The same batch written differently (key order, spacing) is the same batch.
    reordered = {"records": [dict(reversed(list(record.items())))], "file_name": "cbry_push.csv"}
    again = client.post(
        URL,
        content=json.dumps(reordered, indent=2, ensure_ascii=False).encode(),
        headers=HR | {"content-type": "application/json"},
    )
    assert again.status_code == 200
    assert again.json()["outcome"] == "already_ingested"
    assert again.json()["batch_id"] == first.json()["batch_id"]
    assert _counts(engine) == before
    assert A_NUMBER not in again.text  # the report has counts, never values


@pytest.mark.storage
def test_every_record_is_counted_even_the_malformed(client: TestClient) -> None:
    good = {"GRBH": "320500000001", "SFZHM": A_NUMBER, "XM": "张三", "XB": "2", "JFYS": 12.0}
    records: list[object] = [
        good,
        "not an object",
        {**good, "XM": ["张", "三"]},
        {**good, "NOT_A_COLUMN": "1"},
        None,
    ]
    response = client.post(URL, json={"file_name": "cbry_odd.csv", "records": records}, headers=HR)
    assert response.status_code == 201
    report = response.json()
    assert report["rows_in"] == 5
    assert report["rows_in"] == report["accepted"] + report["quarantined"]
    assert report["reasons"]["line:malformed_line"] == 4
    assert A_NUMBER not in response.text


# --------------------------------------------------------------------------- who may push


@pytest.mark.storage
def test_push_is_closed_until_tokens_are_configured(engine: Engine, tmp_path: Path) -> None:
    app = create_app(_settings(engine, tmp_path, push_tokens=None))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(URL, json={"file_name": "cbry_1.csv", "records": [{}]}, headers=HR)
    body = _assert_friendly(response, 503)
    assert body["detail"].startswith("push not configured")


@pytest.mark.storage
@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({}, 401, "a bearer token is required"),
        ({"Authorization": "Basic aHI6cHc="}, 401, "a bearer token is required"),
        ({"Authorization": "Bearer wrong"}, 401, "the bearer token is not valid"),
        ({"Authorization": f"Bearer {TOKENS[DEPARTMENT]}x"}, 401, "the bearer token is not valid"),
        (TAX, 403, "the token is not hr_social_security's"),
    ],
    ids=["none", "basic", "wrong", "prefix", "other-department"],
)
def test_only_the_departments_own_token_pushes(
    client: TestClient, engine: Engine, headers: dict[str, str], status: int, detail: str
) -> None:
    body = {"file_name": "cbry_1.csv", "records": [{"SFZHM": A_NUMBER, "XM": "张三"}]}
    response = client.post(URL, json=body, headers=headers)
    assert _assert_friendly(response, status)["detail"] == detail
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert _counts(engine) == (0, 0, 0)


@pytest.mark.storage
def test_unknown_department_and_batch(client: TestClient) -> None:
    response = client.post("/api/registry/batches/nowhere", json={}, headers=HR)
    assert _assert_friendly(response, 404)["detail"] == "no department 'nowhere'"
    missing = client.get("/api/registry/batches/00000000-0000-0000-0000-000000000000", headers=HR)
    assert _assert_friendly(missing, 404)["detail"] == "no such batch"


@pytest.mark.storage
def test_a_batch_report_is_its_departments_only(client: TestClient) -> None:
    body = {"file_name": "cbry_1.csv", "records": [{"GRBH": "1"}]}
    batch_id = client.post(URL, json=body, headers=HR).json()["batch_id"]
    assert client.get(f"/api/registry/batches/{batch_id}", headers=HR).status_code == 200
    other = client.get(f"/api/registry/batches/{batch_id}", headers=TAX)
    _assert_friendly(other, 403)
    _assert_friendly(client.get(f"/api/registry/batches/{batch_id}"), 401)


# --------------------------------------------------------------------------- bad bodies


def _detail(response: Any) -> list[tuple[list[str | int], str]]:
    return [(d["loc"], d["msg"]) for d in _assert_friendly(response, 422)["detail"]]


@pytest.mark.storage
def test_bad_bodies_are_told_what_is_wrong(client: TestClient, engine: Engine) -> None:
    def post(content: bytes) -> Any:
        return client.post(URL, content=content, headers=HR | {"content-type": "application/json"})

    broken = post(f'{{"file_name": "cbry_1.csv", "records": [{{"SFZHM": "{A_NUMBER}"'.encode())
    [(loc, message)] = _detail(broken)
    assert loc == ["body"]
    assert message.startswith("not valid JSON (Expecting")
    assert message.endswith("at line 1, column 71)")

    [(loc, _message)] = _detail(post(json.dumps({"records": [{}]}).encode()))
    assert loc == ["body", "file_name"]
    [(loc, _message)] = _detail(post(json.dumps({"file_name": "cbry_1.csv"}).encode()))
    assert loc == ["body", "records"]
    [(loc, _message)] = _detail(post(json.dumps([{"SFZHM": A_NUMBER}]).encode()))
    assert loc == ["body"]
    extra = {"file_name": "cbry_1.csv", "records": [{}], "token": A_NUMBER}
    [(loc, _message)] = _detail(post(json.dumps(extra).encode()))
    assert loc == ["body", "token"]
    [(loc, _message)] = _detail(
        post(json.dumps({"file_name": "a/cbry_1.csv", "records": [{}]}).encode())
    )
    assert loc == ["body", "file_name"]
    [(loc, message)] = _detail(
        post(json.dumps({"file_name": "cbry_1.csv", "records": []}).encode())
    )
    assert (loc, message) == (["body", "records"], "no records: a batch has at least one")

    wrong_kind = {"file_name": "hjdj_320505.csv", "records": [{"SFZHM": A_NUMBER}]}
    [(loc, message)] = _detail(post(json.dumps(wrong_kind).encode()))
    assert loc == ["body", "file_name"]
    assert message == (
        "matches 0 file kinds of hr_social_security; it must match one of cbry_*.csv, "
        "cbry_*.parquet"
    )
    assert _counts(engine) == (0, 0, 0)


@pytest.mark.storage
def test_size_limits(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(engine, tmp_path, push_max_records=3, push_max_bytes=2048)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        four = {"file_name": "cbry_1.csv", "records": [{"GRBH": str(n)} for n in range(4)]}
        response = client.post(URL, json=four, headers=HR)
        assert _assert_friendly(response, 413)["detail"] == "at most 3 records per batch"
        large = {"file_name": "cbry_1.csv", "records": [{"XM": "张三" * 400}]}
        response = client.post(URL, json=large, headers=HR)
        assert _assert_friendly(response, 413)["detail"] == "the body is larger than 2048 bytes"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"file_name": "cbry_1.csv", "records": ['
            for _ in range(100):
                yield b'{"GRBH": "320500000001"},'
            yield b"{}]}"

        response = client.post(
            URL, content=chunks(), headers=HR | {"content-type": "application/json"}
        )
        assert _assert_friendly(response, 413)["detail"] == "the body is larger than 2048 bytes"
        three = {"file_name": "cbry_1.csv", "records": [{"GRBH": str(n)} for n in range(3)]}
        assert client.post(URL, json=three, headers=HR).status_code == 201
    assert _counts(engine)[0] == 1


# --------------------------------------------------------------------------- documented


@pytest.mark.storage
def test_the_endpoint_is_documented_with_an_example(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    post = schema["paths"]["/api/registry/batches/{department}"]["post"]
    content = post["requestBody"]["content"]["application/json"]
    assert content["example"]["file_name"] == "cbry_20251231.csv"
    assert set(content["schema"]["properties"]) == {"file_name", "records"}
    assert {"201", "200", "401", "403", "404", "413", "422", "503"} <= set(post["responses"])
    assert post["security"]  # the bearer token, with an Authorize button in the docs
    assert "get" in schema["paths"]["/api/registry/batches/{batch_id}"]
    assert client.get("/api/docs").status_code == 200


# --------------------------------------------------------------------------- settings


def test_tokens_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "push-tokens.json"
    path.write_text(json.dumps(TOKENS), encoding="utf-8")
    settings = Settings(_env_file=None, push_tokens_file=path)  # type: ignore[call-arg]
    assert load_push_tokens(settings) == TOKENS
    assert load_push_tokens(Settings(_env_file=None)) == {}  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("tokens", "env", "message"),
    [
        ("{not json", "development", "HUKOU_PUSH_TOKENS: not JSON"),
        ('["a"]', "development", "HUKOU_PUSH_TOKENS: must be a JSON object"),
        ('{"tax": ""}', "development", "HUKOU_PUSH_TOKENS: must be a JSON object"),
        ('{"tax": "S3cr3t", "housing": "S3cr3t"}', "development", "two departments share"),
        ('{"tax": "S3cr3t"}', "production", "tokens of tax are shorter than 32 characters"),
    ],
)
def test_bad_token_settings_stop_the_start(tokens: str, env: str, message: str) -> None:
    settings = Settings.model_construct(
        env=env, push_tokens=SecretStr(tokens), push_tokens_file=None
    )
    with pytest.raises(ConfigurationError) as caught:
        load_push_tokens(settings)
    assert message in str(caught.value)
    assert "S3cr3t" not in str(caught.value)  # never a token


def test_a_missing_tokens_file_is_named(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, push_tokens_file=tmp_path / "nope.json")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match=r"nope\.json\): cannot read"):
        load_push_tokens(settings)
