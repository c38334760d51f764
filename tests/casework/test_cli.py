"""``hukou casework services`` and ``check``: the catalog from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hukou.casework.catalog import data_path
from hukou.cli import app
from hukou.config import get_settings
from hukou.db import create_engine_for, upgrade
from tests.casework.cases import HERE, NEWBORN, file_on_facts

runner = CliRunner()


def test_services_lists_the_catalog_as_json() -> None:
    result = runner.invoke(app, ["casework", "services", "--json"])
    assert result.exit_code == 0, result.output
    services = {s["code"]: s for s in json.loads(result.stdout)}
    assert services["birth_registration"]["reviews"] == [
        ["public_security", "medical_insurance", "hr_social_security"]
    ]
    assert services["household_move"]["reviews"] == [["housing"], ["public_security"]]
    assert services["register_certificate"]["time_limit_workdays"] == 1


def test_check_names_the_line_of_each_problem_and_exits_1(tmp_path: Path) -> None:
    text = data_path("services", "register_certificate.yaml").read_text(encoding="utf-8")
    good = tmp_path / "register_certificate.yaml"
    good.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["casework", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "ok: register_certificate" in result.stdout
    bad = tmp_path / "new_service.yaml"
    bad.write_text(text.replace("time_limit_workdays: 1", "time_limit_workdays: 0"), "utf-8")
    result = runner.invoke(app, ["casework", "check", str(bad)])
    assert result.exit_code == 1
    expected = "new_service.yaml:7: time_limit_workdays: Input should be greater than or equal to 1"
    assert expected in result.stderr
    # A valid copy under another name defines the shipped code twice.
    copy = tmp_path / "copy.yaml"
    copy.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["casework", "check", str(copy)])
    assert result.exit_code == 1
    assert "register_certificate" in result.stderr
    assert "also defined in" in result.stderr


def test_notify_sends_the_outbox_to_local_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUKOU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        engine = create_engine_for(get_settings().database_url)
        upgrade(engine)
        case_id = file_on_facts(engine, HERE | NEWBORN)  # approved: one in_app, one sms
        engine.dispose()
        result = runner.invoke(app, ["casework", "notify", "--channel", "sms"])
        assert result.exit_code == 0, result.output
        assert "sent 1 message(s)" in result.stdout
        (line,) = (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
        assert json.loads(line)["case_id"] == case_id
        assert not (tmp_path / "outbox" / "in_app.jsonl").exists()
        again = runner.invoke(app, ["casework", "notify"])
        assert "sent 1 message(s)" in again.stdout  # only the in_app one was left
    finally:
        get_settings.cache_clear()
