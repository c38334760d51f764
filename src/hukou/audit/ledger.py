"""The ledger in the database: append, sign checkpoints, prove, and verify everything.

Entries are appended in batches: their canonical bytes and leaf hashes are
computed in Python, the writer's :class:`~hukou.audit.merkle.Frontier` is
restored from the O(log n) stored subtree hashes of the right edge, and every
perfect subtree an append completes is stored (:class:`~hukou.audit.model.NodeRow`),
so that an inclusion or consistency proof at any size reads O(log n) rows in
one query instead of hashing the whole ledger.

Appenders are serialised so that two of them never take the same sequence
numbers: on PostgreSQL by a transaction-scoped advisory lock taken before the
head is read (:data:`ADVISORY_LOCK_KEY`; released by commit or rollback), on
SQLite by taking the database's write lock (``BEGIN IMMEDIATE``) before the
head is read. The lock is held until the caller's transaction ends, so keep an
append's transaction short.

:func:`verify` trusts nothing stored but the checkpoint signatures: it streams
the entries in chunks, recomputes each leaf from the entry text, checks the
entry's own sequence number, rebuilds the tree and compares every stored
subtree hash and every checkpoint (its signature, its stored copy of size and
root, and the root recomputed from the entries). It stops at the first bad
entry, since everything after it hangs on it, and names it.

>>> import datetime
>>> from sqlalchemy import create_engine
>>> from hukou.db import Base, session_scope
>>> from hukou.audit.checkpoint import NoteSigner
>>> from hukou.audit.entry import LedgerEntry, Outcome
>>> engine = create_engine("sqlite://")
>>> Base.metadata.create_all(engine, tables=[m.__table__ for m in _MODELS])
>>> signer = NoteSigner.from_seed("hukou.example/audit", bytes(32))
>>> entry = LedgerEntry.state_change(actor="system", department="platform",
...     capability="registry", action="link", object_id="batch-1", outcome=Outcome.SUCCEEDED)
>>> with session_scope(engine) as session:
...     append(session, [entry] * 3)
...     checkpoint(session, signer).size
[0, 1, 2]
3
>>> with session_scope(engine) as session:
...     verify(session, verifier=signer.verifier()).ok
True
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import Connection, and_, func, or_, select, text
from sqlalchemy.orm import Session, SessionTransaction

from hukou.audit import merkle
from hukou.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    sign_checkpoint,
)
from hukou.audit.entry import LedgerEntry, Outcome, decode_entry, encode_entry
from hukou.audit.merkle import DEFAULT_HASHER, SHA256_HASHER, SM3_HASHER, Frontier, TreeHasher
from hukou.audit.model import CheckpointRow, EntryRow, LedgerRow, NodeRow
from hukou.db.bulk import insert_rows

__all__ = [
    "ADVISORY_LOCK_KEY",
    "DEFAULT_CHUNK",
    "HASHERS",
    "ConsistencyProof",
    "CorruptLedgerError",
    "Finding",
    "InclusionProof",
    "LedgerError",
    "OutOfRangeError",
    "StoredCheckpoint",
    "VerifyReport",
    "append",
    "checkpoint",
    "consistency_proof",
    "create_ledger",
    "inclusion_proof",
    "latest_checkpoint",
    "ledger_hasher",
    "ledger_size",
    "person_entries",
    "read_entry",
    "record_change",
    "stored_checkpoints",
    "tree_root",
    "verify",
]

ADVISORY_LOCK_KEY: Final = 0x68756B6F75_4C47  # "hukou" "LG": one 64-bit key for all appenders
"""The PostgreSQL advisory lock that serialises ledger writers (append and checkpoint)."""
DEFAULT_CHUNK: Final = 20_000
"""Entries :func:`verify` reads per query: bounded memory at any ledger size."""
HASHERS: Final = {hasher.name: hasher for hasher in (SM3_HASHER, SHA256_HASHER)}
"""The hashes a ledger may be created with, by the name it records."""
_MAX_FINDINGS: Final = 20
_MODELS: Final = (LedgerRow, EntryRow, NodeRow, CheckpointRow)


class LedgerError(Exception):
    """The ledger cannot do what was asked; the subclass says why."""


class OutOfRangeError(LedgerError, ValueError):
    """A proof was asked for an index or size the ledger does not have."""


class CorruptLedgerError(LedgerError):
    """Stored rows the ledger needs are missing or inconsistent: run ``hukou audit verify``."""


# --- locking and the ledger's hash ------------------------------------------------------


def _lock(session: Session) -> None:
    """Serialise writers: nobody else appends until this transaction ends."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    elif dialect == "sqlite":
        driver: Any = connection.connection.driver_connection
        # pysqlite opens its transaction lazily, at the first write. Reading the head
        # first and writing after would let two writers read the same head (and the
        # second fail); BEGIN IMMEDIATE takes the write lock before anything is read.
        if not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        raise LedgerError(f"the audit ledger does not support {dialect}")


def create_ledger(
    session: Session, *, hasher: TreeHasher = DEFAULT_HASHER, now: datetime.datetime | None = None
) -> TreeHasher:
    """Create the ledger with ``hasher`` (SM3 by default); the hash is fixed from then on.

    Appending to a ledger that was never created creates it with SM3. Creating an
    existing ledger again with the same hash does nothing; with another, fails.
    """
    if hasher.name not in HASHERS or HASHERS[hasher.name] is not hasher:
        raise LedgerError(f"a ledger is built with one of: {', '.join(HASHERS)}")
    _lock(session)
    existing = ledger_hasher(session)
    if existing is not None:
        if existing is not hasher:
            raise LedgerError(f"the ledger already exists with {existing.name}")
        return existing
    created = now or datetime.datetime.now(datetime.UTC)
    session.add(LedgerRow(id=1, hash_name=hasher.name, created_at=created))
    session.flush()
    return hasher


def ledger_hasher(session: Session) -> TreeHasher | None:
    """The hash the ledger records, or ``None`` if no ledger was created yet."""
    name = session.scalar(select(LedgerRow.hash_name).where(LedgerRow.id == 1))
    if name is None:
        return None
    try:
        return HASHERS[name]
    except KeyError:
        raise CorruptLedgerError(f"the ledger records an unknown hash {name!r}") from None


def _require_hasher(session: Session, wanted: TreeHasher | None = None) -> TreeHasher:
    recorded = ledger_hasher(session)
    if recorded is None:
        recorded = DEFAULT_HASHER
    if wanted is not None and wanted.name != recorded.name:
        raise LedgerError(f"the ledger is built with {recorded.name}, not {wanted.name}")
    return recorded


def _head(session: Session) -> tuple[TreeHasher, int]:
    """The ledger's hash and size in one round trip (a proof's first question)."""
    name, last = session.connection().execute(_HEAD).one()
    if name is None:
        return DEFAULT_HASHER, 0 if last is None else int(last) + 1
    if name not in HASHERS:
        raise CorruptLedgerError(f"the ledger records an unknown hash {name!r}")
    return HASHERS[name], 0 if last is None else int(last) + 1


_HEAD: Final = select(
    select(LedgerRow.hash_name).where(LedgerRow.id == 1).scalar_subquery(),
    select(func.max(EntryRow.seq)).scalar_subquery(),
)


def ledger_size(session: Session) -> int:
    """How many entries the ledger holds (the next sequence number)."""
    last = session.scalar(select(func.max(EntryRow.seq)))
    return 0 if last is None else int(last) + 1


# --- stored hashes ----------------------------------------------------------------------


def _fetch(session: Session, keys: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored hashes by ``(level, index)`` in one round trip: level 0 from the entries.

    Built for a proof's few dozen keys, which a generic expression served
    badly: SQLite scans the whole table for a row-value ``IN``, and building
    the expression cost SQLAlchemy more than the query cost the database.
    PostgreSQL gets one fixed statement over arrays (prepared by the driver
    after a few calls, so it is planned once per connection); SQLite, whose
    planning is cheap, one primary-key lookup per level with the integers
    written in.
    """
    by_level: dict[int, set[int]] = {}
    for level, index in keys:
        by_level.setdefault(int(level), set()).add(int(index))
    if not by_level:
        return {}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        inner = [
            (level, index) for level, indexes in by_level.items() if level for index in indexes
        ]
        parameters = {
            "levels": [level for level, _ in inner],
            "indexes": [index for _, index in inner],
            "leaves": sorted(by_level.get(0, ())),
        }
        rows = connection.execute(_PG_FETCH, parameters)
    else:
        parts = []
        for level, indexes in sorted(by_level.items()):
            listed = ", ".join(map(str, sorted(indexes)))
            if level == 0:
                parts.append(
                    f"SELECT 0, seq, leaf_hash FROM audit_entry WHERE seq IN ({listed})"  # noqa: S608
                )
            else:
                parts.append(
                    "SELECT level, node_index, hash FROM audit_node "  # noqa: S608 (integers only)
                    f"WHERE level = {level} AND node_index IN ({listed})"
                )
        rows = connection.exec_driver_sql(" UNION ALL ".join(parts))
    return {(int(level), int(index)): bytes(value) for level, index, value in rows}


_PG_FETCH: Final = text(
    "SELECT k.level, k.node_index, n.hash "
    "FROM unnest(CAST(:levels AS smallint[]), CAST(:indexes AS bigint[])) AS k(level, node_index) "
    "JOIN audit_node AS n ON n.level = k.level AND n.node_index = k.node_index "
    "UNION ALL "
    "SELECT 0, seq, leaf_hash FROM audit_entry WHERE seq = ANY(CAST(:leaves AS bigint[]))"
)


def _from_store(
    session: Session, hasher: TreeHasher, compute: Callable[[merkle.NodeLookup], list[bytes]]
) -> list[bytes]:
    """Run a merkle computation on stored hashes, fetched in one round trip per table.

    The first pass answers every lookup with a placeholder and records which
    subtrees it asked for; with every answer given, the shape of the
    computation (hence the set of lookups) does not depend on the values. The
    second pass runs on the fetched hashes.
    """
    wanted: list[tuple[int, int]] = []
    placeholder = bytes(hasher.digest_size)

    def record(key: tuple[int, int]) -> bytes:
        wanted.append(key)
        return placeholder

    compute(record)
    found = _fetch(session, wanted)
    missing = [key for key in wanted if key not in found]
    if missing:
        level, index = missing[0]
        raise CorruptLedgerError(
            f"the stored hash of subtree (level {level}, index {index}) is missing; "
            "run `hukou audit verify`"
        )
    return compute(found.get)


def _no_leaf(index: int) -> bytes:
    raise CorruptLedgerError(f"the leaf hash of entry {index} is missing")


def _frontier(session: Session, size: int, hasher: TreeHasher) -> Frontier:
    """The writer's right edge at ``size``, from O(log size) stored hashes."""
    positions = Frontier.positions(size)
    found = _fetch(session, positions)
    missing = [key for key in positions if key not in found]
    if missing:
        level, index = missing[0]
        raise CorruptLedgerError(
            f"the stored hash of subtree (level {level}, index {index}) is missing; "
            "run `hukou audit verify`"
        )
    return Frontier.restore(size, [found[key] for key in positions], hasher=hasher)


def tree_root(session: Session, size: int | None = None) -> bytes:
    """The root hash of the first ``size`` entries (all by default), from stored hashes."""
    hasher = _require_hasher(session)
    current = ledger_size(session)
    size = current if size is None else size
    if not 0 <= size <= current:
        raise OutOfRangeError(f"tree size {size} is outside 0..{current}")
    return _frontier(session, size, hasher).root()


# --- appending --------------------------------------------------------------------------


@dataclass(slots=True)
class _Writer:
    """The appender's view of the ledger's head within one transaction."""

    transaction: SessionTransaction
    hasher: TreeHasher
    size: int
    frontier: Frontier


_WRITER: Final = "hukou.audit.writer"


def _writer(session: Session, now: datetime.datetime | None) -> _Writer:
    """The head as this transaction sees it: read once, after the lock, then kept.

    Nobody else appends until the transaction ends, so the head only moves by this
    transaction's own appends; a filing that appends three times reads the hash, the
    size and the frontier once instead of three times (each read was a round trip
    taken while every other writer waits).
    """
    transaction = session.get_transaction()
    cached = session.info.get(_WRITER)
    if (
        isinstance(cached, _Writer)
        and transaction is not None
        and cached.transaction is transaction
        and transaction.is_active
    ):
        return cached
    _lock(session)
    hasher = ledger_hasher(session) or create_ledger(session, now=now)
    size = ledger_size(session)
    frontier = _frontier(session, size, hasher)
    begun = session.get_transaction()  # begun by the lock's statement if it was not yet
    assert begun is not None
    writer = _Writer(begun, hasher, size, frontier)
    session.info[_WRITER] = writer
    return writer


def append(
    session: Session, entries: Iterable[LedgerEntry], *, now: datetime.datetime | None = None
) -> list[int]:
    """Append ``entries`` in one batch; return their sequence numbers (their leaf indexes).

    Runs in the caller's transaction: the entries are in the ledger when it
    commits, and not at all if it rolls back. A batch of thousands costs little
    more per entry than hashing and a bulk insert (COPY on PostgreSQL).
    """
    batch = list(entries)
    if not batch:
        return []
    writer = _writer(session, now)
    hasher, start = writer.hasher, writer.size
    encoded = [encode_entry(entry, seq) for seq, entry in enumerate(batch, start)]
    frontier = writer.frontier.copy()
    recorded_at = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    stamp: object = recorded_at
    if session.connection().dialect.name == "sqlite":  # SQLAlchemy's own text format
        stamp = recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    hash_leaf = hasher.hash_leaf
    entry_rows: list[tuple[object, ...]] = []
    node_rows: list[tuple[object, ...]] = []
    for seq, (entry, data) in enumerate(zip(batch, encoded, strict=True), start):
        leaf = hash_leaf(data)
        entry_rows.append((seq, data.decode("utf-8"), leaf, entry.person_id, stamp))
        completed = frontier.append(leaf)
        for node in completed[1:]:  # level 0 is the entry's own leaf hash
            node_rows.append((node.level, node.index, node.hash))
    try:
        _insert(session, EntryRow, _ENTRY_COLUMNS, _SQLITE_ENTRY_INSERT, entry_rows)
        _insert(session, NodeRow, _NODE_COLUMNS, _SQLITE_NODE_INSERT, node_rows)
    except BaseException:
        session.info.pop(_WRITER, None)  # the head is read again by the next append
        raise
    writer.size, writer.frontier = start + len(batch), frontier
    return list(range(start, start + len(batch)))


_ENTRY_COLUMNS: Final = ("seq", "entry", "leaf_hash", "person_id", "recorded_at")
_NODE_COLUMNS: Final = ("level", "node_index", "hash")
_SQLITE_ENTRY_INSERT: Final = (
    "INSERT INTO audit_entry (seq, entry, leaf_hash, person_id, recorded_at) VALUES (?, ?, ?, ?, ?)"
)
_SQLITE_NODE_INSERT: Final = "INSERT INTO audit_node (level, node_index, hash) VALUES (?, ?, ?)"


def record_change(
    session: Session,
    *,
    capability: str,
    actor: str,
    department: str,
    action: str,
    object_id: str,
    outcome: Outcome = Outcome.SUCCEEDED,
    purpose: str | None = None,
    person_id: str | None = None,
    case_id: str | None = None,
    fields: Sequence[str] = (),
    at: datetime.datetime | None = None,
) -> int:
    """Append one state change of ``capability`` in ``session``'s transaction; its seq."""
    entry = LedgerEntry.state_change(
        actor=actor,
        department=department,
        capability=capability,
        action=action,
        object_id=object_id,
        outcome=outcome,
        purpose=purpose,
        person_id=person_id,
        case_id=case_id,
        fields=tuple(fields),
        at=at,
    )
    return append(session, [entry])[0]


def _insert(
    session: Session,
    model: type[EntryRow] | type[NodeRow],
    columns: Sequence[str],
    sqlite_statement: str,
    rows: list[tuple[object, ...]],
) -> None:
    """Bulk insert: COPY on PostgreSQL (:func:`insert_rows`), a bare executemany on SQLite.

    On SQLite, SQLAlchemy's per-row parameter processing cost as much as the
    insert itself; the driver takes the tuples as they are (values already in
    the column's stored form).
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(sqlite_statement, rows)
        return
    insert_rows(session, model, [dict(zip(columns, row, strict=True)) for row in rows])


def person_entries(
    session: Session, person_id: str, *, after: int = -1, limit: int = 100, newest: bool = False
) -> list[tuple[int, str]]:
    """``(seq, canonical text)`` of the person's entries after ``after``, oldest first;
    with ``newest``, the last ``limit`` of them (still oldest first).

    For the resident's data tracker: the text is the leaf data, so the resident
    can hash it and check its inclusion proof. A row whose indexed person is not
    the one in its text is refused (:class:`CorruptLedgerError`): showing it
    would hand one person's record to another.
    """
    order = EntryRow.seq.desc() if newest else EntryRow.seq
    rows = list(
        session.execute(
            select(EntryRow.seq, EntryRow.entry)
            .where(EntryRow.person_id == person_id, EntryRow.seq > after)
            .order_by(order)
            .limit(limit)
        )
    )
    if newest:
        rows.reverse()
    found: list[tuple[int, str]] = []
    for seq, entry_text in rows:
        try:
            named = json.loads(entry_text).get("person_id")
        except (ValueError, AttributeError):
            named = None
        if named != person_id:
            raise CorruptLedgerError(
                f"entry {seq} is indexed under another person than its text names; "
                "run `hukou audit verify`"
            )
        found.append((int(seq), str(entry_text)))
    return found


def read_entry(session: Session, index: int) -> LedgerEntry:
    """Entry ``index``, decoded (for the platform's own use: it holds a person id)."""
    stored = session.scalar(select(EntryRow.entry).where(EntryRow.seq == index))
    if stored is None:
        raise OutOfRangeError(f"the ledger has no entry {index}")
    seq, entry = decode_entry(stored)
    if seq != index:
        raise CorruptLedgerError(f"entry {index} says it is entry {seq}")
    return entry


# --- checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed tree head as stored: ``note`` is what clients check with the public key."""

    size: int
    origin: str
    root_hash: bytes
    note: str
    created_at: datetime.datetime

    @classmethod
    def _of(cls, row: CheckpointRow) -> StoredCheckpoint:
        created = row.created_at
        if created.tzinfo is None:  # SQLite keeps no offset; every stored time is UTC
            created = created.replace(tzinfo=datetime.UTC)
        return cls(row.size, row.origin, bytes(row.root_hash), row.note, created)


def checkpoint(
    session: Session,
    signer: NoteSigner,
    origin: str | None = None,
    *,
    now: datetime.datetime | None = None,
) -> StoredCheckpoint:
    """Sign the ledger's current (size, root) and store it; origin defaults to the key's name.

    Signing an unchanged ledger again returns the stored checkpoint of that size.
    """
    origin = origin or signer.name
    _lock(session)
    hasher = ledger_hasher(session) or create_ledger(session, now=now)
    size = ledger_size(session)
    latest = latest_checkpoint(session)
    if latest is not None:
        if latest.size > size:
            raise CorruptLedgerError(
                f"checkpoint {latest.size} covers more entries than the ledger's {size}: "
                "entries were deleted; run `hukou audit verify`"
            )
        if latest.size == size:
            if latest.origin != origin:
                raise LedgerError(f"size {size} is already signed for origin {latest.origin!r}")
            return latest
    root = _frontier(session, size, hasher).root()
    try:
        note = sign_checkpoint(Checkpoint(origin, size, root), signer)
    except CheckpointError as error:
        raise LedgerError(f"cannot sign a checkpoint for origin {origin!r}: {error}") from None
    row = CheckpointRow(
        size=size,
        origin=origin,
        root_hash=root,
        note=note,
        created_at=now or datetime.datetime.now(datetime.UTC),
    )
    session.add(row)
    session.flush()
    return StoredCheckpoint._of(row)


def latest_checkpoint(session: Session) -> StoredCheckpoint | None:
    """The checkpoint of the largest size, or ``None`` before the first one."""
    row = session.scalars(
        select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1)
    ).first()
    return None if row is None else StoredCheckpoint._of(row)


def stored_checkpoints(session: Session, *, chunk: int = 1_000) -> Iterator[StoredCheckpoint]:
    """Every checkpoint by increasing size, read ``chunk`` at a time."""
    after = -1
    while True:
        rows = session.scalars(
            select(CheckpointRow)
            .where(CheckpointRow.size > after)
            .order_by(CheckpointRow.size)
            .limit(chunk)
        ).all()
        for row in rows:
            yield StoredCheckpoint._of(row)
        if len(rows) < chunk:
            return
        after = rows[-1].size


# --- proofs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Entry ``index`` is leaf ``index`` of the tree of ``size``: the audit path, bottom first."""

    index: int
    size: int
    hashes: tuple[bytes, ...]
    hash_name: str


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree of ``second`` entries extends the tree of ``first``."""

    first: int
    second: int
    hashes: tuple[bytes, ...]
    hash_name: str


def inclusion_proof(session: Session, index: int, size: int | None = None) -> InclusionProof:
    """The audit path of entry ``index`` in the tree of ``size`` (default: the whole ledger)."""
    hasher, current = _head(session)
    size = current if size is None else size
    if not 0 < size <= current:
        raise OutOfRangeError(f"tree size {size} is outside 1..{current}")
    if not 0 <= index < size:
        raise OutOfRangeError(f"entry {index} is outside a tree of size {size}")
    hashes = _from_store(
        session,
        hasher,
        lambda nodes: merkle.inclusion_proof(_no_leaf, index, size, hasher=hasher, nodes=nodes),
    )
    return InclusionProof(index, size, tuple(hashes), hasher.name)


def consistency_proof(session: Session, first: int, second: int | None = None) -> ConsistencyProof:
    """Proof that the tree of ``second`` entries (default: all) extends that of ``first``."""
    hasher, current = _head(session)
    second = current if second is None else second
    if not 0 <= first <= second <= current:
        raise OutOfRangeError(f"no consistency proof from size {first} to {second} of {current}")
    hashes = _from_store(
        session,
        hasher,
        lambda nodes: merkle.consistency_proof(_no_leaf, first, second, hasher=hasher, nodes=nodes),
    )
    return ConsistencyProof(first, second, tuple(hashes), hasher.name)


# --- verification -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: ``index`` is the entry's number, a node's first leaf or a checkpoint's size."""

    kind: Literal["entry", "node", "checkpoint"]
    index: int
    message: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify` found; ``ok`` only if every entry, node and checkpoint held."""

    hash_name: str
    size: int
    entries_verified: int
    checkpoints_verified: int
    findings: tuple[Finding, ...]
    seconds: float
    checkpoints_unchecked: int = 0

    @property
    def ok(self) -> bool:
        """No finding at all."""
        return not self.findings

    def _first(self, kind: str) -> int | None:
        return next((f.index for f in self.findings if f.kind == kind), None)

    @property
    def first_bad_entry(self) -> int | None:
        """The number of the first entry that was changed, moved or deleted."""
        return self._first("entry")

    @property
    def first_bad_checkpoint(self) -> int | None:
        """The size of the first checkpoint that does not hold."""
        return self._first("checkpoint")

    @property
    def first_bad_node(self) -> int | None:
        """The first leaf under the first stored subtree hash that does not hold."""
        return self._first("node")

    def summary(self) -> str:
        """One line for an operator."""
        if self.ok:
            return (
                f"ledger OK: {self.entries_verified:,} entries and "
                f"{self.checkpoints_verified:,} checkpoints verified ({self.hash_name})"
            )
        first = self.findings[0]
        return f"ledger FAILED: {first.message}"

    def as_json(self) -> dict[str, object]:
        """The report as JSON-ready values (``hukou audit verify --json``)."""
        return {
            "ok": self.ok,
            "hash": self.hash_name,
            "size": self.size,
            "entries_verified": self.entries_verified,
            "checkpoints_verified": self.checkpoints_verified,
            "checkpoints_unchecked": self.checkpoints_unchecked,
            "first_bad_entry": self.first_bad_entry,
            "first_bad_checkpoint": self.first_bad_checkpoint,
            "first_bad_node": self.first_bad_node,
            "findings": [
                {"kind": f.kind, "index": f.index, "message": f.message} for f in self.findings
            ],
            "seconds": round(self.seconds, 3),
        }


def _evidence_size(session: Session) -> int:
    """How many entries the ledger must hold: what entries, checkpoints and nodes attest.

    A deleted tail is still owed to a checkpoint that signed it or to a stored
    subtree that covers it.
    """
    size = ledger_size(session)
    signed = session.scalar(select(func.max(CheckpointRow.size)))
    if signed is not None:
        size = max(size, int(signed))
    level = 1
    while True:  # one index lookup per level; levels are filled from the bottom up
        last = session.scalar(select(func.max(NodeRow.node_index)).where(NodeRow.level == level))
        if last is None:
            break
        size = max(size, (int(last) + 1) << level)
        level += 1
    return size


def _nodes_completed(connection: Connection, first: int, last: int) -> dict[tuple[int, int], bytes]:
    """Stored subtree hashes that leaves ``first..last`` complete (one query)."""
    ranges = []
    level = 1
    while (last + 1) >> level:
        low = -(-(first + 1) >> level) - 1  # ceil((first + 1) / 2**level) - 1
        high = ((last + 1) >> level) - 1
        if low <= high:
            ranges.append(and_(NodeRow.level == level, NodeRow.node_index.between(low, high)))
        level += 1
    if not ranges:
        return {}
    rows = connection.execute(
        select(NodeRow.level, NodeRow.node_index, NodeRow.hash).where(or_(*ranges))
    )
    return {(level, index): bytes(value) for level, index, value in rows}


class _Checker:
    """Checks each stored checkpoint as the rebuilt tree reaches its size."""

    def __init__(
        self,
        checkpoints: Iterator[StoredCheckpoint],
        verifier: NoteVerifier,
        origin: str | None,
        hasher: TreeHasher,
        report: Callable[[Finding], None],
    ) -> None:
        self._pending = checkpoints
        self._next = next(checkpoints, None)
        self._verifier = verifier
        self._origin = origin
        self._hasher = hasher
        self._report = report
        self.verified = 0

    @property
    def waiting(self) -> int:
        """Checkpoints not reached (the tree stopped short of their size)."""
        return (self._next is not None) + sum(1 for _ in self._pending)

    def reached(self, frontier: Frontier) -> None:
        while self._next is not None and self._next.size == frontier.size:
            self._check(self._next, frontier.root())
            self._next = next(self._pending, None)

    def _check(self, stored: StoredCheckpoint, root: bytes) -> None:
        where = f"checkpoint {stored.size}"
        try:
            signed = open_checkpoint(
                stored.note,
                origin=self._origin or stored.origin,
                log_key=self._verifier,
                hash_size=self._hasher.digest_size,
            )
        except CheckpointError as error:
            self._report(Finding("checkpoint", stored.size, f"{where}: {error}"))
            return
        if signed.size != stored.size or signed.origin != stored.origin:
            message = f"{where}: the stored size or origin differs from the signed note"
        elif signed.root_hash != stored.root_hash:
            message = f"{where}: the stored root hash differs from the signed note"
        elif signed.root_hash != root:
            message = f"{where}: the signed root hash does not match the entries"
        else:
            self.verified += 1
            return
        self._report(Finding("checkpoint", stored.size, message))


def verify(
    session: Session,
    *,
    verifier: NoteVerifier,
    hasher: TreeHasher | None = None,
    origin: str | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> VerifyReport:
    """Recompute the whole ledger from its entry texts and check it against every checkpoint.

    ``verifier`` is the log's public key (checkpoint signatures are the only
    thing trusted); ``hasher``, if given, must be the one the ledger records;
    ``origin``, if given, must be every checkpoint's. Entries are read
    ``chunk`` at a time, so memory stays bounded at any size.
    """
    started = time.perf_counter()
    recorded = _require_hasher(session, hasher)
    hash_leaf = recorded.hash_leaf
    findings: list[Finding] = []

    def report(finding: Finding) -> None:
        if len(findings) < _MAX_FINDINGS:
            findings.append(finding)

    size = _evidence_size(session)
    connection = session.connection()
    frontier = Frontier(hasher=recorded)
    checker = _Checker(stored_checkpoints(session), verifier, origin, recorded, report)
    checker.reached(frontier)
    bad_entry: Finding | None = None
    while bad_entry is None and frontier.size < size:
        # Core, not the ORM: plain rows, a third cheaper per entry.
        rows: Sequence[Any] = connection.execute(
            select(EntryRow.seq, EntryRow.entry, EntryRow.leaf_hash, EntryRow.person_id)
            .where(EntryRow.seq >= frontier.size, EntryRow.seq < size)
            .order_by(EntryRow.seq)
            .limit(chunk)
        ).all()
        if not rows:
            break
        stored_nodes = _nodes_completed(connection, frontier.size, rows[-1].seq)
        for row in rows:
            bad_entry = _check_entry(frontier.size, row, hash_leaf)
            if bad_entry is not None:
                break
            for node in frontier.append(bytes(row.leaf_hash))[1:]:
                stored = stored_nodes.get(node.key)
                if stored != node.hash:
                    state = "missing" if stored is None else "altered"
                    end = (node.index + 1) << node.level
                    report(
                        Finding(
                            "node",
                            node.index << node.level,
                            f"the stored hash of entries {node.index << node.level}..{end - 1} "
                            f"(subtree level {node.level}) is {state}",
                        )
                    )
            checker.reached(frontier)
    if bad_entry is None and frontier.size < size:
        bad_entry = Finding(
            "entry",
            frontier.size,
            f"entry {frontier.size} is missing (deleted): checkpoints or stored hashes attest "
            f"{size} entries",
        )
    if bad_entry is not None:
        findings.insert(0, bad_entry)
    # A bad entry first, then the rest in the order they were met.
    return VerifyReport(
        hash_name=recorded.name,
        size=size,
        entries_verified=frontier.size,
        checkpoints_verified=checker.verified,
        checkpoints_unchecked=checker.waiting,
        findings=tuple(findings),
        seconds=time.perf_counter() - started,
    )


def _check_entry(expected: int, row: Any, hash_leaf: Callable[[bytes], bytes]) -> Finding | None:
    """The problem with ``row`` (seq, entry, leaf_hash, person_id) where ``expected`` belongs."""
    seq = row.seq
    if seq != expected:
        return Finding("entry", expected, f"entry {expected} is missing (deleted)")
    data = row.entry.encode("utf-8")
    if hash_leaf(data) != bytes(row.leaf_hash):
        return Finding(
            "entry", seq, f"entry {seq} was altered: its text does not hash to its leaf hash"
        )
    try:
        document = json.loads(data)
        claimed, person_id = document["seq"], document["person_id"]
    except (ValueError, TypeError, KeyError):
        return Finding("entry", seq, f"entry {seq} is not a ledger entry")
    if not isinstance(claimed, int) or isinstance(claimed, bool):
        return Finding("entry", seq, f"entry {seq} has no sequence number")
    if claimed != seq:
        return Finding("entry", seq, f"entry {seq} was moved: its text is that of entry {claimed}")
    if person_id != row.person_id:
        return Finding("entry", seq, f"entry {seq}: the indexed person id differs from its text")
    return None
