"""``hukou points``: policies, their scenario tests, scoring, explanations and reforms.

``policies`` lists the shipped policies by category; ``check FILE...`` validates policy files
(every problem as ``file:line: key: message``, exit 1); ``scenarios`` runs the worked examples;
``score`` ranks a synthetic city's applicants against the quota; ``explain`` gives one
applicant's lines; ``simulate --set INDICATOR.PARAMETER=VALUE --from DATE`` compares a
reform; ``compare`` puts policies side by side by category; ``portable`` scores a pool under
another city's policy with its region's recognition.
"""

from __future__ import annotations

import datetime
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from hukou.clikit import console, errors
from hukou.points.applicants import pool_arrays, pool_frame, read_synthetic
from hukou.points.engine import rank, score_frame
from hukou.points.explain import explain
from hukou.points.policy import Policy, load_policies, load_policy
from hukou.points.recognition import (
    compare_categories,
    elsewhere_column,
    load_regions,
    portable,
)
from hukou.points.reform import ReformError, compare, reformed
from hukou.points.scenarios import check, load_scenarios, scenario_files
from hukou.yamldoc import DocumentError

__all__ = ["points_app"]

_HUNDREDTH = Decimal("0.01")

points_app = typer.Typer(
    help="Settlement points (积分落户): policies, scores, explanations, reforms.",
    no_args_is_help=True,
)

CityOption = Annotated[Path, typer.Option(help="a synthetic city folder (its points pool)")]
PolicyOption = Annotated[str, typer.Option("--policy", help="policy code, e.g. beijing")]


def _policy(code: str) -> Policy:
    policies = load_policies()
    if code not in policies:
        errors.print(f"--policy: one of {', '.join(sorted(policies))}")
        raise typer.Exit(2)
    return policies[code]


def _applicants(city: Path) -> pl.DataFrame:
    try:
        return read_synthetic(city)
    except (OSError, pl.exceptions.PolarsError) as error:
        errors.print(f"{city}: no points pool to read ({error.__class__.__name__})", markup=False)
        raise typer.Exit(1) from None


@points_app.command("policies")
def policies(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List the shipped policies and their indicators by category."""
    found = load_policies()
    if as_json:
        payload = {
            code: {
                "city": p.city,
                "version": p.version,
                "effective_from": p.effective_from.isoformat(),
                "pass_mark": None if p.pass_mark is None else str(p.pass_mark),
                "indicators": {n: i.category.value for n, i in p.indicators.items()},
            }
            for code, p in found.items()
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    for code, policy in found.items():
        table = Table(title=f"{policy.name} ({code})")
        for column in ("indicator", "类别", "指标", "kind", "from"):
            table.add_column(column)
        for name, indicator in policy.indicators.items():
            table.add_row(
                name,
                indicator.category.value,
                indicator.zh,
                indicator.kind,
                ", ".join(v.from_.isoformat() for v in indicator.versions),
            )
        console.print(table)


@points_app.command("check")
def check_files(
    files: Annotated[list[Path], typer.Argument(help="policy files (YAML)", exists=True)],
) -> None:
    """Validate policy files: every problem with its file, line and key; exit 1 on any."""
    failed = False
    for path in files:
        try:
            policy = load_policy(path)
        except DocumentError as error:
            failed = True
            for problem in error.problems:
                errors.print(str(problem), markup=False, highlight=False)
            continue
        console.print(f"ok: {path.name} ({policy.code}, {len(policy.indicators)} indicators)")
    if failed:
        raise typer.Exit(1)


@points_app.command("scenarios")
def scenarios() -> None:
    """Run the shipped worked examples (data/scenarios) and say which fail; exit 1 on any."""
    failures = 0
    for path in scenario_files():
        loaded = load_scenarios(path)
        policy = _policy(loaded.policy)
        for scenario in loaded.scenarios:
            _found, wrong = check(policy, scenario)
            mark = "ok  " if not wrong else "FAIL"
            console.print(f"{mark} {path.stem}: {scenario.name}", markup=False)
            for line in wrong:
                failures += 1
                errors.print(f"     {line}", markup=False)
    if failures:
        raise typer.Exit(1)


@points_app.command("score")
def score(
    policy_code: PolicyOption,
    city: CityOption,
    quota: Annotated[int | None, typer.Option(min=0, help="places (default: the policy's)")] = None,
    year: Annotated[int, typer.Option(help="the list year whose quota applies")] = 2022,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Score, qualify and rank a synthetic city's applicants; the cutoff and the admitted."""
    policy = _policy(policy_code)
    places = quota if quota is not None else policy.quota(year)
    if places is None:
        errors.print(f"{policy.code} has no quota for {year}: give --quota")
        raise typer.Exit(2)
    admitted, outcome = rank(score_frame(policy, _applicants(city)), places)
    payload = {
        "policy": policy.code,
        "quota": places,
        "cutoff": None if outcome.cutoff is None else outcome.cutoff / 100,
        "admitted": outcome.admitted,
        "tied_at_cutoff": outcome.tied_at_cutoff,
        "qualified": outcome.qualified,
        "top": [
            {"applicant_id": row["applicant_id"], "score": row["score"] / 100, "rank": row["rank"]}
            for row in admitted.head(10).iter_rows(named=True)
        ],
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(
        f"{policy.name}: {outcome.qualified:,} qualified, quota {places:,}, cutoff "
        f"{payload['cutoff']}, {outcome.admitted:,} admitted "
        f"({outcome.tied_at_cutoff} at the cutoff)"
    )


@points_app.command("explain")
def explain_one(
    policy_code: PolicyOption,
    city: CityOption,
    applicant: Annotated[str, typer.Option(help="applicant id, e.g. JF2025000001")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """One applicant's score line by line: inputs, dated parameters, points, article."""
    policy = _policy(policy_code)
    found = _applicants(city).filter(pl.col("applicant_id") == applicant)
    if found.height == 0:
        errors.print("no applicant with that id in the city's points pool")
        raise typer.Exit(1)
    result = explain(policy, found.row(0, named=True))
    lines = [
        {
            "indicator": line.indicator,
            "category": line.category,
            "zh": line.zh,
            "inputs": {k: str(v) for k, v in line.inputs.items() if v is not None},
            "version_from": None if line.version_from is None else line.version_from.isoformat(),
            "parameters": {k: str(v) for k, v in line.parameters.items()},
            "points": str(line.points.quantize(_HUNDREDTH)),
            "reference": line.reference,
        }
        for line in result.lines
    ]
    if as_json:
        payload = {
            "policy": policy.code,
            "score": str(result.score),
            "qualified": result.qualified,
            "unmet": list(result.unmet),
            "age": result.age,
            "lines": lines,
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"{policy.name}: {result.score} 分")
    for column in ("类别", "指标", "inputs", "from", "points", "依据"):
        table.add_column(column)
    for line in lines:
        inputs = ", ".join(f"{k}={v}" for k, v in line["inputs"].items())  # type: ignore[union-attr]
        table.add_row(
            str(line["category"]),
            str(line["zh"]),
            inputs,
            str(line["version_from"]),
            str(line["points"]),
            str(line["reference"]),
        )
    console.print(table)
    console.print("qualified" if result.qualified else f"not qualified: {'; '.join(result.unmet)}")


@points_app.command("simulate")
def simulate(  # noqa: PLR0917 (one option per parameter, as typer reads them)
    changes: Annotated[
        list[str],
        typer.Option("--set", help="INDICATOR.PARAMETER=VALUE, e.g. education.master=28"),
    ],
    starting: Annotated[
        datetime.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")
    ],
    policy_code: Annotated[str, typer.Option("--policy", help="policy code")] = "beijing",
    city: Annotated[
        Path | None,
        typer.Option(help="a synthetic city folder (its points pool); default: a made-up pool"),
    ] = None,
    pool: Annotated[
        int, typer.Option(min=1, help="applicants in the made-up pool (no --city)")
    ] = 100_000,
    quota: Annotated[int | None, typer.Option(min=0, help="places before the reform")] = None,
    new_quota: Annotated[int | None, typer.Option(min=0, help="places after it")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """A reform from a date: new cutoff, who changes status, categories, the distribution."""
    policy = _policy(policy_code)
    day = starting.date()
    parsed: dict[str, str] = {}
    for change in changes:
        target, _, value = change.partition("=")
        if not value:
            errors.print(f"--set {change}: write INDICATOR.PARAMETER=VALUE")
            raise typer.Exit(2)
        parsed[target] = value
    places = quota if quota is not None else policy.places_for(day.year)
    if places is None:
        errors.print(f"{policy.code} has no quota: give --quota")
        raise typer.Exit(2)
    try:
        after = reformed(policy, parsed, starting=day)
    except (ReformError, ValueError) as error:
        errors.print(str(error).splitlines()[0], markup=False)
        raise typer.Exit(2) from None
    applicants = _applicants(city) if city is not None else pool_frame(pool_arrays(pool), day)
    report = compare(policy, after, applicants, starting=day, quota=places, quota_after=new_quota)
    payload = {"policy": policy.code, "from": day.isoformat(), "changes": parsed} | report.as_json()
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"{policy.name}: reform from {day}")
    for column in ("", "before", "after"):
        table.add_column(column)
    outcomes = report.as_json()
    before, after_json = outcomes["before"], outcomes["after"]
    assert isinstance(before, dict)
    assert isinstance(after_json, dict)
    for key in ("cutoff", "admitted", "tied_at_cutoff", "qualified"):
        table.add_row(key, str(before[key]), str(after_json[key]))
    for category, (old, new) in report.categories.items():
        table.add_row(f"avg {category}", f"{old:.2f}", f"{new:.2f}")
    console.print(table)
    console.print(
        f"newly admitted {report.newly_admitted}, no longer admitted {report.no_longer_admitted}"
    )
    widest = max((max(b, a) for _band, b, a in report.distribution), default=1) or 1
    for band, old_count, new_count in report.distribution:
        console.print(
            f"{band:>4}–{band + 5:<4} {'█' * round(20 * old_count / widest):<20} {old_count:>6}"
            f"  → {'█' * round(20 * new_count / widest):<20} {new_count:>6}",
            markup=False,
        )


@points_app.command("compare")
def compare_policies(
    codes: Annotated[list[str], typer.Option("--policy", help="two or more policy codes")],
    city: CityOption,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The same applicants under several policies, side by side by category."""
    chosen = [_policy(code) for code in dict.fromkeys(codes)]
    if len(chosen) < 2:
        errors.print("--policy: name two policies to compare")
        raise typer.Exit(2)
    table_data = compare_categories(chosen, _applicants(city))
    if as_json:
        sys.stdout.write(json.dumps(table_data, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="by category (类别): average points and share of the total")
    table.add_column("类别")
    for policy in chosen:
        table.add_column(policy.code)
    for category, row in table_data.items():
        table.add_row(
            category,
            *(f"{row[p.code]['mean']:.2f} ({row[p.code]['share']:.0%})" for p in chosen),
        )
    console.print(table)


@points_app.command("portable")
def portable_score(
    region_code: Annotated[str, typer.Option("--region", help="region code")],
    target: Annotated[str, typer.Option("--to", help="the city whose policy scores")],
    earned_in: Annotated[str, typer.Option(help="the city the pool's months were earned in")],
    city: CityOption,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The pool moving to ``--to``: scores without and with the region's recognition."""
    regions = load_regions()
    if region_code not in regions:
        errors.print(f"--region: one of {', '.join(sorted(regions))}")
        raise typer.Exit(2)
    region = regions[region_code]
    if target not in region.recognises or earned_in not in region.cities:
        errors.print(f"{region.code} recognises nothing from {earned_in} in {target}")
        raise typer.Exit(2)
    policy = _policy(target)
    pool = _applicants(city)
    moved = pool.with_columns(
        pl.col("insured_months").alias(elsewhere_column("insured_months", earned_in)),
        pl.lit(0, dtype=pl.Int64).alias("insured_months"),
    )
    without = score_frame(policy, moved)
    with_region = score_frame(policy, portable(region, target, moved))
    payload = {
        "region": region.code,
        "to": target,
        "earned_in": earned_in,
        "applicants": pool.height,
        "qualified_without": int(without.get_column("qualified").sum()),
        "qualified_with": int(with_region.get_column("qualified").sum()),
        "mean_score_without": int(without.get_column("score").sum()) / max(pool.height, 1) / 100,
        "mean_score_with": int(with_region.get_column("score").sum()) / max(pool.height, 1) / 100,
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(
        f"{pool.height:,} applicants from {earned_in} scored by {policy.name}: "
        f"{payload['qualified_without']:,} pass without recognition, "
        f"{payload['qualified_with']:,} with {region.name}"
    )
