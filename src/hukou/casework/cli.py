"""``hukou casework``: the service catalog from the command line.

``services`` lists the shipped services; ``check`` validates service files a data officer
is writing (together with the shipped ones, so a duplicate code is caught), printing every
problem as ``file:line: key: message`` and exiting 1 if there is any; ``notify`` sends the
case outbox through the local channels.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hukou.casework.catalog import Catalog, data_path, load_services
from hukou.casework.notify import LocalLog, send_pending
from hukou.clikit import console, engine_or_exit, errors, settings_or_exit
from hukou.db import session_scope
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
