"""The checkpoint signing key file: created private, never overwritten, read back intact."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hukou.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from hukou.audit.keys import (
    DEFAULT_ORIGIN,
    LedgerKeyError,
    generate_signer_file,
    ledger_key_file,
    load_signer,
    load_verifier,
    signer_for,
)
from hukou.config import Settings


def test_generate_and_load(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.key"
    signer = generate_signer_file(path, "hukou.suzhou.example/audit")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text(encoding="ascii")
    assert content.startswith(f"PRIVATE+KEY+hukou.suzhou.example/audit+{signer.key_id:08x}+")
    loaded = load_signer(path)
    assert loaded.verifier().vkey == signer.verifier().vkey
    # What one signs, the other's printed public key verifies.
    note = sign_checkpoint(Checkpoint(loaded.name, 1, bytes(32)), loaded)
    verifier = load_verifier(signer.verifier().vkey + "\n")
    assert open_checkpoint(note, origin=loaded.name, log_key=verifier).size == 1
    assert "PRIVATE" not in repr(loaded)


def test_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    generate_signer_file(path)
    before = path.read_bytes()
    with pytest.raises(LedgerKeyError, match="refusing to overwrite"):
        generate_signer_file(path)
    assert path.read_bytes() == before


def test_bad_names_and_files_are_refused_without_echoing_keys(tmp_path: Path) -> None:
    with pytest.raises(LedgerKeyError, match="not a valid key name"):
        generate_signer_file(tmp_path / "a.key", "two words")
    assert not (tmp_path / "a.key").exists()
    with pytest.raises(LedgerKeyError, match="hukou audit keygen"):
        load_signer(tmp_path / "missing.key")
    broken = tmp_path / "broken.key"
    broken.write_text("PRIVATE+KEY+name+00000000+c2VjcmV0c2VjcmV0\n", encoding="ascii")
    with pytest.raises(LedgerKeyError) as raised:
        load_signer(broken)
    assert "c2VjcmV0" not in str(raised.value)
    with pytest.raises(LedgerKeyError, match="not a verifier key"):
        load_verifier("hukou+12345678+AAAA")


def test_key_file_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUKOU_LEDGER_KEY_FILE", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert ledger_key_file(settings) == tmp_path / "ledger.key"
    beside = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, key_file=tmp_path / "secrets" / "keys.json"
    )
    assert ledger_key_file(beside) == tmp_path / "secrets" / "ledger.key"
    monkeypatch.setenv("HUKOU_LEDGER_KEY_FILE", "/etc/hukou/checkpoint.key")
    configured = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert ledger_key_file(configured) == Path("/etc/hukou/checkpoint.key")
    assert DEFAULT_ORIGIN == "hukou.local/audit"


def test_signer_for_makes_a_key_outside_production_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUKOU_LEDGER_KEY_FILE", raising=False)
    development = Settings(_env_file=None, data_dir=tmp_path / "dev")  # type: ignore[call-arg]
    made = signer_for(development)
    assert made is not None
    assert ledger_key_file(development).exists()
    again = signer_for(development)
    assert again is not None
    assert again.verifier().vkey == made.verifier().vkey
    production = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="production",
        data_dir=tmp_path / "prod",
        secret_key="s" * 40,
        database_url="postgresql+psycopg://hukou@db/hukou",
        key_file=tmp_path / "prod" / "keys.json",
    )
    assert signer_for(production) is None
    assert not ledger_key_file(production).exists()
