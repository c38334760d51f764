"""``hukou registry link``: link every accepted record to a person and refresh golden records.

The database side of :mod:`hukou.registry.linkage` (which is pure): read the
accepted records, decrypt their identity numbers in memory only, link, then write
persons, links, review pairs and golden records. Linking is recomputed over all
records: the same records give the same persons (their ids derive from the cluster,
not from the order of arrival), so running it again changes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine, delete, insert, select

from hukou.db import session_scope
from hukou.registry.golden import GoldenRecord, Provenance, golden_record
from hukou.registry.ingest import IDENTITY_CONTEXT
from hukou.registry.linkage import LinkageResult, link_records
from hukou.registry.model import Batch, Person, RecordLink, ReviewPair, SourceRecord
from hukou.registry.residence import Residence, evidence_from, infer_residence
from hukou.registry.spec import load_all
from hukou.security import FieldCipher, KeyRing

__all__ = ["LinkReport", "link_all", "linkage_input", "load_records"]


@dataclass(frozen=True, slots=True)
class LinkReport:
    """What a linking run produced."""

    records: int
    persons: int
    review_pairs: int
    flags: int
    stats: dict[str, object]


def load_records(engine: Engine, keyring: KeyRing) -> pl.DataFrame:
    """Every accepted record with what linkage compares (identity numbers decrypted)."""
    cipher = FieldCipher(keyring)
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                SourceRecord.id,
                SourceRecord.department,
                SourceRecord.batch_id,
                SourceRecord.file_name,
                SourceRecord.position,
                SourceRecord.identity_token,
                SourceRecord.identity_index,
                SourceRecord.identity_status,
                SourceRecord.name,
                SourceRecord.sex,
                SourceRecord.birth_date,
                SourceRecord.fields,
                Batch.started_at,
            ).join(Batch, Batch.id == SourceRecord.batch_id)
        ).all()
    tokens = [row.identity_token for row in rows]
    numbers = cipher.decrypt_many(tokens, context=IDENTITY_CONTEXT)
    fields = [json.loads(row.fields) for row in rows]
    return pl.DataFrame(
        {
            "record_key": [row.id for row in rows],
            "department": [row.department for row in rows],
            "batch_id": [row.batch_id for row in rows],
            "file_name": [row.file_name for row in rows],
            "position": [row.position for row in rows],
            "identity_number": numbers,
            "identity_valid": [row.identity_status == "valid" for row in rows],
            # The keyed blind index names clusters: a plain hash of a number is guessable.
            "identity_index": [row.identity_index for row in rows],
            "name": [row.name for row in rows],
            "sex": [row.sex for row in rows],
            "birth_date": [row.birth_date for row in rows],
            "address": [f.get("address") for f in fields],
            "registered_division": [f.get("registered_division") for f in fields],
            "as_of": [row.started_at.date() for row in rows],
            "fields": [row.fields for row in rows],
        },
        schema_overrides={"birth_date": pl.Date, "identity_number": pl.String},
    )


def linkage_input(records: pl.DataFrame) -> pl.DataFrame:
    """The columns of :func:`load_records` that linkage compares (provenance left out)."""
    return records.drop("fields", "as_of", "batch_id", "file_name", "position")


def _person_id(cluster_id: str) -> str:
    return "R" + hashlib.sha256(cluster_id.encode("utf-8")).hexdigest()[:20]


def _golden(members: pl.DataFrame, authority: dict[str, dict[str, int]]) -> GoldenRecord:
    records = []
    for row in members.iter_rows(named=True):
        provenance = Provenance(
            row["department"], row["batch_id"], row["file_name"], row["position"], row["as_of"]
        )
        values: dict[str, object] = json.loads(row["fields"])
        values.update(name=row["name"], sex=row["sex"], birth_date=row["birth_date"])
        records.append((provenance, values))
    return golden_record(records, authority)


def _residence(members: pl.DataFrame, golden: GoldenRecord) -> Residence | None:
    evidence = [
        item
        for department, fields, as_of in members.select("department", "fields", "as_of").iter_rows()
        for item in evidence_from(department, json.loads(fields), as_of)
    ]
    hukou = golden.values.get("registered_division")
    if hukou is None or not isinstance(hukou.value, str):
        return infer_residence(evidence)
    # Only the register's own record of the hukou counts as evidence of residence.
    since = hukou.provenance.as_of if hukou.rank == 1 else None
    return infer_residence(evidence, hukou.value, registered_since=since)


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _golden_json(golden: GoldenRecord) -> str:
    return json.dumps(
        {
            name: {
                "value": _json(c.value),
                "department": c.provenance.department,
                "batch_id": c.provenance.batch_id,
                "file": c.provenance.file_name,
                "position": c.provenance.position,
                "as_of": c.provenance.as_of.isoformat(),
                "rank": c.rank,
            }
            for name, c in golden.values.items()
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _conflicts_json(golden: GoldenRecord) -> str | None:
    if not golden.conflicts:
        return None
    return json.dumps(
        [
            {
                "field": c.field,
                "chosen": c.chosen.provenance.department,
                "others": [
                    {"department": o.provenance.department, "position": o.provenance.position}
                    for o in c.others
                ],
            }
            for c in golden.conflicts
        ],
        ensure_ascii=False,
    )


def _chunks(rows: list[dict[str, object]], size: int = 5000) -> Iterable[list[dict[str, object]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def link_all(engine: Engine, keyring: KeyRing) -> LinkReport:
    """Link every accepted record and rewrite persons, links, review pairs and golden records."""
    records = load_records(engine, keyring)
    result: LinkageResult = link_records(linkage_input(records))
    cipher = FieldCipher(keyring)
    authority = {spec.department: dict(spec.authority) for spec in load_all()}
    now = datetime.datetime.now(datetime.UTC)
    members = records.join(result.clusters, on="record_key")
    flagged = dict(result.flags.group_by("cluster_id").agg(pl.col("reason")).iter_rows())
    persons: list[dict[str, object]] = []
    links: list[dict[str, object]] = []
    for (cluster_id,), group in members.group_by("cluster_id", maintain_order=True):
        person_id = _person_id(str(cluster_id))
        golden = _golden(group, authority)
        valid = group.filter(pl.col("identity_valid"))["identity_number"].drop_nulls()
        number = valid.mode().sort()[0] if valid.len() else None
        birth = golden.value("birth_date")
        residence = _residence(group, golden)
        persons.append(
            {
                "id": person_id,
                "identity_token": None
                if number is None
                else cipher.encrypt(number, context="registry.person.identity_number"),
                "identity_index": None
                if number is None
                else cipher.blind_index(number, purpose="identity_number"),
                "name": golden.value("name"),
                "sex": golden.value("sex"),
                "birth_date": birth if isinstance(birth, datetime.date) else None,
                "golden": _golden_json(golden),
                "conflicts": _conflicts_json(golden),
                "flags": json.dumps(flagged[cluster_id]) if cluster_id in flagged else None,
                "records": group.height,
                "residence_division": None if residence is None else residence.division,
                "residence_confidence": None if residence is None else residence.confidence,
                "residence_since": None if residence is None else residence.since,
                "registered_elsewhere": None
                if residence is None
                else residence.registered_elsewhere,
                "updated_at": now,
            }
        )
        links.extend(
            {"record_id": key, "person_id": person_id, "method": method, "probability": probability}
            for key, method, probability in group.select(
                "record_key", "method", "probability"
            ).iter_rows()
        )
    reviews = [
        {"record_l": left, "record_r": right, "probability": p, "status": "pending"}
        for left, right, p in result.review_pairs.select(
            "record_key_l", "record_key_r", "probability"
        ).iter_rows()
    ]
    with session_scope(engine) as session:
        decided = {
            (row.record_l, row.record_r)
            for row in session.execute(
                select(ReviewPair.record_l, ReviewPair.record_r).where(
                    ReviewPair.status != "pending"
                )
            )
        }
        session.execute(delete(RecordLink))
        session.execute(delete(Person))
        session.execute(delete(ReviewPair).where(ReviewPair.status == "pending"))
        for chunk in _chunks(persons):
            session.execute(insert(Person), chunk)
        for chunk in _chunks(links):
            session.execute(insert(RecordLink), chunk)
        fresh = [r for r in reviews if (r["record_l"], r["record_r"]) not in decided]
        for chunk in _chunks(fresh):
            session.execute(insert(ReviewPair), chunk)
    return LinkReport(
        records.height, len(persons), len(fresh), result.flags.height, dict(result.stats)
    )
