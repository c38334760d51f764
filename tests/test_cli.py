"""The ``hukou`` command as a user runs it: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hukou.cli import app
from hukou.config import get_settings

runner = CliRunner()
EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "holidays-2027.toml"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUKOU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("version", "serve", "db", "id", "calendar"):
        assert command in result.output


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.startswith("hukou 0.")


def test_id_check_valid_json() -> None:
    result = runner.invoke(app, ["id", "check", "11010519491231002X", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["valid"] is True
    assert payload["birth_date"] == "1949-12-31"
    assert payload["sex"] == "2"
    assert payload["address_code"] == "110105"
    assert payload["number"] == "110***********002X"  # masked


def test_id_check_invalid_exit_1_with_reason() -> None:
    result = runner.invoke(app, ["id", "check", "110105194902300020", "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload == {
        "valid": False,
        "reason": "birth_date_impossible",
        "message": "the birth date part is not a real calendar date",
    }


def test_id_check_table_never_shows_the_full_number() -> None:
    result = runner.invoke(app, ["id", "check", "11010519491231002X"])
    assert result.exit_code == 0
    assert "11010519491231002X" not in result.output
    assert "valid" in result.output


def test_id_upgrade() -> None:
    result = runner.invoke(app, ["id", "upgrade", "110105491231002"])
    assert result.exit_code == 0
    assert result.output.strip() == "11010519491231002X"
    bad = runner.invoke(app, ["id", "upgrade", "110105491331002"])
    assert bad.exit_code == 1


def test_db_upgrade_and_calendar_load(data_dir: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert (data_dir / "hukou.db").exists()
    shown = runner.invoke(app, ["calendar", "show"])
    assert "2004–2026" in shown.output
    loaded = runner.invoke(app, ["calendar", "load", str(EXAMPLE), "--by", "admin"])
    assert loaded.exit_code == 0, loaded.output
    assert "loaded the 2027 notice" in loaded.output
    assert "2004–2027" in runner.invoke(app, ["calendar", "show"]).output
    exported = runner.invoke(app, ["calendar", "export", "2027"])
    assert exported.exit_code == 0
    assert "year = 2027" in exported.output
    assert runner.invoke(app, ["calendar", "export", "2031"]).exit_code == 1


def test_calendar_load_rejects_a_bad_notice(data_dir: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    bad = tmp_path / "bad.toml"
    bad.write_text('year = 2027\nsource = "x"\n[[workday]]\ndate = 2027-03-03\n', encoding="utf-8")
    result = runner.invoke(app, ["calendar", "load", str(bad)])
    assert result.exit_code == 1
    assert "not valid" in result.output
    missing = runner.invoke(app, ["calendar", "load", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2


def test_production_with_defaults_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUKOU_ENV", "production")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "configuration error" in result.output
    assert "Traceback" not in result.output
