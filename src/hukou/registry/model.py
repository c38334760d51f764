"""Tables of the registry: batches, source records, quarantine, persons, links, review.

Identity numbers, phone numbers and the raw text of quarantined lines are stored as
SM4-GCM tokens (``hukou.security``) from the first row; a blind index (HMAC-SM3)
finds a person by identity number without decrypting anything.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hukou.db.base import Base

__all__ = [
    "IDENTITY_CONTEXT",
    "IDENTITY_INDEX_PURPOSE",
    "PERSON_SCOPE",
    "QUARANTINE_RAW_CONTEXT",
    "RECORD_SCOPE",
    "Batch",
    "LinkageModel",
    "OutboxCursor",
    "OutboxEvent",
    "Person",
    "QuarantinedRow",
    "RecordKey",
    "RecordLink",
    "ReviewPair",
    "SourceRecord",
]

IDENTITY_CONTEXT = "registry.record.identity_number"
"""The encryption context (GCM associated data) of a source record's identity number."""
IDENTITY_INDEX_PURPOSE = "identity_number"
"""The blind-index purpose of identity numbers, on records and persons alike."""
QUARANTINE_RAW_CONTEXT = "registry.quarantine.raw"
"""The context of a quarantined row's whole raw line, encrypted under its batch's data key."""
RECORD_SCOPE = "registry.record"
"""The data-key scope of source records' values (and golden values copied from them)."""
PERSON_SCOPE = "registry.person"
"""The data-key scope of golden persons' own values (their identity number)."""

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for millions.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class Batch(Base):
    """One file of one department, ingested once (its content hash makes it unique)."""

    __tablename__ = "registry_batch"
    __table_args__ = (UniqueConstraint("department", "content_sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    department: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # running | done
    rows_in: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    report: Mapped[str | None] = mapped_column(Text)  # JSON: counts by reason, seconds


class SourceRecord(Base):
    """An accepted record, standardised, as the department sent it (one per file line)."""

    __tablename__ = "registry_record"
    __table_args__ = (
        UniqueConstraint("batch_id", "position"),
        Index("ix_registry_record_identity_index", "identity_index"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("registry_batch.id"))
    department: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(8))  # state | event | period
    identity_token: Mapped[str | None] = mapped_column(Text)
    identity_index: Mapped[str | None] = mapped_column(String(64))
    identity_status: Mapped[str] = mapped_column(String(48))  # valid | repaired:… | a reason
    name: Mapped[str | None] = mapped_column(String(120))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[datetime.date | None] = mapped_column(Date)
    fields: Mapped[str] = mapped_column(Text)  # JSON of standard fields; sensitive ones as tokens
    issues: Mapped[str | None] = mapped_column(Text)  # JSON list of repaired/non-fatal issues


class QuarantinedRow(Base):
    """A line that could not be accepted, kept whole (encrypted) with every reason."""

    __tablename__ = "registry_quarantine"
    __table_args__ = (UniqueConstraint("batch_id", "position"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("registry_batch.id"))
    department: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)
    raw_token: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of {field, rule, value (masked)}


class Person(Base):
    """One person of the registry: the golden record of a cluster of source records."""

    __tablename__ = "registry_person"
    __table_args__ = (
        Index("ix_registry_person_identity_index", "identity_index"),
        Index("ix_registry_person_name_birth_date", "name", "birth_date"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    identity_token: Mapped[str | None] = mapped_column(Text)
    identity_index: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(120))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[datetime.date | None] = mapped_column(Date)
    golden: Mapped[str] = mapped_column(Text)  # JSON: see hukou.registry.golden
    conflicts: Mapped[str | None] = mapped_column(Text)  # JSON: disagreements kept
    flags: Mapped[str | None] = mapped_column(Text)  # JSON: e.g. two valid numbers
    records: Mapped[int] = mapped_column(Integer)
    residence_division: Mapped[str | None] = mapped_column(String(6))
    residence_confidence: Mapped[float | None] = mapped_column(Float)
    residence_since: Mapped[datetime.date | None] = mapped_column(Date)
    registered_elsewhere: Mapped[bool | None] = mapped_column(Boolean)  # 人户分离
    # evidence | work | hukou | household (lent by the household, see residence.py)
    residence_source: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class RecordLink(Base):
    """Which person a source record belongs to, and how that was decided."""

    __tablename__ = "registry_link"
    __table_args__ = (Index("ix_registry_link_person_id", "person_id"),)

    record_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("registry_record.id"), primary_key=True, autoincrement=False
    )
    person_id: Mapped[str] = mapped_column(ForeignKey("registry_person.id"))
    method: Mapped[str] = mapped_column(String(16))  # exact | probabilistic | singleton | clerical
    probability: Mapped[float | None] = mapped_column(Float)


class ReviewPair(Base):
    """Two records linkage was unsure about, for a clerk; the decision is remembered."""

    __tablename__ = "registry_review"
    __table_args__ = (UniqueConstraint("record_l", "record_r"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    record_l: Mapped[int] = mapped_column(_BigId, ForeignKey("registry_record.id"))
    record_r: Mapped[int] = mapped_column(_BigId, ForeignKey("registry_record.id"))
    probability: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # pending | same | different
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class RecordKey(Base):
    """A linked record's blocking keys, as keyed digests, for incremental candidate search.

    Incremental linking must find the records a new record would have been compared
    with in a full run (the same blocking keys) without decrypting every identity
    number in the registry. Each key is the first 16 hex characters of a keyed
    SHA-256 (the secret derives from the blind-index key), so the table reveals no
    number, name or date; equal keys still meet in an ``IN`` query. Written once per
    record, when it is first linked: a record never changes.
    """

    __tablename__ = "registry_record_key"

    record_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("registry_record.id"), primary_key=True, autoincrement=False
    )
    # Lacks a valid number: the blocking rules pair it with any record sharing a key;
    # a record with a valid number only meets such records.
    needs_link: Mapped[bool] = mapped_column(Boolean)
    k_birth: Mapped[str | None] = mapped_column(String(16))
    k_hanzi_year: Mapped[str | None] = mapped_column(String(16))
    k_n14: Mapped[str | None] = mapped_column(String(16))
    k_n7_18: Mapped[str | None] = mapped_column(String(16))
    k_n6_15: Mapped[str | None] = mapped_column(String(16))
    k_py6: Mapped[str | None] = mapped_column(String(16))
    k_py15: Mapped[str | None] = mapped_column(String(16))


class LinkageModel(Base):
    """The probabilistic model of a full linking run, reused by incremental runs.

    EM on a handful of new records would learn nothing (or nonsense); the model
    trained on the whole registry is kept (Splink settings with every m and u, as
    JSON) with the term frequencies it was trained with (Parquet bytes), so that a
    small batch is scored exactly as the full run scored it. In a table, not a
    file, so that every PostgreSQL deployment node sees the same model.
    """

    __tablename__ = "registry_linkage_model"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    records: Mapped[int] = mapped_column(Integer)
    settings: Mapped[str] = mapped_column(Text)  # Splink settings JSON (trained)
    term_frequencies: Mapped[bytes] = mapped_column(LargeBinary)  # Parquet: column, value, tf


class OutboxEvent(Base):
    """A change of a person other capabilities and departments subscribe to.

    ``dedupe_key`` is unique: the same fact (a death reported by two departments,
    or linking run twice) is written once. ``payload`` holds codes and the person
    id only, never a clear identity number, phone or name.
    """

    __tablename__ = "registry_outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_registry_outbox_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    event_type: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(24))  # no FK: a merged person's id goes away
    occurred_on: Mapped[datetime.date | None] = mapped_column(Date)
    payload: Mapped[str] = mapped_column(Text)  # JSON
    batch_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    dedupe_key: Mapped[str] = mapped_column(String(200))


class OutboxCursor(Base):
    """How far a subscriber has read the outbox (its last acknowledged event id)."""

    __tablename__ = "registry_outbox_cursor"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(_BigId)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
