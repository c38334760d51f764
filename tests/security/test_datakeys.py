"""Envelope encryption and crypto-shredding, on SQLite and PostgreSQL.

Data keys are random, stored only wrapped by a master key, bound to their id,
scope and subject; a shredded key makes its values unreadable everywhere,
including in a copy of the database taken before (once the master key of that
copy's day is retired); master-key rotation re-wraps keys and touches no value.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from hukou.db import create_engine_for, upgrade
from hukou.security import (
    DATA_KEY_PREFIX,
    DataKeys,
    DecryptionError,
    FieldCipher,
    KeyRing,
    ShreddedKeyError,
    UnknownDataKeyError,
    UnknownKeyError,
)
from hukou.security.datakeys import data_key_census
from hukou.security.model import DataKeyRow

pytestmark = pytest.mark.storage

CONTEXT = "registry.quarantine.raw"
NUMBER = "11010519491231002X"


def _rows(engine: Engine) -> list[sa.Row[tuple[str, str, str, str | None, bytes | None]]]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(
                    DataKeyRow.id,
                    DataKeyRow.scope,
                    DataKeyRow.subject,
                    DataKeyRow.master_key_id,
                    DataKeyRow.wrapped,
                ).order_by(DataKeyRow.scope, DataKeyRow.subject)
            )
        )


def test_values_are_encrypted_with_a_data_key_per_purpose_stored_only_wrapped(
    engine: Engine,
) -> None:
    ring = KeyRing.generate("k2026a")
    cipher = FieldCipher(ring, DataKeys(engine, ring))
    record = cipher.encrypt(NUMBER, context="registry.record.identity_number")
    phone = cipher.encrypt("13800138000", context="registry.record.phone")
    person = cipher.encrypt(NUMBER, context="registry.person.identity_number")
    assert all(t.startswith(DATA_KEY_PREFIX) for t in (record, phone, person))
    # One key per purpose: the record's fields share one, the person has another.
    assert cipher.key_id(record) == cipher.key_id(phone) != cipher.key_id(person)
    rows = _rows(engine)
    assert [(r.scope, r.subject, r.master_key_id) for r in rows] == [
        ("registry.person", "", "k2026a"),
        ("registry.record", "", "k2026a"),
    ]
    # Stored wrapped: nonce, the 16-byte key and the tag; the raw key is nowhere.
    assert all(len(bytes(r.wrapped or b"")) == 12 + 16 + 16 for r in rows)
    # Another process (a fresh store, no cache) reads the same values.
    again = FieldCipher(ring, DataKeys(engine, ring))
    assert again.decrypt(record, context="registry.record.identity_number") == NUMBER
    assert again.decrypt(person, context="registry.person.identity_number") == NUMBER
    # Without the data keys, or with another ring's, a v2 token is refused.
    with pytest.raises(UnknownKeyError, match="no data keys"):
        FieldCipher(ring).decrypt(record, context="registry.record.identity_number")
    other = KeyRing.generate("k2026a")
    with pytest.raises(UnknownDataKeyError, match=r"no data key .* in this database"):
        DataKeys(engine, other).get("dffffffffffffffff")
    with pytest.raises(DecryptionError):  # same key id, another master: unwrap fails
        FieldCipher(other, DataKeys(engine, other)).decrypt(
            record, context="registry.record.identity_number"
        )


def test_a_wrapped_key_copied_to_another_row_does_not_unwrap(engine: Engine) -> None:
    ring = KeyRing.generate("k2026a")
    keys = DataKeys(engine, ring)
    token = FieldCipher(ring, keys).encrypt("a", context=CONTEXT, subject="batch-a")
    FieldCipher(ring, keys).encrypt("b", context=CONTEXT, subject="batch-b")
    rows = {r.subject: r for r in _rows(engine)}
    with engine.begin() as connection:  # batch-a's key now holds batch-b's wrapped key
        connection.execute(
            sa.update(DataKeyRow)
            .where(DataKeyRow.id == rows["batch-a"].id)
            .values(wrapped=rows["batch-b"].wrapped)
        )
    with pytest.raises(DecryptionError, match="authentication failed"):
        FieldCipher(ring, DataKeys(engine, ring)).decrypt(token, context=CONTEXT)


def test_a_token_is_bound_to_its_purpose(engine: Engine) -> None:
    ring = KeyRing.generate("k2026a")
    cipher = FieldCipher(ring, DataKeys(engine, ring))
    token = cipher.encrypt(NUMBER, context="registry.record.identity_number")
    with pytest.raises(DecryptionError, match="another purpose"):
        cipher.decrypt(token, context="registry.person.identity_number")
    with pytest.raises(DecryptionError, match="authentication failed"):  # same purpose, field
        cipher.decrypt(token, context="registry.record.phone")


def test_processes_racing_to_create_a_purpose_key_agree_on_one(engine: Engine) -> None:
    ring = KeyRing.generate("k2026a")
    stores = [DataKeys(engine, ring) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        keys = list(pool.map(lambda store: store.current("registry.record").id, stores))
    assert len(set(keys)) == 1
    assert len(_rows(engine)) == 1


def test_shredding_a_subject_erases_its_values_and_nothing_else(engine: Engine) -> None:
    ring = KeyRing.generate("k2026a")
    keys = DataKeys(engine, ring)
    cipher = FieldCipher(ring, keys)
    erased = cipher.encrypt_many([NUMBER, "line 2"], context=CONTEXT, subject="batch-a")
    kept = cipher.encrypt(NUMBER, context=CONTEXT, subject="batch-b")
    shared = cipher.encrypt(NUMBER, context="registry.record.identity_number")
    elsewhere = DataKeys(engine, ring, subject_ttl=0)  # another process, nothing cached
    assert FieldCipher(ring, elsewhere).decrypt(str(erased[0]), context=CONTEXT) == NUMBER

    assert keys.shred("registry.quarantine", ["batch-a", "batch-none"]) == 1
    for token in erased:
        with pytest.raises(ShreddedKeyError, match=r"shredded at .* its values are erased"):
            cipher.decrypt(str(token), context=CONTEXT)  # this process: its cache is dropped
        with pytest.raises(ShreddedKeyError):
            FieldCipher(ring, elsewhere).decrypt(str(token), context=CONTEXT)
    assert cipher.decrypt(kept, context=CONTEXT) == NUMBER
    assert cipher.decrypt(shared, context="registry.record.identity_number") == NUMBER
    # Nothing new is encrypted for an erased subject; the tombstone holds no key.
    with pytest.raises(ShreddedKeyError):
        cipher.encrypt("more", context=CONTEXT, subject="batch-a")
    tomb = next(r for r in _rows(engine) if r.subject == "batch-a")
    assert (tomb.master_key_id, tomb.wrapped) == (None, None)
    census = data_key_census(engine)
    assert census.shredded == {"registry.quarantine": 1}
    assert census.live == {"registry.quarantine": 1, "registry.record": 1}
    assert keys.shred("registry.quarantine", ["batch-a"]) == 0  # already gone
    with pytest.raises(ValueError, match="purpose-wide"):
        keys.shred("registry.record", [""])


def test_a_shred_elsewhere_reaches_a_cached_key_within_its_time_to_live(engine: Engine) -> None:
    ring = KeyRing.generate("k2026a")
    now = [0.0]
    cached = DataKeys(engine, ring, subject_ttl=60, clock=lambda: now[0])
    cipher = FieldCipher(ring, cached)
    token = cipher.encrypt("line", context=CONTEXT, subject="batch-a")
    with engine.begin() as connection:  # another process shreds it (the same statement)
        connection.execute(
            sa.update(DataKeyRow)
            .where(DataKeyRow.subject == "batch-a")
            .values(wrapped=None, master_key_id=None, shredded_at=sa.func.current_timestamp())
        )
    assert cipher.decrypt(token, context=CONTEXT) == "line"  # still cached here
    now[0] = 61.0
    with pytest.raises(ShreddedKeyError):
        cipher.decrypt(token, context=CONTEXT)


def test_a_shred_in_this_process_empties_every_store_cache_at_once(engine: Engine) -> None:
    ring = KeyRing.generate("k2026a")
    cached = FieldCipher(ring, DataKeys(engine, ring, subject_ttl=3600))
    token = cached.encrypt("line", context=CONTEXT, subject="batch-a")
    DataKeys(engine, ring).shred("registry.quarantine", ["batch-a"])
    with pytest.raises(ShreddedKeyError):
        cached.decrypt(token, context=CONTEXT)


def test_master_rotation_rewraps_keys_and_touches_no_value(engine: Engine) -> None:
    ring = KeyRing.generate("k2026a")
    cipher = FieldCipher(ring, DataKeys(engine, ring))
    tokens = [
        cipher.encrypt(NUMBER, context="registry.record.identity_number"),
        cipher.encrypt("line", context=CONTEXT, subject="batch-a"),
    ]
    rotated = ring.with_new_key("k2027a")
    assert DataKeys(engine, rotated).rewrap(batch_size=1) == 2
    assert data_key_census(engine).by_master == {"k2027a": 2}
    assert DataKeys(engine, rotated).rewrap() == 0  # done: a second run finds nothing
    retired = rotated.without_key("k2026a")
    reader = FieldCipher(retired, DataKeys(engine, retired))
    assert reader.decrypt(tokens[0], context="registry.record.identity_number") == NUMBER
    assert reader.decrypt(tokens[1], context=CONTEXT) == "line"
    with pytest.raises(UnknownDataKeyError, match="master key 'k2027a'"):
        FieldCipher(ring, DataKeys(engine, ring)).decrypt(tokens[1], context=CONTEXT)


def test_a_backup_taken_before_shredding_is_unreadable_once_its_master_key_is_retired(
    tmp_path: Path,
) -> None:
    """The whole story on a database file: backup, shred, rotate, retire."""
    live_path = tmp_path / "live.db"
    live = create_engine_for(f"sqlite:///{live_path}")
    upgrade(live)
    ring = KeyRing.generate("k2026a")
    cipher = FieldCipher(ring, DataKeys(live, ring))
    erased = cipher.encrypt(NUMBER, context=CONTEXT, subject="batch-a")
    kept = cipher.encrypt(NUMBER, context="registry.record.identity_number")
    live.dispose()
    backup_path = tmp_path / "backup.db"
    shutil.copy(live_path, backup_path)  # last night's backup

    live = create_engine_for(f"sqlite:///{live_path}")
    DataKeys(live, ring).shred("registry.quarantine", ["batch-a"])
    rotated = ring.with_new_key("k2027a")
    DataKeys(live, rotated).rewrap()
    retired = rotated.without_key("k2026a")  # after the backups' retention
    backup = create_engine_for(f"sqlite:///{backup_path}")
    try:
        # Live: the erased value is gone, the kept one reads with today's keys.
        reader = FieldCipher(retired, DataKeys(live, retired))
        with pytest.raises(ShreddedKeyError):
            reader.decrypt(erased, context=CONTEXT)
        assert reader.decrypt(kept, context="registry.record.identity_number") == NUMBER
        # The backup still holds the key wrapped, but by the retired master key.
        old_backup = FieldCipher(retired, DataKeys(backup, retired))
        with pytest.raises(UnknownDataKeyError, match="not in the key ring"):
            old_backup.decrypt(erased, context=CONTEXT)
        # Before retirement the backup was readable with the old ring: the erasure
        # reaches backups exactly when the master key of their day is retired.
        assert (
            FieldCipher(rotated, DataKeys(backup, rotated)).decrypt(erased, context=CONTEXT)
            == NUMBER
        )
        assert NUMBER.encode() not in live_path.read_bytes()
    finally:
        live.dispose()
        backup.dispose()
