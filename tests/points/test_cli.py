"""``hukou points``: scenarios, policy checks with lines, and scoring, explaining and reforming
on a synthetic city's points pool."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hukou.cli import app
from hukou.points.policy import policy_files
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

runner = CliRunner()


def _points(*args: str) -> Result:
    return runner.invoke(app, ["points", *args])


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("points-city") / "city"
    generate_city(CityConfig(population=20_000, seed=7), out)
    return out


def test_the_shipped_scenarios_pass() -> None:
    result = runner.invoke(app, ["points", "scenarios"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout
    assert "73.5" in result.stdout


def test_check_names_the_line_of_a_problem(tmp_path: Path) -> None:
    shipped = next(p for p in policy_files() if p.stem.startswith("beijing"))
    good = runner.invoke(app, ["points", "check", str(shipped)])
    assert good.exit_code == 0, good.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        shipped.read_text(encoding="utf-8").replace("rate: 0.25", "rate: 0.001"), "utf-8"
    )
    result = runner.invoke(app, ["points", "check", str(broken)])
    assert result.exit_code == 1
    assert "broken.yaml:18: indicators.employment: Value error, rate 0.001" in result.stderr


def test_score_explain_and_simulate_on_the_city(city: Path) -> None:
    scored = runner.invoke(
        app, ["points", "score", "--policy", "beijing", "--city", str(city), "--quota", "20"]
    )
    assert scored.exit_code == 0, scored.output
    ranked = runner.invoke(
        app,
        ["points", "score", "--policy", "beijing", "--city", str(city), "--quota", "20", "--json"],
    )
    outcome = json.loads(ranked.stdout)
    assert outcome["admitted"] >= 20 or outcome["admitted"] == outcome["qualified"]
    top = outcome["top"][0]
    explained = _points(
        "explain", "--policy", "beijing", "--city", str(city), "--applicant", top["applicant_id"]
    )
    assert explained.exit_code == 0, explained.output
    explained = _points(
        "explain",
        "--policy",
        "beijing",
        "--city",
        str(city),
        "--applicant",
        top["applicant_id"],
        "--json",
    )
    assert explained.exit_code == 0, explained.output
    lines = json.loads(explained.stdout)
    assert Decimal(lines["score"]) == Decimal(str(top["score"]))
    assert sum(Decimal(line["points"]) for line in lines["lines"]) == pytest.approx(
        Decimal(lines["score"]), abs=Decimal("0.06")
    )
    assert all(line["reference"] for line in lines["lines"])
    reform = _points(
        "simulate",
        "--policy",
        "beijing",
        "--city",
        str(city),
        "--quota",
        "20",
        "--set",
        "age.at_pivot=30",
        "--set",
        "age.max_points=30",
        "--from",
        "2026-01-01",
        "--json",
    )
    assert reform.exit_code == 0, reform.output
    report = json.loads(reform.stdout)
    assert report["after"]["cutoff"] >= report["before"]["cutoff"]
    assert report["before"]["qualified"] == report["after"]["qualified"]
    moved = report["newly_admitted"] - report["no_longer_admitted"]
    assert moved == report["after"]["admitted"] - report["before"]["admitted"]
    counted = sum(band["before"] for band in report["distribution"])
    assert counted == report["before"]["qualified"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "education.phd=28"], "no parameter 'phd'"),
        (["--set", "education.master=lots"], "not a number"),
        (["--set", "education.master"], "INDICATOR.PARAMETER=VALUE"),
    ],
)
def test_simulate_refuses_a_change_it_cannot_make(
    city: Path, extra: list[str], message: str
) -> None:
    result = _points(
        "simulate",
        "--policy",
        "beijing",
        "--city",
        str(city),
        "--quota",
        "5",
        "--from",
        "2026-01-01",
        *extra,
    )
    assert result.exit_code == 2
    assert message in result.stderr


def test_compare_and_portable_on_the_city(city: Path) -> None:
    compared = _points(
        "compare", "--policy", "beijing", "--policy", "shanghai", "--city", str(city), "--json"
    )
    assert compared.exit_code == 0, compared.output
    table = json.loads(compared.stdout)
    assert set(table["教育"]) == {"beijing", "shanghai"}
    moved = _points(
        "portable",
        "--region",
        "yangtze_delta",
        "--to",
        "shanghai",
        "--earned-in",
        "suzhou",
        "--city",
        str(city),
        "--json",
    )
    assert moved.exit_code == 0, moved.output
    report = json.loads(moved.stdout)
    # Recognised months only add points: never fewer pass, never a lower average.
    assert report["qualified_with"] >= report["qualified_without"]
    assert report["mean_score_with"] > report["mean_score_without"]
    refused = _points(
        "portable",
        "--region",
        "yangtze_delta",
        "--to",
        "beijing",
        "--earned-in",
        "suzhou",
        "--city",
        str(city),
    )
    assert refused.exit_code == 2
    assert "recognises nothing" in refused.stderr


def test_the_issue_s_reform_runs_on_a_made_up_pool() -> None:
    result = _points(
        "simulate",
        "--set",
        "education.master=28",
        "--from",
        "2026-01-01",
        "--pool",
        "20000",
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["changes"] == {"education.master": "28"}
    # Masters gain two points, nobody loses any: the cutoff cannot fall.
    assert report["after"]["cutoff"] >= report["before"]["cutoff"]
    assert report["categories"]["教育"]["after"] >= report["categories"]["教育"]["before"]
    assert report["before"]["admitted"] >= 6006  # the latest Beijing quota, ties included
