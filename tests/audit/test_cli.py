"""``hukou audit`` as an operator and an auditor run it: keys, checkpoints, proofs, verify."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from hukou.audit.checkpoint import NoteVerifier, open_checkpoint
from hukou.audit.keys import DEFAULT_ORIGIN
from hukou.audit.ledger import append
from hukou.audit.merkle import SM3_HASHER, verify_consistency, verify_inclusion
from hukou.cli import app
from hukou.config import get_settings
from hukou.db import session_scope
from tests.audit.conftest import as_attacker, make_entries

pytestmark = pytest.mark.storage

runner = CliRunner()


@pytest.fixture
def configured(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at the test database; the data folder (and the key) under tmp_path."""
    monkeypatch.setenv("HUKOU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUKOU_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("HUKOU_KEY_FILE", raising=False)
    monkeypatch.delenv("HUKOU_LEDGER_KEY_FILE", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["audit", *args])
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def test_keygen_key_checkpoint_proofs_and_verify(engine: Engine, configured: Path) -> None:
    code, out, _ = invoke("keygen", "--origin", "hukou.test/audit")
    assert code == 0
    key_file = configured / "ledger.key"  # beside the data keys by default
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    vkey = out.strip().splitlines()[-1]
    assert "PRIVATE" not in out
    assert invoke("key") == (0, vkey + "\n", "")
    code, _, err = invoke("keygen")
    assert code == 1
    assert "refusing to overwrite" in err

    with session_scope(engine) as session:
        append(session, make_entries(6))
    code, first_note, _ = invoke("checkpoint")
    assert code == 0
    with session_scope(engine) as session:
        append(session, make_entries(7, first=6))
    code, out, _ = invoke("checkpoint", "--json")
    assert code == 0
    second = json.loads(out)
    verifier = NoteVerifier.from_vkey(vkey)
    old = open_checkpoint(first_note, origin="hukou.test/audit", log_key=verifier)
    new = open_checkpoint(second["note"], origin="hukou.test/audit", log_key=verifier)
    assert (old.size, new.size) == (6, 13)

    # An inclusion proof (default size: the latest checkpoint) verifies against it.
    code, out, _ = invoke("proof", "4", "--json")
    assert code == 0
    proof = json.loads(out)
    assert (proof["index"], proof["size"], proof["hash"]) == (4, 13, "SM3")
    with engine.connect() as connection:
        entry = connection.scalar(text("SELECT entry FROM audit_entry WHERE seq = 4"))
    leaf = SM3_HASHER.hash_leaf(str(entry).encode())
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    verify_inclusion(leaf, 4, 13, hashes, new.root_hash)

    code, out, _ = invoke("proof", "4", "--size", "6")
    assert code == 0
    assert out.startswith("entry 4 in the tree of 6 (SM3): 2 hashes")

    code, out, _ = invoke("consistency", "6", "13", "--json")
    assert code == 0
    consistency = [base64.b64decode(h) for h in json.loads(out)["hashes"]]
    verify_consistency(6, 13, old.root_hash, new.root_hash, consistency)

    code, out, _ = invoke("verify")
    assert code == 0
    assert "ledger OK: 13 entries and 2 checkpoints verified (SM3)" in out
    # An auditor with only the public key.
    code, out, _ = invoke("verify", "--json", "--vkey", vkey)
    assert code == 0
    assert json.loads(out)["ok"] is True


def test_verify_fails_with_the_first_bad_index(engine: Engine, configured: Path) -> None:
    assert invoke("keygen")[0] == 0
    with session_scope(engine) as session:
        append(session, make_entries(20))
    assert invoke("checkpoint")[0] == 0
    attacker = as_attacker(engine)
    attacker.execute(text("DELETE FROM audit_entry WHERE seq = 11"))
    attacker.commit()
    attacker.close()
    code, out, _ = invoke("verify", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["first_bad_entry"] == 11
    code, _, err = invoke("verify")
    assert code == 1
    assert "ledger FAILED: entry 11 is missing (deleted)" in err


def test_errors_are_one_sentence(engine: Engine, configured: Path) -> None:
    code, _, err = invoke("verify")
    assert code == 1
    assert "no checkpoint key at" in err
    assert "hukou audit keygen" in err
    code, _, err = invoke("verify", "--vkey", "not-a-key")
    assert (code, "not a verifier key" in err) == (1, True)
    assert invoke("keygen", "--origin", "has space")[0] == 1
    assert invoke("keygen")[0] == 0
    code, _, err = invoke("proof", "0")
    assert code == 1
    assert "no checkpoint yet" in err
    with session_scope(engine) as session:
        append(session, make_entries(3))
    code, _, err = invoke("proof", "5", "--size", "3")
    assert code == 1
    assert "entry 5 is outside a tree of size 3" in err
    code, _, err = invoke("consistency", "2", "9")
    assert code == 1
    assert "no consistency proof from size 2 to 9" in err
    assert invoke("proof", "-1")[0] == 2  # usage error


def test_the_default_origin_and_a_configured_key_file(
    configured: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = configured / "secrets" / "checkpoint.key"
    monkeypatch.setenv("HUKOU_LEDGER_KEY_FILE", str(elsewhere))
    code, out, _ = invoke("keygen")
    assert code == 0
    assert elsewhere.exists()
    assert not (configured / "ledger.key").exists()
    assert out.strip().splitlines()[-1].startswith(DEFAULT_ORIGIN + "+")
    elsewhere.chmod(0o644)
    code, _, err = invoke("key")
    assert code == 0
    assert "readable by others" in err
