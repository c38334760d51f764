"""``hukou casework``: the service catalog from the command line.

``services`` lists the shipped services; ``check`` validates service files a data officer
is writing (together with the shipped ones, so a duplicate code is caught), printing every
problem as ``file:line: key: message`` and exiting 1 if there is any; ``notify`` sends the
case outbox through the local channels; ``simulate --year`` replays a synthetic city's year
of applications through the rules and the departments' queues.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from hukou.casework.catalog import Catalog, data_path, load_services
from hukou.casework.notify import LocalLog, send_pending
from hukou.casework.simulation import YearReport
from hukou.casework.store import escalate
from hukou.clikit import console, engine_or_exit, errors, settings_or_exit
from hukou.db import session_scope
from hukou.keyring import load_keyring
from hukou.security import KeyRing
from hukou.yamldoc import DocumentError

__all__ = ["casework_app"]

casework_app = typer.Typer(
    help="One-window services (一窗通办): the service catalog.", no_args_is_help=True
)


def _shipped() -> list[Path]:
    return sorted(data_path("services").glob("*.yaml"))


def _load(extra: list[Path]) -> Catalog:
    """The shipped services with ``extra`` files (an extra file replaces its namesake)."""
    names = {path.name for path in extra}
    try:
        return load_services([p for p in _shipped() if p.name not in names] + extra)
    except DocumentError as error:
        for problem in error.problems:
            errors.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(1) from None


@casework_app.command("services")
def services(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List the services: first-contact department, time limit, facts, reviews."""
    catalog = _load([])
    if as_json:
        payload = [
            {
                "code": s.code,
                "name": s.name.model_dump(),
                "first_contact": s.first_contact,
                "time_limit_workdays": s.time_limit_workdays,
                "facts": sorted(s.facts),
                "reviews": [[r.department for r in stage] for stage in s.stages],
            }
            for s in catalog.services.values()
        ]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="service catalog (办事指南)")
    for name in ("code", "服务", "首接", "时限(工作日)", "facts", "reviews"):
        table.add_column(name)
    for s in catalog.services.values():
        table.add_row(
            s.code,
            s.name.zh,
            s.first_contact,
            str(s.time_limit_workdays),
            str(len(s.facts)),
            " → ".join(" + ".join(r.department for r in stage) for stage in s.stages),
        )
    console.print(table)


@casework_app.command("check")
def check(
    files: Annotated[
        list[Path],
        typer.Argument(help="service definition files (YAML)", exists=True, dir_okay=False),
    ],
) -> None:
    """Validate service files: every problem with its file, line and key; exit 1 on any."""
    catalog = _load(files)
    checked = [code for code, name in catalog.files.items() if name in {f.name for f in files}]
    console.print(f"ok: {', '.join(sorted(checked))} ({len(catalog)} services in the catalog)")


@casework_app.command("escalate")
def escalate_cases() -> None:
    """Escalate undecided cases at risk or past their deadline to the first-contact
    department's supervisor (once per level); run it daily, e.g. from cron."""
    with session_scope(engine_or_exit()) as db:
        raised = escalate(db, now=datetime.datetime.now(datetime.UTC))
    for case_id, status in raised:
        console.print(f"{case_id}: {status.value}")
    console.print(f"escalated {len(raised)} case(s)")


@casework_app.command("notify")
def notify(
    channels: Annotated[
        list[str] | None,
        typer.Option("--channel", help="channels to send (repeatable); default: sms and in_app"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="messages at most")] = 1000,
) -> None:
    """Send the case outbox through the local channels (JSON lines in <data_dir>/outbox)."""
    folder = settings_or_exit().data_dir / "outbox"
    wanted = channels or ["in_app", "sms"]
    log = LocalLog(folder)
    with session_scope(engine_or_exit()) as db:
        sent = send_pending(
            db,
            dict.fromkeys(wanted, log),
            now=datetime.datetime.now(datetime.UTC),
            limit=limit,
        )
    console.print(f"sent {sent} message(s) to {folder}")


def _staff_overrides(values: list[str]) -> dict[str, int]:
    overrides: dict[str, int] = {}
    for value in values:
        department, _, count = value.partition("=")
        if not count.isdigit() or int(count) < 1:
            errors.print(f"--staff {value}: write DEPARTMENT=REVIEWERS, e.g. public_security=12")
            raise typer.Exit(2)
        overrides[department] = int(count)
    return overrides


@casework_app.command("simulate")
def simulate_year(  # noqa: PLR0917 (one option per parameter, as typer reads them)
    year: Annotated[bool, typer.Option("--year", help="replay the city's year of applications")],
    city: Annotated[
        Path | None,
        typer.Option(
            help="a synthetic city folder whose feeds are ingested and linked in the "
            "configured database; default: build a city for the run"
        ),
    ] = None,
    population: Annotated[
        int, typer.Option(min=1000, help="people of the city built for the run (no --city)")
    ] = 20_000,
    sharing: Annotated[
        str, typer.Option(help="all: the agreements the catalog needs; own: none yet")
    ] = "all",
    staff: Annotated[
        list[str] | None,
        typer.Option("--staff", help="reviewers of a department, DEPARTMENT=N (repeatable)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Replay a year of applications: 秒批 share, zero visits, working days, SLA, backlog."""
    from hukou.casework import replay  # noqa: PLC0415 (reads the registry: only when asked)

    if not year:
        errors.print("say what to replay: --year (a synthetic city's year of applications)")
        raise typer.Exit(2)
    if sharing not in ("all", "own"):
        errors.print("--sharing: all or own")
        raise typer.Exit(2)
    overrides = _staff_overrides(staff or [])
    say = errors if as_json else console
    started = time.perf_counter()
    settings = settings_or_exit()

    def progress(text: str) -> None:
        say.print(text, markup=False, highlight=False)

    def run(folder: Path, engine: Engine, keyring: KeyRing) -> tuple[YearReport, int]:
        return replay.replay_year(
            folder,
            engine,
            keyring,
            scenario="own" if sharing == "own" else "all",
            overrides=overrides,
            city_code=settings.city_division if city is not None else "3205",
            progress=progress,
        )

    try:
        if city is not None:
            report, population = run(city, engine_or_exit(), load_keyring(settings))
        else:
            with replay.built_city(population, progress) as built:
                report, population = run(built.folder, built.engine, built.keyring)
    except replay.ReplayError as error:
        errors.print(str(error), markup=False, highlight=False)
        raise typer.Exit(1) from None
    payload = {
        "population": population,
        "sharing": sharing,
        "seconds": round(time.perf_counter() - started, 1),
        **report.as_json(),
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    _print_year(payload)


def _print_year(payload: dict[str, object]) -> None:
    def pct(value: object) -> str:
        return f"{float(value) * 100:.1f}%" if isinstance(value, int | float) else "-"

    def days(value: object) -> str:
        return "-" if value is None else f"{value}"

    console.print(
        f"{payload['applications']:,} applications, city of {payload['population']:,}, "
        f"sharing: {payload['sharing']} ({payload['seconds']} s)"
    )
    table = Table(title="simulated year (模拟一年办件) against the plan")
    for name in ("measure", "simulated", "plan baseline", "plan target"):
        table.add_column(name)
    baseline = payload["baseline"]
    targets = payload["targets"]
    assert isinstance(baseline, dict)
    assert isinstance(targets, dict)
    table.add_row("秒批 instant decisions", pct(payload["instant_share"]), "-", "-")
    table.add_row(
        "零跑动 zero visits",
        pct(payload["zero_visit_share"]),
        "-",
        pct(targets["zero_visit_share"]),
    )
    table.add_row(
        "median working days",
        days(payload["median_workdays"]),
        str(baseline["median_workdays"]),
        str(targets["median_workdays"]),
    )
    table.add_row("p95 working days", days(payload["p95_workdays"]), "-", "-")
    table.add_row("SLA breaches", pct(payload["sla_breach_share"]), "-", "-")
    table.add_row(
        "several departments",
        pct(payload["several_departments_share"]),
        pct(baseline["several_departments_share"]),
        "-",
    )
    console.print(table)
    services = Table(title="per service")
    services.add_column("service", no_wrap=True)
    for name in ("n", "秒批", "零跑动", "补正", "median", "p95", "breach"):
        services.add_column(name)
    detail = payload["services"]
    assert isinstance(detail, dict)
    for code, row in detail.items():
        services.add_row(
            code,
            f"{row['applications']:,}",
            pct(row["instant_share"]),
            pct(row["zero_visit_share"]),
            pct(row["material_share"]),
            days(row["median_workdays"]),
            days(row["p95_workdays"]),
            pct(row["sla_breach_share"]),
        )
    console.print(services)
    staffing = Table(title="departments")
    for name in ("department", "reviewers", "tasks", "utilisation", "max backlog"):
        staffing.add_column(name)
    departments = payload["departments"]
    assert isinstance(departments, dict)
    for code, row in departments.items():
        staffing.add_row(
            code,
            str(row["reviewers"]),
            f"{row['tasks']:,}",
            pct(row["utilisation"]),
            f"{row['max_backlog']:,}",
        )
    console.print(staffing)
