"""What a batch stored, decrypted and keyed by position: to compare two ways of ingesting rows.

Tokens are SM4-GCM with a fresh nonce, so two batches holding the same value hold
different tokens; comparing means decrypting. Quarantine reasons are compared as
(field, rule): a duplicate's detail names its line, which differs between a CSV
and the same rows in another format when the CSV had lines no other format can hold.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import Engine, select

from hukou.db import session_scope
from hukou.keyring import data_cipher
from hukou.registry.ingest import IDENTITY_CONTEXT, BatchReport, ingest_file
from hukou.registry.model import QuarantinedRow, SourceRecord
from hukou.registry.readers import read_csv
from hukou.security import TOKEN_MARK, KeyRing

Row = dict[str, str | None]


def ingest_city(
    engine: Engine,
    city: Path,
    keyring: KeyRing,
    *,
    today: datetime.date = datetime.date(2025, 12, 31),
    departments: Collection[str] | None = None,
) -> list[BatchReport]:
    """Ingest a synthetic city's feeds (every department, or only ``departments``)."""
    return [
        ingest_file(engine, folder.name, path, keyring=keyring, today=today)
        for folder in sorted((city / "feeds").iterdir())
        if departments is None or folder.name in departments
        for path in sorted(folder.iterdir())
    ]


def wellformed_rows(path: Path) -> tuple[list[str], list[tuple[int, Row]]]:
    """The header and the (line, values) of every CSV line that parses."""
    header, _encoding, records = read_csv(path)
    return header, [(r.position, r.values) for r in records if r.values is not None]


def outcomes(engine: Engine, batch_id: str, keyring: KeyRing) -> dict[int, dict[str, object]]:
    """Position → what the batch stored for it, with every token decrypted."""
    cipher = data_cipher(engine, keyring)

    def clear(name: str, value: object) -> object:
        if isinstance(value, str) and value.startswith(TOKEN_MARK):
            return cipher.decrypt(value, context=f"registry.record.{name}")
        return value

    stored: dict[int, dict[str, object]] = {}
    with session_scope(engine) as session:
        for record in session.scalars(
            select(SourceRecord).where(SourceRecord.batch_id == batch_id)
        ):
            fields = json.loads(record.fields)
            stored[record.position] = {
                "outcome": "accepted",
                "record_id": record.record_id,
                "kind": record.kind,
                "identity": None
                if record.identity_token is None
                else cipher.decrypt(record.identity_token, context=IDENTITY_CONTEXT),
                "identity_index": record.identity_index,
                "identity_status": record.identity_status,
                "name": record.name,
                "sex": record.sex,
                "birth_date": record.birth_date,
                "fields": {name: clear(name, value) for name, value in fields.items()},
                "issues": json.loads(record.issues) if record.issues else [],
            }
        for row in session.scalars(
            select(QuarantinedRow).where(QuarantinedRow.batch_id == batch_id)
        ):
            reasons = json.loads(row.reasons)
            stored[row.position] = {
                "outcome": "quarantined",
                "reasons": [(r["field"], r["rule"]) for r in reasons],
            }
    return stored


def aligned(
    lines: list[tuple[int, Row]], other: dict[int, dict[str, object]]
) -> dict[int, dict[str, object]]:
    """``other``'s outcomes (its record i at position i + 2) under the CSV line numbers."""
    return {line: other[index + 2] for index, (line, _values) in enumerate(lines)}
