"""Key rotation on a real registry, on SQLite and PostgreSQL: a tiny city is ingested,
linked and used; the key is rotated; every stored token is re-encrypted in batches, in a
run that is stopped, then crashes, then is resumed; afterwards every token of every
declared column uses the new key and decrypts to exactly what it held before."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from hukou.config import get_settings
from hukou.db import session_scope
from hukou.registry import person_facts
from hukou.security import (
    DATA_KEY_PREFIX,
    DataKeys,
    FieldCipher,
    KeyFileError,
    KeyRing,
    generate_key_file,
    rotate,
    rotation,
)
from hukou.security.columns import EncryptedColumn, discover
from hukou.security.datakeys import data_key_census
from hukou.security.keys_cli import keys_app
from hukou.security.rotation import (
    ColumnReport,
    KeyInUseError,
    census,
    reencrypt,
    retire_unused_key,
)
from tests.security.workload import decrypted, make_legacy, run_workload, stored_tokens

pytestmark = pytest.mark.storage

runner = CliRunner()
OLD, NEW = "k2025a", "k2026a"
BATCH = 64  # small, so that every big column takes several batches


@pytest.fixture
def settings_for(engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """``hukou keys`` pointed at this test's database and a key file (returned)."""
    monkeypatch.setenv("HUKOU_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUKOU_KEYS", raising=False)
    key_file = tmp_path / "keys.json"
    monkeypatch.setenv("HUKOU_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    yield key_file
    get_settings.cache_clear()


def test_rotate_then_reencrypt_in_resumable_batches(
    engine: Engine, city: Path, settings_for: Path
) -> None:
    key_file = settings_for
    old_ring = generate_key_file(key_file, key_id=OLD)
    done = run_workload(engine, city, old_ring)
    columns = discover()
    tokens = stored_tokens(engine, columns)
    per_column = Counter((table, column) for table, column, _key, _path in tokens)
    # Every declared column holds tokens, so the walk below is tested on each of them.
    assert set(per_column) == {(c.table, c.column) for c in columns}, per_column
    before = decrypted(tokens, FieldCipher(old_ring, DataKeys(engine, old_ring)))
    # Everything the platform wrote is under data keys: no value under a master key.
    written = census(engine, columns)
    assert written.by_key() == {}
    assert sum(sum(c.values()) for c in written.data_key_tokens.values()) == len(tokens)
    data_keys = data_key_census(engine).by_master[OLD]
    assert data_keys >= 4  # records, persons, accounts, a quarantine key per batch

    # A database from before envelope encryption: every value under the master key.
    current = FieldCipher(old_ring, DataKeys(engine, old_ring))
    make_legacy(engine, columns, current, FieldCipher(old_ring))
    assert census(engine, columns).by_key() == {OLD: len(tokens)}
    assert decrypted(stored_tokens(engine, columns), FieldCipher(old_ring)) == before

    result = runner.invoke(keys_app, ["rotate", "--key-id", NEW])
    assert result.exit_code == 0, result.output
    assert f"added key {NEW}" in result.output
    ring = KeyRing.from_file(key_file)
    assert (ring.active_key_id, ring.key_ids) == (NEW, (OLD, NEW))
    cipher = FieldCipher(ring, DataKeys(engine, ring))

    # 1. A run limited to one batch re-wraps the data keys, then stops after one batch
    # of values, having committed it.
    stopped = reencrypt(engine, cipher, columns, batch_size=BATCH, max_batches=1)
    assert not stopped.complete
    assert stopped.data_keys_rewrapped == data_keys
    assert data_key_census(engine).by_master == {NEW: data_keys}
    assert sum(c.batches for c in stopped.columns) == 1
    first = next(c for c in stopped.columns if c.batches)
    assert first.rewritten == first.scanned == min(BATCH, per_column[first.table, first.column])
    left = census(engine, columns).by_key()
    assert left == {OLD: len(tokens) - first.tokens}

    # 2. A run that crashes after its second batch keeps what it committed.
    seen: list[ColumnReport] = []

    def crash_on_the_second_batch(column: ColumnReport) -> None:
        seen.append(column)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reencrypt(engine, cipher, columns, batch_size=BATCH, on_batch=crash_on_the_second_batch)
    assert census(engine, columns).by_key()[OLD] < left[OLD]

    # The old key cannot be retired while tokens use it.
    result = runner.invoke(keys_app, ["retire", OLD])
    assert result.exit_code == 1
    assert "still used" in result.output
    assert OLD in KeyRing.from_file(key_file)

    # 3. Resumed through the command: it finishes, with a summary per table.
    result = runner.invoke(keys_app, ["reencrypt", "--batch-size", str(BATCH)])
    assert result.exit_code == 0, result.output
    assert "registry_record" in result.output
    assert "accounts_user" in result.output

    after = stored_tokens(engine, columns)
    assert after.keys() == tokens.keys()
    assert all(token.startswith(DATA_KEY_PREFIX) for token, _context in after.values())
    assert census(engine, columns).by_key() == {}
    # Every value decrypts without the old master key, to what it was.
    retiring = ring.without_key(OLD)
    assert decrypted(after, FieldCipher(retiring, DataKeys(engine, retiring))) == before
    # A quarantined line moved to its batch's own key, as ingest would have put it.
    with engine.connect() as connection:
        subjects = set(
            connection.execute(
                text("SELECT subject FROM security_data_key WHERE scope = 'registry.quarantine'")
            ).scalars()
        )
        batches = set(
            connection.execute(text("SELECT DISTINCT batch_id FROM registry_quarantine")).scalars()
        )
    assert subjects == batches

    result = runner.invoke(keys_app, ["status"])
    assert result.exit_code == 0, result.output
    status = {line.split()[0]: line.split()[1:3] for line in result.output.splitlines()[2:4]}
    # The legacy quarantine tokens went to the batch keys ingest had made: no new key.
    assert status == {OLD: ["0", "0"], NEW: [str(data_keys), "0"]}
    assert "may be retired" in result.output

    result = runner.invoke(keys_app, ["retire", OLD])
    assert result.exit_code == 0, result.output
    retired = KeyRing.from_file(key_file)
    assert retired.key_ids == (NEW,)

    # The platform reads with the retired ring: golden records and numbers decrypt.
    with session_scope(engine) as db:
        facts = person_facts(db, FieldCipher(retired, DataKeys(engine, retired)), done.person_id)
    assert facts is not None
    assert isinstance(facts.values["identity_number"], str)


# --- the walker on a table of its own (no migrations: fast, both engines) -------------

SECRET = EncryptedColumn("t_secret", "id", "token", context="t.secret")
DOC = EncryptedColumn("t_secret", "id", "doc", json_context="t.doc.{key}")


@pytest.fixture
def secrets_table(empty_engine: Engine) -> Engine:
    with empty_engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE t_secret (id VARCHAR(20) PRIMARY KEY, token TEXT, doc TEXT)")
        )
    return empty_engine


def _insert(engine: Engine, rows: list[tuple[str, str | None, str | None]]) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO t_secret (id, token, doc) VALUES (:id, :token, :doc)"),
            [{"id": i, "token": t, "doc": d} for i, t, d in rows],
        )


def _rows(engine: Engine) -> dict[str, tuple[str | None, str | None]]:
    with engine.connect() as connection:
        return {
            i: (t, d) for i, t, d in connection.execute(text("SELECT id, token, doc FROM t_secret"))
        }


def _document(cipher: FieldCipher, n: int) -> str:
    """Golden-record shaped JSON: tokens nested under their field, other values kept."""
    return json.dumps(
        {
            "phone": {"value": cipher.encrypt(f"1380000{n:04d}", context="t.doc.phone"), "rank": 1},
            "name": {"value": "张三", "department": "public_security"},
            "notes": [cipher.encrypt(f"note {n}", context="t.doc.notes"), None, 3],
        },
        ensure_ascii=False,
        indent=1,  # any layout the application chose must survive byte for byte
    )


def test_the_walker_rewrites_only_tokens_pages_by_string_keys_and_keeps_json_bytes(
    secrets_table: Engine,
) -> None:
    old = FieldCipher(KeyRing.generate(OLD))
    _insert(
        secrets_table,
        [
            (f"r{n:03d}", old.encrypt(f"value {n}", context="t.secret"), _document(old, n))
            for n in range(25)
        ]
        + [("zz-plain", None, '{"phone": "no token here"}')],
    )
    before = _rows(secrets_table)
    new = FieldCipher(old.keyring.with_new_key(NEW))
    report = reencrypt(secrets_table, new, [SECRET, DOC], batch_size=4)
    assert report.finished
    assert [(c.scanned, c.rewritten, c.tokens, c.batches) for c in report.columns] == [
        (25, 25, 25, 7),
        (25, 25, 50, 7),
    ]
    assert report.by_table() == {"t_secret": (50, 50)}
    after = _rows(secrets_table)
    assert after["zz-plain"] == before["zz-plain"]
    for key, (token, doc) in before.items():
        if key == "zz-plain":
            continue
        new_token, new_doc = after[key]
        assert new.key_id(str(new_token)) == NEW
        assert new.decrypt(str(new_token), context="t.secret") == old.decrypt(
            str(token), context="t.secret"
        )
        old_json, new_json = json.loads(str(doc)), json.loads(str(new_doc))
        expected = str(doc)
        for field, path in (("phone", ("phone", "value")), ("notes", ("notes", 0))):
            was, now = old_json[path[0]][path[1]], new_json[path[0]][path[1]]
            assert new.key_id(now) == NEW
            assert new.decrypt(now, context=f"t.doc.{field}") == old.decrypt(
                was, context=f"t.doc.{field}"
            )
            expected = expected.replace(was, now)
        assert new_doc == expected  # nothing but the tokens changed
    assert census(secrets_table, [SECRET, DOC]).by_key() == {NEW: 75}


def test_rows_that_cannot_be_trusted_are_reported_and_left_alone(secrets_table: Engine) -> None:
    old = FieldCipher(KeyRing.generate(OLD))
    good = old.encrypt("fine", context="t.secret")
    foreign = FieldCipher(KeyRing.generate(OLD)).encrypt("another ring", context="t.secret")
    misplaced = old.encrypt("11010519491231002X", context="another.column")
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    embedded = json.dumps({"note": f"see {old.encrypt('x', context='t.doc.note')}"})
    _insert(
        secrets_table,
        [
            ("a-good", good, None),
            ("b-foreign", foreign, None),
            ("c-misplaced", misplaced, None),
            ("d-altered", altered, None),
            ("e-embedded", None, embedded),
            ("f-not-json", None, f"[{good!r}"),
        ],
    )
    before = _rows(secrets_table)
    new = FieldCipher(old.keyring.with_new_key(NEW))
    report = reencrypt(secrets_table, new, [SECRET, DOC])
    assert not report.finished
    problems = {failure.row_key: failure.problem for failure in report.failures}
    assert set(problems) == {"b-foreign", "c-misplaced", "d-altered", "e-embedded", "f-not-json"}
    assert all("11010519491231002X" not in p and "another ring" not in p for p in problems.values())
    after = _rows(secrets_table)
    assert new.key_id(str(after["a-good"][0])) == NEW
    assert {k: v for k, v in after.items() if k != "a-good"} == {
        k: v for k, v in before.items() if k != "a-good"
    }


def test_a_row_the_application_changes_meanwhile_keeps_the_newer_value(
    secrets_table: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = FieldCipher(KeyRing.generate(OLD))
    _insert(
        secrets_table, [(f"r{n}", old.encrypt(str(n), context="t.secret"), None) for n in range(3)]
    )
    newer = old.encrypt("written by the application", context="t.secret")
    rewrite = rotation._rewrite
    raced: list[bool] = []

    def racing(
        value: str, column: EncryptedColumn, cipher: FieldCipher, subject: str = ""
    ) -> tuple[str, int]:
        if value != newer and not raced:
            raced.append(True)
            with secrets_table.begin() as connection:  # another writer, committed first
                connection.execute(
                    text("UPDATE t_secret SET token = :t WHERE id = 'r0'"), {"t": newer}
                )
        return rewrite(value, column, cipher, subject)

    monkeypatch.setattr(rotation, "_rewrite", racing)
    new = FieldCipher(old.keyring.with_new_key(NEW))
    report = reencrypt(secrets_table, new, [SECRET])
    assert (report.columns[0].rewritten, report.columns[0].changed_meanwhile) == (2, 1)
    assert not report.finished
    assert _rows(secrets_table)["r0"][0] == newer  # the application's write won
    monkeypatch.setattr(rotation, "_rewrite", rewrite)
    assert reencrypt(secrets_table, new, [SECRET]).finished  # the next run takes it
    assert census(secrets_table, [SECRET]).by_key() == {NEW: 3}


def test_absent_tables_one_key_rings_and_retiring(secrets_table: Engine, tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    ring = generate_key_file(key_file, key_id=OLD)
    cipher = FieldCipher(ring)
    _insert(secrets_table, [("r1", cipher.encrypt("1", context="t.secret"), None)])
    missing = EncryptedColumn("t_missing", "id", "token", context="t.missing")
    report = reencrypt(secrets_table, cipher, [SECRET, missing])
    assert report.finished  # one key: nothing is old
    assert census(secrets_table, [SECRET, missing]).absent == ("t_missing.token",)

    rotated = FieldCipher(rotate(key_file, key_id=NEW))
    with pytest.raises(KeyInUseError, match=r"still used by 1 stored tokens \(t_secret.token: 1\)"):
        retire_unused_key(secrets_table, [SECRET, missing], key_file, OLD)
    assert reencrypt(secrets_table, rotated, [SECRET, missing]).columns[1].present is False
    assert retire_unused_key(secrets_table, [SECRET], key_file, OLD).key_ids == (NEW,)
    with pytest.raises(KeyFileError, match="is active"):
        retire_unused_key(secrets_table, [SECRET], key_file, NEW)


def test_cli_rolling_rotation_with_separate_add_and_activate_steps(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with engine.begin() as connection:  # a migrated database: the data keys have their table
        connection.execute(
            text("CREATE TABLE t_secret (id VARCHAR(20) PRIMARY KEY, token TEXT, doc TEXT)")
        )
    secrets_table = engine
    monkeypatch.setenv(
        "HUKOU_DATABASE_URL", secrets_table.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUKOU_KEYS", raising=False)
    key_file = tmp_path / "keys.json"
    monkeypatch.setenv("HUKOU_KEY_FILE", str(key_file))
    monkeypatch.setattr("hukou.security.keys_cli._columns", lambda: (SECRET, DOC))
    get_settings.cache_clear()
    try:
        cipher = FieldCipher(generate_key_file(key_file, key_id=OLD))
        _insert(
            secrets_table,
            [(f"r{n}", cipher.encrypt("v", context="t.secret"), None) for n in range(3)],
        )

        # Step 1: every node learns the new key; nobody encrypts with it yet.
        result = runner.invoke(keys_app, ["rotate", "--key-id", NEW, "--no-activate"])
        assert result.exit_code == 0, result.output
        assert f"keys activate {NEW}" in result.output
        assert KeyRing.from_file(key_file).active_key_id == OLD
        # Step 2: switch; step 3: re-encrypt (the v1 tokens move to their purpose's
        # data key, wrapped by the new master key) and retire in one go.
        assert runner.invoke(keys_app, ["activate", NEW]).exit_code == 0
        result = runner.invoke(keys_app, ["status"])
        assert f"{OLD}" in result.output
        assert "old: run `hukou keys reencrypt`" in result.output
        result = runner.invoke(keys_app, ["reencrypt", "--retire", OLD])
        assert result.exit_code == 0, result.output
        assert f"retired {OLD}" in result.output
        assert KeyRing.from_file(key_file).key_ids == (NEW,)
        moved = census(secrets_table, [SECRET])
        assert moved.by_key() == {}
        assert sum(moved.data_key_tokens["t_secret.token"].values()) == 3
        assert data_key_census(secrets_table).by_master == {NEW: 1}

        # A single-node installation may rotate and re-encrypt in one command: the data
        # key is re-wrapped, the values are not touched.
        tokens_before = _rows(secrets_table)
        result = runner.invoke(keys_app, ["rotate", "--key-id", "k2027a", "--reencrypt"])
        assert result.exit_code == 0, result.output
        assert "data keys re-wrapped: 1" in result.output
        assert data_key_census(secrets_table).by_master == {"k2027a": 1}
        assert _rows(secrets_table) == tokens_before
        result = runner.invoke(keys_app, ["retire", NEW])
        assert result.exit_code == 0, result.output

        # A token of a key the ring lacks is shown by status (it cannot be re-encrypted),
        # and a token that fails to decrypt is listed by reencrypt, which exits 1.
        stray = FieldCipher(KeyRing.generate("k1999a")).encrypt("v", context="t.secret")
        misplaced = FieldCipher(KeyRing.from_file(key_file)).encrypt("v", context="t.other")
        _insert(secrets_table, [("r8", misplaced, None), ("r9", stray, None)])
        result = runner.invoke(keys_app, ["status"])
        assert "k1999a" in result.output
        assert "NOT IN THE KEY RING" in result.output
        assert runner.invoke(keys_app, ["rotate", "--key-id", "k2028a"]).exit_code == 0
        result = runner.invoke(keys_app, ["reencrypt"])
        assert result.exit_code == 1
        assert "t_secret.token row r8: DecryptionError" in result.output
        assert "t_secret.token row r9: UnknownKeyError" in result.output
        assert census(secrets_table, [SECRET]).by_key() == {"k2027a": 1, "k1999a": 1}
        assert data_key_census(secrets_table).by_master == {"k2028a": 1}

        # Keys given inline cannot be rewritten by the command.
        monkeypatch.setenv("HUKOU_KEYS", KeyRing.generate("k2025a").to_json())
        get_settings.cache_clear()
        result = runner.invoke(keys_app, ["rotate"])
        assert result.exit_code == 2
        assert "HUKOU_KEYS" in result.output
    finally:
        get_settings.cache_clear()
