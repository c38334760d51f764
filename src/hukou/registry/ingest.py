"""Ingest department files: every row accepted or quarantined with its reasons, once.

A file is a batch, known by its content hash: ingesting the same bytes again changes
nothing. Rows are written in chunks, each committed with its positions, so a batch
killed half-way is resumed by running it again: the positions already stored are
skipped and the batch converges to what an uninterrupted run gives. At the end the
batch proves its own count: rows read = rows accepted + rows quarantined.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from hukou.db import session_scope
from hukou.db.bulk import insert_rows
from hukou.keyring import data_cipher
from hukou.registry.changes import record_change
from hukou.registry.model import (
    IDENTITY_CONTEXT,
    IDENTITY_INDEX_PURPOSE,
    QUARANTINE_RAW_CONTEXT,
    RECORD_SCOPE,
    Batch,
    QuarantinedRow,
    SourceRecord,
)
from hukou.registry.readers import RawRecord, read_csv, read_jsonl, read_xlsx
from hukou.registry.spec import FeedSpec, FileSpec, find_spec
from hukou.registry.standardise import Issue, Standardised, Standardiser
from hukou.security import FieldCipher, KeyRing
from hukou.standards import identity

__all__ = [
    "IDENTITY_CONTEXT",
    "BatchReport",
    "IngestError",
    "content_digest",
    "ingest_file",
    "ingest_files",
    "ingest_records",
]

_COLUMNS_IN_TABLE = frozenset({"identity_number", "name", "sex", "birth_date"})


class IngestError(ValueError):
    """A file cannot be ingested at all (unknown department, no matching file kind)."""


@dataclass(slots=True)
class BatchReport:
    """What one file's ingest did."""

    batch_id: str
    department: str
    file_name: str
    outcome: str  # ingested | resumed | already_ingested
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    repairs: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        """Nothing lost: rows in = accepted + quarantined."""
        return self.rows_in == self.accepted + self.quarantined

    def as_json(self) -> dict[str, object]:
        """The report kept on the batch and printed by ``hukou ingest --json``."""
        return {
            "batch_id": self.batch_id,
            "department": self.department,
            "file": self.file_name,
            "outcome": self.outcome,
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "reasons": dict(self.reasons.most_common()),
            "repairs": dict(self.repairs.most_common()),
            "seconds": round(self.seconds, 3),
        }


def _records(path: Path, file: FileSpec) -> tuple[str | None, Iterator[RawRecord]]:
    if file.format == "csv":
        encoding = None if file.encoding in (None, "detect") else file.encoding
        _header, used, rows = read_csv(path, encoding=encoding, delimiter=file.delimiter or ",")
        return used, rows
    if file.format == "jsonl":
        return "utf-8", read_jsonl(path, skip_lines=file.skip_lines)
    if file.format == "parquet":
        from hukou.registry.readers import read_parquet  # noqa: PLC0415

        _header, rows = read_parquet(path)  # streamed in batches: no 1 GB file in memory
        return None, rows
    _header, rows = read_xlsx(path, sheet=file.sheet or 0)
    return None, rows


def _file_spec(spec: FeedSpec, name: str) -> FileSpec:
    matches = spec.files_for(name)
    if len(matches) != 1:
        kinds = ", ".join(f.pattern for f in spec.files)
        raise IngestError(
            f"{name}: matches {len(matches)} file kinds of {spec.department} ({kinds})"
        )
    return matches[0]


_EMBEDDED_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def _embeds_identity_number(text: str) -> bool:
    """Whether a value carries an identity number (全国学籍号 is "G" + the pupil's number)."""
    if len(text) < 18:  # most values: codes, dates, names
        return False
    return any(identity.is_valid(m.group(0)) for m in _EMBEDDED_NUMBER.finditer(text))


def _json_value(value: object) -> object:
    if isinstance(value, datetime.date):  # datetimes too: ISO 8601 with their offset
        return value.isoformat()
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class _Context:
    batch_id: str
    department: str
    file_name: str
    kind: str
    record_id: str | None
    cipher: FieldCipher
    sensitive: frozenset[str]


def _accepted_row(raw: RawRecord, result: Standardised, ctx: _Context) -> dict[str, object]:
    values = result.values
    number = values.get("identity_number")
    fields = {
        name: (
            ctx.cipher.encrypt(str(value), context=f"registry.record.{name}")
            if name in ctx.sensitive or _embeds_identity_number(str(value))
            else _json_value(value)
        )
        for name, value in values.items()
        if name not in _COLUMNS_IN_TABLE
    }
    notes = [issue.as_json() for issue in result.issues] + [
        {**issue.as_json(), "repaired": True} for issue in result.repairs
    ]
    record_id = raw.values.get(ctx.record_id) if ctx.record_id and raw.values else None
    if record_id is not None and _embeds_identity_number(record_id):
        # Kept as a keyed digest: rows of one record still group, no number is stored.
        record_id = "h:" + ctx.cipher.blind_index(record_id, purpose="record_id")[:40]
    birth = values.get("birth_date")
    return {
        "batch_id": ctx.batch_id,
        "department": ctx.department,
        "file_name": ctx.file_name,
        "position": raw.position,
        "record_id": record_id,
        "kind": ctx.kind,
        "identity_token": None
        if number is None
        else ctx.cipher.encrypt(str(number), context=IDENTITY_CONTEXT),
        "identity_index": ctx.cipher.blind_index(str(number), purpose=IDENTITY_INDEX_PURPOSE)
        if result.identity_status == "valid"
        else None,
        "identity_status": result.identity_status,
        "name": values.get("name"),
        "sex": values.get("sex"),
        "birth_date": birth if isinstance(birth, datetime.date) else None,
        "fields": json.dumps(fields, ensure_ascii=False, sort_keys=True),
        "issues": json.dumps(notes, ensure_ascii=False) if notes else None,
    }


def _quarantined_row(raw: RawRecord, reasons: Sequence[Issue], ctx: _Context) -> dict[str, object]:
    return {
        "batch_id": ctx.batch_id,
        "department": ctx.department,
        "file_name": ctx.file_name,
        "position": raw.position,
        # Under the batch's own data key: shredded when the quarantine is purged.
        "raw_token": ctx.cipher.encrypt(
            raw.raw, context=QUARANTINE_RAW_CONTEXT, subject=ctx.batch_id
        ),
        "reasons": json.dumps([r.as_json() for r in reasons], ensure_ascii=False),
    }


def _open_batch(
    session: Session, department: str, file_name: str, digest: str
) -> tuple[Batch, bool]:
    """The batch for this content: found (and whether it is finished) or started."""
    batch = session.scalar(
        select(Batch).where(Batch.department == department, Batch.content_sha256 == digest)
    )
    if batch is not None:
        return batch, batch.status == "done"
    batch = Batch(
        id=str(uuid.uuid4()),
        department=department,
        file_name=file_name,
        content_sha256=digest,
        status="running",
        rows_in=0,
        rows_accepted=0,
        rows_quarantined=0,
        started_at=datetime.datetime.now(datetime.UTC),
    )
    session.add(batch)
    return batch, False


def _done_positions(session: Session, batch_id: str) -> set[int]:
    done = set(
        session.scalars(select(SourceRecord.position).where(SourceRecord.batch_id == batch_id))
    )
    done.update(
        session.scalars(select(QuarantinedRow.position).where(QuarantinedRow.batch_id == batch_id))
    )
    return done


class _Run:
    """One pass over a file: classify each record, buffer it, write it in chunks."""

    def __init__(
        self,
        engine: Engine,
        ctx: _Context,
        *,
        file: FileSpec,
        done: set[int],
        today: datetime.date,
        report: BatchReport,
    ) -> None:
        self.engine, self.ctx, self.done = engine, ctx, done
        self.standardise = Standardiser(file, today=today)
        self.report = report
        self.first_seen: dict[bytes, int] = {}
        self.accepted: list[dict[str, object]] = []
        self.quarantined: list[dict[str, object]] = []

    def classify(self, raw: RawRecord) -> tuple[Standardised | None, list[Issue]]:
        """The standardised record, or the reasons it goes to quarantine."""
        # A 16-byte digest per line, not the line: a million lines stay small.
        line_key = hashlib.blake2b(raw.raw.encode("utf-8"), digest_size=16).digest()
        duplicate_of = self.first_seen.setdefault(line_key, raw.position)
        if raw.values is None:
            return None, [Issue("line", "malformed_line", raw.problem)]
        if duplicate_of != raw.position:
            return None, [Issue("line", "duplicate_row", f"same as line {duplicate_of}")]
        result = self.standardise(raw.values)
        self.report.repairs.update(r.rule for r in result.repairs)
        return (result, []) if result.accepted else (None, result.fatal)

    def take(self, raw: RawRecord) -> int:
        """Classify and buffer one record; returns how many rows are buffered."""
        self.report.rows_in += 1
        result, reasons = self.classify(raw)
        self.report.reasons.update(f"{r.field}:{r.rule}" for r in reasons)
        if raw.position in self.done:  # written before an interruption
            return len(self.accepted) + len(self.quarantined)
        if result is None:
            self.quarantined.append(_quarantined_row(raw, reasons, self.ctx))
        else:
            self.accepted.append(_accepted_row(raw, result, self.ctx))
        return len(self.accepted) + len(self.quarantined)

    def flush(self) -> int:
        """Write the buffered rows in one transaction; returns how many."""
        written = len(self.accepted) + len(self.quarantined)
        with session_scope(self.engine) as session:
            insert_rows(session, SourceRecord, self.accepted)
            insert_rows(session, QuarantinedRow, self.quarantined)
        self.accepted.clear()
        self.quarantined.clear()
        return written


def _count(
    session: Session, table: type[SourceRecord] | type[QuarantinedRow], batch_id: str
) -> int:
    query = select(func.count()).select_from(table).where(table.batch_id == batch_id)
    return session.scalar(query) or 0


def _finish(
    engine: Engine, report: BatchReport, encoding: str | None, started: float, actor: str
) -> None:
    """Count what the database holds for the batch and close it if nothing was lost.

    A closed batch is a ledger entry, in the same transaction."""
    with session_scope(engine) as session:
        report.accepted = _count(session, SourceRecord, report.batch_id)
        report.quarantined = _count(session, QuarantinedRow, report.batch_id)
        report.seconds = time.perf_counter() - started
        batch = session.get_one(Batch, report.batch_id)
        batch.encoding = encoding
        batch.rows_in = report.rows_in
        batch.rows_accepted = report.accepted
        batch.rows_quarantined = report.quarantined
        batch.status = "done" if report.balanced else "running"
        batch.finished_at = datetime.datetime.now(datetime.UTC)
        batch.report = json.dumps(report.as_json(), ensure_ascii=False)
        if report.balanced:
            record_change(
                session,
                actor=actor,
                department=batch.department,
                action="batch.ingested",
                object_id=batch.id,
                at=batch.finished_at,
            )


def _finished_report(batch: Batch) -> BatchReport:
    saved = json.loads(batch.report or "{}")
    report = BatchReport(batch.id, batch.department, batch.file_name, "already_ingested")
    report.rows_in, report.accepted = batch.rows_in, batch.rows_accepted
    report.quarantined = batch.rows_quarantined
    report.reasons.update(saved.get("reasons", {}))
    return report


def content_digest(path: Path) -> str:
    """The SHA-256 of a file, read in blocks: a batch is known by its content, not its name."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def ingest_file(
    engine: Engine,
    department: str,
    path: Path,
    *,
    keyring: KeyRing,
    today: datetime.date | None = None,
    chunk_rows: int = 5000,
    progress: Callable[[int], None] | None = None,
    digest: str | None = None,
) -> BatchReport:
    """Ingest one file of ``department``; a file already ingested is a no-op.

    ``digest`` is the file's :func:`content_digest` when the caller has it already.
    """
    file = _file_spec(find_spec(department), path.name)
    digest = digest or content_digest(path)

    def open_records() -> tuple[str | None, Iterable[RawRecord]]:
        return _records(path, file)

    return ingest_records(
        engine,
        department,
        path.name,
        digest,
        open_records,
        keyring=keyring,
        today=today,
        chunk_rows=chunk_rows,
        progress=progress,
    )


def ingest_records(
    engine: Engine,
    department: str,
    file_name: str,
    digest: str,
    open_records: Callable[[], tuple[str | None, Iterable[RawRecord]]],
    *,
    keyring: KeyRing,
    today: datetime.date | None = None,
    chunk_rows: int = 5000,
    progress: Callable[[int], None] | None = None,
    actor: str = "system:ingest",
) -> BatchReport:
    """Ingest one batch of ``department`` known by its content ``digest``.

    ``actor`` (who sent it: the CLI, a department's push) goes into the batch's
    ledger entry.

    The common path of files and pushed batches: ``file_name`` chooses the spec's
    file kind, ``open_records`` gives (encoding, records) and is only called when
    the batch is not already done, so a batch sent twice is read once.
    """
    started = time.perf_counter()
    file = _file_spec(find_spec(department), file_name)
    with session_scope(engine) as session:
        batch, finished = _open_batch(session, department, file_name, digest)
        if finished:
            return _finished_report(batch)
        batch_id = batch.id
        done = _done_positions(session, batch_id)
    report = BatchReport(batch_id, department, file_name, "resumed" if done else "ingested")
    try:
        encoding, records = open_records()
    except Exception:
        if not done:  # an unreadable file leaves no empty batch behind
            with session_scope(engine) as session:
                session.execute(delete(Batch).where(Batch.id == batch_id))
        raise
    sensitive = frozenset(
        c.field
        for c in file.mapped
        if c.field is not None and c.standard_field is not None and c.standard_field.sensitive
    )
    ctx = _Context(
        batch_id,
        department,
        file_name,
        file.record.kind,
        file.record_id,
        data_cipher(engine, keyring, RECORD_SCOPE),
        sensitive,
    )
    run = _Run(
        engine, ctx, file=file, done=done, today=today or datetime.date.today(), report=report
    )
    for raw in records:
        if run.take(raw) >= chunk_rows:
            written = run.flush()
            if progress is not None:
                progress(written)
    written = run.flush()
    if progress is not None:
        progress(written)
    _finish(engine, report, encoding, started, actor)
    return report


def ingest_files(
    engine: Engine,
    department: str,
    paths: Sequence[Path],
    *,
    keyring: KeyRing,
    today: datetime.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[BatchReport]:
    """Ingest several files of one department, in order."""
    return [
        ingest_file(engine, department, path, keyring=keyring, today=today, progress=progress)
        for path in paths
    ]
