"""A small linked registry per engine, shared by the exchange tests of a module.

Building it (a 300-person synthetic city: generate, ingest, link) takes seconds,
so it is made once per module and engine, in a database of its own on PostgreSQL,
instead of once per test.
"""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hukou.accounts import AccountKind, Role, permissions_of
from hukou.accounts.access import ActiveSession
from hukou.app import create_app
from hukou.config import Settings
from hukou.db import create_engine_for, session_scope, upgrade
from hukou.exchange import Exchange, load_catalog
from hukou.keyring import data_cipher
from hukou.registry import person_facts
from hukou.registry.ingest import ingest_file
from hukou.registry.link import link_all
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from tests.accounts.http import install_store
from tests.conftest import POSTGRES_ADMIN_URL, unavailable

TODAY = datetime.date(2025, 12, 31)


@dataclass(frozen=True)
class Registry:
    """A linked registry and what the tests need to read it."""

    url: str
    keyring: KeyRing
    engine: Engine
    exchange: Exchange
    persons: pl.DataFrame  # the city's truth: person ids are not theirs, numbers are
    person_ids: tuple[str, ...]


def _fresh_postgres() -> tuple[str, Engine]:
    """A new, empty database on the test server: its name and an admin engine to drop it."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hukou_exchange_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        unavailable("PostgreSQL is not reachable")
    return name, admin


@pytest.fixture(scope="session")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exchange-city") / "city"
    generate_city(CityConfig(population=300, seed=71), out)
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def registry(
    request: pytest.FixtureRequest, small_city: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    admin: Engine | None = None
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('exchange-db') / 'hukou.db'}"
    else:
        name, admin = _fresh_postgres()
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine_for(url)
    upgrade(engine)
    keyring = KeyRing.generate("k2025a")
    for folder in sorted((small_city / "feeds").iterdir()):
        for path in sorted(folder.iterdir()):
            ingest_file(engine, folder.name, path, keyring=keyring, today=TODAY)
    link_all(engine, keyring)
    with engine.connect() as connection:
        ids = tuple(row[0] for row in connection.execute(text("SELECT id FROM registry_person")))
    yield Registry(
        url,
        keyring,
        engine,
        Exchange(data_cipher(engine, keyring), load_catalog()),
        pl.read_parquet(small_city / "truth" / "persons.parquet"),
        tuple(sorted(ids)),
    )
    engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def client(registry: Registry, tmp_path: Path) -> Iterator[TestClient]:
    """The app on the module's registry, with a cheap account store, over a test client."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=registry.url,
        data_dir=tmp_path,
        keys=SecretStr(registry.keyring.to_json()),
    )
    app = create_app(settings)
    install_store(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def persons_with(registry: Registry, wanted: list[str]) -> list[tuple[str, dict[str, object]]]:
    """Every person's ``wanted`` facts, read straight from the registry (test setup only)."""
    with session_scope(registry.engine) as db:
        found = []
        for person_id in registry.person_ids:
            facts = person_facts(db, registry.exchange.cipher, person_id, wanted)
            if facts is not None:
                found.append((person_id, dict(facts.values)))
    return found


def staff(role: Role, department: str, *, user_id: str | None = None) -> ActiveSession:
    """A logged-in staff member holding one role (as AccountStore.session_for gives it)."""
    now = datetime.datetime.now(datetime.UTC)
    return ActiveSession(
        session_key="0" * 64,
        user_id=user_id or f"u-{role.value}-{department}",
        username=f"{role.value}.{department}",
        display_name="测试",
        kind=AccountKind.STAFF,
        department_code=department,
        person_id=None,
        roles=frozenset({role}),
        permissions=frozenset(permissions_of({role})),
        created_at=now,
        expires_at=now + datetime.timedelta(hours=1),
        password_change_due=False,
        csrf_token="t" * 43,
    )


def resident(person_id: str) -> ActiveSession:
    """A logged-in resident whose account is linked to ``person_id``."""
    now = datetime.datetime.now(datetime.UTC)
    return ActiveSession(
        session_key="1" * 64,
        user_id=f"r-{person_id}",
        username=f"resident.{person_id}",
        display_name="居民",
        kind=AccountKind.RESIDENT,
        department_code=None,
        person_id=person_id,
        roles=frozenset({Role.RESIDENT}),
        permissions=frozenset(permissions_of({Role.RESIDENT})),
        created_at=now,
        expires_at=now + datetime.timedelta(hours=1),
        password_change_due=False,
        csrf_token="t" * 43,
    )
