"""The registry's outbox: what changed about a person, for subscribers to read once.

Linking compares each touched person's golden record before and after the update
and writes one row per change (:data:`EVENT_TYPES`) to ``registry_outbox``. Other
capabilities and departments read the outbox in id order and keep a cursor, so
that a change reaches them without polling the whole registry (一次采集、多方共享).

Every event has a ``dedupe_key`` naming the *fact* (``died:<person>``,
``moved:<person>:<from>:<to>:<since>`` …), unique in the table: linking again, or
the same death arriving from public security and from civil affairs, cannot write
it twice. Payloads carry the person id and codes, never a clear identity number,
phone or name: a subscriber that needs more asks ``exchange`` under an agreement.

See ``docs/registry/outbox.md`` for the subscriber contract.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hukou.db import session_scope
from hukou.registry.golden import Candidate, stored_golden
from hukou.registry.model import OutboxCursor, OutboxEvent
from hukou.standards.dates import as_date

__all__ = [
    "BORN",
    "DIED",
    "EVENT_TYPES",
    "MARRIED",
    "MOVED",
    "NEW_RESIDENCE",
    "PERSONS_MERGED",
    "PERSON_CREATED",
    "PERSON_SPLIT",
    "Event",
    "acknowledge",
    "cursor",
    "derive_events",
    "identity_events",
    "read_events",
    "read_for",
    "write_events",
]

BORN: Final = "born"
DIED: Final = "died"
MOVED: Final = "moved"
NEW_RESIDENCE: Final = "new_residence"
MARRIED: Final = "married"
PERSON_CREATED: Final = "person_created"
PERSONS_MERGED: Final = "persons_merged"
PERSON_SPLIT: Final = "person_split"
EVENT_TYPES: Final = (
    BORN,
    DIED,
    MOVED,
    NEW_RESIDENCE,
    MARRIED,
    PERSON_CREATED,
    PERSONS_MERGED,
    PERSON_SPLIT,
)

# A person new to the registry is "born" if the registry first heard of them within
# this many days of their birth (a newborn's registration), not an adult newcomer.
NEWBORN_DAYS: Final = 366
_MARRIED_PREFIX: Final = "2"  # GB/T 4766: 20 已婚, 21 初婚, 22 再婚, 23 复婚
_MAX_KEY: Final = 200


@dataclass(frozen=True, slots=True)
class Event:
    """One outbox row as a subscriber sees it."""

    id: int
    event_type: str
    person_id: str
    occurred_on: datetime.date | None
    payload: dict[str, Any]
    batch_id: str | None
    created_at: datetime.datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "event_type": self.event_type,
            "person_id": self.person_id,
            "occurred_on": None if self.occurred_on is None else self.occurred_on.isoformat(),
            "payload": self.payload,
            "batch_id": self.batch_id,
            "created_at": self.created_at.isoformat(),
        }


# --------------------------------------------------------------------------- derivation


@dataclass(frozen=True, slots=True)
class _Facts:
    """What events are about, read from a person row (golden JSON and residence)."""

    golden: Mapping[str, Candidate]
    residence: str | None
    residence_since: datetime.date | None
    residence_confidence: float | None
    registered_elsewhere: bool | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> _Facts:
        return cls(
            stored_golden(row["golden"]),
            row.get("residence_division"),
            as_date(row.get("residence_since")),
            row.get("residence_confidence"),
            row.get("registered_elsewhere"),
        )

    def value(self, name: str) -> object:
        chosen = self.golden.get(name)
        return None if chosen is None else chosen.value

    def batch(self, name: str) -> str | None:
        chosen = self.golden.get(name)
        return None if chosen is None else chosen.provenance.batch_id

    def department(self, name: str) -> str | None:
        chosen = self.golden.get(name)
        return None if chosen is None else chosen.provenance.department

    @property
    def dead(self) -> bool:
        return self.value("death_date") is not None or self.value("person_status") == "deceased"

    @property
    def death(self) -> tuple[datetime.date | None, str | None, str | None]:
        """Date of death, batch and department that said so (the death record first)."""
        if self.value("death_date") is not None:
            field = "death_date"
            day = as_date(self.value(field))
        else:
            field = "person_status"
            day = as_date(self.value("person_status_date"))
        return day, self.batch(field), self.department(field)

    @property
    def married(self) -> bool:
        status = self.value("marital_status")
        return isinstance(status, str) and status.startswith(_MARRIED_PREFIX)

    def same_record(self, a: str, b: str) -> bool:
        """Do two fields' values come from one source record (batch and line)?"""
        x, y = self.golden.get(a), self.golden.get(b)
        return (
            x is not None
            and y is not None
            and (x.provenance.batch_id, x.provenance.position)
            == (y.provenance.batch_id, y.provenance.position)
        )

    @property
    def first_seen(self) -> datetime.date | None:
        dates = [chosen.provenance.as_of for chosen in self.golden.values()]
        return min(dates) if dates else None


def _key(*parts: object) -> str:
    key = ":".join("" if p is None else str(p) for p in parts)
    if len(key) <= _MAX_KEY:
        return key
    return f"{parts[0]}:{parts[1]}:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _event(
    event_type: str,
    person_id: str,
    occurred_on: datetime.date | None,
    payload: Mapping[str, object],
    *,
    batch_id: str | None,
    key: str,
) -> dict[str, object]:
    return {
        "event_type": event_type,
        "person_id": person_id,
        "occurred_on": occurred_on,
        "payload": json.dumps(
            {"person_id": person_id, **payload}, ensure_ascii=False, sort_keys=True, default=str
        ),
        "batch_id": batch_id,
        "dedupe_key": key,
    }


def derive_events(
    person_id: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[dict[str, object]]:
    """The events between a person row before and after an update (``before`` None: new).

    Rows are ``registry_person`` rows as dicts (``golden`` its stored JSON).
    Returned rows are ready for :func:`write_events` (without ``created_at``).
    """
    old = None if before is None else _Facts.of(before)
    new = _Facts.of(after)
    events: list[dict[str, object]] = []
    if old is None:
        events.append(
            _event(
                PERSON_CREATED,
                person_id,
                new.first_seen,
                {},
                batch_id=None,
                key=_key(PERSON_CREATED, person_id),
            )
        )
        birth = as_date(new.value("birth_date"))
        seen = new.first_seen
        if birth is not None and seen is not None and 0 <= (seen - birth).days <= NEWBORN_DAYS:
            payload = {
                "birth_date": birth.isoformat(),
                "sex": new.value("sex"),
                "registered_division": new.value("registered_division"),
            }
            events.append(
                _event(
                    BORN,
                    person_id,
                    birth,
                    payload,
                    batch_id=new.batch("birth_date"),
                    key=_key(BORN, person_id),
                )
            )
    if new.dead and (old is None or not old.dead):
        day, batch, department = new.death
        payload = {
            "death_date": None if day is None else day.isoformat(),
            "reported_by": department,
        }
        events.append(
            _event(DIED, person_id, day, payload, batch_id=batch, key=_key(DIED, person_id))
        )
    if new.residence is not None:
        since = new.residence_since
        payload = {
            "division": new.residence,
            "since": None if since is None else since.isoformat(),
            "confidence": new.residence_confidence,
            "registered_elsewhere": new.registered_elsewhere,
        }
        if old is None or old.residence is None:
            events.append(
                _event(
                    NEW_RESIDENCE,
                    person_id,
                    since,
                    payload,
                    batch_id=None,
                    key=_key(NEW_RESIDENCE, person_id),
                )
            )
        elif old.residence != new.residence:
            payload["from_division"] = old.residence
            key = _key(MOVED, person_id, old.residence, new.residence, since)
            events.append(_event(MOVED, person_id, since, payload, batch_id=None, key=key))
    # A new person is "married" only if the registry learnt it from the marriage itself.
    was_married = (
        old.married if old is not None else not new.same_record("marital_status", "event_type")
    )
    if new.married and not was_married:
        on = (
            as_date(new.value("event_date"))
            if new.same_record("marital_status", "event_date")
            else None
        )
        payload = {
            "marital_status": new.value("marital_status"),
            "reported_by": new.department("marital_status"),
        }
        source = new.golden["marital_status"].provenance
        fact = on.isoformat() if on is not None else f"{source.batch_id}/{source.position}"
        events.append(
            _event(
                MARRIED,
                person_id,
                on,
                payload,
                batch_id=new.batch("marital_status"),
                key=_key(MARRIED, person_id, fact),
            )
        )
    return events


def identity_events(
    merged: Mapping[str, Sequence[str]], split: Mapping[str, Sequence[str]]
) -> list[dict[str, object]]:
    """``persons_merged`` (new id ← old ids) and ``person_split`` (old id → new ids).

    A subscriber that keeps a person id learns from these where the records went.
    """
    events: list[dict[str, object]] = []
    for into, sources in sorted(merged.items()):
        olds = sorted(sources)
        key = _key(PERSONS_MERGED, into, ",".join(olds))
        events.append(_event(PERSONS_MERGED, into, None, {"from": olds}, batch_id=None, key=key))
    for source, targets in sorted(split.items()):
        news = sorted(targets)
        key = _key(PERSON_SPLIT, source, ",".join(news))
        events.append(_event(PERSON_SPLIT, source, None, {"into": news}, batch_id=None, key=key))
    return events


# --------------------------------------------------------------------------- storage


def _chunks(values: Sequence[Any], size: int = 1000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def write_events(
    session: Session, events: Sequence[Mapping[str, object]], *, now: datetime.datetime
) -> int:
    """Insert the events whose dedupe key is new; return how many were written.

    Keys already in the table are skipped before inserting (to count), and the
    insert itself ignores a conflicting key (ON CONFLICT DO NOTHING on both
    engines), so two linking runs racing cannot write a fact twice either.
    """
    fresh: dict[str, dict[str, object]] = {}
    for event in events:
        fresh.setdefault(str(event["dedupe_key"]), {**event, "created_at": now})
    keys = list(fresh)
    for chunk in _chunks(keys):
        for (known,) in session.execute(
            select(OutboxEvent.dedupe_key).where(OutboxEvent.dedupe_key.in_(chunk))
        ):
            fresh.pop(known, None)
    rows = [fresh[k] for k in keys if k in fresh]  # in derivation order: ids follow it
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for chunk in _chunks(rows):
        statement = insert(OutboxEvent).on_conflict_do_nothing(index_elements=["dedupe_key"])
        session.execute(statement, list(chunk))
    return len(rows)


def _as_event(row: OutboxEvent) -> Event:
    payload: dict[str, Any] = json.loads(row.payload)
    return Event(
        row.id,
        row.event_type,
        row.person_id,
        row.occurred_on,
        payload,
        row.batch_id,
        row.created_at,
    )


def read_events(engine: Engine, after_id: int = 0, limit: int = 100) -> list[Event]:
    """Events with an id above ``after_id``, oldest first, at most ``limit``."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    with session_scope(engine) as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.id > after_id)
            .order_by(OutboxEvent.id)
            .limit(limit)
        ).all()
        return [_as_event(row) for row in rows]


def cursor(engine: Engine, consumer: str) -> int:
    """The last event id ``consumer`` acknowledged (0 if it never did)."""
    with session_scope(engine) as session:
        last = session.scalar(select(OutboxCursor.last_id).where(OutboxCursor.consumer == consumer))
    return 0 if last is None else int(last)


def read_for(engine: Engine, consumer: str, limit: int = 100) -> list[Event]:
    """The next events for ``consumer``: after its cursor (read, then :func:`acknowledge`)."""
    return read_events(engine, cursor(engine, consumer), limit)


def acknowledge(engine: Engine, consumer: str, last_id: int) -> int:
    """Move ``consumer``'s cursor to ``last_id``; it never moves back. Returns the cursor.

    Delivery is at least once: a subscriber that crashes before acknowledging
    reads the same events again, and must treat ``id`` (or ``dedupe_key``'s fact)
    as idempotent.
    """
    if not consumer or len(consumer) > 64:
        raise ValueError("a consumer name of 1 to 64 characters is required")
    now = datetime.datetime.now(datetime.UTC)
    with session_scope(engine) as session:
        row = session.get(OutboxCursor, consumer)
        if row is None:
            session.add(OutboxCursor(consumer=consumer, last_id=last_id, updated_at=now))
            return last_id
        if last_id > row.last_id:
            row.last_id = last_id
            row.updated_at = now
        return int(row.last_id)
