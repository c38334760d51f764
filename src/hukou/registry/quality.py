"""Data-quality cross-checks: what one department's records say against the others'.

Each department is right about its own business and out of date about everyone
else's: 人社 pays a pension until it hears of a death that 民政 registered weeks ago,
a lease stays "running" after the tenants moved on, a school copies a guardian's
number by hand. No single feed can see these; the linked cluster of one person's
records can. Every check here is a pure function of that cluster (and, for the
registry-wide ones, of plain frames), and returns flags with a stable reason code
(the ``code`` of :class:`QualityFlag`) that officers, dashboards and the evaluation
key on. A flag does not change the golden record: it tells every consumer which
record not to take at its word, and the officer what to do (docs/registry/quality.md).

The flags are stored on the person (``registry_person.flags``, a JSON list) next to
linkage's reason strings: a quality flag is an object ``{"code", "records",
"departments"}`` where ``records`` are the ids of the source records it concerns
(:func:`flag_json`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from hukou.registry.golden import GoldenRecord
from hukou.standards import identity
from hukou.standards.dates import as_date

__all__ = [
    "ACTIVE_AFTER_DEATH",
    "CODES",
    "DEATH_NOT_CANCELLED",
    "ENROLLED_NOT_REGISTERED",
    "GUARDIAN_ID_UNREADABLE",
    "GUARDIAN_NOT_IN_REGISTRY",
    "IDENTITY_BIRTH_DATE_MISMATCH",
    "IDENTITY_SEX_MISMATCH",
    "LEASE_EXPIRED",
    "LEASE_SUPERSEDED",
    "NAME_DISAGREEMENT",
    "SUBSIDY_AGE_MISMATCH",
    "TWO_HOUSEHOLDS",
    "Member",
    "QualityFlag",
    "cross_checks",
    "death_date",
    "flag_json",
    "guardian_checks",
    "is_quality_flag",
]

Member = tuple[str, Mapping[str, object], datetime.date]
"""One record of a cluster: (department, standard fields, the record's as-of date)."""

IDENTITY_SEX_MISMATCH = "identity_sex_mismatch"
IDENTITY_BIRTH_DATE_MISMATCH = "identity_birth_date_mismatch"
ACTIVE_AFTER_DEATH = "active_after_death"
DEATH_NOT_CANCELLED = "death_not_cancelled"
LEASE_SUPERSEDED = "lease_superseded"
LEASE_EXPIRED = "lease_expired"
GUARDIAN_ID_UNREADABLE = "guardian_id_unreadable"
GUARDIAN_NOT_IN_REGISTRY = "guardian_not_in_registry"
ENROLLED_NOT_REGISTERED = "enrolled_not_registered"
TWO_HOUSEHOLDS = "two_households"
SUBSIDY_AGE_MISMATCH = "subsidy_age_mismatch"
NAME_DISAGREEMENT = "name_disagreement"

CODES = (
    IDENTITY_SEX_MISMATCH,
    IDENTITY_BIRTH_DATE_MISMATCH,
    ACTIVE_AFTER_DEATH,
    DEATH_NOT_CANCELLED,
    LEASE_SUPERSEDED,
    LEASE_EXPIRED,
    GUARDIAN_ID_UNREADABLE,
    GUARDIAN_NOT_IN_REGISTRY,
    ENROLLED_NOT_REGISTERED,
    TWO_HOUSEHOLDS,
    SUBSIDY_AGE_MISMATCH,
    NAME_DISAGREEMENT,
)

_CITY_PREFIX = "3205"  # the registry's city (苏州市 320500): whose register we hold
_OLD_AGE_ALLOWANCE_AGE = 80  # 高龄津贴 is paid from the 80th birthday


@dataclass(frozen=True, slots=True)
class QualityFlag:
    """One data-quality issue of one person.

    ``records`` are positions in the ``members`` list given to :func:`cross_checks`
    (empty when the issue is the person's, not one record's); ``departments`` are the
    departments whose records disagree. Nothing personal is kept: no number, no name.
    """

    code: str
    records: tuple[int, ...] = ()
    departments: tuple[str, ...] = ()


def is_quality_flag(entry: object) -> bool:
    """Whether an entry of ``registry_person.flags`` is a quality flag (not a linkage reason)."""
    return isinstance(entry, dict) and isinstance(entry.get("code"), str)


def flag_json(flag: QualityFlag, record_ids: Sequence[int]) -> dict[str, object]:
    """The flag as stored in ``registry_person.flags``: member positions become record ids.

    ``record_ids[i]`` is the source-record id of ``members[i]``.
    """
    return {
        "code": flag.code,
        "records": [record_ids[i] for i in flag.records],
        "departments": list(flag.departments),
    }


def _knows_death(
    department: str, fields: Mapping[str, object]
) -> tuple[bool, datetime.date | None]:
    """Whether this record says the person died, and on which day if it says."""
    if department == "civil_affairs" and fields.get("death_date") is not None:
        return True, as_date(fields.get("death_date"))
    if department == "public_security" and fields.get("person_status") == "deceased":
        return True, as_date(fields.get("person_status_date"))
    if fields.get("pension_status") == "terminated":  # 人社 终止参保: death known
        return True, as_date(fields.get("pension_status_date"))
    if fields.get("medical_status") == "terminated":  # 医保 终止: death recorded, no date
        return True, None
    return False, None


def death_date(members: Sequence[Member]) -> tuple[bool, datetime.date | None]:
    """Whether any record of the cluster knows of a death, and the earliest day one gives.

    >>> death_date([("civil_affairs", {"death_date": "2025-03-01"}, datetime.date(2025, 12, 31))])
    (True, datetime.date(2025, 3, 1))
    """
    known = False
    days: list[datetime.date] = []
    for department, fields, _ in members:
        says, day = _knows_death(department, fields)
        known = known or says
        if day is not None:
            days.append(day)
    return known, min(days) if days else None


def _still_active(
    department: str, fields: Mapping[str, object], died: datetime.date | None
) -> bool:
    """Whether a record reads as if the person were alive after ``died`` (None: date unknown)."""
    if _knows_death(department, fields)[0]:
        return False
    if department == "hr_social_security":
        # A suspended account whose employer filed 减员 before the death is not wrong.
        changed = as_date(fields.get("pension_status_date"))
        if fields.get("pension_status") == "suspended" and changed is not None and died:
            return changed >= died
        return fields.get("pension_status") in {"paying", "suspended"}
    if department == "medical_insurance":
        return fields.get("medical_status") in {"paying", "suspended"} or (
            fields.get("filing_type") is not None
        )
    if department == "civil_affairs":
        return fields.get("subsidy_type") is not None
    if department == "housing":
        end = as_date(fields.get("lease_end"))
        return end is None or died is None or end >= died
    if department == "education":
        return True  # a pupil's record is a current enrolment
    if department == "tax":
        period = as_date(fields.get("tax_period"))
        # Income up to the month of death is true; a later month is not.
        return period is not None and died is not None and period > died.replace(day=1)
    return False


def _death_checks(members: Sequence[Member]) -> list[QualityFlag]:
    known, died = death_date(members)
    if not known:
        return []
    flags: list[QualityFlag] = []
    active = [i for i, (d, f, _) in enumerate(members) if _still_active(d, f, died)]
    if active:
        departments = sorted({members[i][0] for i in active})
        flags.append(QualityFlag(ACTIVE_AFTER_DEATH, tuple(active), tuple(departments)))
    alive_in_register = [
        i
        for i, (d, f, _) in enumerate(members)
        if d == "public_security" and f.get("person_status") == "alive"
    ]
    if alive_in_register:
        flags.append(
            QualityFlag(DEATH_NOT_CANCELLED, tuple(alive_in_register), ("public_security",))
        )
    return flags


def _lease_key(fields: Mapping[str, object]) -> object:
    return fields.get("record_number") or fields.get("address")


def _lease_checks(members: Sequence[Member]) -> list[QualityFlag]:
    leases: list[tuple[int, Mapping[str, object], datetime.date, datetime.date]] = []
    for i, (department, fields, as_of) in enumerate(members):
        start = as_date(fields.get("lease_start"))
        if department == "housing" and start is not None:
            leases.append((i, fields, as_of, start))
    flags: list[QualityFlag] = []
    # A lease superseded by a later lease (another contract) of the same person: the
    # housing system was not told the tenant left (``stale_lease``).
    if len({_lease_key(f) for _, f, _, _ in leases}) > 1:
        latest = max(start for _, _, _, start in leases)
        newest = {_lease_key(f) for _, f, _, start in leases if start == latest}
        stale = tuple(i for i, f, _, _ in leases if _lease_key(f) not in newest)
        if stale:
            flags.append(QualityFlag(LEASE_SUPERSEDED, stale, ("housing",)))
    # A lease whose period ended before the batch that still lists it was taken.
    expired = tuple(
        i for i, f, as_of, _ in leases if (end := as_date(f.get("lease_end"))) and end < as_of
    )
    if expired:
        flags.append(QualityFlag(LEASE_EXPIRED, expired, ("housing",)))
    return flags


def _pupil_checks(members: Sequence[Member], golden: GoldenRecord) -> list[QualityFlag]:
    pupils = [i for i, (d, _, _) in enumerate(members) if d == "education"]
    if not pupils:
        return []
    flags: list[QualityFlag] = []
    # guardian_identity_number is required; an accepted pupil record without it had a
    # number that failed GB 11643 (ingest keeps the record and drops the value).
    unreadable = [
        i
        for i in pupils
        if members[i][1].get("guardian_identity_number") is None
        and members[i][1].get("guardian_name") is not None
    ]
    if unreadable:
        flags.append(QualityFlag(GUARDIAN_ID_UNREADABLE, tuple(unreadable), ("education",)))
    in_register = any(d == "public_security" for d, _, _ in members)
    hukou = golden.value("registered_division")
    if not in_register and (not isinstance(hukou, str) or hukou.startswith(_CITY_PREFIX)):
        flags.append(
            QualityFlag(ENROLLED_NOT_REGISTERED, tuple(pupils), ("education", "public_security"))
        )
    return flags


def _household_checks(members: Sequence[Member]) -> list[QualityFlag]:
    current: dict[object, list[int]] = {}
    for i, (department, fields, _) in enumerate(members):
        number = fields.get("household_number")
        alive = fields.get("person_status", "alive") == "alive"
        if department == "public_security" and number is not None and alive:
            current.setdefault(number, []).append(i)
    if len(current) < 2:
        return []
    records = tuple(sorted(i for rows in current.values() for i in rows))
    return [QualityFlag(TWO_HOUSEHOLDS, records, ("public_security",))]


def _identity_checks(golden: GoldenRecord, identity_number: str | None) -> list[QualityFlag]:
    if identity_number is None:
        return []
    verdict = identity.check(identity_number)
    parsed = verdict.parsed
    if parsed is None:
        return []
    flags: list[QualityFlag] = []
    for name, code, expected in (
        ("sex", IDENTITY_SEX_MISMATCH, parsed.sex),
        ("birth_date", IDENTITY_BIRTH_DATE_MISMATCH, parsed.birth_date),
    ):
        chosen = golden.values.get(name)
        if chosen is None:
            continue
        value = as_date(chosen.value) if name == "birth_date" else chosen.value
        if value is not None and value != expected:
            flags.append(QualityFlag(code, (), (chosen.provenance.department,)))
    return flags


def _subsidy_checks(members: Sequence[Member], golden: GoldenRecord) -> list[QualityFlag]:
    born = as_date(golden.value("birth_date"))
    if born is None:
        return []
    wrong = []
    for i, (department, fields, as_of) in enumerate(members):
        if department != "civil_affairs" or fields.get("subsidy_type") != "old_age_allowance":
            continue
        age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
        if age < _OLD_AGE_ALLOWANCE_AGE:
            wrong.append(i)
    return [QualityFlag(SUBSIDY_AGE_MISMATCH, tuple(wrong), ("civil_affairs",))] if wrong else []


def _name_checks(golden: GoldenRecord) -> list[QualityFlag]:
    """Departments spell the person's name differently: the golden name may be the typo.

    Linkage joins 王玲 and 王铃 when the numbers agree; the golden record takes the most
    authoritative spelling, but the register itself can hold the homophone. The
    conflict is kept in the golden record; this flag puts it in front of an officer.
    """
    for conflict in golden.conflicts:
        if conflict.field == "name":
            departments = {conflict.chosen.provenance.department}
            departments.update(other.provenance.department for other in conflict.others)
            return [QualityFlag(NAME_DISAGREEMENT, (), tuple(sorted(departments)))]
    return []


def cross_checks(
    members: Sequence[Member],
    golden: GoldenRecord,
    *,
    identity_number: str | None = None,
) -> list[QualityFlag]:
    """Every data-quality issue of one person: their linked records and golden record.

    ``members`` are the cluster's records as (department, standard fields, as-of date),
    in the order whose positions :attr:`QualityFlag.records` refer to.
    ``identity_number`` is the person's valid number (decrypted in memory by the
    caller); without it the sex and birth-date checks against the number are skipped.
    The flags come in the order of :data:`CODES`.
    """
    flags = [
        *_identity_checks(golden, identity_number),
        *_death_checks(members),
        *_lease_checks(members),
        *_pupil_checks(members, golden),
        *_household_checks(members),
        *_subsidy_checks(members, golden),
        *_name_checks(golden),
    ]
    return sorted(flags, key=lambda flag: CODES.index(flag.code))


def guardian_checks(pupils: pl.DataFrame, known: pl.Series | set[str]) -> pl.DataFrame:
    """Pupils whose guardian's (valid) number belongs to no person of the registry.

    ``pupils`` has ``person_id``, ``record_id`` and ``guardian_key`` (the blind index
    of the guardian's identity number, null when unreadable: those are flagged by
    :func:`cross_checks`); ``known`` holds the blind indexes of every person's number.
    A guardian the registry does not know is either a number copied wrongly that still
    passes the check character, or a parent registered and living elsewhere: either
    way nobody should derive the child's 随迁子女 status from that guardian unchecked.

    Returns ``person_id``, ``record_id``, ``code`` (= ``guardian_not_in_registry``).
    """
    keys = known if isinstance(known, pl.Series) else pl.Series(sorted(known), dtype=pl.String)
    return (
        pupils.filter(pl.col("guardian_key").is_not_null())
        .filter(~pl.col("guardian_key").is_in(keys.implode()))
        .select(
            "person_id",
            "record_id",
            pl.lit(GUARDIAN_NOT_IN_REGISTRY).alias("code"),
        )
    )
