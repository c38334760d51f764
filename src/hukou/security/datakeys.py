"""Envelope encryption: data keys per purpose, wrapped by the master key, and crypto-shredding.

The key file's keys are *master keys*: they never encrypt a value, only data
keys. A data key is a random SM4 key for one **scope**, the purpose a value is
kept for (``registry.record``, ``registry.person``, ``accounts.user``: the first
two parts of the value's encryption context), and optionally one **subject**
within it (a feed batch, an account) when that subject's values must be
erasable on their own. Data keys are stored in ``security_data_key`` wrapped
with SM4-GCM under the active master key, the associated data binding the
wrapped key to its id, scope and subject (a wrapped key copied onto another
row does not unwrap).

What this buys:

- **Master-key rotation is cheap**: ``hukou keys reencrypt`` re-wraps the data
  keys (one row per scope or subject, kilobytes), never the values.
- **Crypto-shredding**: :meth:`DataKeys.shred` destroys a subject's data key;
  every value encrypted under it, in any table, WAL, replica or backup, can no
  longer be decrypted with the live keys. A backup still holds the wrapped key
  too, under the master key of its day: retiring that master key (after the
  backups' retention) finishes the erasure there (``docs/security.md``).

Purpose-wide keys are cached for the life of the process (they are never
shredded); a subject's key for ``subject_ttl`` seconds (60 by default), so a
key shredded by another process stops working here within that time. A shred
in this process drops the key from every store's cache at once.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hukou.security.keys import KeyRing
from hukou.security.model import DataKeyRow
from hukou.security.sm import KEY_SIZE, NONCE_SIZE, SM4GCM, DecryptionError

__all__ = [
    "DataKey",
    "DataKeyCensus",
    "DataKeys",
    "ShreddedKeyError",
    "UnknownDataKeyError",
    "data_key_census",
    "scope_of",
]

_SCOPE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
_MAX_SUBJECT = 64
_WRAP_LABEL = b"hukou.data-key\0"
DEFAULT_SUBJECT_TTL = 60.0
"""Seconds a subject's data key stays cached: how long a shred elsewhere may take to bite here."""


class ShreddedKeyError(DecryptionError):
    """The value's data key was shredded: the value is erased, by design."""


class UnknownDataKeyError(DecryptionError):
    """No such data key, or its master key is not in the key ring (retired, another ring)."""


@lru_cache(maxsize=512)  # contexts are code constants: decryption asks for the same few
def scope_of(context: str) -> str:
    """The data-key scope of an encryption context: its first two parts.

    >>> scope_of("registry.record.phone"), scope_of("accounts.user.totp_secret")
    ('registry.record', 'accounts.user')
    >>> scope_of("phone")
    Traceback (most recent call last):
    ...
    ValueError: context 'phone' has no scope: expected '<capability>.<purpose>[.<field>]'
    """
    scope = ".".join(context.split(".")[:2])
    if not _SCOPE.fullmatch(scope) or len(scope) > 64:
        raise ValueError(
            f"context {context!r} has no scope: expected '<capability>.<purpose>[.<field>]'"
        )
    return scope


def _check_subject(subject: str) -> str:
    if len(subject) > _MAX_SUBJECT or "\0" in subject:
        raise ValueError(f"a data-key subject is at most {_MAX_SUBJECT} characters, without NUL")
    return subject


def _aad(key_id: str, scope: str, subject: str) -> bytes:
    return _WRAP_LABEL + f"{key_id}\0{scope}\0{subject}".encode()


@dataclass(frozen=True, slots=True)
class DataKey:
    """An unwrapped data key: its id, what it protects, and the cipher keyed with it."""

    id: str
    scope: str
    subject: str
    cipher: SM4GCM = field(repr=False)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a DataKey cannot be pickled, so that key material never lands in one")


@dataclass(frozen=True, slots=True)
class DataKeyCensus:
    """Live data keys per master key id, and live/shredded keys per scope."""

    by_master: Counter[str]
    live: Counter[str]  # scope → live keys
    shredded: Counter[str]  # scope → shredded keys


_Cached = tuple[DataKey, float]  # the key and when it expires (monotonic seconds)
_STORES: weakref.WeakSet[DataKeys] = weakref.WeakSet()


class DataKeys:
    """The data keys of one database, wrapped and unwrapped with one key ring.

    Share one per process and key ring: it caches unwrapped keys. Each lookup
    or creation is its own short transaction, except :meth:`shred`, which can
    join the caller's (so that deleting rows and shredding their key commit
    together). Create a subject's key (:meth:`current`) *before* the caller's
    own write transaction begins: on SQLite a second writer waits for the first.
    """

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        *,
        subject_ttl: float = DEFAULT_SUBJECT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ring = keyring
        self._masters = {key_id: SM4GCM(keyring.key(key_id)) for key_id in keyring.key_ids}
        self._ttl = subject_ttl
        self._clock = clock
        self._by_id: dict[str, _Cached] = {}
        self._by_subject: dict[tuple[str, str], _Cached] = {}
        self._lock = threading.Lock()
        _STORES.add(self)

    def __repr__(self) -> str:
        return f"DataKeys({self._ring!r}, cached={len(self._by_id)})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("DataKeys cannot be pickled: build one in each process")

    @property
    def keyring(self) -> KeyRing:
        """The key ring whose master keys wrap the data keys."""
        return self._ring

    @property
    def engine(self) -> Engine:
        """The database that stores the wrapped keys."""
        return self._engine

    # --- the cache ----------------------------------------------------------------

    def _remember(self, key: DataKey) -> DataKey:
        expires = float("inf") if not key.subject else self._clock() + self._ttl
        with self._lock:
            self._by_id[key.id] = (key, expires)
            self._by_subject[(key.scope, key.subject)] = (key, expires)
        return key

    def _cached(self, cache: dict[Any, _Cached], lookup: object) -> DataKey | None:
        found = cache.get(lookup)
        if found is None:
            return None
        key, expires = found
        if self._clock() < expires:
            return key
        self._forget(key.scope, key.subject, key.id)
        return None

    def _forget(self, scope: str, subject: str, key_id: str | None = None) -> None:
        with self._lock:
            cached = self._by_subject.pop((scope, subject), None)
            for stale in {key_id, cached[0].id if cached else None} - {None}:
                self._by_id.pop(str(stale), None)

    # --- wrapping -----------------------------------------------------------------

    def _wrap(self, key_id: str, scope: str, subject: str, secret: bytes) -> tuple[str, bytes]:
        master_id = self._ring.active_key_id
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._masters[master_id].encrypt(nonce, secret, _aad(key_id, scope, subject))
        return master_id, nonce + sealed

    def _secret(self, row: Any) -> bytes:
        """The raw data key of ``row``; refused if shredded, of an unknown master or altered."""
        if row.shredded_at is not None or row.wrapped is None:
            raise ShreddedKeyError(
                f"the data key {row.id} ({row.scope}, subject {row.subject or '-'}) was "
                f"shredded at {row.shredded_at:%Y-%m-%d %H:%M} UTC: its values are erased"
                if row.shredded_at is not None
                else f"the data key {row.id} holds no key"
            )
        master = self._masters.get(row.master_key_id)
        if master is None:
            raise UnknownDataKeyError(
                f"the data key {row.id} is wrapped by master key {row.master_key_id!r}, "
                "which is not in the key ring"
            )
        blob = bytes(row.wrapped)
        secret = master.decrypt(
            blob[:NONCE_SIZE], blob[NONCE_SIZE:], _aad(row.id, row.scope, row.subject)
        )
        if len(secret) != KEY_SIZE:  # authentic yet wrong: only with a leaked master key
            raise DecryptionError(f"the data key {row.id} does not unwrap to an SM4 key")
        return secret

    def _unwrap(self, row: Any) -> DataKey:
        return DataKey(row.id, row.scope, row.subject, SM4GCM(self._secret(row)))

    # --- finding and creating keys ---------------------------------------------------

    _COLUMNS = (
        DataKeyRow.id,
        DataKeyRow.scope,
        DataKeyRow.subject,
        DataKeyRow.master_key_id,
        DataKeyRow.wrapped,
        DataKeyRow.shredded_at,
    )

    def _row(self, *conditions: sa.ColumnElement[bool]) -> Any:
        with self._engine.connect() as connection:
            return connection.execute(sa.select(*self._COLUMNS).where(*conditions)).first()

    def current(self, scope: str, subject: str = "") -> DataKey:
        """The key that encrypts new values of ``scope`` (and ``subject``); created if none.

        :class:`ShreddedKeyError` if that subject's key was shredded: nothing new
        is encrypted for an erased subject.
        """
        if not _SCOPE.fullmatch(scope):
            raise ValueError(f"not a data-key scope: {scope!r}")
        _check_subject(subject)
        cached = self._cached(self._by_subject, (scope, subject))
        if cached is not None:
            return cached
        where = (DataKeyRow.scope == scope, DataKeyRow.subject == subject)
        row = self._row(*where)
        if row is None:
            key_id = "d" + secrets.token_hex(8)
            secret = secrets.token_bytes(KEY_SIZE)
            master_id, wrapped = self._wrap(key_id, scope, subject, secret)
            try:
                with self._engine.begin() as connection:
                    connection.execute(
                        sa.insert(DataKeyRow).values(
                            id=key_id,
                            scope=scope,
                            subject=subject,
                            master_key_id=master_id,
                            wrapped=wrapped,
                            created_at=datetime.datetime.now(datetime.UTC),
                            shredded_at=None,
                        )
                    )
            except IntegrityError:  # another process created it first: use theirs
                row = self._row(*where)
            else:
                return self._remember(DataKey(key_id, scope, subject, SM4GCM(secret)))
        return self._remember(self._unwrap(row))

    def get(self, key_id: str) -> DataKey:
        """The data key with this id, to decrypt; :class:`ShreddedKeyError` once shredded."""
        cached = self._cached(self._by_id, key_id)
        if cached is not None:
            return cached
        row = self._row(DataKeyRow.id == key_id)
        if row is None:
            raise UnknownDataKeyError(f"no data key {key_id!r} in this database")
        return self._remember(self._unwrap(row))

    # --- shredding ------------------------------------------------------------------

    def shred(
        self, scope: str, subjects: Collection[str], *, connection: Connection | None = None
    ) -> int:
        """Destroy the data keys of ``subjects`` in ``scope``; how many were live.

        The rows stay as tombstones (id, scope, subject, when): a token of a
        shredded key then says it was erased. A purpose-wide key (subject ``''``)
        is never shredded here: that would erase every value of the purpose.
        Pass ``connection`` to shred in the caller's transaction.
        """
        if "" in subjects:
            raise ValueError("a purpose-wide data key cannot be shredded, only a subject's")
        for subject in subjects:
            _check_subject(subject)
        if not subjects:
            return 0
        statement = (
            sa.update(DataKeyRow)
            .where(
                DataKeyRow.scope == scope,
                DataKeyRow.subject.in_(list(subjects)),
                DataKeyRow.shredded_at.is_(None),
            )
            .values(
                wrapped=None,
                master_key_id=None,
                shredded_at=datetime.datetime.now(datetime.UTC),
            )
        )
        if connection is not None:
            count = connection.execute(statement).rowcount
        else:
            with self._engine.begin() as own:
                count = own.execute(statement).rowcount
        for store in list(_STORES):  # every cache of this process, not only this one's
            if store._engine.url == self._engine.url:
                for subject in subjects:
                    store._forget(scope, subject)
        return int(count)

    # --- master-key rotation --------------------------------------------------------

    def rewrap(
        self, *, batch_size: int = 500, on_batch: Callable[[int], None] | None = None
    ) -> int:
        """Wrap every live data key under the active master key; how many were re-wrapped.

        In batches, each its own transaction, compare-and-swap on the old master
        key id (a concurrent re-wrap is harmless): safe while serving, resumable.
        """
        active = self._ring.active_key_id
        rewrapped = 0
        after = ""
        while True:
            with self._engine.begin() as connection:
                rows = connection.execute(
                    sa.select(*self._COLUMNS)
                    .where(
                        DataKeyRow.master_key_id.is_not(None),
                        DataKeyRow.master_key_id != active,
                        DataKeyRow.id > after,
                    )
                    .order_by(DataKeyRow.id)
                    .limit(batch_size)
                ).all()
                for row in rows:
                    secret = self._secret(row)
                    master_id, wrapped = self._wrap(row.id, row.scope, row.subject, secret)
                    rewrapped += connection.execute(
                        sa.update(DataKeyRow)
                        .where(
                            DataKeyRow.id == row.id,
                            DataKeyRow.master_key_id == row.master_key_id,
                        )
                        .values(master_key_id=master_id, wrapped=wrapped)
                    ).rowcount
            if on_batch is not None and rows:
                on_batch(rewrapped)
            if len(rows) < batch_size:
                return rewrapped
            after = rows[-1].id


def data_key_census(engine: Engine) -> DataKeyCensus:
    """Live data keys per master key id (a master key wrapping none may be retired), per scope.

    Reads no key material; absent table (a database not migrated yet): no keys.
    """
    if not sa.inspect(engine).has_table(DataKeyRow.__tablename__):
        return DataKeyCensus(Counter(), Counter(), Counter())
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                DataKeyRow.scope,
                DataKeyRow.master_key_id,
                sa.func.count(),
            ).group_by(DataKeyRow.scope, DataKeyRow.master_key_id)
        ).all()
    by_master: Counter[str] = Counter()
    live: Counter[str] = Counter()
    shredded: Counter[str] = Counter()
    for scope, master_id, count in rows:
        if master_id is None:  # shredding clears the master key id
            shredded[scope] += count
        else:
            live[scope] += count
            by_master[str(master_id)] += count
    return DataKeyCensus(by_master, live, shredded)
