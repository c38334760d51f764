"""Shared pieces of the ledger's storage tests: entries, a signing key, the attacker's tools."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import Connection, Engine, text

from hukou.audit.checkpoint import NoteSigner
from hukou.audit.entry import LedgerEntry, Outcome
from hukou.audit.model import APPEND_ONLY_TABLES

ORIGIN = "hukou.test/audit"
START = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.UTC)


def make_entries(count: int, *, first: int = 0) -> list[LedgerEntry]:
    """``count`` access entries, distinct and deterministic apart from their nonces."""
    return [
        LedgerEntry.access(
            actor=f"u-{1000 + (first + i) % 7}",
            department=("110105-rsj", "320505-ga", "320506-yb")[(first + i) % 3],
            purpose="social_insurance.enrolment",
            person_id=f"R{first + i:020x}",
            fields=("name", "birth_date"),
            outcome=Outcome.ALLOWED if (first + i) % 5 else Outcome.DENIED,
            case_id=f"C2026-{first + i:06d}" if (first + i) % 2 else None,
            at=START + datetime.timedelta(seconds=first + i),
        )
        for i in range(count)
    ]


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.from_seed(ORIGIN, bytes(range(32)))


def disable_append_only(connection: Connection) -> None:
    """What an administrator with DBA rights can do: take the triggers away."""
    for table in APPEND_ONLY_TABLES:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for operation in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{operation}"))


def as_attacker(engine: Engine) -> Connection:
    """A connection, in a transaction, on which ledger rows can be rewritten."""
    connection = engine.connect()
    connection.begin()
    disable_append_only(connection)
    return connection
