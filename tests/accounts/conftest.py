"""Shared fixtures: a fake clock, cheap argon2id parameters that count their calls, a store."""

from __future__ import annotations

import datetime

import pytest
from argon2 import Parameters, Type
from sqlalchemy import Engine

from hukou.accounts import AccountEvent, AccountStore, Level, PasswordHashing
from hukou.accounts.passwords import Verification
from hukou.db import session_scope
from hukou.security import FieldCipher, KeyRing

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
SECRET_KEY = b"accounts-test-secret-key-32-byte"
STRONG = "Correct-Horse-7"  # meets the staff policy
CHEAP = Parameters(
    type=Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=1,
    memory_cost=8,
    parallelism=1,
)
"""argon2id at the library's minimum cost: the tests test the flow, not the cost."""


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime.datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> datetime.datetime:
        self.now += datetime.timedelta(**delta)
        return self.now


class CountingHashing(PasswordHashing):
    """Counts argon2 verifications, real and dummy, to prove unknown names cost the same."""

    def __init__(self, parameters: Parameters = CHEAP) -> None:
        super().__init__(parameters)
        self.verifications = 0

    def verify(self, password_hash: str, password: str) -> Verification:
        self.verifications += 1
        return super().verify(password_hash, password)

    def verify_dummy(self, password: str) -> None:
        self.verifications += 1
        super().verify_dummy(password)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def cipher() -> FieldCipher:
    return FieldCipher(KeyRing.generate("k2026a"))


@pytest.fixture
def hashing() -> CountingHashing:
    return CountingHashing()


@pytest.fixture
def events() -> list[AccountEvent]:
    return []


@pytest.fixture
def store(
    cipher: FieldCipher, clock: FakeClock, hashing: CountingHashing, events: list[AccountEvent]
) -> AccountStore:
    return AccountStore(
        cipher,
        SECRET_KEY,
        hashing=hashing,
        clock=clock,
        on_event=lambda _db, event: events.append(event),
    )


@pytest.fixture
def accounts_engine(engine: Engine, store: AccountStore) -> Engine:
    """A migrated database with one department, ``public_security`` (city level)."""
    with session_scope(engine) as db:
        store.create_department(db, "public_security", "市公安局", Level.CITY)
    return engine
