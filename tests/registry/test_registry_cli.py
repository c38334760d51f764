"""The registry from the command line, as an operator runs it on a city: ingest every
department at once over worker processes, link, link again (nothing pending), review the
queue (masked), read the outbox, evaluate — with no identity number in any output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hukou.cli import app
from hukou.config import get_settings
from hukou.standards import identity
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

runner = CliRunner()
_NUMBER = re.compile(r"(?<![0-9.])[0-9]{17}[0-9X](?![0-9])")


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    out = tmp_path / "city"
    generate_city(CityConfig(population=500, seed=41), out)
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HUKOU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield out
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    numbers = [m.group(0) for m in _NUMBER.finditer(result.output)]
    assert not any(identity.is_valid(n) for n in numbers), "an identity number reached the output"
    return result.output


def test_a_city_from_the_command_line(city: Path) -> None:
    _run("db", "upgrade")
    reports = json.loads(_run("ingest", "all", str(city / "feeds"), "--workers", "2", "--json"))
    departments = {report["department"] for report in reports}
    assert len(departments) == 7
    assert all(r["rows_in"] == r["accepted"] + r["quarantined"] for r in reports)
    again = json.loads(_run("ingest", "all", str(city / "feeds"), "--json"))
    assert {r["outcome"] for r in again} == {"already_ingested"}

    assert "persons" in _run("registry", "link")
    assert "nothing pending" in _run("registry", "link")

    queue = json.loads(_run("registry", "review", "list", "--json"))
    assert isinstance(queue, list)
    events = _run("registry", "events", "--json")  # JSON Lines, one event per line
    assert events.strip() == ""  # the first link of an empty registry is the baseline

    scores = json.loads(_run("registry", "evaluate", "--truth", str(city / "truth"), "--json"))
    assert scores["pairwise"]["f1"] > 0.99
    assert scores["error_rate_after"] < scores["error_rate_before"]


def test_ingest_all_wants_a_folder_of_department_folders(city: Path) -> None:
    _run("db", "upgrade")
    path = next((city / "feeds" / "housing").iterdir())
    result = runner.invoke(app, ["ingest", "all", str(path)])
    assert result.exit_code == 2
    assert "not a folder of department folders" in result.output
    result = runner.invoke(app, ["ingest", "police", str(path)])
    assert result.exit_code == 1
    assert "police" in result.output


def test_quarantine_purge_from_the_command_line(city: Path) -> None:
    _run("db", "upgrade")
    reports = json.loads(_run("ingest", "all", str(city / "feeds"), "--workers", "1", "--json"))
    quarantined = sum(r["quarantined"] for r in reports)
    assert quarantined > 0
    # A year's retention has not passed: nothing is due.
    assert "0 batches, 0 lines would be purged" in _run(
        "registry", "quarantine", "purge", "--dry-run"
    )
    listed = _run("registry", "quarantine", "purge", "--older-than", "0", "--dry-run")
    assert f"{quarantined:,} lines would be purged" in listed
    done = " ".join(  # the console wraps long lines
        _run("registry", "quarantine", "purge", "--older-than", "0", "--by", "officer-7").split()
    )
    batches = sum(1 for r in reports if r["quarantined"])
    assert f"purged {quarantined:,} quarantined lines of {batches:,} batches" in done
    assert f"{batches:,} batch keys shredded" in done
    status = _run("keys", "status")
    assert re.search(rf"registry\.quarantine\s+0\s+{batches}\b", status), status
    again = " ".join(_run("registry", "quarantine", "purge", "--older-than", "0").split())
    assert "purged 0 quarantined lines of 0 batches" in again
