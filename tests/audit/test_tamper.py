"""An administrator who drops the triggers and rewrites the ledger is caught at the first bad row.

Each test builds a ledger of 50 entries with signed checkpoints at 17 and 50,
plays the attacker (triggers disabled, raw SQL), and checks that ``verify``
names exactly the first entry, subtree or checkpoint that was touched.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import Connection, Engine, text

from hukou.audit.checkpoint import NoteSigner
from hukou.audit.ledger import VerifyReport, append, checkpoint, verify
from hukou.audit.merkle import SM3_HASHER, Frontier
from hukou.db import session_scope
from tests.audit.conftest import as_attacker, make_entries

pytestmark = pytest.mark.storage

SIZE = 50
POSITIONS = (0, 1, 16, 17, 31, 49)


@pytest.fixture
def ledger(engine: Engine, signer: NoteSigner) -> Engine:
    with session_scope(engine) as session:
        append(session, make_entries(17))
        checkpoint(session, signer)
    with session_scope(engine) as session:
        append(session, make_entries(SIZE - 17, first=17))
        checkpoint(session, signer)
    return engine


def run_verify(engine: Engine, signer: NoteSigner) -> VerifyReport:
    with session_scope(engine) as session:
        return verify(session, verifier=signer.verifier(), chunk=7)


def attack(engine: Engine, *statements: tuple[str, dict[str, object]]) -> None:
    connection = as_attacker(engine)
    try:
        for statement, parameters in statements:
            assert connection.execute(text(statement), parameters).rowcount == 1
        connection.commit()
    finally:
        connection.close()


def entry_row(connection: Connection, seq: int) -> tuple[str, bytes, str | None]:
    row = connection.execute(
        text("SELECT entry, leaf_hash, person_id FROM audit_entry WHERE seq = :seq"), {"seq": seq}
    ).one()
    return row[0], bytes(row[1]), row[2]


def read_row(engine: Engine, seq: int) -> tuple[str, bytes, str | None]:
    with engine.connect() as connection:
        return entry_row(connection, seq)


def test_the_untouched_ledger_verifies(ledger: Engine, signer: NoteSigner) -> None:
    report = run_verify(ledger, signer)
    assert report.ok
    assert (report.entries_verified, report.checkpoints_verified) == (SIZE, 2)
    assert report.first_bad_entry is None


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("how", ["nonce", "json"])
def test_changing_a_byte_of_an_entry(
    ledger: Engine, signer: NoteSigner, position: int, how: str
) -> None:
    entry, _, _ = read_row(ledger, position)
    # One character: inside the nonce (still valid JSON), or a quote (no longer JSON).
    at = entry.index('"nonce":"') + 9 if how == "nonce" else entry.index('"actor"')
    replacement = "f" if entry[at] != "f" else "e"
    changed = entry[:at] + replacement + entry[at + 1 :]
    attack(
        ledger, ("UPDATE audit_entry SET entry = :e WHERE seq = :s", {"e": changed, "s": position})
    )
    report = run_verify(ledger, signer)
    assert report.first_bad_entry == position
    assert report.entries_verified == position
    assert f"entry {position} was altered" in report.findings[0].message


@pytest.mark.parametrize("position", POSITIONS)
def test_deleting_an_entry(ledger: Engine, signer: NoteSigner, position: int) -> None:
    attack(ledger, ("DELETE FROM audit_entry WHERE seq = :s", {"s": position}))
    report = run_verify(ledger, signer)
    assert report.first_bad_entry == position
    assert f"entry {position} is missing" in report.findings[0].message


@pytest.mark.parametrize(("first", "second"), [(0, 1), (1, 16), (16, 17), (17, 31), (31, 49)])
def test_swapping_two_entries(ledger: Engine, signer: NoteSigner, first: int, second: int) -> None:
    """Text, leaf hash and person id move together: each row is self-consistent, but misplaced."""
    one, two = read_row(ledger, first), read_row(ledger, second)
    update = "UPDATE audit_entry SET entry = :e, leaf_hash = :h, person_id = :p WHERE seq = :s"
    attack(
        ledger,
        (update, {"e": two[0], "h": two[1], "p": two[2], "s": first}),
        (update, {"e": one[0], "h": one[1], "p": one[2], "s": second}),
    )
    report = run_verify(ledger, signer)
    assert report.first_bad_entry == first
    assert f"its text is that of entry {second}" in report.findings[0].message


@pytest.mark.parametrize("position", POSITIONS)
def test_changing_a_stored_leaf_hash(ledger: Engine, signer: NoteSigner, position: int) -> None:
    _, leaf, _ = read_row(ledger, position)
    forged = bytes([leaf[0] ^ 1]) + leaf[1:]
    attack(
        ledger,
        ("UPDATE audit_entry SET leaf_hash = :h WHERE seq = :s", {"h": forged, "s": position}),
    )
    report = run_verify(ledger, signer)
    assert report.first_bad_entry == position


@pytest.mark.parametrize("position", POSITIONS)
def test_changing_the_indexed_person(ledger: Engine, signer: NoteSigner, position: int) -> None:
    """A resident's tracker finds entries by this column: it must agree with the text."""
    attack(
        ledger,
        (
            "UPDATE audit_entry SET person_id = 'R99999999999999999999' WHERE seq = :s",
            {"s": position},
        ),
    )
    report = run_verify(ledger, signer)
    assert report.first_bad_entry == position
    assert "person id" in report.findings[0].message


@pytest.mark.parametrize("size", [17, 50])
def test_changing_a_checkpoint_root(ledger: Engine, signer: NoteSigner, size: int) -> None:
    attack(
        ledger,
        ("UPDATE audit_checkpoint SET root_hash = :r WHERE size = :s", {"r": bytes(32), "s": size}),
    )
    report = run_verify(ledger, signer)
    assert report.first_bad_checkpoint == size
    assert report.first_bad_entry is None
    assert "stored root hash differs from the signed note" in report.findings[0].message


@pytest.mark.parametrize("size", [17, 50])
def test_rewriting_a_checkpoint_note(ledger: Engine, signer: NoteSigner, size: int) -> None:
    """Root changed in the note itself (and the column): the signature no longer holds."""
    root = base64.b64encode(bytes(32)).decode()
    with ledger.connect() as connection:
        note = connection.scalar(
            text("SELECT note FROM audit_checkpoint WHERE size = :s"), {"s": size}
        )
    lines = str(note).split("\n")
    lines[2] = root
    attack(
        ledger,
        (
            "UPDATE audit_checkpoint SET note = :n, root_hash = :r WHERE size = :s",
            {"n": "\n".join(lines), "r": bytes(32), "s": size},
        ),
    )
    report = run_verify(ledger, signer)
    assert report.first_bad_checkpoint == size
    assert "does not verify" in report.findings[0].message


@pytest.mark.parametrize(("level", "index"), [(1, 0), (2, 3), (4, 1), (5, 0)])
def test_changing_a_stored_subtree_hash(
    ledger: Engine, signer: NoteSigner, level: int, index: int
) -> None:
    """Proofs read these hashes: a forged one is named by the first entry it covers."""
    attack(
        ledger,
        (
            "UPDATE audit_node SET hash = :h WHERE level = :l AND node_index = :i",
            {"h": bytes(32), "l": level, "i": index},
        ),
    )
    report = run_verify(ledger, signer)
    assert report.first_bad_node == index << level
    assert report.first_bad_entry is None
    assert report.entries_verified == SIZE


@pytest.mark.parametrize("position", [3, 20, 49])
def test_a_consistent_rewrite_is_caught_by_the_signed_checkpoint(
    ledger: Engine, signer: NoteSigner, position: int
) -> None:
    """The attacker rehashes everything (leaf and every subtree): only the signature remains.

    The stored data are then self-consistent, so nothing narrower than the first
    checkpoint after the rewritten entry can be named: the reason to sign
    checkpoints often.
    """
    with ledger.connect() as connection:
        rows = connection.execute(text("SELECT seq, entry FROM audit_entry ORDER BY seq")).all()
    texts = [str(row[1]) for row in rows]
    allowed, denied = '"outcome":"allowed"', '"outcome":"denied"'
    original = texts[position]
    if allowed in original:
        texts[position] = original.replace(allowed, denied)
    else:
        texts[position] = original.replace(denied, allowed)
    assert texts[position] != original
    leaves = [SM3_HASHER.hash_leaf(t.encode()) for t in texts]
    frontier = Frontier(hasher=SM3_HASHER)
    node_updates = []
    for leaf in leaves:
        for node in frontier.append(leaf)[1:]:
            node_updates.append(
                (
                    "UPDATE audit_node SET hash = :h WHERE level = :l AND node_index = :i",
                    {"h": node.hash, "l": node.level, "i": node.index},
                )
            )
    attack(
        ledger,
        (
            "UPDATE audit_entry SET entry = :e, leaf_hash = :h WHERE seq = :s",
            {"e": texts[position], "h": leaves[position], "s": position},
        ),
        *node_updates,
    )
    report = run_verify(ledger, signer)
    expected = 17 if position < 17 else 50
    assert report.first_bad_entry is None
    assert report.first_bad_node is None
    assert report.first_bad_checkpoint == expected
    assert "does not match the entries" in report.findings[0].message
