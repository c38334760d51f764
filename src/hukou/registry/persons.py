"""Reading golden persons: find a person, and their facts with where each came from.

This is the registry's read side for other capabilities (``exchange`` above all):
they never touch the registry's tables. Facts come back decrypted, as stored in the
golden record, with their provenance; masking, agreements and the ledger are the
caller's business (:mod:`hukou.exchange`), not this module's.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.registry.golden import stored_golden
from hukou.registry.households import HouseholdMember
from hukou.registry.model import (
    IDENTITY_CONTEXT,
    IDENTITY_INDEX_PURPOSE,
    Batch,
    Person,
    RecordLink,
    SourceRecord,
)
from hukou.security.fields import TOKEN_MARK, FieldCipher
from hukou.standards import identity

__all__ = [
    "INFERRED_FIELDS",
    "PERSON_IDENTITY_CONTEXT",
    "PersonFacts",
    "Provenance",
    "find_by_identity_number",
    "find_by_name_and_birth_date",
    "person_facts",
    "person_holdings",
    "persons_facts",
]

INFERRED_FIELDS: Final = (
    "actual_residence_division",
    "residence_confidence",
    "residence_since",
    "registered_elsewhere",
)
"""What the registry infers itself rather than receives (provider ``registry``)."""

PERSON_IDENTITY_CONTEXT: Final = "registry.person.identity_number"
"""The encryption context (GCM associated data) of a person's identity number."""

# Column values of a person that are not in its golden record.
_RECORD_CONTEXT = "registry.record.{}"
# No lookup by name may return half the city (张伟 born on a busy day is a few dozen).
_MAX_NAME_MATCHES: Final = 50


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a fact came from: the department, its batch and row, and the batch date."""

    department: str
    batch_id: str | None
    file: str | None
    position: int | None
    as_of: str | None


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """A golden person's facts (decrypted) and each one's provenance."""

    person_id: str
    values: Mapping[str, object]
    provenance: Mapping[str, Provenance]
    updated_at: datetime.datetime


def find_by_identity_number(session: Session, cipher: FieldCipher, number: str) -> list[str]:
    """Persons whose number is ``number`` (15-digit numbers upgraded), by its blind index.

    A number that is not well-formed finds nobody rather than raising: the caller
    reports "not found" either way, and nothing about the input is echoed.
    """
    try:
        upgraded = identity.upgrade(number)
    except ValueError:
        return []
    index = cipher.blind_index(upgraded, purpose=IDENTITY_INDEX_PURPOSE)
    return list(
        session.scalars(select(Person.id).where(Person.identity_index == index).order_by(Person.id))
    )


def find_by_name_and_birth_date(
    session: Session, name: str, birth_date: datetime.date
) -> list[str]:
    """Persons with exactly this golden name and birth date (at most fifty)."""
    return list(
        session.scalars(
            select(Person.id)
            .where(Person.name == name.strip(), Person.birth_date == birth_date)
            .order_by(Person.id)
            .limit(_MAX_NAME_MATCHES)
        )
    )


def _decrypted(cipher: FieldCipher, name: str, value: object) -> object:
    if isinstance(value, str) and value.startswith(TOKEN_MARK):
        return cipher.decrypt(value, context=_RECORD_CONTEXT.format(name))
    return value


def person_facts(
    session: Session, cipher: FieldCipher, person_id: str, fields: Sequence[str] | None = None
) -> PersonFacts | None:
    """The facts of one person (only ``fields`` when given, and only those decrypted)."""
    person = session.get(Person, person_id)
    if person is None:
        return None
    asked = fields is None or "identity_number" in fields
    source = _identity_source(session, person) if asked else None
    return _facts_of(person, cipher, fields, identity_source=source)


def _identity_source(session: Session, person: Person) -> Provenance | None:
    """The record the person's number was read from: the household register's if it
    holds it, else the first record of another department that does."""
    if person.identity_index is None:
        return None
    row = session.execute(
        select(
            SourceRecord.department,
            SourceRecord.batch_id,
            SourceRecord.file_name,
            SourceRecord.position,
        )
        .join(RecordLink, RecordLink.record_id == SourceRecord.id)
        .where(
            RecordLink.person_id == person.id,
            SourceRecord.identity_index == person.identity_index,
        )
        .order_by((SourceRecord.department != "public_security"), SourceRecord.id)
        .limit(1)
    ).first()
    return None if row is None else Provenance(row[0], row[1], row[2], row[3], None)


def persons_facts(
    session: Session, cipher: FieldCipher, person_ids: Iterable[str], fields: Sequence[str]
) -> dict[str, PersonFacts]:
    """:func:`person_facts` of many persons, read a chunk of ids at a time (unknown ids
    are left out). For whole-population work such as the simulated year, not for a
    clerk's look-up, which goes through ``exchange`` and the ledger."""
    wanted = sorted(set(person_ids))
    found: dict[str, PersonFacts] = {}
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        for person in session.scalars(select(Person).where(Person.id.in_(chunk))):
            found[person.id] = _facts_of(person, cipher, fields)
            session.expunge(person)  # a million golden records are not kept in the session
    return found


_ID_CHUNK: Final = 5_000


def _facts_of(
    person: Person,
    cipher: FieldCipher,
    fields: Sequence[str] | None,
    *,
    identity_source: Provenance | None = None,
) -> PersonFacts:
    golden = stored_golden(person.golden)
    wanted = set(golden) | {"identity_number", *INFERRED_FIELDS} if fields is None else set(fields)
    values: dict[str, object] = {}
    provenance: dict[str, Provenance] = {}
    for name, chosen in golden.items():
        if name not in wanted:
            continue
        values[name] = _decrypted(cipher, name, chosen.value)
        source = chosen.provenance
        provenance[name] = Provenance(
            source.department,
            source.batch_id,
            source.file_name,
            source.position,
            source.as_of.isoformat(),
        )
    if "identity_number" in wanted and person.identity_token is not None:
        values["identity_number"] = cipher.decrypt(
            person.identity_token, context=PERSON_IDENTITY_CONTEXT
        )
        provenance.setdefault(
            "identity_number",
            identity_source or Provenance("public_security", None, None, None, None),
        )
    inferred = {
        "actual_residence_division": person.residence_division,
        "residence_confidence": person.residence_confidence,
        "residence_since": None
        if person.residence_since is None
        else person.residence_since.isoformat(),
        "registered_elsewhere": person.registered_elsewhere,
    }
    for name, value in inferred.items():
        if name in wanted:
            values[name] = value
            provenance[name] = Provenance("registry", None, None, None, None)
    return PersonFacts(person.id, values, provenance, person.updated_at)


def _decrypted_json(cipher: FieldCipher, text: str | None) -> dict[str, object]:
    document = json.loads(text) if text else {}
    return {name: _decrypted(cipher, name, value) for name, value in document.items()}


def person_holdings(
    session: Session, cipher: FieldCipher, person_id: str
) -> dict[str, object] | None:
    """Everything the registry holds on one person, decrypted (PIPL art. 45: access and copy).

    The golden facts with provenance, every source record linked to the person as
    its department sent it (after standardisation), the inferred residence, the
    data-quality flags and the household memberships. ``None`` for an unknown id.
    """
    facts = person_facts(session, cipher, person_id)
    person = session.get(Person, person_id)
    if facts is None or person is None:
        return None
    rows = session.execute(
        select(SourceRecord, Batch.started_at, RecordLink.method)
        .join(RecordLink, RecordLink.record_id == SourceRecord.id)
        .join(Batch, Batch.id == SourceRecord.batch_id)
        .where(RecordLink.person_id == person_id)
        .order_by(SourceRecord.id)
    ).all()
    records = [
        {
            "department": record.department,
            "file": record.file_name,
            "position": record.position,
            "received_at": received.isoformat(),
            "linked_by": method,
            "identity_number": None
            if record.identity_token is None
            else cipher.decrypt(record.identity_token, context=IDENTITY_CONTEXT),
            "name": record.name,
            "sex": record.sex,
            "birth_date": None if record.birth_date is None else record.birth_date.isoformat(),
            "fields": _decrypted_json(cipher, record.fields),
        }
        for record, received, method in rows
    ]
    households = [
        {"household_number": number, "relationship": relationship, "is_head": is_head}
        for number, relationship, is_head in session.execute(
            select(
                HouseholdMember.household_number,
                HouseholdMember.relationship,
                HouseholdMember.is_head,
            ).where(HouseholdMember.person_id == person_id)
        )
    ]
    return {
        "person_id": person_id,
        "facts": {
            name: {"value": value, "source": facts.provenance[name].department}
            for name, value in sorted(facts.values.items())
        },
        "records": records,
        "households": households,
        "flags": json.loads(person.flags) if person.flags else [],
        "conflicts": json.loads(person.conflicts) if person.conflicts else [],
        "updated_at": person.updated_at.isoformat(),
    }
