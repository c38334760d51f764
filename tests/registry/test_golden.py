"""Golden records: authority first, then recency; provenance kept; conflicts listed."""

from __future__ import annotations

import datetime

from hukou.registry.golden import Provenance, golden_record


def _p(department: str, day: int, position: int = 2) -> Provenance:
    return Provenance(
        department,
        f"batch-{department}",
        f"{department}.csv",
        position,
        datetime.date(2025, 6, day),
    )


AUTHORITY = {
    "public_security": {"name": 1, "birth_date": 1, "address": 3},
    "housing": {"address": 1},
    "hr_social_security": {"employer_name": 1},
}


def test_authority_beats_recency() -> None:
    golden = golden_record(
        [
            (_p("public_security", 1), {"name": "张伟", "address": "A"}),
            (_p("housing", 2), {"address": "B"}),
            (_p("hr_social_security", 30), {"name": "張偉", "employer_name": "苏州某公司"}),
        ],
        AUTHORITY,
    )
    assert golden.value("name") == "张伟"  # the register, although 人社 is more recent
    assert golden.value("address") == "B"  # housing is first for where people live
    assert golden.value("employer_name") == "苏州某公司"
    assert golden.values["address"].provenance.department == "housing"
    conflicts = {c.field: c for c in golden.conflicts}
    assert set(conflicts) == {"name", "address"}
    assert [o.value for o in conflicts["name"].others] == ["張偉"]


def test_recency_breaks_ties_and_unranked_fields_still_count() -> None:
    golden = golden_record(
        [
            (_p("housing", 3), {"address": "old", "lease_end": datetime.date(2026, 1, 1)}),
            (_p("housing", 20), {"address": "new"}),
            (_p("tax", 5), {"income": 100}),
        ],
        AUTHORITY,
    )
    assert golden.value("address") == "new"
    assert golden.values["address"].provenance.as_of == datetime.date(2025, 6, 20)
    assert golden.value("income") == 100  # no department ranks it: taken all the same
    assert golden.value("lease_end") == datetime.date(2026, 1, 1)


def test_same_value_from_two_departments_is_no_conflict_and_record_fields_are_left_out() -> None:
    golden = golden_record(
        [
            (
                _p("public_security", 1),
                {"birth_date": datetime.date(1990, 1, 1), "record_number": "X"},
            ),
            (_p("housing", 2), {"birth_date": datetime.date(1990, 1, 1), "record_number": "Y"}),
        ],
        AUTHORITY,
    )
    assert golden.conflicts == []
    assert "record_number" not in golden.values
