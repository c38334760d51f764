"""``hukou registry evaluate``: score the registry against the synthetic city's truth.

* **pairwise precision, recall, F1** of linkage over the accepted records;
* **error rate before**: feed records carrying any defect / all feed records;
* **error rate after**: feed records still carrying an unresolved problem after ingest,
  linkage, golden records and cross-checks / all feed records;
* **residence accuracy**: of the registry's persons, the share whose inferred actual
  residence is the true person's actual division (a registry person is matched to the
  true person most of its records belong to).

Error rate after: the accounting rule
-------------------------------------

Every feed record of the truth is looked up in the registry by (file, line). A record
that is neither accepted nor quarantined is unresolved (lost). A quarantined record is
resolved only if every reason is ``duplicate_row`` (the copy is removed; whatever else
it carried goes with it); any other quarantined record is unresolved until the
department resends it, **whether or not a defect was injected** (a clean line wrongly
refused is a problem too). An accepted record is resolved when each of its injected
defects is, and a defect kind is resolved by:

``name_homophone``, ``name_lookalike``, ``name_traditional``
    the record is linked to its true person's main cluster (the registry person most of
    that person's records belong to) **and** either the golden name is the true name
    (the wrong spelling survives only as an outvoted candidate) or the person carries
    the quality flag ``name_disagreement`` (departments spell the name differently: the
    golden name is marked disputed, an officer confirms it).
``id_full_width``, ``id_legacy_15``, ``id_transposed``, ``id_mistyped``, ``id_wrong_check``
    linked to the true person's main cluster, and that person carries a valid identity
    number (repaired at ingest, or the invalid number's record linked to it).
``missing_field:<column>``
    (accepted only when the field is not required, or a valid number identifies the
    person) linked to the main cluster, and the golden record has the column's standard
    field from some record: the gap is filled from another department.
``duplicate_row``
    quarantined as a duplicate, or accepted and linked to the main cluster (it then adds
    nothing but a second provenance).
``date_out_of_range``
    (accepted only when the impossible date was dropped or read from the identity
    number) linked to the main cluster and the golden birth date is the true one.
``stale_address``
    linked to the main cluster and the golden address is not taken from this record.
``malformed_line``
    (if a reader still accepted the line) linked to the main cluster.
``death_not_known``
    a quality flag ``active_after_death`` names this record: the registry knows the
    person died, and no consumer reads the record's "still paying / still listed" as
    true. A death the registry never heard of leaves the record unresolved.
``stale_lease``
    a quality flag ``lease_superseded`` names this record (``lease_expired`` is not
    accepted as a resolution: it depends on the day the batch was taken, not on what
    the departments know).
``guardian_id_mistyped``
    a quality flag ``guardian_id_unreadable`` or ``guardian_not_in_registry`` names this
    record.
any other kind
    unresolved: a defect kind the synthetic city learns to inject is counted against
    the registry until a rule here says how it is resolved.

The quality flags are read from ``registry_person.flags`` (objects with ``code`` and
``records``, :func:`hukou.registry.quality.flag_json`) when linking stored any; until
then they are computed here with :func:`hukou.registry.quality.cross_checks` over the
stored golden records and records (the registry-wide guardian check needs decrypted
numbers and is then skipped). ``unresolved_by_kind`` in the result says which kinds
remain.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, select

from hukou.db import session_scope
from hukou.registry.golden import (
    Candidate,
    Conflict,
    GoldenRecord,
    Provenance,
    stored_golden,
)
from hukou.registry.linkage import pairwise_scores
from hukou.registry.model import Batch, Person, QuarantinedRow, RecordLink, SourceRecord
from hukou.registry.quality import (
    ACTIVE_AFTER_DEATH,
    GUARDIAN_ID_UNREADABLE,
    GUARDIAN_NOT_IN_REGISTRY,
    LEASE_SUPERSEDED,
    NAME_DISAGREEMENT,
    QualityFlag,
    cross_checks,
    is_quality_flag,
)
from hukou.registry.spec import load_all

__all__ = ["FLAG_RESOLVES", "LINKAGE_KINDS", "evaluate", "golden_from_json", "person_checks"]

# Defects resolved once the record is linked to its true person (plus a check below).
LINKAGE_KINDS = frozenset(
    {
        "name_homophone",
        "name_lookalike",
        "name_traditional",
        "id_full_width",
        "id_legacy_15",
        "id_transposed",
        "id_mistyped",
        "id_wrong_check",
        "missing_field",
        "duplicate_row",
        "date_out_of_range",
        "stale_address",
        "malformed_line",
    }
)
# Semantic defects: resolved when a quality flag with one of these codes names the record.
FLAG_RESOLVES: dict[str, frozenset[str]] = {
    "death_not_known": frozenset({ACTIVE_AFTER_DEATH}),
    "stale_lease": frozenset({LEASE_SUPERSEDED}),
    "guardian_id_mistyped": frozenset({GUARDIAN_ID_UNREADABLE, GUARDIAN_NOT_IN_REGISTRY}),
}


def golden_from_json(text: str, conflicts: str | None = None) -> GoldenRecord:
    """A stored golden record (``registry_person.golden``, ``.conflicts``) back as a
    :class:`GoldenRecord`.

    Dates stay ISO strings. A conflict comes back with the departments and lines that
    disagree but not their values (the stored conflict keeps none).
    """
    golden = GoldenRecord(stored_golden(text))
    for entry in json.loads(conflicts) if conflicts else []:
        chosen = golden.values.get(entry["field"])
        if chosen is None:
            continue
        others = tuple(
            Candidate(
                entry["field"],
                None,
                0,
                Provenance(o["department"], "", "", o["position"], chosen.provenance.as_of),
            )
            for o in entry["others"]
        )
        golden.conflicts.append(Conflict(entry["field"], chosen, others))
    return golden


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


Flag = tuple[str, int | None, str]
"""A quality flag as evaluation reads it: (person id, record id or None, code)."""


def _stored_flags(engine: Engine) -> list[Flag] | None:
    """Every quality flag linking stored, or None if it stored none."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(Person.id, Person.flags).where(Person.flags.is_not(None))
        ).all()
    found: list[Flag] = []
    stored_any = False
    for person_id, text in rows:
        for entry in json.loads(text or "[]"):
            if is_quality_flag(entry):
                stored_any = True
                code = str(entry["code"])
                found.append((person_id, None, code))
                found.extend((person_id, int(record), code) for record in entry["records"])
    return found if stored_any else None


def person_checks(engine: Engine) -> Iterator[tuple[str, list[int], list[QualityFlag]]]:
    """The cross-checks of every stored person, from its golden JSON and its records:
    (person id, the record ids in member order, the flags)."""
    with session_scope(engine) as session:
        goldens = {
            person_id: (golden, conflicts)
            for person_id, golden, conflicts in session.execute(
                select(Person.id, Person.golden, Person.conflicts)
            )
        }
        rows = session.execute(
            select(
                RecordLink.person_id,
                SourceRecord.id,
                SourceRecord.department,
                SourceRecord.fields,
                Batch.started_at,
            )
            .join(SourceRecord, SourceRecord.id == RecordLink.record_id)
            .join(Batch, Batch.id == SourceRecord.batch_id)
            .order_by(RecordLink.person_id, SourceRecord.id)
        ).all()
    clusters: dict[str, list[tuple[int, str, dict[str, object], datetime.date]]] = {}
    for person_id, record_id, department, fields, started in rows:
        clusters.setdefault(person_id, []).append(
            (record_id, department, json.loads(fields), started.date())
        )
    for person_id, members in clusters.items():
        golden = golden_from_json(*goldens[person_id])
        flags = cross_checks([(d, f, a) for _, d, f, a in members], golden)
        yield person_id, [key for key, _, _, _ in members], flags


def _computed_flags(engine: Engine) -> list[Flag]:
    """The cross-checks, run here over the stored golden records and records."""
    found: list[Flag] = []
    for person_id, records, flags in person_checks(engine):
        for flag in flags:
            found.append((person_id, None, flag.code))
            found.extend((person_id, records[i], flag.code) for i in flag.records)
    return found


def _missing_field_map() -> dict[tuple[str, str], str]:
    """(department, source column) → standard field, from the feed specs."""
    return {
        (spec.department, column.source): column.field
        for spec in load_all()
        for file in spec.files
        for column in file.columns
        if column.field is not None
    }


def _golden_facts(engine: Engine) -> pl.DataFrame:
    """Per registry person: golden name, birth date, where the address came from, fields."""
    with session_scope(engine) as session:
        rows = session.execute(select(Person.id, Person.golden)).all()
    facts = []
    for person_id, text in rows:
        golden = stored_golden(text)
        name, born, address = (golden.get(field) for field in ("name", "birth_date", "address"))
        source = None if address is None else address.provenance
        facts.append(
            (
                person_id,
                None if name is None else name.value,
                None if born is None else born.value,
                None
                if source is None
                else f"feeds/{source.department}/{source.file_name}#{source.position}",
                sorted(golden),
            )
        )
    return pl.DataFrame(
        facts,
        schema={
            "cluster_id": pl.String,
            "golden_name": pl.String,
            "golden_birth": pl.String,
            "golden_address_from": pl.String,
            "golden_fields": pl.List(pl.String),
        },
        orient="row",
    )


def _accounting(  # noqa: PLR0917 (one frame per source, each named)
    truth_records: pl.DataFrame,
    truth_persons: pl.DataFrame,
    records: pl.DataFrame,
    quarantine: pl.DataFrame,
    golden: pl.DataFrame,
    flags: Iterable[Flag],
) -> pl.DataFrame:
    """One row per truth record: ``unresolved`` and the kinds left unresolved."""
    flagged = pl.DataFrame(
        list(flags),
        schema={"cluster_id": pl.String, "record_key": pl.Int64, "code": pl.String},
        orient="row",
    )
    flag_codes = (
        flagged.filter(pl.col("record_key").is_not_null())
        .group_by("record_key")
        .agg(pl.col("code").unique().alias("codes"))
    )
    person_codes = (
        flagged.filter(pl.col("record_key").is_null())
        .group_by("cluster_id")
        .agg(pl.col("code").unique().alias("person_codes"))
    )
    scored = records.join(
        truth_records.select("file", "position", "person_id"), on=["file", "position"]
    )
    main = (
        scored.group_by("person_id", "cluster_id")
        .len()
        .sort(["person_id", "len", "cluster_id"], descending=[False, True, False])
        .unique("person_id", keep="first")
        .select("person_id", pl.col("cluster_id").alias("main_cluster"))
    )
    rows = (
        truth_records.with_row_index("truth_row")
        .join(records, on=["file", "position"], how="left")
        .join(quarantine, on=["file", "position"], how="left")
        .join(main, on="person_id", how="left")
        .join(golden, on="cluster_id", how="left")
        .join(truth_persons, on="person_id", how="left")
        .join(flag_codes, on="record_key", how="left")
        .join(person_codes, on="cluster_id", how="left")
        .with_columns(
            accepted=pl.col("record_key").is_not_null(),
            quarantined=pl.col("rules").is_not_null(),
            linked_right=pl.col("cluster_id").is_not_null()
            & (pl.col("cluster_id") == pl.col("main_cluster")),
            codes=pl.col("codes").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            name_disputed=pl.col("person_codes")
            .list.contains(NAME_DISAGREEMENT)
            .fill_null(value=False),
        )
        .with_columns(
            removed_copy=pl.col("quarantined")
            & pl.col("rules").list.eval(pl.element() == "duplicate_row").list.all(),
        )
    )
    defects = (
        rows.select(
            "truth_row",
            "department",
            pl.col("defects").str.split(";").alias("defect"),
        )
        .explode("defect")
        .filter(pl.col("defect") != "")
        .with_columns(
            kind=pl.col("defect").str.replace(r":.*$", ""),
            column=pl.col("defect").str.extract(r"^missing_field:(.*)$"),
        )
    )
    mapping = _missing_field_map()
    defects = defects.with_columns(
        field=pl.struct("department", "column").map_elements(
            lambda r: mapping.get((r["department"], r["column"])),
            return_dtype=pl.String,
        )
    )
    joined = defects.join(rows.drop("department"), on="truth_row", how="left")
    linked = pl.col("accepted") & pl.col("linked_right")
    this_record = pl.col("file") + "#" + pl.col("position").cast(pl.String)
    has_code = {
        kind: pl.col("codes").list.eval(pl.element().is_in(list(codes))).list.any()
        for kind, codes in FLAG_RESOLVES.items()
    }
    resolved = (
        pl.when(pl.col("removed_copy"))
        .then(True)
        .when(~pl.col("accepted"))
        .then(False)
        .when(pl.col("kind").str.starts_with("name_"))
        .then(
            linked
            & (
                (pl.col("golden_name") == pl.col("true_name")).fill_null(False)
                | pl.col("name_disputed")
            )
        )
        .when(pl.col("kind").str.starts_with("id_"))
        .then(linked & pl.col("person_has_number"))
        .when(pl.col("kind") == "missing_field")
        .then(linked & pl.col("golden_fields").list.contains(pl.col("field")).fill_null(False))
        .when(pl.col("kind") == "date_out_of_range")
        .then(linked & (pl.col("golden_birth") == pl.col("true_birth")).fill_null(False))
        .when(pl.col("kind") == "stale_address")
        .then(linked & (pl.col("golden_address_from") != this_record).fill_null(True))
        .when(pl.col("kind").is_in(["duplicate_row", "malformed_line"]))
        .then(linked)
    )
    for kind, expression in has_code.items():
        resolved = resolved.when(pl.col("kind") == kind).then(expression)
    per_defect = joined.with_columns(resolved=resolved.otherwise(False).fill_null(False))
    left = (
        per_defect.filter(~pl.col("resolved"))
        .group_by("truth_row")
        .agg(pl.col("kind").unique().alias("unresolved_kinds"))
    )
    return (
        rows.select("truth_row", "accepted", "quarantined", "removed_copy", "defects")
        .join(left, on="truth_row", how="left")
        .with_columns(
            unresolved=pl.col("unresolved_kinds").is_not_null()
            | (~pl.col("accepted") & ~pl.col("removed_copy"))
        )
        .sort("truth_row")
    )


def _residence_accuracy(engine: Engine, scored: pl.DataFrame, truth: Path) -> float | None:
    with session_scope(engine) as session:
        inferred = session.execute(select(Person.id, Person.residence_division)).all()
    persons = pl.DataFrame(
        inferred, schema={"cluster_id": pl.String, "residence": pl.String}, orient="row"
    )
    majority = _majority(scored)
    actual = pl.read_parquet(truth / "persons.parquet").select("person_id", "actual_division")
    joined = majority.join(persons, on="cluster_id").join(actual, on="person_id")
    if joined.height == 0:
        return None
    correct = int((joined["residence"] == joined["actual_division"]).sum())
    return correct / joined.height


def _majority(scored: pl.DataFrame) -> pl.DataFrame:
    """Each registry person (``cluster_id``) and the true person (``person_id``) most of
    its records belong to."""
    return (
        scored.group_by("cluster_id", "person_id")
        .len()
        .sort("len", "person_id", descending=[True, False])
        .unique("cluster_id", keep="first")
        .select("cluster_id", "person_id")
    )


def registry_ids(engine: Engine, truth: Path) -> dict[str, str]:
    """True person id → the registry person standing for them, for a synthetic city.

    The city's applications name true persons; a real application names an identity
    number, which the window looks up. Here the look-up is the linkage's own answer:
    the registry person holding most of the person's records, and of two registry
    persons claiming one true person, the one with more of them.
    """
    records, _quarantine = _predicted(engine)
    truth_records = pl.read_parquet(
        truth / "records.parquet", columns=["file", "position", "person_id"]
    )
    scored = records.join(truth_records, on=["file", "position"], how="inner")
    counted = scored.group_by("cluster_id", "person_id").len()
    best = _majority(scored).join(counted, on=["cluster_id", "person_id"])
    chosen = best.sort("len", "cluster_id", descending=[True, False]).unique(
        "person_id", keep="first"
    )
    return dict(chosen.select("person_id", "cluster_id").iter_rows())


def evaluate(engine: Engine, truth: Path) -> dict[str, object]:
    """The scores of the registry in ``engine`` against ``truth`` (a city's truth folder)."""
    truth_records = pl.read_parquet(truth / "records.parquet")
    truth_persons = pl.read_parquet(truth / "persons.parquet").select(
        "person_id",
        pl.col("name").alias("true_name"),
        pl.col("birth_date").cast(pl.String).alias("true_birth"),
    )
    records, quarantine = _predicted(engine)
    scored = records.join(
        truth_records.select("file", "position", "person_id"), on=["file", "position"], how="inner"
    )
    pairwise = pairwise_scores(
        scored.select("record_key", "cluster_id"), scored.select("record_key", "person_id")
    )
    stored = _stored_flags(engine)
    flags = stored if stored is not None else _computed_flags(engine)
    accounting = _accounting(
        truth_records, truth_persons, records, quarantine, _golden_facts(engine), flags
    )
    total = truth_records.height
    unresolved = int(accounting["unresolved"].sum())
    by_kind = (
        accounting.filter(pl.col("unresolved_kinds").is_not_null())
        .explode("unresolved_kinds")
        .group_by("unresolved_kinds")
        .len()
        .sort("unresolved_kinds")
    )
    refused_clean = accounting.filter(
        pl.col("quarantined") & ~pl.col("removed_copy") & (pl.col("defects") == "")
    ).height
    lost = accounting.filter(~pl.col("accepted") & ~pl.col("quarantined")).height
    return {
        "records": total,
        "accepted": records.height,
        "quarantined": quarantine.height,
        "pairwise": pairwise,
        "error_rate_before": (truth_records["defects"] != "").sum() / total if total else 0.0,
        "error_rate_after": unresolved / total if total else 0.0,
        "unresolved": unresolved,
        "unresolved_by_kind": dict(by_kind.iter_rows()),
        "unresolved_refused_clean": refused_clean,
        "unresolved_lost": lost,
        "quality_flags": "stored" if stored is not None else "computed",
        "residence_accuracy": _residence_accuracy(engine, scored, truth),
    }
