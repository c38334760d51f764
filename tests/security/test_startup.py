"""The national-algorithm self-test runs before the app serves; a failing vector stops it."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hukou.app import create_app
from hukou.config import Settings
from hukou.security import selftest
from hukou.security.selftest import SelfTestError, Vector


def _app(tmp_path: Path) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'hukou.db'}"
    )
    return create_app(settings)


@pytest.fixture
def failing_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed library that computes SM4 wrongly, as a vector sees it."""
    wrong = Vector("SM4 block", "GB/T 32907-2016 example 1", lambda: bytes(16), b"\x68" * 16)
    monkeypatch.setattr(selftest, "VECTORS", (*selftest.VECTORS, wrong))


def test_the_app_starts_when_the_vectors_pass(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path)) as client:
        assert client.get("/api/openapi.json").status_code == 200


@pytest.mark.usefixtures("failing_vector")
def test_a_failing_vector_stops_the_start_with_a_clear_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(tmp_path)
    with (
        caplog.at_level(logging.CRITICAL, logger="hukou.app"),
        pytest.raises(SelfTestError, match="SM4 block"),
        TestClient(app),
    ):
        pytest.fail("the app served although a self-test vector failed")
    [record] = [r for r in caplog.records if r.name == "hukou.app"]
    assert record.levelno == logging.CRITICAL
    assert record.getMessage().startswith("refusing to start: national-algorithm self-test failed")
    assert "GB/T 32907-2016" in record.getMessage()


@pytest.mark.usefixtures("failing_vector")
def test_a_real_server_never_listens(tmp_path: Path) -> None:
    config = uvicorn.Config(
        _app(tmp_path), host="127.0.0.1", port=0, lifespan="on", log_config=None
    )
    server = uvicorn.Server(config)
    exits: list[BaseException] = []

    def serve() -> None:
        # Its own thread and event loop: the browser tests' Playwright keeps a loop
        # running in the main thread for the whole session.
        try:
            asyncio.run(server.serve())
        except BaseException as error:  # SystemExit is the expected outcome
            exits.append(error)

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    [stopped] = exits
    assert isinstance(stopped, SystemExit)
    assert stopped.code == 3  # uvicorn's "startup failed": `hukou serve` exits with it
    assert not server.started
