"""Ingest on SQLite and PostgreSQL: nothing lost, every defect accounted for, idempotent,
resumable after kill -9, and no identity number stored in the clear."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select, text

from hukou.db import session_scope
from hukou.keyring import data_cipher
from hukou.registry.ingest import IngestError, ingest_file
from hukou.registry.model import Batch, QuarantinedRow, SourceRecord
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

pytestmark = pytest.mark.storage

TODAY = datetime.date(2025, 12, 31)
KEYRING = KeyRing.generate()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ingest-city")
    generate_city(CityConfig(population=2500, seed=12), out)
    return out


def _ingest_all(engine: Engine, city: Path) -> dict[str, int]:
    rows = {}
    for folder in sorted((city / "feeds").iterdir()):
        for path in sorted(folder.iterdir()):
            report = ingest_file(engine, folder.name, path, keyring=KEYRING, today=TODAY)
            assert report.balanced, path
            rows[f"feeds/{folder.name}/{path.name}"] = report.rows_in
    return rows


def _outcomes(engine: Engine) -> pl.DataFrame:
    with session_scope(engine) as session:
        accepted = session.execute(
            select(
                SourceRecord.department,
                SourceRecord.file_name,
                SourceRecord.position,
                SourceRecord.identity_status,
                SourceRecord.issues,
            )
        ).all()
        quarantined = session.execute(
            select(
                QuarantinedRow.department,
                QuarantinedRow.file_name,
                QuarantinedRow.position,
                QuarantinedRow.reasons,
            )
        ).all()
    frame_a = pl.DataFrame(
        [(f"feeds/{d}/{f}", p, s, i or "[]", "") for d, f, p, s, i in accepted],
        schema=["file", "position", "identity_status", "issues", "reasons"],
        orient="row",
    ).with_columns(pl.lit("accepted").alias("outcome"))
    frame_q = pl.DataFrame(
        [(f"feeds/{d}/{f}", p, None, "[]", r) for d, f, p, r in quarantined],
        schema={
            "file": pl.String,
            "position": pl.Int64,
            "identity_status": pl.String,
            "issues": pl.String,
            "reasons": pl.String,
        },
        orient="row",
    ).with_columns(pl.lit("quarantined").alias("outcome"))
    return pl.concat([frame_a.cast(frame_q.schema | {"outcome": pl.String}), frame_q])


def test_every_row_accounted_for_and_every_defect_handled(engine: Engine, city: Path) -> None:
    rows_in = _ingest_all(engine, city)
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    assert rows_in == dict(truth.group_by("file").len().iter_rows())
    joined = truth.join(_outcomes(engine), on=["file", "position"], how="left")
    assert joined["outcome"].null_count() == 0  # rows in = accepted + quarantined, per row

    def has(defect: str) -> pl.Expr:
        return pl.col("defects").str.contains(f"(?:^|;){defect}(?:$|;|:)")

    def rows(defect: str) -> pl.DataFrame:
        return joined.filter(has(defect))

    # Clean records are all accepted, and their identity numbers are valid.
    clean = joined.filter(pl.col("defects") == "")
    assert (clean["outcome"] == "accepted").all(), clean.filter(
        pl.col("outcome") != "accepted"
    ).head()
    with_ids = clean.filter(pl.col("identity_status") != "absent")
    assert (with_ids["identity_status"] == "valid").all()
    # Unparseable lines and copies go to quarantine with that reason.
    for defect in ("malformed_line", "duplicate_row"):
        found = rows(defect).filter(
            ~pl.col("defects").str.contains("malformed_line") | (pl.lit(defect) == "malformed_line")
        )
        assert found.height > 0, defect
        assert (found["outcome"] == "quarantined").all(), defect
        assert found["reasons"].str.contains(defect).all(), defect
    # Repairable numbers are repaired; broken ones are kept aside for linkage, flagged.
    only_id = joined.filter(~pl.col("defects").str.contains("malformed|duplicate|missing|date_out"))
    for defect in ("id_full_width", "id_legacy_15"):
        repaired = only_id.filter(pl.col("defects").str.contains(defect))
        assert repaired.height > 0
        assert (repaired["identity_status"] == "valid").all(), defect
    for defect in ("id_transposed", "id_mistyped", "id_wrong_check"):
        broken = only_id.filter(has(defect))
        assert broken.height > 0
        assert (broken["outcome"] == "accepted").all(), (
            broken.filter(pl.col("outcome") != "accepted")
            .select("file", "defects", "reasons")
            .to_dicts()
        )
        still_valid = broken.filter(pl.col("identity_status") == "valid")
        assert still_valid.height == 0, still_valid.select("file", "position", "defects").to_dicts()
    # A missing field is quarantined as missing, or repaired from the identity number,
    # or noted when the department does not always fill it.
    missing = rows("missing_field").filter(~pl.col("defects").str.contains("malformed|duplicate"))
    assert missing.height > 0
    for row in missing.iter_rows(named=True):
        if row["outcome"] == "quarantined":
            assert "missing" in row["reasons"], row
    # An impossible birth date is read from the identity number, or the row is quarantined.
    dates = rows("date_out_of_range").filter(~pl.col("defects").str.contains("malformed|duplicate"))
    assert dates.height > 0
    for row in dates.iter_rows(named=True):
        explained = (
            row["outcome"] == "quarantined"
            or "date" in row["issues"]
            or "from_identity_number" in row["issues"]
        )
        assert explained, row


def test_reingest_changes_nothing(engine: Engine, city: Path) -> None:
    path = sorted((city / "feeds" / "public_security").iterdir())[0]
    first = ingest_file(engine, "public_security", path, keyring=KEYRING, today=TODAY)
    again = ingest_file(engine, "public_security", path, keyring=KEYRING, today=TODAY)
    assert first.outcome == "ingested"
    assert again.outcome == "already_ingested"
    assert (again.rows_in, again.accepted, again.quarantined) == (
        first.rows_in,
        first.accepted,
        first.quarantined,
    )
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
        total = session.scalar(select(func.count()).select_from(SourceRecord))
        total += session.scalar(select(func.count()).select_from(QuarantinedRow)) or 0
    assert total == first.rows_in


def test_unknown_file_kind_is_refused(engine: Engine, tmp_path: Path) -> None:
    stray = tmp_path / "something_else.csv"
    stray.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="matches 0 file kinds"):
        ingest_file(engine, "public_security", stray, keyring=KEYRING, today=TODAY)


def test_identity_numbers_are_encrypted_and_indexed(engine: Engine, city: Path) -> None:
    path = sorted((city / "feeds" / "public_security").iterdir())[0]
    ingest_file(engine, "public_security", path, keyring=KEYRING, today=TODAY)
    persons = pl.read_parquet(city / "truth" / "persons.parquet")
    numbers = set(persons["identity_number"].to_list())
    cipher = data_cipher(engine, KEYRING)
    with session_scope(engine) as session:
        stored = session.execute(
            select(
                SourceRecord.identity_token,
                SourceRecord.identity_index,
                SourceRecord.identity_status,
            )
        ).all()
        dump = (
            session.execute(
                text("SELECT identity_token, fields, issues FROM registry_record")
            ).all()
            + session.execute(text("SELECT raw_token, reasons FROM registry_quarantine")).all()
        )
    plain = " ".join(str(cell) for row in dump for cell in row)
    assert not any(number in plain for number in numbers)
    valid = [(t, i) for t, i, s in stored if s == "valid"]
    assert valid
    for token, index in valid[:50]:
        number = cipher.decrypt(token, context="registry.record.identity_number")
        assert number in numbers
        assert index == cipher.blind_index(number, purpose="identity_number")


def test_no_plaintext_identity_numbers_in_the_sqlite_file(tmp_path: Path, city: Path) -> None:
    from hukou.db import create_engine_for, upgrade  # noqa: PLC0415

    database = tmp_path / "scan.db"
    engine = create_engine_for(f"sqlite:///{database}")
    upgrade(engine)
    _ingest_all(engine, city)
    engine.dispose()
    raw = database.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("scan.db-*"))
    persons = pl.read_parquet(city / "truth" / "persons.parquet")
    leaked = [
        n
        for n in persons["identity_number"].to_list()
        if n.encode() in raw or n[:6].encode() + n[8:17].encode() in raw
    ]
    assert leaked == []


def _count_rows(engine: Engine) -> int:
    with session_scope(engine) as session:
        records = session.scalar(select(func.count()).select_from(SourceRecord)) or 0
        return records + (session.scalar(select(func.count()).select_from(QuarantinedRow)) or 0)


def test_kill_9_then_resume_converges(engine: Engine, city: Path, tmp_path: Path) -> None:
    path = max(
        (city / "feeds" / "medical_insurance").glob("cbxx_*.csv"), key=lambda p: p.stat().st_size
    )
    keys = tmp_path / "keys.json"
    keys.write_text(KEYRING.to_json(), encoding="utf-8")
    env = {
        **os.environ,
        "HUKOU_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "HUKOU_KEY_FILE": str(keys),
        "HUKOU_DATA_DIR": str(tmp_path),
    }
    command = [
        sys.executable,
        "-m",
        "hukou.cli",
        "ingest",
        "medical_insurance",
        str(path),
        "--chunk-rows",
        "10",
        "--json",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while _count_rows(engine) == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted = _count_rows(engine)
    assert interrupted > 0
    with session_scope(engine) as session:
        assert session.scalar(select(Batch.status)) == "running"
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)[0]
    assert report["outcome"] == "resumed"
    assert report["rows_in"] == report["accepted"] + report["quarantined"]
    assert _count_rows(engine) == report["rows_in"]
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    file = f"feeds/medical_insurance/{path.name}"
    assert report["rows_in"] == truth.filter(pl.col("file") == file).height
    with session_scope(engine) as session:
        positions = session.scalars(select(SourceRecord.position)).all()
        positions += session.scalars(select(QuarantinedRow.position)).all()
        assert sorted(positions) == list(range(2, 2 + report["rows_in"]))
        assert session.scalar(select(Batch.status)) == "done"
