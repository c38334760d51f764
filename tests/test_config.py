"""Settings: the embedded default, and production refusing unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hukou.config import DEFAULT_SECRET_KEY, Settings


def test_default_is_sqlite_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUKOU_DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite:///var/hukou.db"
    assert settings.is_sqlite
    assert settings.default_language == "zh-CN"


def test_data_dir_moves_the_database(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/hukou.db"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUKOU_DATABASE_URL", "postgresql+psycopg://db.example/hukou")
    monkeypatch.setenv("HUKOU_PORT", "9000")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+psycopg://db.example/hukou"
    assert settings.port == 9000


def test_production_refuses_default_secret_and_sqlite() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, env="production")  # type: ignore[call-arg]
    message = str(raised.value)
    assert "HUKOU_SECRET_KEY is the demo default" in message
    assert "not SQLite" in message


def test_production_refuses_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            env="production",
            secret_key="short",
            database_url="postgresql+psycopg://db/hukou",
        )


def test_production_requires_explicit_keys() -> None:
    with pytest.raises(ValidationError, match="HUKOU_KEY_FILE or HUKOU_KEYS"):
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            env="production",
            secret_key="x" * 40,
            database_url="postgresql+psycopg://db/hukou",
        )


def test_production_accepts_safe_settings(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="production",
        secret_key="x" * 40,
        database_url="postgresql+psycopg://db/hukou",
        key_file=tmp_path / "keys.json",
    )
    assert settings.secret_key.get_secret_value() != DEFAULT_SECRET_KEY
    assert "x" * 40 not in repr(settings)  # secrets never printed
