"""The status page, its JSON twin, friendly errors and local API docs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hukou.app import create_app
from hukou.config import Settings

pytestmark = pytest.mark.storage


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None, database_url=engine.url.render_as_string(hide_password=False)
    )  # type: ignore[call-arg]
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_healthz_reports_database_and_reference_data(client: TestClient, engine: Engine) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["engine"] == engine.dialect.name
    assert body["database"]["revision"] == body["database"]["head"]
    assert body["calendar"]["first_year"] == 2004
    assert body["calendar"]["last_year"] >= 2026
    assert body["divisions"].startswith("python-stdnum")


def test_status_page_in_chinese_by_default(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN"' in page.text
    assert "系统运行状态" in page.text
    assert "正常" in page.text


def test_english_on_request_and_remembered(client: TestClient) -> None:
    page = client.get("/?lang=en")
    assert '<html lang="en"' in page.text
    assert "System status" in page.text
    assert page.cookies.get("hukou_lang") == "en"
    again = client.get("/")
    assert '<html lang="en"' in again.text


def test_elderly_mode_switch(client: TestClient) -> None:
    page = client.get("/?mode=elder")
    assert 'class="elder"' in page.text
    assert "标准模式" in page.text  # the switch back
    assert 'class="elder"' in client.get("/").text


def test_not_found_is_a_friendly_page_with_correlation_id(client: TestClient) -> None:
    page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "页面不存在" in page.text
    match = re.search(r'id="correlation-id">([0-9a-f]{32})<', page.text)
    assert match is not None
    assert page.headers["x-correlation-id"] == match.group(1)


def test_api_errors_are_json(client: TestClient) -> None:
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert "correlation_id" in response.json()


def test_unexpected_error_has_no_traceback(client: TestClient) -> None:
    @client.app.get("/boom")  # type: ignore[attr-defined]
    def boom() -> None:
        raise RuntimeError("internal detail")

    page = client.get("/boom", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert "Traceback" not in page.text
    assert "internal detail" not in page.text
    assert "抱歉" in page.text
    # The id the page quotes is the one in the header and in the log.
    assert page.headers["x-correlation-id"] in page.text
    given = client.get("/boom", headers={"accept": "text/html", "x-correlation-id": "abc123"})
    assert given.headers["x-correlation-id"] == "abc123"


def test_api_docs_load_nothing_from_outside(client: TestClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    urls = re.findall(r'(?:src|href)=["\']([^"\']+)', docs.text) + re.findall(
        r"url: ['\"]([^'\"]+)", docs.text
    )
    assert urls
    assert all(url.startswith("/") for url in urls), urls
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/openapi.json").json()["info"]["title"].startswith("Hukou")


def test_degraded_when_schema_is_behind(empty_engine: Engine) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
