"""Tables of the audit ledger: entries, stored subtree hashes, signed checkpoints.

Every table is append-only. Migration 0008 adds triggers on both engines that
make an UPDATE or DELETE of a ledger row fail (and, on PostgreSQL, a TRUNCATE),
and revokes those rights from ``PUBLIC``: a bug or a careless script in the
application cannot rewrite history. An administrator who drops the triggers
can; that is what ``hukou audit verify`` and the signed checkpoints catch.

- :class:`LedgerRow`: the ledger itself, one row, recording which hash builds
  the tree (SM3, or SHA-256 when created so), fixed for the ledger's life.
- :class:`EntryRow`: entry number ``seq`` (0-based, the leaf index), its
  canonical JSON text (what the leaf hashes), the leaf hash and when it was
  appended. ``person_id`` repeats the entry's person so that a resident's
  accesses are found by index (with ``seq``, in order); ``verify`` and
  ``person_entries`` check that it matches the text.
- :class:`NodeRow`: every perfect subtree of two or more leaves, as
  :meth:`hukou.audit.merkle.Frontier.append` reports it, so a proof reads
  O(log n) rows instead of hashing n leaves. Level 0 is the entry's leaf hash
  and is not stored twice.
- :class:`CheckpointRow`: a signed tree head (size, root, the signed note).
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hukou.db.base import Base

__all__ = ["APPEND_ONLY_TABLES", "CheckpointRow", "EntryRow", "LedgerRow", "NodeRow"]

# SQLite's INTEGER PRIMARY KEY is the row id itself (no second index to maintain);
# PostgreSQL needs BIGINT for a ledger that outgrows 2**31 entries.
_BigKey = BigInteger().with_variant(Integer(), "sqlite")


class LedgerRow(Base):
    """The ledger's one row: the hash its tree is built with, chosen at creation."""

    __tablename__ = "audit_ledger"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash_name: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class EntryRow(Base):
    """One ledger entry: leaf ``seq`` of the tree."""

    __tablename__ = "audit_entry"
    # A person's entries in order, for the resident's tracker (paged by seq).
    __table_args__ = (Index("ix_audit_entry_person_id", "person_id", "seq"),)

    seq: Mapped[int] = mapped_column(_BigKey, primary_key=True, autoincrement=False)
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    person_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class NodeRow(Base):
    """The hash of the perfect subtree over leaves ``[index << level, (index + 1) << level)``."""

    __tablename__ = "audit_node"
    # On SQLite the primary key is the table (no row id and second index to maintain).
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 (SQLAlchemy reads a dict)

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class CheckpointRow(Base):
    """A signed tree head; one per tree size (signing an unchanged ledger adds nothing)."""

    __tablename__ = "audit_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(200))
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


APPEND_ONLY_TABLES = ("audit_ledger", "audit_entry", "audit_node", "audit_checkpoint")
"""The tables whose rows can be inserted and read, never updated or deleted."""
