"""``hukou casework services`` and ``check``: the catalog from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from hukou.casework.catalog import data_path
from hukou.cli import app
from hukou.config import get_settings
from hukou.db import create_engine_for, upgrade
from tests.casework.cases import HERE, NEWBORN, file_on_facts

runner = CliRunner()


@pytest.fixture
def local_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's own SQLite database under a fresh data folder, migrated."""
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUKOU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    engine = create_engine_for(get_settings().database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


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


def test_notify_sends_the_outbox_to_local_files(local_engine: Engine, tmp_path: Path) -> None:
    case_id = file_on_facts(local_engine, HERE | NEWBORN)  # approved: one in_app, one sms
    result = runner.invoke(app, ["casework", "notify", "--channel", "sms"])
    assert result.exit_code == 0, result.output
    assert "sent 1 message(s)" in result.stdout
    (line,) = (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["case_id"] == case_id
    assert not (tmp_path / "outbox" / "in_app.jsonl").exists()
    again = runner.invoke(app, ["casework", "notify"])
    assert "sent 1 message(s)" in again.stdout  # only the in_app one was left


def test_escalate_raises_an_overdue_case_once(local_engine: Engine) -> None:
    # Nothing proven: the certificate goes to review, filed long before today.
    case_id = file_on_facts(local_engine, {}, code="register_certificate")
    result = runner.invoke(app, ["casework", "escalate"])
    assert result.exit_code == 0, result.output
    assert f"{case_id}: breached" in result.stdout
    again = runner.invoke(app, ["casework", "escalate"])
    assert "escalated 0 case(s)" in again.stdout


def test_simulate_replays_a_year_with_the_issue_s_keys() -> None:
    shares = {}
    for sharing in ("all", "own"):
        command = ["casework", "simulate", "--year", "--population", "1000", "--json"]
        result = runner.invoke(app, [*command, "--sharing", sharing])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        for key in ("instant_share", "zero_visit_share", "sla_breach_share"):
            assert 0.0 <= report[key] <= 1.0
        assert report["median_workdays"] <= report["p95_workdays"]
        assert sum(s["applications"] for s in report["services"].values()) == report["applications"]
        assert report["applications"] > 100
        assert report["undecided"] == 0
        assert report["baseline"]["median_workdays"] == 15
        shares[sharing] = report["instant_share"]
    # Without agreements fewer facts are provable: never more 秒批.
    assert shares["own"] < shares["all"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--population", "1000"], "--year"),
        (["--year", "--staff", "public_security"], "DEPARTMENT=REVIEWERS"),
        (["--year", "--sharing", "some"], "--sharing"),
    ],
)
def test_simulate_refuses_what_it_cannot_run(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["casework", "simulate", *arguments])
    assert result.exit_code == 2
    assert message in result.stderr


def test_simulate_names_a_folder_that_is_not_a_city(local_engine: Engine, tmp_path: Path) -> None:
    del local_engine  # the configured registry exists; the folder is not a city
    result = runner.invoke(app, ["casework", "simulate", "--year", "--city", str(tmp_path)])
    assert result.exit_code == 1
    assert "manifest.json" in result.stderr
    assert "Traceback" not in result.output
