"""What every ``hukou`` sub-command shares: consoles, settings, the engine, error handling.

A command-line user sees one sentence for a problem, never a traceback; an
unexpected failure gets a reference and its details go to a log file under the
data folder, where an operator can find them.
"""

from __future__ import annotations

import datetime
import traceback
import uuid
from collections.abc import Callable

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hukou.config import DEFAULT_DATA_DIR, Settings, get_settings
from hukou.db import create_engine_for

__all__ = ["console", "engine_or_exit", "errors", "run_guarded", "settings_or_exit"]

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one sentence stays one line


def settings_or_exit() -> Settings:
    """The settings, or a one-line explanation and exit code 2 when they are unsafe."""
    try:
        return get_settings()
    except ValidationError as error:
        messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        errors.print(f"[red]configuration error:[/red] {messages}")
        raise typer.Exit(2) from None


def engine_or_exit() -> Engine:
    """The engine of the configured database."""
    return create_engine_for(settings_or_exit().database_url)


def _log_failure(reference: str) -> str:
    try:
        folder = get_settings().data_dir / "logs"
    except ValidationError:
        folder = DEFAULT_DATA_DIR / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cli-errors.log"
    stamp = datetime.datetime.now(datetime.UTC).isoformat()
    with path.open("a", encoding="utf-8") as log:
        log.write(f"--- {stamp} reference {reference}\n{traceback.format_exc()}\n")
    return str(path)


def run_guarded(entry: Callable[[], object]) -> None:
    """Run ``entry``; turn a database or unexpected failure into one line and exit 2."""
    try:
        entry()
    except SQLAlchemyError as error:
        errors.print(
            f"[red]database error:[/red] {type(error).__name__}. Is the database reachable, "
            "and has `hukou db upgrade` been run?"
        )
        raise SystemExit(2) from None
    except Exception:  # the last line of defence: no traceback reaches the user
        reference = uuid.uuid4().hex[:12]
        path = _log_failure(reference)
        errors.print(f"[red]internal error[/red] (reference {reference}); details in {path}")
        raise SystemExit(2) from None
