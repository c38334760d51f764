"""Data-quality cross-checks: each fires on a crafted cluster and stays silent on a clean one."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

from hukou.registry.golden import GoldenRecord, Provenance, golden_record
from hukou.registry.quality import (
    ACTIVE_AFTER_DEATH,
    DEATH_NOT_CANCELLED,
    ENROLLED_NOT_REGISTERED,
    GUARDIAN_ID_UNREADABLE,
    GUARDIAN_NOT_IN_REGISTRY,
    IDENTITY_BIRTH_DATE_MISMATCH,
    IDENTITY_SEX_MISMATCH,
    LEASE_EXPIRED,
    LEASE_SUPERSEDED,
    NAME_DISAGREEMENT,
    SUBSIDY_AGE_MISMATCH,
    TWO_HOUSEHOLDS,
    QualityFlag,
    cross_checks,
    flag_json,
    guardian_checks,
    is_quality_flag,
)
from hukou.standards import identity

D = datetime.date
AS_OF = D(2025, 12, 31)
AUTHORITY = {"public_security": {"name": 1, "sex": 1, "birth_date": 1, "registered_division": 1}}
# A synthetic number (valid check character), never a real person's: born 1980-01-01.
BODY = "32050819800101123"
NUMBER = BODY + identity.check_character(BODY)

Members = list[tuple[str, dict[str, object], datetime.date]]


def _golden(members: Members, **person: object) -> GoldenRecord:
    records = [
        (Provenance(d, "b", "f", i + 2, as_of), {**person, **fields})
        if d == "public_security"
        else (Provenance(d, "b", "f", i + 2, as_of), fields)
        for i, (d, fields, as_of) in enumerate(members)
    ]
    return golden_record(records, AUTHORITY)


def _register(**fields: object) -> tuple[str, dict[str, object], datetime.date]:
    base: dict[str, object] = {
        "household_number": "32050000001",
        "registered_division": "320508",
        "person_status": "alive",
    }
    return ("public_security", {**base, **fields}, AS_OF)


def _codes(flags: list[QualityFlag]) -> list[str]:
    return [flag.code for flag in flags]


def _clean() -> Members:
    return [
        _register(),
        ("hr_social_security", {"pension_status": "paying", "employer_division": "320505"}, AS_OF),
        (
            "housing",
            {"record_number": "ZL-1", "lease_start": "2025-03-01", "lease_end": "2026-02-28"},
            AS_OF,
        ),
        ("tax", {"tax_period": "2025-11-01"}, AS_OF),
    ]


def test_a_clean_person_raises_nothing() -> None:
    members = _clean()
    golden = _golden(members, sex="1", birth_date=D(1980, 1, 1), name="甲乙")
    assert cross_checks(members, golden, identity_number=NUMBER) == []


def test_sex_and_birth_date_against_the_identity_number() -> None:
    members = [_register()]
    golden = _golden(members, sex="2", birth_date=D(1980, 1, 2))
    flags = cross_checks(members, golden, identity_number=NUMBER)
    assert _codes(flags) == [IDENTITY_SEX_MISMATCH, IDENTITY_BIRTH_DATE_MISMATCH]
    assert flags[0].departments == ("public_security",)
    assert cross_checks(members, golden) == []  # without the number nothing to compare


def test_records_still_active_after_a_registered_death() -> None:
    members: Members = [
        _register(),
        ("civil_affairs", {"death_date": "2025-06-10"}, AS_OF),
        ("hr_social_security", {"pension_status": "paying"}, AS_OF),
        ("medical_insurance", {"medical_status": "paying"}, AS_OF),
        ("medical_insurance", {"filing_type": "living_elsewhere"}, AS_OF),
        ("civil_affairs", {"subsidy_type": "old_age_allowance"}, AS_OF),
        ("housing", {"lease_start": "2025-01-01", "lease_end": "2025-12-31"}, AS_OF),
        ("tax", {"tax_period": "2025-09-01"}, AS_OF),  # wages after the month of death
    ]
    flags = cross_checks(members, _golden(members, birth_date=D(1940, 1, 1)))
    active = next(f for f in flags if f.code == ACTIVE_AFTER_DEATH)
    assert active.records == (2, 3, 4, 5, 6, 7)
    assert DEATH_NOT_CANCELLED in _codes(flags)  # the register still says 正常


def test_a_known_death_with_everything_updated_is_silent() -> None:
    members: Members = [
        _register(person_status="deceased", person_status_date="2025-06-10"),
        ("hr_social_security", {"pension_status": "terminated"}, AS_OF),
        ("medical_insurance", {"medical_status": "terminated"}, AS_OF),
        ("tax", {"tax_period": "2025-06-01"}, AS_OF),  # wages up to the month of death
        # 减员 filed before the death: the suspension is not the death's.
        (
            "hr_social_security",
            {"pension_status": "suspended", "pension_status_date": "2025-01-05"},
            AS_OF,
        ),
    ]
    assert cross_checks(members, _golden(members)) == []


def test_a_lease_superseded_by_a_later_one() -> None:
    old = {"record_number": "ZL-1", "lease_start": "2024-05-01", "lease_end": "2027-04-30"}
    new = {"record_number": "ZL-2", "lease_start": "2025-03-01", "lease_end": "2026-02-28"}
    members: Members = [("housing", old, AS_OF), ("housing", new, AS_OF)]
    flags = cross_checks(members, _golden(members))
    assert flags == [QualityFlag(LEASE_SUPERSEDED, (0,), ("housing",))]
    # Two rows of one contract (a duplicate) are not two leases.
    assert cross_checks([("housing", new, AS_OF)] * 2, _golden(members)) == []


def test_a_lease_that_ended_before_the_batch() -> None:
    lease = {"record_number": "ZL-1", "lease_start": "2024-01-01", "lease_end": "2024-12-31"}
    members: Members = [("housing", lease, AS_OF)]
    assert _codes(cross_checks(members, _golden(members))) == [LEASE_EXPIRED]


def test_a_pupil_whose_guardian_number_was_unreadable_and_who_is_registered_nowhere() -> None:
    members: Members = [("education", {"guardian_name": "甲乙", "grade": 3}, AS_OF)]
    flags = cross_checks(members, _golden(members))
    assert _codes(flags) == [GUARDIAN_ID_UNREADABLE, ENROLLED_NOT_REGISTERED]


def test_a_registered_pupil_with_a_readable_guardian_is_silent() -> None:
    pupil = {"guardian_name": "甲乙", "guardian_identity_number": "sm4gcm:token"}
    members: Members = [_register(), ("education", pupil, AS_OF)]
    assert cross_checks(members, _golden(members)) == []
    # A migrant's child registered in another province is registered somewhere.
    elsewhere = {**pupil, "registered_division": "341221"}
    migrant: Members = [("education", elsewhere, AS_OF)]
    assert cross_checks(migrant, _golden(migrant)) == []


def test_the_same_person_current_in_two_households() -> None:
    members: Members = [_register(), _register(household_number="32050000002")]
    flags = cross_checks(members, _golden(members))
    assert flags == [QualityFlag(TWO_HOUSEHOLDS, (0, 1), ("public_security",))]
    moved: Members = [_register(), _register(household_number="2", person_status="moved_out")]
    assert cross_checks(moved, _golden(moved)) == []


def test_an_old_age_allowance_below_eighty() -> None:
    members: Members = [
        _register(),
        ("civil_affairs", {"subsidy_type": "old_age_allowance"}, AS_OF),
    ]
    young = _golden(members, birth_date=D(1950, 1, 1))
    assert _codes(cross_checks(members, young)) == [SUBSIDY_AGE_MISMATCH]
    assert cross_checks(members, _golden(members, birth_date=D(1940, 1, 1))) == []


def test_departments_spelling_the_name_differently() -> None:
    records = [
        (Provenance("public_security", "b", "f", 2, AS_OF), {"name": "王铃"}),
        (Provenance("tax", "b", "f", 3, AS_OF), {"name": "王玲"}),
    ]
    golden = golden_record(records, AUTHORITY)
    members: Members = [_register(), ("tax", {}, AS_OF)]
    flags = cross_checks(members, golden)
    assert flags == [QualityFlag(NAME_DISAGREEMENT, (), ("public_security", "tax"))]


def test_flags_as_stored_on_the_person() -> None:
    stored = flag_json(QualityFlag(LEASE_SUPERSEDED, (1,), ("housing",)), [101, 102])
    assert stored == {"code": LEASE_SUPERSEDED, "records": [102], "departments": ["housing"]}
    assert is_quality_flag(stored)
    assert not is_quality_flag("two_valid_numbers")


@pytest.mark.parametrize("known", [{"g1"}, pl.Series(["g1"])])
def test_guardians_the_registry_does_not_know(known: set[str] | pl.Series) -> None:
    pupils = pl.DataFrame(
        {
            "person_id": ["p1", "p2", "p3"],
            "record_id": [1, 2, 3],
            "guardian_key": ["g1", "g9", None],
        }
    )
    flagged = guardian_checks(pupils, known)
    assert flagged.rows() == [("p2", 2, GUARDIAN_NOT_IN_REGISTRY)]
