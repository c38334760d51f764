"""``hukou calendar``: load the State Council holiday notice for a year the library lacks."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from hukou.clikit import console, engine_or_exit, errors
from hukou.db import session_scope
from hukou.holidays.store import save_notice, stored_notices, working_calendar
from hukou.standards.errors import StandardsError
from hukou.standards.workdays import notice_to_toml, parse_notice

__all__ = ["calendar_app"]

calendar_app = typer.Typer(
    help="Statutory working-day calendar (法定工作日): load and show holiday notices.",
    no_args_is_help=True,
)


@calendar_app.command("load")
def load(
    file: Annotated[
        Path, typer.Argument(help="the notice as TOML (docs/examples/holidays-2027.toml)")
    ],
    loaded_by: Annotated[str, typer.Option("--by", help="who is loading it")] = "",
) -> None:
    """Load one year's holiday notice; it replaces an earlier notice for that year."""
    try:
        notice = parse_notice(file.read_text(encoding="utf-8"))
    except OSError as error:
        errors.print(f"[red]cannot read {file}:[/red] {error.strerror}")
        raise typer.Exit(2) from None
    except StandardsError as error:
        errors.print(f"[red]the notice is not valid:[/red] {error}")
        raise typer.Exit(1) from None
    engine = engine_or_exit()
    with session_scope(engine) as session:
        replaced = save_notice(session, notice, loaded_by=loaded_by or getpass.getuser())
    verb = "replaced" if replaced else "loaded"
    console.print(
        f"{verb} the {notice.year} notice: {len(notice.holidays)} holiday days, "
        f"{len(notice.make_up_workdays)} make-up working days ({notice.source})"
    )


@calendar_app.command("show")
def show() -> None:
    """List the years the calendar knows and the notices loaded by administrators."""
    engine = engine_or_exit()
    with session_scope(engine) as session:
        calendar = working_calendar(session)
        loaded = stored_notices(session)
    years = calendar.known_years()
    console.print(f"known years: {years[0]}–{years[-1]} ({len(years)} years)")
    for notice in loaded:
        console.print(f"  {notice.year}: loaded notice — {notice.source}")


@calendar_app.command("export")
def export(year: Annotated[int, typer.Argument(help="the year to export")]) -> None:
    """Print a year's notice as TOML (the loaded one, else the library's)."""
    engine = engine_or_exit()
    with session_scope(engine) as session:
        calendar = working_calendar(session)
    try:
        typer.echo(notice_to_toml(calendar.notice(year)), nl=False)
    except StandardsError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
