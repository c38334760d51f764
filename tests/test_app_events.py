"""The app composes accounts and the audit ledger: a login attempt is a ledger entry."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from hukou.app import create_app
from hukou.audit import ledger
from hukou.audit.entry import EntryKind, Outcome
from hukou.config import Settings
from hukou.db import session_scope
from hukou.security import KeyRing


def test_a_refused_login_is_a_ledger_entry_without_the_typed_name(
    engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        keys=SecretStr(KeyRing.generate("k2026a").to_json()),
    )
    typed = "nobody-by-this-name"
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": typed, "password": "Wrong-password-1"}
        )
    assert response.status_code == 401
    with session_scope(engine) as db:
        size = ledger.ledger_size(db)
        entries = [ledger.read_entry(db, seq) for seq in range(size)]
    logins = [e for e in entries if e.capability == "accounts" and e.action == "login.failed"]
    assert len(logins) == 1
    assert logins[0].kind is EntryKind.STATE_CHANGE
    assert logins[0].outcome is Outcome.FAILED
    assert typed not in str(logins[0])
