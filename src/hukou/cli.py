"""The ``hukou`` command: every capability's sub-commands under one roof.

Errors reach the user as one plain sentence and an exit code, never a traceback;
identity numbers are shown masked except where the user asked for the number itself.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from typing import Annotated

import typer
from rich.table import Table

from hukou.audit.cli import audit_app
from hukou.casework.cli import casework_app
from hukou.clikit import console, engine_or_exit, errors, run_guarded, settings_or_exit
from hukou.db import current_revision, head_revision, upgrade
from hukou.demo.cli import demo_app
from hukou.holidays.cli import calendar_app
from hukou.points.cli import points_app
from hukou.registry.cli import ingest, registry_app
from hukou.registry.feeds_cli import feeds_app
from hukou.security.cli import security_app
from hukou.security.keys_cli import keys_app
from hukou.standards import identity
from hukou.synth.cli import synth_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="hukou",
    help="Hukou 户籍支援服务平台 — household-registration support for a mobile population.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema: upgrade, current revision.", no_args_is_help=True)
id_app = typer.Typer(
    help="GB 11643 identity numbers: check and upgrade (身份号码校验).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(id_app, name="id")
app.add_typer(calendar_app, name="calendar")
app.add_typer(synth_app, name="synth")
app.add_typer(feeds_app, name="feeds")
app.add_typer(security_app, name="security")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.command("ingest")(ingest)
app.add_typer(registry_app, name="registry")
app.add_typer(points_app, name="points")
app.add_typer(casework_app, name="casework")
app.add_typer(demo_app, name="demo")


@app.command()
def version() -> None:
    """Print the installed Hukou version."""
    console.print(f"hukou {metadata.version('hukou')}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="server processes (one per core for load)")
    ] = 1,
) -> None:
    """Serve the console and API (http://127.0.0.1:8000 by default)."""
    # Imported here so that quick commands (id check) do not pay for the web stack.
    from hukou.app import run_server  # noqa: PLC0415

    settings = settings_or_exit()
    run_server(settings, host or settings.host, port or settings.port, workers)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Create or migrate the schema (SQLite by default, PostgreSQL in production)."""
    engine = engine_or_exit()
    upgrade(engine, revision)
    console.print(f"database at revision {current_revision(engine)} ({engine.dialect.name})")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the newest one available."""
    engine = engine_or_exit()
    console.print(f"current: {current_revision(engine)}  head: {head_revision(engine)}")


def _check_payload(result: identity.IdentityCheck) -> dict[str, object]:
    payload: dict[str, object] = {"valid": result.valid}
    if result.reason is not None:
        payload.update(reason=result.reason.value, message=result.reason.message)
    if result.parsed is not None:
        person = result.parsed
        payload.update(
            number=identity.mask(person.number),
            length=len(person.number),
            address_code=person.address_code,
            address_name=person.address_name,
            birth_date=person.birth_date.isoformat(),
            sex=person.sex,
            sex_label={"1": "男 male", "2": "女 female"}[person.sex],
        )
    return payload


@id_app.command("check")
def id_check(
    number: Annotated[str, typer.Argument(help="the identity number (15 or 18 characters)")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Validate an identity number: exit 0 if valid, 1 if not, with the reason and fields."""
    result = identity.check(number)
    payload = _check_payload(result)
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        table = Table(show_header=False, box=None)
        verdict = "[green]valid 有效[/green]" if result.valid else "[red]invalid 无效[/red]"
        table.add_row("verdict", verdict)
        for key, value in payload.items():
            if key != "valid":
                table.add_row(key, str(value))
        console.print(table)
    raise typer.Exit(0 if result.valid else 1)


@id_app.command("upgrade")
def id_upgrade(
    number: Annotated[str, typer.Argument(help="a 15-digit (or 18-digit) identity number")],
) -> None:
    """Print the 18-digit form of a number (insert the century, add the check character)."""
    try:
        sys.stdout.write(identity.upgrade(number) + "\n")
    except identity.InvalidIdentityNumberError as error:
        errors.print(f"[red]invalid:[/red] {error.reason.value} — {error.reason.message}")
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of the ``hukou`` script."""
    run_guarded(app)


if __name__ == "__main__":
    main()
