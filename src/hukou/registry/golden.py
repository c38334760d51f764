"""Golden records: one value per field for each person, chosen by authority then recency.

Each department's spec ranks the fields it is authoritative for (public security
first for identity, housing first for where people live …). For every field the
value comes from the most authoritative department that has it, and among equals
from the most recent record; every value carries its provenance. Where departments
disagree the disagreement is kept and listed as a conflict, never overwritten away.

Stored form (``registry_person.golden``; written by :mod:`hukou.registry.golden_frame`,
read back by :func:`stored_golden` only)::

    {"fields": {"<field>": [<source>, <rank>, <value>], ...},
     "sources": [{"as_of": "<date>", "batch_id": "…", "department": "…",
                  "file": "…", "position": <line>}, ...]}

Each record a chosen value comes from is listed once under ``sources``, in
:func:`source_order`, and a field names it by its index there: a person's values come
from three or four records, so provenance written per field was three quarters of
the text (about 5 KB a person; 2 KB this way).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Candidate",
    "Conflict",
    "GoldenRecord",
    "Provenance",
    "choose",
    "golden_record",
    "source_order",
    "stored_golden",
]

# Fields no department ranks are still taken, after every ranked one.
_UNRANKED = 99
# Values that describe the record, not the person: never part of a golden record.
_NOT_PERSONAL = frozenset({"record_number", "event_type", "registered_at"})


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a value came from: department, batch, file line, and the record's date."""

    department: str
    batch_id: str
    file_name: str
    position: int
    as_of: datetime.date


@dataclass(frozen=True, slots=True)
class Candidate:
    """One department's value for one field of one person."""

    field: str
    value: object
    rank: int
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Conflict:
    """Departments disagree on a field: the chosen value and every other one."""

    field: str
    chosen: Candidate
    others: tuple[Candidate, ...]


@dataclass(slots=True)
class GoldenRecord:
    """The registry's best knowledge of one person, with provenance for every field."""

    values: dict[str, Candidate] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)

    def value(self, name: str) -> object:
        """The chosen value of a field, or ``None``."""
        chosen = self.values.get(name)
        return None if chosen is None else chosen.value


def choose(candidates: Sequence[Candidate]) -> tuple[Candidate, tuple[Candidate, ...]]:
    """The best candidate (lowest rank, then most recent, then last seen) and the
    candidates whose value differs from it.

    >>> p = lambda d, day: Provenance(d, "b", "f", 2, datetime.date(2025, 1, day))
    >>> best, others = choose([Candidate("address", "A", 2, p("hr", 9)),
    ...                        Candidate("address", "B", 1, p("housing", 1))])
    >>> best.value, [o.value for o in others]
    ('B', ['A'])
    """
    # Among equals (same rank, same date) the later candidate wins: records come in
    # the order they arrived, so a correction sent the same day replaces the value.
    ordered = sorted(
        enumerate(candidates),
        key=lambda item: (item[1].rank, -item[1].provenance.as_of.toordinal(), -item[0]),
    )
    best = ordered[0][1]
    others = tuple(c for _, c in ordered[1:] if c.value != best.value)
    return best, others


def golden_record(
    records: Sequence[tuple[Provenance, Mapping[str, object]]],
    authority: Mapping[str, Mapping[str, int]],
) -> GoldenRecord:
    """Merge one person's records. ``authority[department][field]`` is the spec's rank."""
    by_field: dict[str, list[Candidate]] = {}
    for provenance, values in records:
        ranks = authority.get(provenance.department, {})
        for name, value in values.items():
            if value is None or name in _NOT_PERSONAL:
                continue
            rank = ranks.get(name, _UNRANKED)
            by_field.setdefault(name, []).append(Candidate(name, value, rank, provenance))
    golden = GoldenRecord()
    for name in sorted(by_field):
        best, others = choose(by_field[name])
        golden.values[name] = best
        if others:
            golden.conflicts.append(Conflict(name, best, others))
    return golden


def source_order(provenance: Provenance) -> tuple[str, str, str, int, str]:
    """The order of a stored golden record's sources: by date, department, file, line
    and batch (everything the stored provenance holds, so the order is total)."""
    return (
        provenance.as_of.isoformat(),
        provenance.department,
        provenance.file_name,
        provenance.position,
        provenance.batch_id,
    )


def stored_golden(text: str) -> dict[str, Candidate]:
    """A stored golden record (see the module) back as each field's chosen candidate.

    Values come back as stored: dates as ISO text, sensitive values as tokens.
    """
    document = json.loads(text)
    sources = [
        Provenance(
            source["department"],
            source["batch_id"],
            source["file"],
            source["position"],
            datetime.date.fromisoformat(source["as_of"]),
        )
        for source in document["sources"]
    ]
    return {
        name: Candidate(name, value, rank, sources[index])
        for name, (index, rank, value) in document["fields"].items()
    }
