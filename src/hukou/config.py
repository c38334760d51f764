"""Settings, read from the environment (``HUKOU_*``) or a ``.env`` file.

The embedded default is SQLite under ``./var`` so that ``make demo`` needs nothing
installed. Production (``HUKOU_ENV=production``) refuses that default and the demo
secret key: a city must never run on a file database or a key from a README.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_SECRET_KEY", "ConfigurationError", "Settings", "get_settings"]

DEFAULT_SECRET_KEY = "hukou-demo-secret-do-not-use-in-production"  # noqa: S105 (refused in production)
DEFAULT_DATA_DIR = Path("var")


class ConfigurationError(ValueError):
    """The settings are unsafe or inconsistent for the chosen environment."""


class Settings(BaseSettings):
    """Every setting Hukou reads; documented in docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="HUKOU_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="where SQLite and files live")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite under data_dir")
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    key_file: Path | None = Field(
        default=None, description="SM4 field keys (JSON); default <data_dir>/keys.json"
    )
    keys: SecretStr | None = Field(default=None, description="the key file's JSON, inline")
    ledger_key_file: Path | None = Field(
        default=None, description="Ed25519 checkpoint key; default ledger.key beside the data keys"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    city_division: str = Field(
        default="3205",
        pattern=r"^[0-9]{2,6}$",
        description="division code prefix of the city served (3205 苏州, the synthetic city)",
    )
    points_policy: str = Field(
        default="beijing",
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="the points policy 积分落户 applications are scored with",
    )
    push_tokens: SecretStr | None = Field(
        default=None,
        description='bearer tokens for pushed batches, JSON {"department": "token"}',
    )
    push_tokens_file: Path | None = Field(
        default=None, description="the same JSON in a file (used when push_tokens is unset)"
    )
    push_max_records: int = Field(
        default=50_000, ge=1, description="records in one pushed batch, at most"
    )
    push_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="bytes of one pushed batch's body, at most"
    )

    @model_validator(mode="after")
    def _fill_and_check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'hukou.db').as_posix()}"
        if self.env == "production":
            problems = []
            if self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY:
                problems.append("HUKOU_SECRET_KEY is the demo default")
            if len(self.secret_key.get_secret_value()) < 32:
                problems.append("HUKOU_SECRET_KEY must be at least 32 characters")
            if self.database_url.startswith("sqlite"):
                problems.append("HUKOU_DATABASE_URL must point at PostgreSQL, not SQLite")
            if self.key_file is None and self.keys is None:
                problems.append(
                    "set HUKOU_KEY_FILE or HUKOU_KEYS: no field keys are generated in production"
                )
            if problems:
                raise ConfigurationError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def resolved_key_file(self) -> Path:
        """Where the field-encryption keys are kept when not given inline."""
        return self.key_file or self.data_dir / "keys.json"

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
