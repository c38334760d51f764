"""A demo set up once per engine (a small synthetic city, every account, every agreement)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from hukou.config import Settings
from hukou.db import create_engine_for
from hukou.demo.setup import prepare
from hukou.demo.state import DemoState

TODAY = datetime.date(2026, 12, 6)
POPULATION = 600


@dataclass(frozen=True)
class Prepared:
    settings: Settings
    state: DemoState
    messages: list[str]


def _settings(data_dir: Path, url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url or "",
        env="test",
        secret_key=SecretStr("t" * 40),
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def prepared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prepared]:
    url: str | None = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        engine = create_engine_for(url)
        with engine.begin() as connection:  # the demo wants an empty database
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    settings = _settings(tmp_path_factory.mktemp(f"demo-{request.param}"), url)
    messages: list[str] = []
    state = prepare(settings, population=POPULATION, progress=messages.append, today=TODAY)
    return Prepared(settings, state, messages)
