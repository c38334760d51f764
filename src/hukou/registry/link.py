"""``hukou registry link``: link accepted records to persons and refresh golden records.

The database side of :mod:`hukou.registry.linkage` (which is pure): read the
accepted records, decrypt their identity numbers in memory only, link, then write
persons, links, review pairs, golden records and outbox events.

Two ways, one result:

* :func:`link_all` (``hukou registry link --full``) links every record: it trains
  the probabilistic model, stores it (``registry_linkage_model``) and the blocking
  keys of every record (``registry_record_key``).
* :func:`link_pending` (``hukou registry link``) links only records without a link
  yet, with the stored model, against the persons they may belong to: the persons
  of their identity numbers, of their blocking-key candidates and of clerks'
  decisions about them. Only those persons are rewritten.

Either way a person's id derives from its cluster (the keyed digest of its valid
number, or its smallest record key), never from the order of arrival, and a
person row is only written when something in it changed, so running either again
changes nothing. Changes of touched persons become outbox events
(:mod:`hukou.registry.outbox`). Clerks' decisions (``registry_review``: ``same``,
``different``) are honoured by both.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, Final

import polars as pl
from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from hukou.audit.entry import EntryError
from hukou.db import session_scope
from hukou.db.bulk import insert_frame, insert_rows
from hukou.keyring import data_cipher
from hukou.registry.changes import CAPABILITY, record_change
from hukou.registry.golden import Candidate, Conflict, GoldenRecord, Provenance
from hukou.registry.golden_frame import iter_golden_frames
from hukou.registry.households import HouseholdMember, households_frame, store_households
from hukou.registry.ingest import IDENTITY_CONTEXT
from hukou.registry.linkage import (
    BLOCKING_KEY_COLUMNS,
    LinkageResult,
    blocking_keys,
    link_records,
)
from hukou.registry.model import (
    PERSON_SCOPE,
    RECORD_SCOPE,
    Batch,
    LinkageModel,
    Person,
    RecordKey,
    RecordLink,
    ReviewPair,
    SourceRecord,
)
from hukou.registry.outbox import derive_events, identity_events, write_events
from hukou.registry.persons import PERSON_IDENTITY_CONTEXT
from hukou.registry.quality import Member, cross_checks, flag_json
from hukou.registry.residence import (
    Residence,
    evidence_from,
    infer_residence,
    propagate_household,
)
from hukou.registry.spec import load_all
from hukou.security import FieldCipher, KeyRing
from hukou.standards.identity import mask

__all__ = [
    "LinkReport",
    "PersonContext",
    "ReviewError",
    "build_person",
    "decide",
    "link_all",
    "link_pending",
    "linkage_input",
    "list_pairs",
    "load_records",
    "pending_count",
]

# Chunk size for IN lists and bulk writes (SQLite allows 32,766 bound parameters).
_CHUNK: Final = 1000
# Records per slice of persons built and written together (bounds the golden JSON held).
_SLICE_RECORDS: Final = 150_000
_LOAD_ROWS: Final = 200_000  # records read and decrypted together
# Held-back persons written together once their households' residence is known.
_HELD_WRITE: Final = 20_000
# Columns of a person row compared to decide whether it changed (not updated_at, not
# the identity token: SM4-GCM tokens differ at each encryption of the same number).
_COMPARED: Final = (
    "identity_index",
    "name",
    "sex",
    "birth_date",
    "golden",
    "conflicts",
    "flags",
    "records",
    "residence_division",
    "residence_confidence",
    "residence_since",
    "registered_elsewhere",
    "residence_source",
)


@dataclass(frozen=True, slots=True)
class LinkReport:
    """What a linking run produced.

    ``mode`` is ``full``, ``incremental`` or ``nothing`` (no record pending).
    ``records`` and ``persons`` count what was linked in the run (all of them in a
    full run; the pending records and the persons in scope in an incremental one).
    """

    records: int
    persons: int
    review_pairs: int
    flags: int
    stats: dict[str, object]
    mode: str = "full"
    pending: int = 0
    persons_written: int = 0
    persons_removed: int = 0
    events: int = 0


@dataclass(frozen=True, slots=True)
class PersonContext:
    """What :func:`build_person` needs besides the cluster's records.

    ``flags`` maps a linkage cluster id to its flag reasons; ``authority`` is each
    department's field ranking from its spec.
    """

    authority: Mapping[str, Mapping[str, int]]
    flags: Mapping[str, Sequence[str]]
    now: datetime.datetime


def _record_columns() -> tuple[Any, ...]:
    return (
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
    )


def load_records(
    engine: Engine, keyring: KeyRing, record_ids: Sequence[int] | None = None
) -> pl.DataFrame:
    """Accepted records with what linkage compares (identity numbers decrypted), by id.

    Every record, or only ``record_ids`` (an incremental run's scope). Read and
    decrypted a partition at a time, so three million rows never exist as Python
    objects at once.
    """
    cipher = data_cipher(engine, keyring, RECORD_SCOPE, PERSON_SCOPE)
    base = (
        select(*_record_columns())
        .join(Batch, Batch.id == SourceRecord.batch_id)
        .order_by(SourceRecord.id)
    )
    parts: list[pl.DataFrame] = []
    with session_scope(engine) as session:
        if record_ids is None:
            # Core rows, not the ORM's: a fifth of the load went to ORM row processing.
            result = session.connection().execute(base.execution_options(yield_per=_LOAD_ROWS))
            parts.extend(_records_frame(rows, cipher) for rows in result.partitions())
        else:
            # IN lists within the bound-parameter limits (PostgreSQL: 65,535 a statement).
            for chunk in _chunks(sorted(set(record_ids))):
                rows = session.execute(base.where(SourceRecord.id.in_(chunk))).all()
                parts.append(_records_frame(rows, cipher))
    # By id: the query's order, and the chunks of sorted ids in turn.
    return pl.concat(parts) if parts else _records_frame([], cipher)


def _records_frame(rows: Sequence[Any], cipher: FieldCipher) -> pl.DataFrame:
    # One transposition in C instead of a list comprehension per column.
    (
        key,
        department,
        batch_id,
        file_name,
        position,
        token,
        index,
        status,
        name,
        sex,
        birth_date,
        fields,
        started_at,
    ) = zip(*rows, strict=True) if rows else ((),) * len(_record_columns())
    frame = pl.DataFrame(
        {
            "record_key": key,
            "department": department,
            "batch_id": batch_id,
            "file_name": file_name,
            "position": position,
            "identity_number": cipher.decrypt_many(list(token), context=IDENTITY_CONTEXT),
            "identity_valid": [value == "valid" for value in status],
            # The keyed blind index names clusters: a plain hash of a number is guessable.
            "identity_index": index,
            "name": name,
            "sex": sex,
            "birth_date": birth_date,
            "as_of": [moment.date() for moment in started_at],
            "fields": fields,
        },
        schema={
            "record_key": pl.Int64,
            "department": pl.String,
            "batch_id": pl.String,
            "file_name": pl.String,
            "position": pl.Int64,
            "identity_number": pl.String,
            "identity_valid": pl.Boolean,
            "identity_index": pl.String,
            "name": pl.String,
            "sex": pl.String,
            "birth_date": pl.Date,
            "as_of": pl.Date,
            "fields": pl.String,
        },
    )
    # Read by Polars from the JSON text: three million json.loads cost a minute.
    return frame.with_columns(
        pl.col("fields").str.json_path_match("$.address").alias("address"),
        pl.col("fields").str.json_path_match("$.registered_division").alias("registered_division"),
    ).select(
        "record_key",
        "department",
        "batch_id",
        "file_name",
        "position",
        "identity_number",
        "identity_valid",
        "identity_index",
        "name",
        "sex",
        "birth_date",
        "address",
        "registered_division",
        "as_of",
        "fields",
    )


def linkage_input(records: pl.DataFrame) -> pl.DataFrame:
    """The columns of :func:`load_records` that linkage compares (provenance left out)."""
    return records.drop("fields", "as_of", "batch_id", "file_name", "position")


def _person_id(cluster_id: str) -> str:
    return "R" + hashlib.sha256(cluster_id.encode("utf-8")).hexdigest()[:20]


def _residence(members: Sequence[Member], golden: GoldenRecord) -> Residence | None:
    evidence = [
        item
        for department, fields, as_of in members
        for item in evidence_from(department, fields, as_of)
    ]
    hukou = golden.values.get("registered_division")
    if hukou is None or not isinstance(hukou.value, str):
        return infer_residence(evidence)
    # Only the register's own record of the hukou counts as evidence of residence.
    since = hukou.provenance.as_of if hukou.rank == 1 else None
    return infer_residence(evidence, hukou.value, registered_since=since)


def _row_chunks(frame: pl.DataFrame, size: int = _CHUNK) -> Iterator[list[dict[str, Any]]]:
    """A frame's rows as dicts, a chunk at a time: 3 M dicts at once cost gigabytes."""
    for part in frame.iter_slices(size):
        yield part.to_dicts()


def _chunks(rows: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# --------------------------------------------------------------------------- one person


@dataclass(frozen=True, slots=True)
class ClusterRecords:
    """One cluster's records as plain Python values, in arrival order (by record id).

    Built once per run for all clusters (:func:`_clusters`): iterating a Polars
    group per cluster costs a millisecond, a million clusters a quarter of an hour.
    """

    record_ids: list[int]
    departments: list[str]
    as_of: list[datetime.date]
    fields: list[dict[str, object]]  # standard fields as ingest stored them
    numbers: list[tuple[str, str | None]]  # valid identity numbers and their index


@dataclass(frozen=True, slots=True)
class GoldenView:
    """One cluster's golden record as :mod:`hukou.registry.golden_frame` computed it.

    ``golden`` and ``conflicts`` are the JSON texts stored on the person. ``record``
    holds, as a :class:`GoldenRecord`, only what the cross-checks and residence
    inference read (name, sex and birth date with whose value was chosen, the hukou,
    the name conflict), taken from golden_frame's columns instead of a ``json.loads``
    per person. ``household`` holds the golden household fields
    (:data:`_HOUSEHOLD_FIELDS`).
    """

    golden: str
    conflicts: str | None
    record: GoldenRecord
    household: dict[str, str | None]


def build_person(
    cluster_id: str, cluster: ClusterRecords, view: GoldenView, context: PersonContext
) -> tuple[dict[str, object], str | None]:
    """The person row of one cluster, and its valid identity number (to encrypt).

    The one place where a cluster's records become a person: golden record, linkage
    and data-quality flags, residence from the person's own evidence. Pure (no
    database), so full and incremental runs build persons alike. The row has every
    ``registry_person`` column except ``identity_token``, plus the golden household
    fields as ``_household_number`` … (for households and residence lent by them,
    dropped before writing); the number is returned apart, to be encrypted only if
    the row is written.
    """
    golden = view.record
    number, index = _person_number(cluster.numbers)
    birth = golden.value("birth_date")
    members = list(zip(cluster.departments, cluster.fields, cluster.as_of, strict=True))
    residence = _residence(members, golden)
    flags: list[object] = list(context.flags.get(cluster_id, ()))
    flags.extend(
        flag_json(flag, cluster.record_ids)
        for flag in cross_checks(members, golden, identity_number=number)
    )
    row: dict[str, object] = {
        "id": _person_id(cluster_id),
        "identity_index": index,
        "name": golden.value("name"),
        "sex": golden.value("sex"),
        "birth_date": birth if isinstance(birth, datetime.date) else None,
        "golden": view.golden,
        "conflicts": view.conflicts,
        "flags": json.dumps(flags, ensure_ascii=False) if flags else None,
        "records": len(cluster.record_ids),
        "residence_division": None if residence is None else residence.division,
        "residence_confidence": None if residence is None else residence.confidence,
        "residence_since": None if residence is None else residence.since,
        "registered_elsewhere": None if residence is None else residence.registered_elsewhere,
        "residence_source": None if residence is None else residence.source,
        "updated_at": context.now,
    }
    for name in _HOUSEHOLD_FIELDS:
        row[f"_{name}"] = view.household.get(name)
    return row, number


def _person_number(numbers: Sequence[tuple[str, str | None]]) -> tuple[str | None, str | None]:
    """The most frequent valid number of a cluster (ties: the smallest) and its blind index."""
    if not numbers:
        return None, None
    counts = Counter(number for number, _index in numbers)
    number = min(counts, key=lambda n: (-counts[n], n))
    indexes = [index for n, index in numbers if n == number and index is not None]
    return number, min(indexes) if indexes else None


def _clusters(members: pl.DataFrame) -> Iterator[tuple[str, ClusterRecords]]:
    """Each cluster's records, from one pass over columns sorted by cluster and record id."""
    columns = (
        members.sort("cluster_id", "record_key")
        .select(
            "cluster_id",
            "record_key",
            "department",
            "as_of",
            "fields",
            "identity_valid",
            "identity_number",
            "identity_index",
        )
        .iter_rows()
    )
    for cluster_id, rows in groupby(columns, key=itemgetter(0)):
        cluster = ClusterRecords([], [], [], [], [])
        for _cluster, key, department, as_of, text, valid, number, index in rows:
            cluster.record_ids.append(key)
            cluster.departments.append(department)
            cluster.as_of.append(as_of)
            cluster.fields.append(json.loads(text))
            if valid and number is not None:
                cluster.numbers.append((number, index))
        yield str(cluster_id), cluster


# Golden fields the household of a person is read from (kept on the row until stored).
_HOUSEHOLD_FIELDS: Final = (
    "household_number",
    "relationship",
    "person_status",
    "registered_division",
    "registered_address",
)
_NO_DAY: Final = datetime.date(1, 1, 1)


def _candidate(name: str, value: object, department: str | None, rank: int = 0) -> Candidate:
    return Candidate(name, value, rank, Provenance(department or "", "", "", 0, _NO_DAY))


def _checked_golden(
    part_row: Mapping[str, Any], conflicts: str | None
) -> tuple[GoldenRecord, dict[str, str | None]]:
    """The partial golden record of :class:`GoldenView` and the household fields."""
    golden = GoldenRecord()
    for name in ("name", "sex", "birth_date"):
        if part_row[name] is not None:
            golden.values[name] = _candidate(name, part_row[name], part_row[f"{name}_department"])
    hukou = part_row["registered_division"]
    if hukou is not None:
        golden.values["registered_division"] = Candidate(
            "registered_division",
            hukou,
            part_row["registered_division_rank"],
            Provenance("", "", "", 0, part_row["registered_division_as_of"]),
        )
    if conflicts is not None and '"field": "name"' in conflicts:
        for entry in json.loads(conflicts):
            if entry["field"] == "name":
                chosen = _candidate("name", golden.value("name"), entry["chosen"])
                others = tuple(
                    _candidate("name", None, other["department"]) for other in entry["others"]
                )
                golden.conflicts.append(Conflict("name", chosen, others))
    household = {name: part_row[name] for name in _HOUSEHOLD_FIELDS}
    return golden, household


def _persons_of_slice(
    part: pl.DataFrame, members: pl.DataFrame, context: PersonContext
) -> Iterator[tuple[dict[str, object], str | None]]:
    """The person rows of one slice of :func:`iter_golden_frames` (whole clusters)."""
    views = part.with_columns(pl.lit(None, dtype=pl.String).alias("name_department"))
    inside = members.filter(pl.col("cluster_id").is_in(part["cluster_id"].implode()))
    for view_row, (cluster_id, cluster) in zip(
        views.sort("cluster_id").iter_rows(named=True), _clusters(inside), strict=True
    ):
        if view_row["cluster_id"] != cluster_id:
            raise RuntimeError("golden records and clusters out of step")  # a bug, not data
        record, household = _checked_golden(view_row, view_row["conflicts"])
        view = GoldenView(view_row["golden"], view_row["conflicts"], record, household)
        yield build_person(cluster_id, cluster, view, context)


def _lent_residences(compact: pl.DataFrame) -> pl.DataFrame:
    """Persons without evidence of their own who take their household's residence.

    ``compact`` has one row per person (see :func:`_compact`); returns ``person_id``,
    ``division``, ``confidence``, ``since`` of those lent a residence.
    """
    people = compact.filter(
        pl.col("_person_status").is_null() | (pl.col("_person_status") == "alive")
    ).select(
        "person_id",
        pl.concat_str(pl.lit("hh:"), pl.col("_household_number")).alias("household_key"),
        pl.col("residence_division").alias("division"),
        pl.col("residence_confidence").alias("confidence"),
        (pl.col("residence_source") == "evidence").fill_null(value=False).alias("own_evidence"),
        pl.col("residence_since").alias("since"),
    )
    if people.height == 0:
        return pl.DataFrame(
            schema={
                "person_id": pl.String,
                "division": pl.String,
                "confidence": pl.Float64,
                "since": pl.Date,
            }
        )
    return (
        propagate_household(people)
        .filter(pl.col("source") == "household")
        .select("person_id", "division", "confidence", "since")
    )


_COMPACT_SCHEMA: Final = {
    "person_id": pl.String,
    "residence_division": pl.String,
    "residence_confidence": pl.Float64,
    "residence_since": pl.Date,
    "residence_source": pl.String,
    **{f"_{name}": pl.String for name in _HOUSEHOLD_FIELDS},
}


def _compact(row: Mapping[str, object]) -> tuple[object, ...]:
    """What households and lent residences need of a person, kept for every person."""
    return (row["id"], *(row[name] for name in list(_COMPACT_SCHEMA)[1:]))


def _lend(row: dict[str, object], division: str, confidence: float, since: object) -> None:
    registered = row["_registered_division"]
    row.update(
        residence_division=division,
        residence_confidence=confidence,
        residence_since=since,
        registered_elsewhere=None if registered is None else registered != division,
        residence_source="household",
    )


def _shelve(row: dict[str, object]) -> dict[str, object]:
    """``row`` with its golden JSON as UTF-8 bytes, to be held until every person is built.

    At a million people over half the persons wait for their household's residence.
    As bytes their golden JSON takes half the memory of a Python string of Chinese
    text (1.7 KB against 3.4 KB); zlib would halve it again but cost 70 µs a person
    (35 s at a million) against 3.5.
    """
    row["golden"] = str(row["golden"]).encode("utf-8")
    return row


def _unshelve(row: dict[str, object]) -> dict[str, object]:
    """The row :func:`_shelve` put away, as it was."""
    golden = row["golden"]
    if isinstance(golden, bytes):
        row["golden"] = golden.decode("utf-8")
    return row


def _may_borrow(row: Mapping[str, object]) -> bool:
    """Whether household propagation may change this person: no own evidence, a household."""
    return (
        row["residence_source"] != "evidence"
        and row["_household_number"] is not None
        and row["_person_status"] in (None, "alive")
    )


# --------------------------------------------------------------------------- storage


def _key_secret(cipher: FieldCipher) -> str:
    """The secret the blocking-key digests are keyed with (from the blind-index key)."""
    return cipher.blind_index("registry blocking keys v1", purpose="linkage_blocking_key")


def _decisions(session: Session) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clerks' decided pairs: (same, different), as record-key pairs."""
    rows = session.execute(
        select(ReviewPair.record_l, ReviewPair.record_r, ReviewPair.status).where(
            ReviewPair.status.in_(("same", "different"))
        )
    ).all()
    schema = {"record_key_l": pl.Int64, "record_key_r": pl.Int64}

    def pairs(status: str) -> pl.DataFrame:
        return pl.DataFrame(
            [(r.record_l, r.record_r) for r in rows if r.status == status],
            schema=schema,
            orient="row",
        )

    return pairs("same"), pairs("different")


def _load_model(session: Session) -> tuple[dict[str, Any], pl.DataFrame] | None:
    row = session.scalars(select(LinkageModel).order_by(LinkageModel.id.desc()).limit(1)).first()
    if row is None:
        return None
    model: dict[str, Any] = json.loads(row.settings)
    return model, pl.read_parquet(io.BytesIO(row.term_frequencies))


def _save_model(session: Session, result: LinkageResult, now: datetime.datetime) -> bool:
    """Keep the full run's trained model (and only the newest one)."""
    model = result.stats.get("model")
    frequencies = result.stats.get("term_frequencies")
    if not isinstance(model, dict) or not isinstance(frequencies, pl.DataFrame):
        return False  # nothing needed a probabilistic link: there was nothing to train
    buffer = io.BytesIO()
    frequencies.write_parquet(buffer)
    session.execute(delete(LinkageModel))
    session.add(
        LinkageModel(
            created_at=now,
            records=int(result.stats.get("records", 0)),
            settings=json.dumps(model, ensure_ascii=False, sort_keys=True),
            term_frequencies=buffer.getvalue(),
        )
    )
    return True


def _old_persons(session: Session, ids: Sequence[str]) -> dict[str, dict[str, object]]:
    statement = select(*(getattr(Person, c) for c in ("id", *_COMPARED)))
    found = [
        row
        for chunk in _chunks(sorted(ids))
        for row in session.execute(statement.where(Person.id.in_(chunk))).all()
    ]
    return {row.id: dict(row._mapping) for row in found}


def _old_links(session: Session, record_ids: Sequence[int] | None) -> pl.DataFrame:
    statement = select(
        RecordLink.record_id, RecordLink.person_id, RecordLink.method, RecordLink.probability
    )
    if record_ids is None:
        found = session.execute(statement).all()
    else:
        found = [
            row
            for chunk in _chunks(sorted(record_ids))
            for row in session.execute(statement.where(RecordLink.record_id.in_(chunk))).all()
        ]
    return pl.DataFrame(
        [tuple(row) for row in found],
        schema={
            "record_key": pl.Int64,
            "old_person_id": pl.String,
            "old_method": pl.String,
            "old_probability": pl.Float64,
        },
        orient="row",
    )


def _same(old: Mapping[str, object], new: Mapping[str, object]) -> bool:
    for column in _COMPARED:
        a, b = old.get(column), new.get(column)
        if isinstance(a, float) and isinstance(b, float):
            if abs(a - b) > 1e-12:
                return False
        elif isinstance(a, datetime.datetime) or isinstance(b, datetime.datetime) or a != b:
            return False
    return True


@dataclass(slots=True)
class _Written:
    persons_written: int = 0
    persons_removed: int = 0
    events: int = 0
    review_pairs: int = 0
    seconds_persons: float = 0.0  # golden records, residence, flags
    seconds_write: float = 0.0


def _old_person_ids(session: Session, scope: Sequence[str] | None) -> set[str]:
    if scope is not None:
        return set(scope)
    return {row[0] for row in session.execute(select(Person.id))}


def _write_persons(
    session: Session,
    cipher: FieldCipher,
    batch: Sequence[tuple[dict[str, object], str | None]],
    written: _Written,
    events: list[dict[str, object]],
    *,
    before_of: Mapping[str, Mapping[str, object]],
    baseline: bool,
) -> None:
    """Insert or update the persons of ``batch`` whose row changed, and derive their events.

    ``before_of`` maps a new person id to the old person most of its records came
    from (read before anything was written).
    """
    old = _old_persons(session, sorted(str(row["id"]) for row, _number in batch))
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for row, number in batch:
        person = str(row["id"])
        before = old.get(person)
        if before is not None and _same(before, row):
            continue
        full_row = {
            **{k: v for k, v in row.items() if not k.startswith("_")},
            "identity_token": None
            if number is None
            else cipher.encrypt(number, context=PERSON_IDENTITY_CONTEXT),
        }
        (inserts if before is None else updates).append(full_row)
        if not baseline:
            events.extend(derive_events(person, before or before_of.get(person), row))
    for chunk in _chunks(inserts):
        insert_rows(session, Person, chunk)
    for chunk in _chunks(updates):
        session.execute(update(Person), list(chunk))
    written.persons_written += len(inserts) + len(updates)


def _origins(
    moves: pl.DataFrame,
) -> tuple[dict[str, str], dict[str, list[str]], dict[str, list[str]]]:
    """Where each new person's records came from: the old person most of them belonged
    to (its "before"), and the merges and splits among them."""
    origins = (
        moves.filter(pl.col("old_person_id").is_not_null())
        .group_by("person_id", "old_person_id")
        .len()
        .sort(["person_id", "len", "old_person_id"], descending=[False, True, False])
    )
    predecessor = dict(
        origins.unique("person_id", keep="first").select("person_id", "old_person_id").iter_rows()
    )
    merged = {
        new: olds
        for new, olds in origins.group_by("person_id").agg(pl.col("old_person_id")).iter_rows()
        if len(olds) > 1
    }
    split = {
        source: news
        for source, news in origins.group_by("old_person_id").agg(pl.col("person_id")).iter_rows()
        if len(news) > 1
    }
    return predecessor, merged, split


def _write_links(session: Session, moves: pl.DataFrame) -> None:
    """Links that moved or changed how they were decided are updated; new ones inserted."""
    link_changes = moves.filter(
        pl.col("old_person_id").is_not_null()
        & (
            (pl.col("old_person_id") != pl.col("person_id"))
            | (pl.col("old_method") != pl.col("method"))
            | ~pl.col("old_probability").eq_missing(pl.col("probability"))
        )
    )
    link_inserts = moves.filter(pl.col("old_person_id").is_null())
    columns = ("record_key", "person_id", "method", "probability")
    for chunk in _row_chunks(link_changes.select(columns).rename({"record_key": "record_id"})):
        session.execute(update(RecordLink), chunk)
    inserts = link_inserts.select(columns).rename({"record_key": "record_id"})
    insert_frame(session, RecordLink, inserts)


def _with_clusters(records: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Records with their cluster, method and probability.

    Both come ordered by record id with the same records, so the columns are put side
    by side without copying the records (a join would copy 3 M rows of fields text).
    """
    ordered = clusters.sort("record_key")
    if ordered.height == records.height and ordered["record_key"].equals(records["record_key"]):
        return records.with_columns(
            ordered["cluster_id"], ordered["method"], ordered["probability"]
        )
    return records.join(clusters, on="record_key")


def _apply(
    session: Session,
    cipher: FieldCipher,
    records: pl.DataFrame,
    result: LinkageResult,
    *,
    scope: Sequence[str] | None,
    now: datetime.datetime,
) -> _Written:
    """Write what changed among the persons of ``records``, and the events it makes.

    ``scope`` is the ids of the persons the records belonged to before (``None``:
    every person, a full run). Persons whose row is unchanged are not written
    (their ``updated_at`` stays); persons of the scope no record belongs to any
    more are removed after their links moved. Events compare each written person
    with its row before (or, for a new id, with the old person most of its
    records came from); a run on an empty registry is the baseline and emits none.

    Persons are built and written slice by slice of whole clusters (golden records
    from :func:`iter_golden_frames`), so a million persons' golden JSON is never held
    at once. Persons whose residence their household may lend (no evidence of their
    own) are held back, their golden JSON as bytes, until every person is built,
    then written with it.
    """
    written = _Written()
    members = _with_clusters(records, result.clusters)
    new_links = members.select(
        "record_key",
        pl.col("cluster_id").map_elements(_person_id, return_dtype=pl.String).alias("person_id"),
        "method",
        "probability",
    )
    old_links = _old_links(session, None if scope is None else records["record_key"].to_list())
    old_ids = _old_person_ids(session, scope)
    baseline = scope is None and not old_ids
    moves = new_links.join(old_links, on="record_key", how="left")
    predecessor, merged, split = _origins(moves)
    # Read before anything is written: a predecessor may itself be rewritten.
    wanted = {new: old for new, old in predecessor.items() if new not in old_ids}
    predecessors = _old_persons(session, sorted(set(wanted.values())))
    before_of = {new: predecessors[old] for new, old in wanted.items() if old in predecessors}

    flagged = dict(result.flags.group_by("cluster_id").agg(pl.col("reason")).iter_rows())
    context = PersonContext(
        authority={spec.department: dict(spec.authority) for spec in load_all()},
        flags=flagged,
        now=now,
    )
    started = time.perf_counter()
    writing = 0.0
    events: list[dict[str, object]] = []
    compacts: list[pl.DataFrame] = []  # columns per slice, not a tuple per person to the end
    held: list[tuple[dict[str, object], str | None]] = []
    new_ids: set[str] = set()
    for part in iter_golden_frames(members, context.authority, chunk_records=_SLICE_RECORDS):
        ready: list[tuple[dict[str, object], str | None]] = []
        compact: list[tuple[object, ...]] = []
        for row, number in _persons_of_slice(part, members, context):
            new_ids.add(str(row["id"]))
            compact.append(_compact(row))
            if _may_borrow(row):
                held.append((_shelve(row), number))
            else:
                ready.append((row, number))
        mark = time.perf_counter()
        _write_persons(
            session, cipher, ready, written, events, before_of=before_of, baseline=baseline
        )
        writing += time.perf_counter() - mark
        compacts.append(pl.DataFrame(compact, schema=_COMPACT_SCHEMA, orient="row"))
    persons = pl.concat(compacts) if compacts else pl.DataFrame(schema=_COMPACT_SCHEMA)
    lent = {
        person: (division, confidence, since)
        for person, division, confidence, since in _lent_residences(persons).iter_rows()
    }
    for row, _number in held:
        if (found := lent.get(str(row["id"]))) is not None:
            _lend(row, *found)
    written.seconds_persons = time.perf_counter() - started - writing
    started = time.perf_counter()
    _write_held(session, cipher, held, written, events, before_of=before_of, baseline=baseline)
    removed = sorted(old_ids - new_ids)
    if not baseline:
        events.extend(identity_events(merged, split))
    _write_links(session, moves)
    for chunk in _chunks(removed):
        session.execute(delete(Person).where(Person.id.in_(chunk)))
    written.persons_removed = len(removed)
    written.review_pairs = _replace_review_pairs(session, records, result, full=scope is None)
    _store_keys(session, result, full=scope is None)
    written.events = write_events(session, events, now=now)
    _store_households(session, persons, scope=scope)
    written.seconds_write = writing + time.perf_counter() - started
    return written


def _write_held(
    session: Session,
    cipher: FieldCipher,
    held: list[tuple[dict[str, object], str | None]],
    written: _Written,
    events: list[dict[str, object]],
    *,
    before_of: Mapping[str, Mapping[str, object]],
    baseline: bool,
) -> None:
    """Write the held-back persons in order, a chunk at a time, emptying ``held``:
    only one chunk's golden JSON is ever expanded."""
    held.reverse()
    while held:
        chunk = [(_unshelve(row), number) for row, number in reversed(held[-_HELD_WRITE:])]
        del held[-_HELD_WRITE:]
        _write_persons(
            session, cipher, chunk, written, events, before_of=before_of, baseline=baseline
        )


def _store_households(
    session: Session, persons: pl.DataFrame, *, scope: Sequence[str] | None
) -> None:
    """Households of the persons built, replacing those they belonged to before.

    A full run rewrites every household. An incremental run's scope holds whole
    households (:func:`_scope` brings every member along), so the households its
    persons belonged to and belong to now are rebuilt complete.
    """
    households, members = households_frame(
        persons.rename({f"_{name}": name for name in _HOUSEHOLD_FIELDS})
    )
    replace: set[str] | None = None
    if scope is not None:
        replace = set(households["household_number"].to_list()) | _households_of(session, scope)
    store_households(session, households, members, replace=replace)


def _lookup(
    session: Session,
    wanted: InstrumentedAttribute[Any],
    key: InstrumentedAttribute[Any],
    values: Iterable[Any],
) -> set[Any]:
    """``wanted`` of the rows whose ``key`` is one of ``values``, in chunked IN lists."""
    found = sorted(set(values))
    return {
        row[0]
        for chunk in _chunks(found)
        for row in session.execute(select(wanted).where(key.in_(chunk)))
    }


def _households_of(session: Session, persons: Iterable[str]) -> set[str]:
    return _lookup(session, HouseholdMember.household_number, HouseholdMember.person_id, persons)


def _household_members(session: Session, numbers: Iterable[str]) -> set[str]:
    return _lookup(session, HouseholdMember.person_id, HouseholdMember.household_number, numbers)


def _replace_review_pairs(
    session: Session, records: pl.DataFrame, result: LinkageResult, *, full: bool
) -> int:
    """Pending pairs of these records are replaced; decided pairs are never re-queued."""
    decided = {
        (row.record_l, row.record_r)
        for row in session.execute(
            select(ReviewPair.record_l, ReviewPair.record_r).where(ReviewPair.status != "pending")
        )
    }
    pending = delete(ReviewPair).where(ReviewPair.status == "pending")
    if full:
        session.execute(pending)
    else:
        for chunk in _chunks(records["record_key"].to_list()):
            session.execute(
                pending.where(or_(ReviewPair.record_l.in_(chunk), ReviewPair.record_r.in_(chunk)))
            )
    fresh = [
        {"record_l": left, "record_r": right, "probability": p, "status": "pending"}
        for left, right, p in result.review_pairs.select(
            "record_key_l", "record_key_r", "probability"
        ).iter_rows()
        if (left, right) not in decided and (right, left) not in decided
    ]
    for chunk in _chunks(fresh):
        insert_rows(session, ReviewPair, chunk)
    return len(fresh)


def _store_keys(session: Session, result: LinkageResult, *, full: bool) -> None:
    """Blocking-key digests of records that have none yet (a record never changes)."""
    if result.keys is None:
        return
    keys = result.keys
    if full:
        known = [row[0] for row in session.execute(select(RecordKey.record_id))]
    else:
        known = [
            row[0]
            for chunk in _chunks(keys["record_key"].to_list())
            for row in session.execute(
                select(RecordKey.record_id).where(RecordKey.record_id.in_(chunk))
            )
        ]
    missing = keys.join(
        pl.DataFrame({"record_key": known}, schema={"record_key": pl.Int64}),
        on="record_key",
        how="anti",
    ).rename({"record_key": "record_id"})
    insert_frame(session, RecordKey, missing)


# --------------------------------------------------------------------------- entry points


def pending_count(engine: Engine) -> int:
    """Accepted records without a link yet."""
    with session_scope(engine) as session:
        return len(_pending_ids(session))


def _pending_ids(session: Session) -> list[int]:
    return [
        row[0]
        for row in session.execute(
            select(SourceRecord.id)
            .outerjoin(RecordLink, RecordLink.record_id == SourceRecord.id)
            .where(RecordLink.record_id.is_(None))
            .order_by(SourceRecord.id)
        )
    ]


def link_all(engine: Engine, keyring: KeyRing) -> LinkReport:
    """Link every accepted record: train, store the model, rewrite what changed."""
    started = time.perf_counter()
    records = load_records(engine, keyring)
    seconds_load = time.perf_counter() - started
    cipher = data_cipher(engine, keyring, RECORD_SCOPE, PERSON_SCOPE)
    with session_scope(engine) as session:
        same, different = _decisions(session)
        pending = len(_pending_ids(session))
    result = link_records(
        linkage_input(records), same=same, different=different, key_secret=_key_secret(cipher)
    )
    now = datetime.datetime.now(datetime.UTC)
    with session_scope(engine) as session:
        written = _apply(session, cipher, records, result, scope=None, now=now)
        saved = _save_model(session, result, now)
        _record_run(session, "link.full", now)
    stats = {
        **_public(result.stats),
        "model_saved": saved,
        "seconds_load": seconds_load,
        "seconds_persons": written.seconds_persons,
        "seconds_write": written.seconds_write,
    }
    return LinkReport(
        records.height,
        result.clusters["cluster_id"].n_unique(),
        written.review_pairs,
        result.flags.height,
        stats,
        mode="full",
        pending=pending,
        persons_written=written.persons_written,
        persons_removed=written.persons_removed,
        events=written.events,
    )


def _record_run(session: Session, action: str, now: datetime.datetime) -> None:
    """The run as a ledger entry, committed with what it wrote."""
    record_change(
        session,
        actor="system:linkage",
        department=CAPABILITY,
        action=action,
        object_id=f"run-{now:%Y%m%dT%H%M%S}",
        at=now,
    )


def _public(stats: Mapping[str, object]) -> dict[str, object]:
    """Stats for a report: the model and its term frequencies stay in the database."""
    return {k: v for k, v in stats.items() if k not in ("model", "term_frequencies")}


def _candidates(session: Session, keys: pl.DataFrame) -> set[int]:
    """Records sharing a blocking key with a pending record, as a full run would pair them.

    A pending record needing a link meets every record with one of its keys; a
    pending record with a valid number only the records that need a link.
    """
    found: set[int] = set()
    for needs_link, restrict in ((True, False), (False, True)):
        side = keys.filter(pl.col("needs_link") == needs_link)
        for column in BLOCKING_KEY_COLUMNS:
            values = sorted(set(side[column].drop_nulls().to_list()))
            target = getattr(RecordKey, column)
            for chunk in _chunks(values):
                statement = select(RecordKey.record_id).where(target.in_(chunk))
                if restrict:
                    statement = statement.where(RecordKey.needs_link)
                found.update(row[0] for row in session.execute(statement))
    return found


def _persons_of(session: Session, record_ids: Iterable[int]) -> set[str]:
    return _lookup(session, RecordLink.person_id, RecordLink.record_id, record_ids)


def _records_of(session: Session, persons: Iterable[str]) -> set[int]:
    return _lookup(session, RecordLink.record_id, RecordLink.person_id, persons)


def _scope(
    session: Session, pending: pl.DataFrame, keys: pl.DataFrame, decided: pl.DataFrame
) -> set[str]:
    """The persons pending records may belong to, or that decisions tie them to."""
    persons: set[str] = set()
    indexes = sorted(set(pending["identity_index"].drop_nulls().to_list()))
    for chunk in _chunks(indexes):
        persons.update(
            row[0]
            for row in session.execute(
                select(RecordLink.person_id)
                .join(SourceRecord, SourceRecord.id == RecordLink.record_id)
                .where(SourceRecord.identity_index.in_(chunk))
            )
        )
    persons |= _persons_of(session, _candidates(session, keys))
    # Whole households: a member's residence may be lent by another (propagate_household).
    numbers = {
        number
        for text in pending["fields"].to_list()
        if isinstance(number := json.loads(text).get("household_number"), str)
    }
    persons |= _household_members(session, numbers | _households_of(session, persons))
    # Clerks' decisions about records in scope bring the other side's person along.
    for _ in range(2):
        records = _records_of(session, persons) | set(pending["record_key"].to_list())
        partners = {
            other
            for left, right in decided.iter_rows()
            for mine, other in ((left, right), (right, left))
            if mine in records
        }
        more = _persons_of(session, partners) - persons
        if not more:
            break
        persons |= more
    return persons


def link_pending(engine: Engine, keyring: KeyRing) -> LinkReport:
    """Link the records that have no link yet, rewriting only the persons they touch.

    With nothing pending this reads one query and returns. Without a stored model
    (no full run yet, or one with nothing to train on) it is a full run.
    """
    cipher = data_cipher(engine, keyring, RECORD_SCOPE, PERSON_SCOPE)
    with session_scope(engine) as session:
        pending_ids = _pending_ids(session)
        if not pending_ids:
            return LinkReport(0, 0, 0, 0, {}, mode="nothing")
        stored = _load_model(session)
        has_persons = session.scalar(select(Person.id).limit(1)) is not None
        same, different = _decisions(session)
    if stored is None or not has_persons:
        return link_all(engine, keyring)
    model, frequencies = stored
    secret = _key_secret(cipher)
    pending = load_records(engine, keyring, pending_ids)
    keys = blocking_keys(linkage_input(pending), secret)
    with session_scope(engine) as session:
        persons = _scope(session, pending, keys, pl.concat([same, different]))
        scope_ids = _records_of(session, persons) | set(pending_ids)
    records = load_records(engine, keyring, sorted(scope_ids))
    result = link_records(
        linkage_input(records),
        model=model,
        term_frequencies=frequencies,
        same=same,
        different=different,
        key_secret=secret,
    )
    now = datetime.datetime.now(datetime.UTC)
    with session_scope(engine) as session:
        written = _apply(session, cipher, records, result, scope=sorted(persons), now=now)
        _record_run(session, "link.incremental", now)
    return LinkReport(
        records.height,
        result.clusters["cluster_id"].n_unique(),
        written.review_pairs,
        result.flags.height,
        {**_public(result.stats), "persons_in_scope_before": len(persons)},
        mode="incremental",
        pending=len(pending_ids),
        persons_written=written.persons_written,
        persons_removed=written.persons_removed,
        events=written.events,
    )


# --------------------------------------------------------------------------- clerical review


class ReviewError(ValueError):
    """A review request that cannot be done (unknown pair, bad decision or status)."""


_DECISIONS: Final = ("same", "different")
_STATUSES: Final = ("pending", "same", "different", "all")


def _masked_name(name: str | None) -> str | None:
    """First character and a star: enough to tell 张 from 王 on a screen, no more."""
    return None if not name else name[0] + "*"


def list_pairs(
    engine: Engine, keyring: KeyRing, *, status: str = "pending", limit: int = 100
) -> list[dict[str, object]]:
    """Review pairs with both records side by side, identity numbers and names masked.

    Most probable first. Only masked values leave this function: it feeds a
    terminal and a JSON pipe, where a clear number would be a leak.
    """
    if status not in _STATUSES:
        raise ReviewError(f"status must be one of {', '.join(_STATUSES)}")
    statement = select(ReviewPair).order_by(ReviewPair.probability.desc(), ReviewPair.id)
    if status != "all":
        statement = statement.where(ReviewPair.status == status)
    with session_scope(engine) as session:
        pairs = session.scalars(statement.limit(limit)).all()
        ids = sorted({p.record_l for p in pairs} | {p.record_r for p in pairs})
        records = {
            row.id: row
            for chunk in _chunks(ids)
            for row in session.scalars(select(SourceRecord).where(SourceRecord.id.in_(chunk)))
        }
        cipher = data_cipher(engine, keyring, RECORD_SCOPE, PERSON_SCOPE)
        out: list[dict[str, object]] = []
        for pair in pairs:
            sides: dict[str, object] = {}
            for side, key in (("left", pair.record_l), ("right", pair.record_r)):
                record = records[key]
                number = (
                    None
                    if record.identity_token is None
                    else cipher.decrypt(record.identity_token, context=IDENTITY_CONTEXT)
                )
                sides[side] = {
                    "record_id": record.id,
                    "department": record.department,
                    "name": _masked_name(record.name),
                    "sex": record.sex,
                    "birth_date": None
                    if record.birth_date is None
                    else record.birth_date.isoformat(),
                    "identity_number": None if not number else mask(number),
                    "identity_status": record.identity_status,
                }
            out.append(
                {
                    "id": pair.id,
                    "probability": pair.probability,
                    "status": pair.status,
                    "decided_by": pair.decided_by,
                    **sides,
                }
            )
    return out


def decide(engine: Engine, pair_id: int, decision: str, *, by: str) -> None:
    """Record a clerk's decision on a pair; both kinds of linking honour it from then on.

    ``same`` puts the two records in one person (method ``clerical``) unless they
    carry two different valid numbers; ``different`` keeps them apart however high
    they score. A decision can be changed (by deciding again), never un-decided
    back to the queue: a decided pair is never re-queued.
    """
    if decision not in _DECISIONS:
        raise ReviewError("the decision is 'same' or 'different'")
    if not by.strip() or len(by) > 64:
        raise ReviewError("--by names the clerk (1 to 64 characters)")
    with session_scope(engine) as session:
        pair = session.get(ReviewPair, pair_id)
        if pair is None:
            raise ReviewError(f"no review pair {pair_id}")
        pair.status = decision
        pair.decided_by = by.strip()
        pair.decided_at = datetime.datetime.now(datetime.UTC)
        try:
            record_change(
                session,
                actor=pair.decided_by,
                department=CAPABILITY,
                action=f"review.{decision}",
                object_id=f"pair-{pair_id}",
                at=pair.decided_at,
            )
        except EntryError as error:  # e.g. a phone number typed as the clerk's name
            raise ReviewError(f"--by cannot be recorded: {error}") from None
