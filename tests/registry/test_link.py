"""Linking in the database, golden records and evaluation, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from hukou.db import session_scope
from hukou.registry.evaluate import evaluate
from hukou.registry.golden import stored_golden
from hukou.registry.link import link_all, load_records
from hukou.registry.model import Person, RecordLink, SourceRecord
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from tests.registry.stored import ingest_city

pytestmark = pytest.mark.storage

KEYRING = KeyRing.generate()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("link-city")
    generate_city(CityConfig(population=1500, seed=21), out)
    return out


@pytest.fixture
def linked(engine: Engine, city: Path) -> Engine:
    ingest_city(engine, city, KEYRING)
    link_all(engine, KEYRING)
    return engine


def test_every_accepted_record_belongs_to_one_person(linked: Engine) -> None:
    with session_scope(linked) as session:
        records = session.scalar(select(func.count()).select_from(SourceRecord))
        links = session.scalar(select(func.count()).select_from(RecordLink))
        persons = session.scalar(select(func.count()).select_from(Person))
        counted = session.scalar(select(func.sum(Person.records)))
    assert records == links == counted
    assert 0 < persons < records


def test_linking_again_gives_the_same_persons(linked: Engine) -> None:
    with session_scope(linked) as session:
        before = dict(session.execute(select(RecordLink.record_id, RecordLink.person_id)).all())
    link_all(linked, KEYRING)
    with session_scope(linked) as session:
        after = dict(session.execute(select(RecordLink.record_id, RecordLink.person_id)).all())
    assert before == after


def test_golden_records_carry_provenance(linked: Engine) -> None:
    with session_scope(linked) as session:
        person = session.scalars(select(Person).where(Person.records >= 3).limit(1)).one()
        golden = stored_golden(person.golden)
        sources = json.loads(person.golden)["sources"]
    assert golden["name"].provenance.department
    assert golden["name"].provenance.position >= 2
    # A person's values come from a few records, each listed once.
    assert 1 <= len(sources) <= person.records
    assert len({json.dumps(source, sort_keys=True) for source in sources}) == len(sources)
    assert person.identity_token is None or person.identity_token.startswith("sm4gcm:")


def test_evaluation_against_truth(linked: Engine, city: Path) -> None:
    scores = evaluate(linked, city / "truth")
    pairwise = scores["pairwise"]
    assert isinstance(pairwise, dict)
    assert pairwise["f1"] >= 0.98
    assert pairwise["precision"] >= 0.98
    before, after = scores["error_rate_before"], scores["error_rate_after"]
    assert isinstance(before, float)
    assert isinstance(after, float)
    assert 0.05 < before < 0.12
    assert after < before / 2
    accuracy = scores["residence_accuracy"]
    assert isinstance(accuracy, float)
    assert accuracy > 0.85  # out-migrants (registered here, living elsewhere) are unknowable


def test_a_scope_of_many_ids_loads_exactly_those_records(linked: Engine) -> None:
    """A scope beyond PostgreSQL's 65,535 bound parameters a statement still loads, by id."""
    every = load_records(linked, KEYRING)
    asked = [*every["record_key"].to_list(), *range(10**9, 10**9 + 70_000)]  # most do not exist
    scoped = load_records(linked, KEYRING, list(reversed(asked)))
    assert scoped.equals(every)
    assert scoped["record_key"].is_sorted()
