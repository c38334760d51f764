"""``hukou registry evaluate``: score the registry against the synthetic city's truth.

* **pairwise precision, recall, F1** of linkage over the accepted records;
* **error rate before**: feed records carrying any defect / all feed records;
* **error rate after**: records still carrying an unresolved problem after ingest and
  linkage / all feed records. Resolved: repaired values (full-width, 15-digit numbers,
  dates or sex read from a valid number), duplicates removed, invalid numbers whose
  record was linked to a person with a valid number. Unresolved: lines that could not
  be read or lacked a required field (in quarantine until the department resends
  them), invalid numbers left on a person without a valid one;
* **residence accuracy**: of the registry's persons, the share whose inferred actual
  residence is the true person's actual division (a registry person is matched to the
  true person most of its records belong to).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, select

from hukou.db import session_scope
from hukou.registry.linkage import pairwise_scores
from hukou.registry.model import Person, QuarantinedRow, RecordLink, SourceRecord

__all__ = ["evaluate"]


def _predicted(engine: Engine) -> tuple[pl.DataFrame, pl.DataFrame]:
    with session_scope(engine) as session:
        linked = session.execute(
            select(
                SourceRecord.id,
                SourceRecord.department,
                SourceRecord.file_name,
                SourceRecord.position,
                SourceRecord.identity_status,
                RecordLink.person_id,
                Person.identity_index,
            )
            .join(RecordLink, RecordLink.record_id == SourceRecord.id)
            .join(Person, Person.id == RecordLink.person_id)
        ).all()
        quarantined = session.execute(
            select(
                QuarantinedRow.department,
                QuarantinedRow.file_name,
                QuarantinedRow.position,
                QuarantinedRow.reasons,
            )
        ).all()
    records = pl.DataFrame(
        [(r[0], f"feeds/{r[1]}/{r[2]}", r[3], r[4], r[5], r[6] is not None) for r in linked],
        schema={
            "record_key": pl.Int64,
            "file": pl.String,
            "position": pl.Int64,
            "identity_status": pl.String,
            "cluster_id": pl.String,
            "person_has_number": pl.Boolean,
        },
        orient="row",
    )
    rules = [
        (f"feeds/{d}/{f}", p, [reason["rule"] for reason in json.loads(r)])
        for d, f, p, r in quarantined
    ]
    quarantine = pl.DataFrame(
        rules,
        schema={"file": pl.String, "position": pl.Int64, "rules": pl.List(pl.String)},
        orient="row",
    )
    return records, quarantine


def _residence_accuracy(engine: Engine, scored: pl.DataFrame, truth: Path) -> float | None:
    with session_scope(engine) as session:
        inferred = session.execute(select(Person.id, Person.residence_division)).all()
    persons = pl.DataFrame(
        inferred, schema={"cluster_id": pl.String, "residence": pl.String}, orient="row"
    )
    # Each registry person stands for the true person most of its records belong to.
    majority = (
        scored.group_by("cluster_id", "person_id")
        .len()
        .sort("len", "person_id", descending=[True, False])
        .unique("cluster_id", keep="first")
    )
    actual = pl.read_parquet(truth / "persons.parquet").select("person_id", "actual_division")
    joined = majority.join(persons, on="cluster_id").join(actual, on="person_id")
    if joined.height == 0:
        return None
    correct = int((joined["residence"] == joined["actual_division"]).sum())
    return correct / joined.height


def evaluate(engine: Engine, truth: Path) -> dict[str, object]:
    """The scores of the registry in ``engine`` against ``truth`` (a city's truth folder)."""
    truth_records = pl.read_parquet(truth / "records.parquet")
    records, quarantine = _predicted(engine)
    scored = records.join(
        truth_records.select("file", "position", "person_id"), on=["file", "position"], how="inner"
    )
    pairwise = pairwise_scores(
        scored.select("record_key", "cluster_id"), scored.select("record_key", "person_id")
    )
    total = truth_records.height
    unresolved_quarantine = quarantine.filter(
        ~pl.col("rules").list.eval(pl.element() == "duplicate_row").list.all()
    ).height
    unresolved_identity = records.filter(
        (pl.col("identity_status") != "valid")
        & (pl.col("identity_status") != "absent")
        & ~pl.col("person_has_number")
    ).height
    return {
        "records": total,
        "accepted": records.height,
        "quarantined": quarantine.height,
        "pairwise": pairwise,
        "error_rate_before": (truth_records["defects"] != "").sum() / total if total else 0.0,
        "error_rate_after": (unresolved_quarantine + unresolved_identity) / total if total else 0.0,
        "residence_accuracy": _residence_accuracy(engine, scored, truth),
    }
