"""Where a person actually lives: evidence from the departments, weighed, with a date.

The household register says where a person is registered, not where they live (人户
分离 is about a third of a big city). Other departments see where people live: a
registered lease, a cross-region medical filing's place of care, a pupil's home
address, an elderly subsidy's address, the employer's district. Each is evidence with
a weight (how strongly it says "lives here") and a date; the inferred residence is
the division with the most weight, the confidence its share of all weight, and
"since" the earliest date of the evidence for it.

A person with no evidence of their own that says where they *live* (an infant, an
elderly parent, a spouse who neither works nor signs the lease) would otherwise be
placed by the hukou or by an employer's district. :func:`propagate_household` gives
such a person the well-evidenced residence of the household they belong to (the same
户 in the register, the same lease, the same address, a pupil's guardian), with a lower
confidence and ``source = "household"``, for a whole registry at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import polars as pl

from hukou.standards import divisions
from hukou.standards.dates import as_date

__all__ = [
    "HOUSEHOLD_FACTOR",
    "LIVING_KINDS",
    "WEIGHTS",
    "Evidence",
    "Residence",
    "division_in_address",
    "evidence_from",
    "infer_residence",
    "lives_by_own_evidence",
    "propagate_household",
]

# How strongly each kind of evidence says "this person lives in this division".
WEIGHTS: Mapping[str, float] = {
    "residence_division": 1.0,  # a registered lease, an elderly subsidy's district
    "care_division": 0.8,  # 异地就医备案: the place the person is cared for, where they live
    "address": 0.7,  # a home address written by the department (pupils, subsidies, filings)
    # The hukou (only as the register keeps it: a pupil's 户籍所在地 in another province
    # says nothing about where the family lives) outweighs one employer's district:
    # many people work in the next district.
    "registered_division": 0.2,
    "employer_division": 0.15,
}
# The kinds of evidence that say where the person *lives* (as opposed to where they
# work, or where their hukou is): a person with one of these has evidence of their own.
LIVING_KINDS = frozenset({"residence_division", "care_division", "address"})
# A residence borrowed from the household is less sure than the donors' own: people
# registered or named together do not always live together (an adult child
# registered with the parents, a grandparent back in the home county).
HOUSEHOLD_FACTOR = 0.6
# Fields holding a date that says since when the evidence holds, by preference.
_SINCE_FIELDS = ("lease_start", "filing_date", "enrol_date", "pension_insured_since")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One department's indication of where a person lives."""

    division: str
    kind: str
    weight: float
    since: datetime.date
    department: str


@dataclass(frozen=True, slots=True)
class Residence:
    """The inferred actual residence, how sure, since when, and against the hukou."""

    division: str
    confidence: float
    since: datetime.date
    registered_division: str | None
    # "evidence": some evidence of where the person lives (a lease, an address, a filing);
    # "work": only an employer's district; "hukou": only the household register's word;
    # "household": borrowed from the household (see propagate_household).
    source: str = "evidence"

    @property
    def registered_elsewhere(self) -> bool | None:
        """人户分离: living in another division than the registered one (None if unknown)."""
        if self.registered_division is None:
            return None
        return self.registered_division != self.division


@cache
def _county_prefixes() -> tuple[tuple[str, str], ...]:
    # Longest first, so 江苏省苏州市吴中区 wins over any shorter overlapping name.
    names = [
        (divisions.full_name(d.code), d.code)
        for d in divisions.all_divisions()
        if d.level == "county" and d.is_current
    ]
    return tuple(sorted(names, key=lambda item: -len(item[0])))


@cache
def _first_characters() -> dict[str, tuple[tuple[str, str], ...]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for name, code in _county_prefixes():
        index.setdefault(name[:2], []).append((name, code))
    return {key: tuple(value) for key, value in index.items()}


def division_in_address(address: str) -> str | None:
    """The county an address starts with (its full name, 江苏省苏州市姑苏区…), or None.

    >>> division_in_address("江苏省苏州市姑苏区人民路1号")
    '320508'
    >>> division_in_address("外地1号") is None
    True
    """
    for name, code in _first_characters().get(address[:2], ()):
        if address.startswith(name):
            return code
    return None


def evidence_from(
    department: str, fields: Mapping[str, object], as_of: datetime.date
) -> list[Evidence]:
    """The residence evidence one record carries (standard fields, as ingest stored them)."""
    since = next((d for f in _SINCE_FIELDS if (d := as_date(fields.get(f))) is not None), as_of)
    found: list[Evidence] = []
    for kind in ("residence_division", "care_division", "employer_division"):
        value = fields.get(kind)
        if isinstance(value, str) and divisions.get(value) is not None:
            found.append(Evidence(value, kind, WEIGHTS[kind], since, department))
    address = fields.get("address")
    if isinstance(address, str) and (code := division_in_address(address)) is not None:
        found.append(Evidence(code, "address", WEIGHTS["address"], since, department))
    return found


def infer_residence(
    evidence: Sequence[Evidence],
    registered_division: str | None = None,
    *,
    registered_since: datetime.date | None = None,
) -> Residence | None:
    """The division with the most weight; ties go to the more recent evidence.

    ``registered_division`` is the hukou as the household register keeps it; with
    ``registered_since`` it also counts as (weak) evidence of residence.
    """
    if registered_division is not None and registered_since is not None:
        hukou = Evidence(
            registered_division,
            "registered_division",
            WEIGHTS["registered_division"],
            registered_since,
            "register",
        )
        evidence = [*evidence, hukou]
    evidence = _without_superseded_leases(evidence)
    if not evidence:
        return None
    weight: dict[str, float] = {}
    latest: dict[str, datetime.date] = {}
    earliest: dict[str, datetime.date] = {}
    for item in evidence:
        weight[item.division] = weight.get(item.division, 0.0) + item.weight
        latest[item.division] = max(latest.get(item.division, item.since), item.since)
        earliest[item.division] = min(earliest.get(item.division, item.since), item.since)
    best = max(weight, key=lambda d: (weight[d], latest[d], d))
    total = sum(weight.values())
    return Residence(
        best,
        round(weight[best] / total, 3),
        earliest[best],
        registered_division,
        _source(evidence),
    )


def lives_by_own_evidence(evidence: Sequence[Evidence]) -> bool:
    """Whether any evidence says where the person lives (not where they work or are registered).

    This is the ``own_evidence`` column :func:`propagate_household` expects.
    """
    return any(item.kind in LIVING_KINDS for item in evidence)


def _source(evidence: Sequence[Evidence]) -> str:
    if lives_by_own_evidence(evidence):
        return "evidence"
    if any(item.kind == "employer_division" for item in evidence):
        return "work"
    return "hukou"


def _without_superseded_leases(evidence: Sequence[Evidence]) -> Sequence[Evidence]:
    """Drop a registered lease that a later lease of the same person supersedes.

    A household that moves often leaves the old lease unended in the housing system
    (``stale_lease``): both leases are "running", both say "lives here" with full
    weight. The one that started later is where the person moved to; the earlier one
    is history (and :mod:`hukou.registry.quality` flags it ``lease_superseded``).
    """
    leases = [e for e in evidence if e.department == "housing" and e.kind == "residence_division"]
    if len({e.division for e in leases}) < 2:
        return evidence
    latest = max(e.since for e in leases)
    stale = {e.since for e in leases if e.since < latest}
    return [e for e in evidence if not (e.department == "housing" and e.since in stale)]


# The columns propagate_household reads and writes, with their types.
_HOUSEHOLD_INPUT = {
    "person_id": pl.String,
    "household_key": pl.String,
    "division": pl.String,
    "confidence": pl.Float64,
    "own_evidence": pl.Boolean,
}


def propagate_household(
    people: pl.DataFrame, *, factor: float = HOUSEHOLD_FACTOR, min_confidence: float = 0.5
) -> pl.DataFrame:
    """Give members without evidence of their own their household's well-evidenced residence.

    ``people`` has one row per person and household key: ``person_id``,
    ``household_key`` (a 户号 from the register, a lease's contract number, a normalised
    address, a pupil's guardian …, each prefixed by its kind so that keys of different
    kinds never collide; null when none), ``division`` and ``confidence`` (the person's
    own inferred residence, null when none), ``own_evidence`` (whether that residence
    rests on evidence of where the person lives, :func:`lives_by_own_evidence`). A
    person may have several rows (several keys) and must have the same division,
    confidence and own_evidence on each.

    Donors are members with own evidence and ``confidence >= min_confidence``. A key's
    residence is the division with the most donor confidence; its confidence is that
    division's share of the donors' confidence times their mean confidence for it. A
    member without own evidence takes the residence of their best key (highest
    confidence, then the key, for determinism) at ``factor`` times that confidence,
    with ``source = "household"``; everyone else keeps their own (``source`` "own",
    or null when they have no residence at all).

    With an optional ``since`` column (date: since when the person's residence holds),
    a borrowed residence holds since the earliest ``since`` of the donors for it, and
    the output keeps the column (公安 常住人口 counts six months from it).

    Returns one row per person: ``person_id``, ``division``, ``confidence``,
    ``source`` and ``household_key`` (the key the residence was borrowed through),
    and ``since`` when given.
    Columnar throughout: a million persons is a few group-bys and joins.

    >>> frame = pl.DataFrame({
    ...     "person_id": ["head", "infant"], "household_key": ["lease:1", "lease:1"],
    ...     "division": ["320583", "341221"], "confidence": [0.9, 1.0],
    ...     "own_evidence": [True, False]})
    >>> out = propagate_household(frame).sort("person_id")
    >>> out.select("person_id", "division", "source").rows()
    [('head', '320583', 'own'), ('infant', '320583', 'household')]
    """
    missing = [name for name in _HOUSEHOLD_INPUT if name not in people.columns]
    if missing:
        raise ValueError(f"propagate_household: missing columns {missing}")
    dated = "since" in people.columns
    rows = people.select(
        *(pl.col(name).cast(dtype) for name, dtype in _HOUSEHOLD_INPUT.items()),
        pl.col("since").cast(pl.Date) if dated else pl.lit(None, dtype=pl.Date).alias("since"),
    ).with_columns(pl.col("own_evidence").fill_null(value=False))
    donors = rows.filter(
        pl.col("own_evidence")
        & pl.col("household_key").is_not_null()
        & pl.col("division").is_not_null()
        & (pl.col("confidence") >= min_confidence)
    ).unique(["household_key", "person_id"])
    votes = donors.group_by("household_key", "division").agg(
        pl.col("confidence").sum().alias("weight"),
        pl.col("confidence").mean().alias("mean"),
        pl.col("since").min().alias("household_since"),
    )
    households = (
        votes.with_columns(share=pl.col("weight") / pl.col("weight").sum().over("household_key"))
        .sort(["household_key", "weight", "division"], descending=[False, True, False])
        .unique("household_key", keep="first")
        .select(
            "household_key",
            pl.col("division").alias("household_division"),
            (pl.col("share") * pl.col("mean") * factor).alias("household_confidence"),
            "household_since",
        )
    )
    borrowed = (
        rows.filter(~pl.col("own_evidence"))
        .join(households, on="household_key", how="inner")
        .sort(
            ["person_id", "household_confidence", "household_key"],
            descending=[False, True, False],
        )
        .unique("person_id", keep="first")
        .select(
            "person_id",
            pl.col("household_division").alias("division"),
            pl.col("household_confidence").round(3).alias("confidence"),
            pl.lit("household").alias("source"),
            "household_key",
            pl.col("household_since").alias("since"),
        )
    )
    own = (
        rows.unique("person_id", keep="first")
        .join(borrowed.select("person_id"), on="person_id", how="anti")
        .select(
            "person_id",
            "division",
            "confidence",
            pl.when(pl.col("division").is_not_null()).then(pl.lit("own")).alias("source"),
            pl.lit(None, dtype=pl.String).alias("household_key"),
            "since",
        )
    )
    result = pl.concat([own, borrowed], how="vertical").sort("person_id")
    return result if dated else result.drop("since")
