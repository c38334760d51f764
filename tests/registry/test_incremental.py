"""Incremental linking, the outbox and clerical decisions, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from hukou.db import session_scope
from hukou.registry.ingest import ingest_file
from hukou.registry.link import decide, link_all, link_pending, list_pairs
from hukou.registry.model import (
    LinkageModel,
    OutboxEvent,
    Person,
    RecordLink,
    ReviewPair,
    SourceRecord,
)
from hukou.registry.outbox import acknowledge, read_events, read_for
from hukou.security import FieldCipher, KeyRing
from hukou.standards.identity import check_character
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

pytestmark = pytest.mark.storage

KEYRING = KeyRing.generate()
TODAY = datetime.date(2025, 12, 31)
LATER = ("tax", "housing")  # the second batch of the convergence test


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("incremental-city")
    generate_city(CityConfig(population=700, seed=5), out)
    return out


def ingest(engine: Engine, city: Path, *, later: bool | None = None) -> None:
    for folder in sorted((city / "feeds").iterdir()):
        if later is not None and (folder.name in LATER) != later:
            continue
        for path in sorted(folder.iterdir()):
            ingest_file(engine, folder.name, path, keyring=KEYRING, today=TODAY)


def links(engine: Engine) -> dict[int, str]:
    with session_scope(engine) as session:
        return dict(session.execute(select(RecordLink.record_id, RecordLink.person_id)).all())


def stamps(engine: Engine) -> dict[str, datetime.datetime]:
    with session_scope(engine) as session:
        return dict(session.execute(select(Person.id, Person.updated_at)).all())


def register_rows(city: Path) -> tuple[str, list[list[str]]]:
    path = sorted((city / "feeds" / "public_security").iterdir())[0]
    lines = path.read_bytes().decode("gbk").splitlines()
    return lines[0], [line.split(",") for line in lines[1:]]


def write_register(folder: Path, name: str, header: str, rows: list[list[str]]) -> Path:
    path = folder / f"hjdj_{name}.csv"
    path.write_bytes(("\n".join([header, *(",".join(r) for r in rows)]) + "\n").encode("gbk"))
    return path


def person_of(engine: Engine, number: str) -> str:
    index = FieldCipher(KEYRING).blind_index(number, purpose="identity_number")
    with session_scope(engine) as session:
        person = session.scalar(select(Person.id).where(Person.identity_index == index))
    assert person is not None
    return person


@pytest.fixture
def linked(engine: Engine, city: Path) -> Engine:
    ingest(engine, city)
    report = link_all(engine, KEYRING)
    assert report.mode == "full"
    assert report.events == 0  # the first load is the baseline, not a wave of changes
    return engine


def test_nothing_pending_is_a_quick_no_op(linked: Engine) -> None:
    before = stamps(linked)
    report = link_pending(linked, KEYRING)
    assert report.mode == "nothing"
    assert report.pending == 0
    assert stamps(linked) == before


def test_full_run_stores_the_model_and_keeps_unchanged_persons(linked: Engine) -> None:
    with session_scope(linked) as session:
        assert session.scalar(select(func.count()).select_from(LinkageModel)) == 1
    before = stamps(linked)
    report = link_all(linked, KEYRING)
    assert report.persons_written == 0
    assert report.events == 0
    assert stamps(linked) == before


def test_incremental_converges_to_a_full_run(engine: Engine, city: Path) -> None:
    ingest(engine, city, later=False)
    link_all(engine, KEYRING)
    first = stamps(engine)
    ingest(engine, city, later=True)
    report = link_pending(engine, KEYRING)
    assert report.mode == "incremental"
    assert report.pending > 0
    incremental = links(engine)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SourceRecord)) == len(incremental)
    # Persons the new batch did not touch were not rewritten.
    after = stamps(engine)
    untouched = [p for p in first if p in after and after[p] == first[p]]
    assert len(untouched) > len(first) // 3
    full = link_all(engine, KEYRING)
    assert links(engine) == incremental
    assert full.persons_written == 0


def test_a_new_batch_touches_only_its_persons(linked: Engine, city: Path, tmp_path: Path) -> None:
    header, rows = register_rows(city)
    alive = [r for r in rows if r[11] == "正常"]
    died, moved = alive[0], alive[1]
    dead_row = [*died[:11], "死亡", "20251220"]
    other_division = "320506" if moved[8] != "320506" else "320505"
    moved_row = [*moved[:8], other_division, *moved[9:]]
    today = datetime.date.today()
    birth = (today - datetime.timedelta(days=30)).strftime("%Y%m%d")
    born_number = "320505" + birth + "123"
    born_number += check_character(born_number)
    born_row = [moved[0], born_number, "王小宝", "男", "汉族", birth, "子", moved[7]]
    born_row += [moved[8], "未婚", "", "正常", ""]
    before = stamps(linked)
    path = write_register(tmp_path, "changes", header, [dead_row, moved_row, born_row])
    ingest_file(linked, "public_security", path, keyring=KEYRING, today=today)
    report = link_pending(linked, KEYRING)
    assert report.mode == "incremental"
    assert report.pending == 3
    after = stamps(linked)
    changed = {p for p in after if before.get(p) != after[p]}
    assert 1 <= len(changed) <= report.persons
    assert len(changed) <= 10
    events = read_events(linked, 0, 1000)
    kinds = {(e.event_type, e.person_id) for e in events}
    assert ("died", person_of(linked, died[1])) in kinds
    assert ("moved", person_of(linked, moved[1])) in kinds
    assert ("born", person_of(linked, born_number)) in kinds
    died_event = next(e for e in events if e.event_type == "died")
    assert died_event.occurred_on == datetime.date(2025, 12, 20)
    text = json.dumps([e.as_json() for e in events], ensure_ascii=False)
    assert died[1] not in text  # no clear identity number …
    assert died[2] not in text  # … nor name in any payload

    # Linking again, and a batch repeating the death (with another row), add nothing.
    assert link_pending(linked, KEYRING).mode == "nothing"
    link_all(linked, KEYRING)
    again = write_register(tmp_path, "repeat", header, [dead_row, alive[2]])
    ingest_file(linked, "public_security", again, keyring=KEYRING, today=TODAY)
    link_pending(linked, KEYRING)
    with session_scope(linked) as session:
        rows_died = session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == "died")
        )
        total = session.scalar(select(func.count()).select_from(OutboxEvent))
    assert rows_died == 1
    assert total == len(events)


def test_subscriber_cursor(linked: Engine, city: Path, tmp_path: Path) -> None:
    header, rows = register_rows(city)
    dead = [*rows[3][:11], "死亡", "20251201"]
    ingest_file(
        linked,
        "public_security",
        write_register(tmp_path, "d", header, [dead]),
        keyring=KEYRING,
        today=TODAY,
    )
    link_pending(linked, KEYRING)
    first = read_for(linked, "insight")
    assert first
    assert acknowledge(linked, "insight", first[-1].id) == first[-1].id
    assert read_for(linked, "insight") == []
    assert acknowledge(linked, "insight", 0) == first[-1].id  # never moves back


def _probabilistic_record(engine: Engine) -> tuple[int, int]:
    """A record linked by score, and a record with a valid number of the same person."""
    with session_scope(engine) as session:
        link = session.execute(
            select(RecordLink.record_id, RecordLink.person_id)
            .where(RecordLink.method == "probabilistic")
            .order_by(RecordLink.record_id)
            .limit(1)
        ).one()
        partner = session.scalar(
            select(RecordLink.record_id)
            .where(RecordLink.person_id == link.person_id, RecordLink.method == "exact")
            .order_by(RecordLink.record_id)
            .limit(1)
        )
    assert partner is not None
    return link.record_id, partner


def test_clerical_different_splits_and_survives_relinking(linked: Engine) -> None:
    record, partner = _probabilistic_record(linked)
    with session_scope(linked) as session:
        session.execute(
            insert(ReviewPair),
            [
                {
                    "record_l": min(record, partner),
                    "record_r": max(record, partner),
                    "probability": 0.99,
                    "status": "pending",
                }
            ],
        )
        pair = session.scalar(
            select(ReviewPair.id).where(ReviewPair.record_l == min(record, partner))
        )
    assert pair is not None
    listed = list_pairs(linked, KEYRING)
    shown = next(p for p in listed if p["id"] == pair)
    assert "*" in json.dumps(shown, ensure_ascii=False)
    decide(linked, pair, "different", by="clerk-7")
    link_all(linked, KEYRING)
    mapping = links(linked)
    assert mapping[record] != mapping[partner]
    assert link_pending(linked, KEYRING).mode == "nothing"
    link_all(linked, KEYRING)
    assert links(linked)[record] != links(linked)[partner]
    with session_scope(linked) as session:
        status = session.scalar(select(ReviewPair.status).where(ReviewPair.id == pair))
        queued = session.scalar(
            select(func.count())
            .select_from(ReviewPair)
            .where(
                ReviewPair.record_l == min(record, partner),
                ReviewPair.record_r == max(record, partner),
            )
        )
    assert status == "different"
    assert queued == 1  # never re-queued as a new pending pair
    events = {e.event_type for e in read_events(linked, 0, 1000)}
    assert "person_split" in events or "person_created" in events


def test_clerical_same_joins_with_method_clerical(linked: Engine) -> None:
    record, partner = _probabilistic_record(linked)
    with session_scope(linked) as session:
        other = session.scalars(
            select(RecordLink.record_id)
            .where(RecordLink.method == "exact", RecordLink.person_id != links(linked)[record])
            .order_by(RecordLink.record_id)
            .limit(1)
        ).one()
        session.execute(
            insert(ReviewPair),
            [
                {
                    "record_l": min(record, other),
                    "record_r": max(record, other),
                    "probability": 0.6,
                    "status": "same",
                    "decided_by": "clerk-7",
                },
                {
                    "record_l": min(record, partner),
                    "record_r": max(record, partner),
                    "probability": 0.99,
                    "status": "different",
                    "decided_by": "clerk-7",
                },
            ],
        )
    link_all(linked, KEYRING)
    assert links(linked)[record] == links(linked)[other]
    with session_scope(linked) as session:
        method = session.scalar(select(RecordLink.method).where(RecordLink.record_id == record))
    assert method == "clerical"
    link_all(linked, KEYRING)
    assert links(linked)[record] == links(linked)[other]
