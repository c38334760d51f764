"""Rotate master keys: re-wrap data keys, re-encrypt stored tokens, count them, retire keys.

With envelope encryption (:mod:`hukou.security.datakeys`) a master-key rotation
re-wraps the data keys (one row each) and re-encrypts only ``v1`` tokens, those
written with a master key directly before data keys existed, moving them to
their purpose's data key. Without data keys (a cipher built on the ring alone)
it re-encrypts every token of an old master key under the active one.

Rotation is only finished when no stored token and no data key uses the old
key any more; until then the old key must stay in every key file. This module
walks the columns the capabilities declare (:mod:`hukou.security.columns`) and
knows nothing else about them, so it works for any table that holds tokens.

How it stays safe while the platform keeps serving:

- **Small transactions.** Rows are read and rewritten ``batch_size`` at a time
  (2,000 by default), one transaction per batch, paging by primary key
  (``WHERE pk > :last ORDER BY pk LIMIT n``, keyset pagination): no lock is held
  longer than one batch, and the cost per batch does not grow with the table.
- **Only rows that need it.** The query asks for rows whose text contains a
  token to rotate (``LIKE '%sm4gcm:v1:%'``, or ``'%sm4gcm:v1:<old id>:%'``). A row rewritten by a
  committed batch no longer matches, so a run that crashed or was stopped is
  simply started again and picks up what is left.
- **Compare and swap.** Each row is written back with ``WHERE pk = :pk AND
  column = :value read``: if the application changed the row in between, the
  write matches nothing and the newer value wins; the row is counted as
  ``changed_meanwhile`` and left for the next run (a node still encrypting with
  the old key is found the same way).
- **Decrypt before re-encrypting.** :meth:`FieldCipher.reencrypt` opens every
  token with its context first, so a corrupt, misplaced or foreign token is
  reported (table, column, row key, what is wrong; never a value) instead of
  being copied under the new key. Such a row is left untouched.

JSON columns are rewritten in place: each old token's quoted text is replaced
by the new token's, so the rest of the document (key order, spacing) is
byte-for-byte what the application wrote.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from hukou.security.columns import EncryptedColumn
from hukou.security.datakeys import DataKeyCensus, data_key_census
from hukou.security.fields import TOKEN_MARK, FieldCipher
from hukou.security.keys import KEY_ID_PATTERN, KeyRing, retire
from hukou.security.sm import DecryptionError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ColumnReport",
    "KeyInUseError",
    "KeyState",
    "KeyStatus",
    "MasterKeyStatus",
    "ReencryptReport",
    "RowFailure",
    "ScopeStatus",
    "TokenCensus",
    "census",
    "key_status",
    "reencrypt",
    "retire_unused_key",
]

DEFAULT_BATCH_SIZE = 2_000
"""Rows per transaction: a fraction of a second of work, so locks stay short."""

_TOKEN_KEY_ID = re.compile(rf"{re.escape(TOKEN_MARK)}(v1|v2):({KEY_ID_PATTERN}):")
_DATA_KEYS = "security_data_key (wrapped data keys)"


class KeyInUseError(RuntimeError):
    """A key cannot be retired: stored tokens still use it (``columns``: where, how many)."""

    def __init__(self, key_id: str, columns: Mapping[str, int]) -> None:
        self.key_id = key_id
        self.columns = dict(columns)
        where = ", ".join(f"{name}: {count}" for name, count in self.columns.items())
        super().__init__(
            f"key {key_id!r} is still used by {sum(self.columns.values())} stored tokens "
            f"({where}); run the re-encryption first"
        )


@dataclass(frozen=True, slots=True)
class RowFailure:
    """A row whose tokens could not be re-encrypted; ``problem`` never holds a value."""

    table: str
    column: str
    row_key: str
    problem: str


@dataclass(slots=True)
class ColumnReport:
    """What one column's walk did so far (running totals; reported after each batch)."""

    table: str
    column: str
    present: bool = True  # False when the table does not exist in this database
    batches: int = 0
    scanned: int = 0  # rows read: those holding a token of an old key
    rewritten: int = 0  # rows written back with every token under the active key
    tokens: int = 0  # tokens re-encrypted in those rows
    changed_meanwhile: int = 0  # rows the application changed between read and write
    failures: list[RowFailure] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``table.column``."""
        return f"{self.table}.{self.column}"


@dataclass(slots=True)
class ReencryptReport:
    """The outcome of a run: per column, and whether it went to the end."""

    active_key_id: str
    old_key_ids: tuple[str, ...]
    columns: list[ColumnReport]
    complete: bool = True  # False when stopped early (``max_batches``)
    data_keys_rewrapped: int = 0  # data keys moved under the active master key

    @property
    def failures(self) -> list[RowFailure]:
        """Every row that could not be re-encrypted."""
        return [failure for column in self.columns for failure in column.failures]

    @property
    def finished(self) -> bool:
        """Whether every row seen now uses the active key (nothing stopped, failed or raced)."""
        return (
            self.complete
            and not self.failures
            and not any(column.changed_meanwhile for column in self.columns)
        )

    def by_table(self) -> dict[str, tuple[int, int]]:
        """Table → (rows scanned, rows rewritten), over all its columns."""
        totals: dict[str, tuple[int, int]] = {}
        for column in self.columns:
            scanned, rewritten = totals.get(column.table, (0, 0))
            totals[column.table] = (scanned + column.scanned, rewritten + column.rewritten)
        return totals


@dataclass(frozen=True, slots=True)
class TokenCensus:
    """How many stored tokens each key encrypted, per declared column.

    ``columns`` counts ``v1`` tokens by master key id (what retiring a master
    key waits for); ``data_key_tokens`` counts ``v2`` tokens by data key id.
    """

    columns: Mapping[str, Counter[str]]  # "table.column" → master key id → v1 tokens
    absent: tuple[str, ...] = ()  # declared tables missing from this database
    data_key_tokens: Mapping[str, Counter[str]] = field(default_factory=dict)

    def by_key(self) -> Counter[str]:
        """Key id → tokens over every column."""
        total: Counter[str] = Counter()
        for counts in self.columns.values():
            total.update(counts)
        return total

    def using(self, key_id: str) -> dict[str, int]:
        """``table.column`` → tokens of ``key_id``, for the columns that hold any."""
        return {name: counts[key_id] for name, counts in self.columns.items() if counts[key_id]}


# --- the walk -----------------------------------------------------------------------


def _table(column: EncryptedColumn) -> sa.TableClause:
    names = (column.primary_key, column.column, column.subject_column)
    return sa.table(column.table, *(sa.column(name) for name in names if name))


def _exists(engine: Engine, table: str) -> bool:
    return sa.inspect(engine).has_table(table)


def _fetch(
    connection: sa.Connection,
    table: sa.TableClause,
    column: EncryptedColumn,
    *,
    condition: sa.ColumnElement[bool],
    after: object,
    batch_size: int,
) -> list[tuple[Any, Any, str]]:
    """The next ``batch_size`` ``(key, text, subject)`` rows matching ``condition``
    after key ``after`` (subject ``''`` without a subject column)."""
    key, value = table.c[column.primary_key], table.c[column.column]
    subject = table.c[column.subject_column] if column.subject_column else sa.literal("")
    query = sa.select(key, value, subject).where(condition)
    if after is not None:
        query = query.where(key > after)
    rows = connection.execute(query.order_by(key).limit(batch_size))
    return [(row[0], row[1], str(row[2] or "")) for row in rows]


def _strings(value: object) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _rewrite(
    text: str, column: EncryptedColumn, cipher: FieldCipher, subject: str = ""
) -> tuple[str, int]:
    """``text`` with each token to rotate re-encrypted; and how many were."""
    if not column.is_json:
        if not cipher.needs_rotation(text):
            return text, 0
        return cipher.reencrypt(text, context=column.context_for(), subject=subject), 1
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("not valid JSON") from None
    document = column.keyed(document)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object: a token's context comes from its key")
    fresh: dict[str, str] = {}
    for name, value in document.items():
        for token in _strings(value):
            if token.startswith(TOKEN_MARK) and cipher.needs_rotation(token):
                fresh[token] = cipher.reencrypt(
                    token, context=column.context_for(name), subject=subject
                )
    for old, new in fresh.items():  # tokens need no JSON escaping: quoted text is exact
        text = text.replace(f'"{old}"', f'"{new}"')
    return text, len(fresh)


def _old_tokens_left(text: str, prefixes: Sequence[str]) -> bool:
    return any(prefix in text for prefix in prefixes)


def _walk_column(
    engine: Engine,
    column: EncryptedColumn,
    cipher: FieldCipher,
    *,
    prefixes: Sequence[str],
    batch_size: int,
    budget: list[int | None],
    on_batch: Callable[[ColumnReport], None] | None,
) -> ColumnReport:
    report = ColumnReport(column.table, column.column)
    if not _exists(engine, column.table):
        report.present = False
        return report
    table = _table(column)
    key, value = table.c[column.primary_key], table.c[column.column]
    # Over-matching is harmless (SQLite's LIKE ignores case, '_' matches any character):
    # every row is checked again in Python.
    condition = sa.or_(*(value.like(f"%{prefix}%") for prefix in prefixes))
    swap = (
        sa.update(table)
        .where(key == sa.bindparam("b_key"), value == sa.bindparam("b_old"))
        .values({column.column: sa.bindparam("b_new")})
    )
    after: object = None
    while budget[0] is None or budget[0] > 0:
        with engine.begin() as connection:  # one batch, one short transaction
            rows = _fetch(
                connection, table, column, condition=condition, after=after, batch_size=batch_size
            )
            if not rows:
                break
            updates: list[dict[str, object]] = []
            for row_key, text, subject in rows:
                report.scanned += 1
                try:
                    new, tokens = _rewrite(str(text), column, cipher, subject)
                    if _old_tokens_left(new, prefixes):
                        raise ValueError("a token of an old key is inside a text, not a value")
                except (DecryptionError, ValueError) as error:
                    report.failures.append(
                        RowFailure(
                            column.table,
                            column.column,
                            str(row_key),
                            f"{type(error).__name__}: {error}",
                        )
                    )
                    continue
                if tokens:
                    report.tokens += tokens
                    updates.append({"b_key": row_key, "b_old": text, "b_new": new})
            if updates:
                written = connection.execute(swap, updates).rowcount
                report.rewritten += written
                report.changed_meanwhile += len(updates) - written
        report.batches += 1
        if budget[0] is not None:
            budget[0] -= 1
        if on_batch is not None:
            on_batch(report)
        if len(rows) < batch_size:
            break
        after = rows[-1][0]
    return report


def reencrypt(
    engine: Engine,
    cipher: FieldCipher,
    columns: Sequence[EncryptedColumn],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int | None = None,
    on_batch: Callable[[ColumnReport], None] | None = None,
) -> ReencryptReport:
    """Re-wrap the data keys under the active master key, then re-encrypt every
    token of ``columns`` that :meth:`FieldCipher.needs_rotation`.

    ``max_batches`` stops after that many committed batches (over all columns):
    to spread the work over several quiet hours, run it again later. A run that
    stopped, crashed or was killed is resumed by running it again. ``on_batch``
    is called after each committed batch with the column's running report.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    active = cipher.keyring.active_key_id
    old = tuple(key_id for key_id in cipher.keyring.key_ids if key_id != active)
    report = ReencryptReport(active, old, [])
    if cipher.data_keys is not None:
        report.data_keys_rewrapped = cipher.data_keys.rewrap(batch_size=batch_size)
    prefixes = cipher.rotation_prefixes()
    if not prefixes:  # a ring with one key: every readable token already uses it
        report.columns = [ColumnReport(c.table, c.column) for c in columns]
        return report
    budget: list[int | None] = [max_batches]
    for column in columns:
        if budget[0] is not None and budget[0] <= 0:
            report.complete = False
            report.columns.append(ColumnReport(column.table, column.column))
            continue
        report.columns.append(
            _walk_column(
                engine,
                column,
                cipher,
                prefixes=prefixes,
                batch_size=batch_size,
                budget=budget,
                on_batch=on_batch,
            )
        )
    if budget[0] is not None and budget[0] <= 0:
        # Out of budget: complete only if no token to rotate is left.
        left = census(engine, columns).by_key()
        if cipher.data_keys is not None:
            report.complete = not any(left.values())
        else:
            report.complete = not any(left[key_id] for key_id in old)
    return report


# --- counting and retiring ------------------------------------------------------------


def census(
    engine: Engine, columns: Sequence[EncryptedColumn], *, batch_size: int = 5_000
) -> TokenCensus:
    """Count the stored tokens of each key id, per column (nothing is decrypted).

    Reads every row holding a token, a batch per transaction; tokens inside JSON
    are each counted. Key ids the key ring no longer holds show up too: their
    tokens are already unreadable.
    """
    counts: dict[str, Counter[str]] = {}
    data_counts: dict[str, Counter[str]] = {}
    absent: list[str] = []
    for column in columns:
        name = f"{column.table}.{column.column}"
        if not _exists(engine, column.table):
            absent.append(name)
            continue
        found: Counter[str] = Counter()
        found_data: Counter[str] = Counter()
        table = _table(column)
        condition = table.c[column.column].like(f"%{TOKEN_MARK}%")
        after: object = None
        while True:
            with engine.begin() as connection:
                rows = _fetch(
                    connection,
                    table,
                    column,
                    condition=condition,
                    after=after,
                    batch_size=batch_size,
                )
            for _key, text, _subject in rows:
                for match in _TOKEN_KEY_ID.finditer(str(text)):
                    version, key_id = match.groups()
                    (found if version == "v1" else found_data)[key_id] += 1
            if len(rows) < batch_size:
                break
            after = rows[-1][0]
        counts[name] = found
        data_counts[name] = found_data
    return TokenCensus(counts, tuple(absent), data_counts)


def retire_unused_key(
    engine: Engine,
    columns: Sequence[EncryptedColumn],
    path: str | os.PathLike[str],
    key_id: str,
) -> KeyRing:
    """Remove ``key_id`` from the key file, refusing (:class:`KeyInUseError`) while any
    stored token of ``columns`` or any data key uses it.

    Every node must already run with a key file whose active key is another one:
    a node still encrypting with ``key_id`` would write tokens nobody can read.
    """
    KeyRing.from_file(path).without_key(key_id)  # the active or an unknown key: refused now
    using = census(engine, columns).using(key_id)
    wrapped = data_key_census(engine).by_master[key_id]
    if wrapped:
        using[_DATA_KEYS] = wrapped
    if using:
        raise KeyInUseError(key_id, using)
    return retire(path, key_id)


# --- status ---------------------------------------------------------------------------


class KeyState(StrEnum):
    """Where a master key stands in a rotation."""

    ACTIVE = "active"  # encrypts (wraps) from now on
    MISSING = "missing"  # used, but not in the key ring: what it protects cannot be read
    IN_USE = "in_use"  # old, still wraps data keys or encrypted v1 tokens: re-encrypt
    UNUSED = "unused"  # old and used by nothing: may be retired
    UNCOUNTED = "uncounted"  # old, wraps no data key; its v1 tokens were not counted


@dataclass(frozen=True, slots=True)
class MasterKeyStatus:
    """One master key: the data keys it wraps, its v1 tokens (``None``: not counted)."""

    key_id: str
    data_keys: int
    v1_tokens: int | None
    state: KeyState


@dataclass(frozen=True, slots=True)
class ScopeStatus:
    """One data-key scope (a purpose): live and crypto-shredded data keys."""

    scope: str
    live: int
    shredded: int


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """What ``hukou keys status`` and the console's keys page show: one computation."""

    active_key_id: str
    master_keys: tuple[MasterKeyStatus, ...]
    scopes: tuple[ScopeStatus, ...]
    tokens: TokenCensus | None

    def with_state(self, state: KeyState) -> tuple[str, ...]:
        """The ids of the master keys in ``state``."""
        return tuple(key.key_id for key in self.master_keys if key.state is state)


def _master_key(
    key_id: str, ring: KeyRing, data_keys: int, v1_tokens: int | None
) -> MasterKeyStatus:
    if key_id == ring.active_key_id:
        state = KeyState.ACTIVE
    elif key_id not in ring:
        state = KeyState.MISSING
    elif data_keys or v1_tokens:
        state = KeyState.IN_USE
    else:
        state = KeyState.UNCOUNTED if v1_tokens is None else KeyState.UNUSED
    return MasterKeyStatus(key_id, data_keys, v1_tokens, state)


def key_status(ring: KeyRing, keys: DataKeyCensus, tokens: TokenCensus | None = None) -> KeyStatus:
    """Per master key (the ring's and any other one still in use) its data keys, v1
    tokens and state; per scope its live and shredded data keys. Pure: the callers count.

    Without ``tokens`` (the token census reads every encrypted row, so a page runs it
    on request only) a key wrapping no data key is ``uncounted``, never ``unused``:
    retiring it could still strand a v1 token.
    """
    by_key = Counter[str]() if tokens is None else tokens.by_key()
    ids = sorted(set(ring.key_ids) | set(by_key) | set(keys.by_master))
    master = tuple(
        _master_key(
            key_id, ring, keys.by_master[key_id], None if tokens is None else by_key[key_id]
        )
        for key_id in ids
    )
    scopes = tuple(
        ScopeStatus(scope, keys.live[scope], keys.shredded[scope])
        for scope in sorted(set(keys.live) | set(keys.shredded))
    )
    return KeyStatus(ring.active_key_id, master, scopes, tokens)
