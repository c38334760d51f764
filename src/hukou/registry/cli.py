"""``hukou ingest``: bring department files into the registry, with a report per batch."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hukou.clikit import console, engine_or_exit, errors, settings_or_exit
from hukou.config import ConfigurationError
from hukou.keyring import load_keyring
from hukou.registry.ingest import BatchReport, IngestError, ingest_file
from hukou.registry.readers import ReadError
from hukou.registry.spec import UnknownDepartmentError
from hukou.security import KeyFileError, KeyRing

__all__ = ["ingest", "registry_app"]


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for the files in it (the city's feeds/<dept>/)."""
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])
    return out


def _table(reports: list[BatchReport]) -> Table:
    table = Table(title="batches")
    for column in ("file", "outcome", "rows in", "accepted", "quarantined", "top reasons", "s"):
        table.add_column(column)
    for r in reports:
        reasons = ", ".join(f"{k} {v}" for k, v in r.reasons.most_common(3))
        table.add_row(
            r.file_name,
            r.outcome,
            f"{r.rows_in:,}",
            f"{r.accepted:,}",
            f"{r.quarantined:,}",
            reasons,
            f"{r.seconds:.1f}",
        )
    return table


def ingest(
    department: Annotated[str, typer.Argument(help="department code, e.g. public_security")],
    files: Annotated[list[Path], typer.Argument(help="files or folders (feeds/<department>/)")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable reports")] = False,
    chunk_rows: Annotated[
        int, typer.Option(min=1, help="rows per committed chunk (a crash loses at most one)")
    ] = 5000,
) -> None:
    """Ingest a department's files: every row accepted or quarantined with its reasons."""
    settings = settings_or_exit()
    try:
        keyring = load_keyring(settings)
    except (KeyFileError, ConfigurationError) as error:
        errors.print(f"[red]keys:[/red] {error}")
        raise typer.Exit(2) from None
    engine = engine_or_exit()
    paths = _expand(files)
    missing = [p for p in paths if not p.is_file()]
    if missing:
        errors.print(f"[red]no such file:[/red] {missing[0]}")
        raise typer.Exit(2)
    reports: list[BatchReport] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        for path in paths:
            task = progress.add_task(path.name, total=None)
            try:
                report = ingest_file(
                    engine,
                    department,
                    path,
                    keyring=keyring,
                    chunk_rows=chunk_rows,
                    progress=partial(progress.advance, task),
                )
            except (IngestError, ReadError, UnknownDepartmentError) as error:
                errors.print(f"[red]{path.name}:[/red] {error}")
                raise typer.Exit(1) from None
            reports.append(report)
    if as_json:
        sys.stdout.write(json.dumps([r.as_json() for r in reports], ensure_ascii=False) + "\n")
    else:
        console.print(_table(reports))
        total_in = sum(r.rows_in for r in reports)
        console.print(
            f"{total_in:,} rows in = {sum(r.accepted for r in reports):,} accepted + "
            f"{sum(r.quarantined for r in reports):,} quarantined"
        )
    if not all(r.balanced for r in reports):
        raise typer.Exit(1)


registry_app = typer.Typer(
    help="The registry (人口库): link records to persons, evaluate against truth.",
    no_args_is_help=True,
)


def _keyring_or_exit() -> KeyRing:
    try:
        return load_keyring(settings_or_exit())
    except (KeyFileError, ConfigurationError) as error:
        errors.print(f"[red]keys:[/red] {error}")
        raise typer.Exit(2) from None


@registry_app.command("link")
def link() -> None:
    """Link every accepted record to a person and refresh the golden records."""
    from hukou.registry.link import link_all  # noqa: PLC0415  (Splink loads only when linking)

    report = link_all(engine_or_exit(), _keyring_or_exit())
    console.print(
        f"{report.records:,} records → {report.persons:,} persons; "
        f"{report.review_pairs:,} pairs for clerical review; {report.flags:,} flags"
    )


@registry_app.command("evaluate")
def evaluate_command(
    truth: Annotated[Path, typer.Option(help="the synthetic city's truth folder (DIR/truth)")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable scores")] = False,
) -> None:
    """Score linkage and cleaning against the synthetic city's ground truth."""
    from hukou.registry.evaluate import evaluate  # noqa: PLC0415

    if not (truth / "records.parquet").is_file():
        errors.print(f"[red]no truth at {truth}[/red] (expected {truth / 'records.parquet'})")
        raise typer.Exit(2)
    scores = evaluate(engine_or_exit(), truth)
    if as_json:
        sys.stdout.write(json.dumps(scores, ensure_ascii=False) + "\n")
        return
    pairwise = scores["pairwise"]
    assert isinstance(pairwise, dict)
    console.print(
        f"pairwise precision {pairwise['precision']:.4f}  recall {pairwise['recall']:.4f}  "
        f"F1 {pairwise['f1']:.4f}"
    )
    console.print(
        f"error rate before {scores['error_rate_before']:.2%}, "
        f"after {scores['error_rate_after']:.2%}; "
        f"residence accuracy {scores['residence_accuracy']}"
    )
