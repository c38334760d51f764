"""``hukou ingest``: bring department files into the registry, with a report per batch."""

from __future__ import annotations

import datetime
import getpass
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hukou.clikit import console, engine_or_exit, errors, settings_or_exit
from hukou.config import ConfigurationError
from hukou.keyring import load_keyring
from hukou.registry.ingest import BatchReport, IngestError
from hukou.registry.parallel import IngestJob, default_workers, ingest_jobs
from hukou.registry.readers import ReadError
from hukou.registry.retention import DEFAULT_QUARANTINE_DAYS, purge_quarantine, quarantine_due
from hukou.registry.spec import UnknownDepartmentError, find_spec
from hukou.security import DataKeys, KeyFileError, KeyRing

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


def _jobs(department: str, files: list[Path]) -> list[IngestJob]:
    """``all`` takes each folder's sub-folders as departments (a city's ``feeds/``)."""
    if department != "all":
        return [IngestJob(department, path) for path in _expand(files)]
    jobs: list[IngestJob] = []
    for folder in files:
        if not folder.is_dir():
            errors.print(f"[red]not a folder of department folders:[/red] {folder}")
            raise typer.Exit(2)
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            jobs.extend(IngestJob(sub.name, path) for path in _expand([sub]))
    return jobs


def ingest(
    department: Annotated[
        str, typer.Argument(help="department code, e.g. public_security; `all` for feeds/")
    ],
    files: Annotated[
        list[Path], typer.Argument(help="files or folders (feeds/<department>/, or feeds/)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable reports")] = False,
    chunk_rows: Annotated[
        int, typer.Option(min=1, help="rows per committed chunk (a crash loses at most one)")
    ] = 5000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="files ingested at once (default: one per core)"),
    ] = None,
) -> None:
    """Ingest a department's files: every row accepted or quarantined with its reasons."""
    settings = settings_or_exit()
    try:
        keyring = load_keyring(settings)
    except (KeyFileError, ConfigurationError) as error:
        errors.print(f"[red]keys:[/red] {error}")
        raise typer.Exit(2) from None
    jobs = _jobs(department, files)
    missing = [job.path for job in jobs if not job.path.is_file()]
    if missing:
        errors.print(f"[red]no such file:[/red] {missing[0]}")
        raise typer.Exit(2)
    for name in sorted({job.department for job in jobs}):
        try:
            find_spec(name)
        except UnknownDepartmentError as error:
            errors.print(f"[red]{name}:[/red] {error}")
            raise typer.Exit(1) from None
    count = min(workers or default_workers(), max(1, len(jobs)))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        task = progress.add_task(f"{len(jobs)} files, {count} at a time", total=len(jobs))
        try:
            reports = ingest_jobs(
                settings.database_url,
                jobs,
                keyring=keyring,
                workers=count,
                chunk_rows=chunk_rows,
                on_done=lambda _report: progress.advance(task),
            )
        except (IngestError, ReadError, UnknownDepartmentError) as error:
            errors.print(f"[red]ingest:[/red] {error}")
            raise typer.Exit(1) from None
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
def link(
    full: Annotated[
        bool, typer.Option("--full", help="recompute every link and retrain the model")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable report")] = False,
) -> None:
    """Link records not linked yet (or, with --full, every record) and refresh persons."""
    from hukou.registry.link import link_all, link_pending  # noqa: PLC0415  (Splink loads late)

    engine, keyring = engine_or_exit(), _keyring_or_exit()
    report = link_all(engine, keyring) if full else link_pending(engine, keyring)
    if as_json:
        out = {
            "mode": report.mode,
            "pending": report.pending,
            "records": report.records,
            "persons": report.persons,
            "persons_written": report.persons_written,
            "persons_removed": report.persons_removed,
            "review_pairs": report.review_pairs,
            "flags": report.flags,
            "events": report.events,
        }
        sys.stdout.write(json.dumps(out) + "\n")
        return
    if report.mode == "nothing":
        console.print("nothing pending: every accepted record is linked")
        return
    console.print(
        f"{report.mode}: {report.records:,} records → {report.persons:,} persons "
        f"({report.persons_written:,} written, {report.persons_removed:,} removed); "
        f"{report.review_pairs:,} pairs for clerical review; {report.flags:,} flags; "
        f"{report.events:,} outbox events"
    )


@registry_app.command("events")
def events_command(
    after: Annotated[int, typer.Option("--after", min=0, help="events after this id")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="at most this many")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """The outbox: changes of persons (born, died, moved, married …), oldest first."""
    from hukou.registry.outbox import read_events  # noqa: PLC0415

    found = read_events(engine_or_exit(), after, limit)
    if as_json:
        for event in found:
            sys.stdout.write(json.dumps(event.as_json(), ensure_ascii=False) + "\n")
        return
    table = Table(title="outbox")
    for column in ("id", "event", "person", "occurred on", "batch", "payload"):
        table.add_column(column)
    for event in found:
        table.add_row(
            str(event.id),
            event.event_type,
            event.person_id,
            "" if event.occurred_on is None else event.occurred_on.isoformat(),
            event.batch_id or "",
            json.dumps(
                {k: v for k, v in event.payload.items() if k != "person_id"}, ensure_ascii=False
            ),
        )
    console.print(table)
    if not found:
        console.print(f"no events after {after}")


review_app = typer.Typer(help="The clerical review queue (人工复核).", no_args_is_help=True)
registry_app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="pending, same, different or all")] = "pending",
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable list")] = False,
) -> None:
    """Pairs to decide, side by side; identity numbers and names masked."""
    from hukou.registry.link import ReviewError, list_pairs  # noqa: PLC0415

    try:
        pairs = list_pairs(engine_or_exit(), _keyring_or_exit(), status=status, limit=limit)
    except ReviewError as error:
        errors.print(f"[red]review:[/red] {error}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(pairs, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"review ({status})")
    for column in ("id", "p", "status", "side", "department", "name", "sex", "born", "id no."):
        table.add_column(column)
    for pair in pairs:
        for side in ("left", "right"):
            record = pair[side]
            assert isinstance(record, dict)
            table.add_row(
                str(pair["id"]) if side == "left" else "",
                f"{pair['probability']:.3f}" if side == "left" else "",
                str(pair["status"]) if side == "left" else "",
                side,
                str(record["department"]),
                str(record["name"] or ""),
                str(record["sex"] or ""),
                str(record["birth_date"] or ""),
                str(record["identity_number"] or ""),
            )
    console.print(table)


@review_app.command("decide")
def review_decide(
    pair_id: Annotated[int, typer.Argument(help="the pair's id (review list)")],
    decision: Annotated[str, typer.Argument(help="same or different")],
    by: Annotated[str, typer.Option("--by", help="the clerk deciding")],
) -> None:
    """Decide a pair: linking (full and incremental) honours it from now on."""
    from hukou.registry.link import ReviewError, decide  # noqa: PLC0415

    try:
        decide(engine_or_exit(), pair_id, decision, by=by)
    except ReviewError as error:
        errors.print(f"[red]review:[/red] {error}")
        raise typer.Exit(2) from None
    console.print(f"pair {pair_id}: {decision} (by {by}); run `hukou registry link` to apply it")


quarantine_app = typer.Typer(
    help="Quarantined lines (隔离区): retention, purged by crypto-shredding.", no_args_is_help=True
)
registry_app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("purge")
def quarantine_purge(
    older_than: Annotated[
        int,
        typer.Option("--older-than", min=0, help="days since the batch finished (default a year)"),
    ] = DEFAULT_QUARANTINE_DAYS,
    by: Annotated[str, typer.Option("--by", help="who purges (recorded in the ledger)")] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="only list what would be purged")
    ] = False,
) -> None:
    """Delete quarantined lines past their retention and shred their batch keys (erasure).

    Each batch is one transaction with its ledger entry; run again to finish a
    purge that stopped.
    """
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=older_than)
    engine = engine_or_exit()
    if dry_run:
        due = quarantine_due(engine, before)
        for batch_id, lines in due.items():
            console.print(f"{batch_id}: {lines:,} lines")
        console.print(f"{len(due):,} batches, {sum(due.values()):,} lines would be purged")
        return
    keyring = _keyring_or_exit()
    actor = by or f"cli:{getpass.getuser()}"
    report = purge_quarantine(engine, DataKeys(engine, keyring), before=before, actor=actor)
    console.print(
        f"purged {report.total:,} quarantined lines of {len(report.lines):,} batches finished "
        f"before {before:%Y-%m-%d}; {report.keys_shredded:,} batch keys shredded"
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
