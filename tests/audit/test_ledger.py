"""The ledger on both engines: append, proofs from stored nodes, checkpoints, append-only rows."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hukou.audit import merkle
from hukou.audit.checkpoint import NoteSigner, open_checkpoint
from hukou.audit.entry import LedgerEntry, decode_entry
from hukou.audit.ledger import (
    HASHERS,
    CorruptLedgerError,
    LedgerError,
    OutOfRangeError,
    append,
    checkpoint,
    consistency_proof,
    create_ledger,
    inclusion_proof,
    latest_checkpoint,
    ledger_hasher,
    ledger_size,
    person_entries,
    read_entry,
    stored_checkpoints,
    tree_root,
    verify,
)
from hukou.audit.merkle import SHA256_HASHER, SM3_HASHER
from hukou.audit.model import APPEND_ONLY_TABLES, EntryRow, NodeRow
from hukou.db import session_scope
from tests.audit.conftest import ORIGIN, as_attacker, make_entries

pytestmark = pytest.mark.storage


def stored_leaves(engine: Engine) -> list[bytes]:
    with session_scope(engine) as session:
        return [
            bytes(h) for h in session.scalars(select(EntryRow.leaf_hash).order_by(EntryRow.seq))
        ]


def test_append_numbers_entries_from_zero_across_batches(engine: Engine) -> None:
    entries = make_entries(10)
    with session_scope(engine) as session:
        assert append(session, entries[:3]) == [0, 1, 2]
        assert append(session, []) == []
    with session_scope(engine) as session:
        assert append(session, entries[3:]) == list(range(3, 10))
        assert ledger_size(session) == 10
        assert ledger_hasher(session) is SM3_HASHER  # the default, recorded
        for index in (0, 5, 9):
            assert read_entry(session, index) == entries[index]
        stored = session.scalars(select(EntryRow).order_by(EntryRow.seq)).all()
    for row in stored:
        seq, entry = decode_entry(row.entry)
        assert seq == row.seq
        assert bytes(row.leaf_hash) == SM3_HASHER.hash_leaf(row.entry.encode())
        assert row.person_id == entry.person_id
        assert row.recorded_at.utcoffset() is not None or engine.dialect.name == "sqlite"


def test_person_entries_page_through_one_persons_entries(engine: Engine) -> None:
    entries = make_entries(30)
    mine = "R-resident-7"
    entries = [
        LedgerEntry.access(
            actor=e.actor,
            department=e.department,
            purpose=e.purpose or "p",
            fields=e.fields,
            outcome=e.outcome,
            person_id=mine if i % 4 == 0 else e.person_id,
        )
        for i, e in enumerate(entries)
    ]
    with session_scope(engine) as session:
        append(session, entries)
    with session_scope(engine) as session:
        first = person_entries(session, mine, limit=3)
        rest = person_entries(session, mine, after=first[-1][0])
    assert [seq for seq, _ in first + rest] == list(range(0, 30, 4))
    for seq, entry_text in first + rest:
        assert decode_entry(entry_text) == (seq, entries[seq])
    with session_scope(engine) as session:  # the portal's latest page, still oldest first
        latest = person_entries(session, mine, limit=3, newest=True)
    assert [seq for seq, _ in latest] == [20, 24, 28]
    with session_scope(engine) as session:
        assert person_entries(session, "R99999999999999999999") == []
    # A row indexed under the wrong person is never handed out.
    attacker = as_attacker(engine)
    attacker.execute(text(f"UPDATE audit_entry SET person_id = '{mine}' WHERE seq = 5"))
    attacker.commit()
    attacker.close()
    with session_scope(engine) as session, pytest.raises(CorruptLedgerError, match="entry 5"):
        person_entries(session, mine)


def test_a_rolled_back_append_leaves_no_trace(engine: Engine) -> None:
    def append_then_fail() -> None:
        with session_scope(engine) as session:
            append(session, make_entries(5))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        append_then_fail()
    with session_scope(engine) as session:
        assert ledger_size(session) == 0
        assert append(session, make_entries(2)) == [0, 1]


def test_stored_nodes_give_the_rfc_root_and_proofs_at_every_size(engine: Engine) -> None:
    with session_scope(engine) as session:
        for batch in (1, 2, 3, 5, 8, 13):  # batches that end mid-subtree
            append(session, make_entries(batch))
    leaves = stored_leaves(engine)
    assert len(leaves) == 32
    with session_scope(engine) as session:
        nodes = session.scalars(select(NodeRow)).all()
        assert len(nodes) == 31  # n - 1 interior nodes of the perfect subtrees
        for size in range(1, 33):
            root = merkle.tree_root(leaves, size, hasher=SM3_HASHER)
            assert tree_root(session, size) == root
            for index in range(size):
                proof = inclusion_proof(session, index, size)
                assert list(proof.hashes) == merkle.inclusion_proof(leaves, index, size)
                merkle.verify_inclusion(leaves[index], index, size, proof.hashes, root)
            for old in range(size + 1):
                found = consistency_proof(session, old, size)
                old_root = merkle.tree_root(leaves, old, hasher=SM3_HASHER)
                merkle.verify_consistency(old, size, old_root, root, found.hashes)


def test_proofs_refuse_sizes_beyond_the_ledger(engine: Engine) -> None:
    with session_scope(engine) as session:
        append(session, make_entries(4))
        with pytest.raises(OutOfRangeError, match=r"outside 1\.\.4"):
            inclusion_proof(session, 0, 5)
        with pytest.raises(OutOfRangeError, match="entry 4 is outside"):
            inclusion_proof(session, 4, 4)
        with pytest.raises(OutOfRangeError):
            consistency_proof(session, 3, 2)
        with pytest.raises(OutOfRangeError):
            read_entry(session, 4)


def test_sha256_ledger_matches_the_rfc_construction(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert create_ledger(session, hasher=SHA256_HASHER) is SHA256_HASHER
        append(session, make_entries(7))
    with session_scope(engine) as session:
        assert ledger_hasher(session) is SHA256_HASHER
        leaves = stored_leaves(engine)
        assert leaves[0] == SHA256_HASHER.hash_leaf(read_entry_bytes(session, 0))
        assert tree_root(session) == merkle.tree_root(leaves, hasher=SHA256_HASHER)
        assert create_ledger(session, hasher=SHA256_HASHER) is SHA256_HASHER
        with pytest.raises(LedgerError, match="already exists with SHA-256"):
            create_ledger(session, hasher=SM3_HASHER)
    assert set(HASHERS) == {"SM3", "SHA-256"}


def read_entry_bytes(session: Session, index: int) -> bytes:
    value = session.scalar(select(EntryRow.entry).where(EntryRow.seq == index))
    return str(value).encode()


def test_checkpoints_are_signed_stored_once_per_size_and_consistent(
    engine: Engine, signer: NoteSigner
) -> None:
    sizes = []
    with session_scope(engine) as session:
        empty = checkpoint(session, signer)
        assert (empty.size, empty.root_hash) == (0, SM3_HASHER.empty_root())
        assert ledger_hasher(session) is SM3_HASHER  # signing created the ledger
    for batch in (1, 6, 9, 16, 3):
        with session_scope(engine) as session:
            append(session, make_entries(batch))
            stored = checkpoint(session, signer)
            assert checkpoint(session, signer) == stored  # unchanged ledger: same checkpoint
            sizes.append(stored.size)
    with session_scope(engine) as session:
        all_checkpoints = list(stored_checkpoints(session, chunk=2))
        latest = latest_checkpoint(session)
    assert [c.size for c in all_checkpoints] == [0, *sizes]
    assert latest == all_checkpoints[-1]
    verifier = signer.verifier()
    opened = {
        c.size: open_checkpoint(c.note, origin=ORIGIN, log_key=verifier) for c in all_checkpoints
    }
    for c in all_checkpoints:
        assert opened[c.size].root_hash == c.root_hash
    # A consistency proof between any two stored checkpoints verifies.
    with session_scope(engine) as session:
        for old in all_checkpoints:
            for new in all_checkpoints:
                if old.size > new.size:
                    continue
                proof = consistency_proof(session, old.size, new.size)
                merkle.verify_consistency(
                    old.size, new.size, old.root_hash, new.root_hash, proof.hashes
                )
        report = verify(session, verifier=verifier)
    assert report.ok, report.findings
    assert report.checkpoints_verified == len(all_checkpoints)
    assert report.entries_verified == 35


def test_verify_refuses_the_wrong_hash_and_the_wrong_key(
    engine: Engine, signer: NoteSigner
) -> None:
    with session_scope(engine) as session:
        append(session, make_entries(3))
        checkpoint(session, signer)
    with session_scope(engine) as session, pytest.raises(LedgerError, match="built with SM3"):
        verify(session, verifier=signer.verifier(), hasher=SHA256_HASHER)
    stranger = NoteSigner.from_seed(ORIGIN, bytes(32))
    with session_scope(engine) as session:
        report = verify(session, verifier=stranger.verifier())
    assert not report.ok
    assert report.first_bad_checkpoint == 3
    assert report.first_bad_entry is None
    assert "no signature by" in report.findings[0].message


def test_the_application_cannot_update_or_delete_ledger_rows(
    engine: Engine, signer: NoteSigner
) -> None:
    with session_scope(engine) as session:
        append(session, make_entries(4))
        checkpoint(session, signer)
    statements = {
        "audit_ledger": (
            "UPDATE audit_ledger SET hash_name = 'SHA-256'",
            "DELETE FROM audit_ledger",
        ),
        "audit_entry": (
            "UPDATE audit_entry SET entry = 'x' WHERE seq = 1",
            "DELETE FROM audit_entry WHERE seq = 3",
        ),
        "audit_node": ("UPDATE audit_node SET level = level", "DELETE FROM audit_node"),
        "audit_checkpoint": (
            "UPDATE audit_checkpoint SET size = 0",
            "DELETE FROM audit_checkpoint",
        ),
    }
    assert set(statements) == set(APPEND_ONLY_TABLES)
    if engine.dialect.name == "postgresql":
        statements = {t: (*s, f"TRUNCATE {t} CASCADE") for t, s in statements.items()}
    for table, attempts in statements.items():
        for statement in attempts:
            with (
                pytest.raises(DBAPIError, match="append-only") as raised,
                engine.begin() as connection,
            ):
                connection.execute(text(statement))
            assert table in str(raised.value)
    with session_scope(engine) as session:
        assert ledger_size(session) == 4
        assert verify(session, verifier=signer.verifier()).ok


@pytest.mark.parametrize("empty_engine", ["postgresql"], indirect=True)
def test_postgres_role_with_insert_and_select_cannot_rewrite(engine: Engine) -> None:
    """The documented production grant: even with the triggers gone, the role may not."""
    role = f"hukou_app_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} NOLOGIN"))
    try:
        with engine.begin() as connection:
            connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
            for table in APPEND_ONLY_TABLES:
                connection.execute(text(f"GRANT SELECT, INSERT ON {table} TO {role}"))
                assert not connection.scalar(
                    text("SELECT has_table_privilege('public', :t, 'UPDATE')"), {"t": table}
                )
                assert not connection.scalar(
                    text("SELECT has_table_privilege('public', :t, 'DELETE')"), {"t": table}
                )
        with session_scope(engine) as session:
            append(session, make_entries(2))
        with engine.connect() as connection:
            connection.begin()
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
            connection.execute(text(f"SET LOCAL ROLE {role}"))
            assert connection.scalar(text("SELECT count(*) FROM audit_entry")) == 2
            with pytest.raises(DBAPIError, match="permission denied"):
                connection.execute(text("DELETE FROM audit_entry"))
            connection.rollback()
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))


def test_concurrent_appenders_get_distinct_numbers(engine: Engine, signer: NoteSigner) -> None:
    """Two writers at once: no sequence number twice, no gap, and the tree verifies."""
    batches, per_batch = 15, 40
    failures: list[BaseException] = []
    numbers: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def writer(slot: int) -> None:
        try:
            barrier.wait()
            for batch in range(batches):
                with session_scope(engine) as session:
                    numbers[slot] += append(session, make_entries(per_batch, first=batch * 100))
                    if batch % 5 == 4:
                        checkpoint(session, signer)
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    total = 2 * batches * per_batch
    assert sorted(numbers[0] + numbers[1]) == list(range(total))
    with session_scope(engine) as session:
        report = verify(session, verifier=signer.verifier(), chunk=123)
    assert report.ok, report.findings
    assert report.entries_verified == total
    assert report.checkpoints_verified == 6
