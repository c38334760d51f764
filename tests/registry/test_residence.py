"""Residence inference: weighted evidence, dates, the hukou only as the register keeps it."""

from __future__ import annotations

import datetime

from hukou.registry.residence import Evidence, division_in_address, evidence_from, infer_residence

D = datetime.date


def test_a_lease_outweighs_the_hukou_and_an_employer() -> None:
    evidence = [
        Evidence("320583", "residence_division", 1.0, D(2024, 3, 1), "housing"),
        Evidence("320505", "employer_division", 0.15, D(2025, 12, 31), "hr_social_security"),
    ]
    residence = infer_residence(evidence, "320508", registered_since=D(2025, 12, 31))
    assert residence is not None
    assert residence.division == "320583"
    assert residence.since == D(2024, 3, 1)
    assert residence.registered_elsewhere is True
    assert 0.7 < residence.confidence < 0.8  # 1.0 of 1.35


def test_the_hukou_beats_one_employer_when_nothing_else_is_known() -> None:
    evidence = [Evidence("320505", "employer_division", 0.15, D(2025, 1, 1), "hr_social_security")]
    residence = infer_residence(evidence, "320508", registered_since=D(2025, 12, 31))
    assert residence is not None
    assert residence.division == "320508"
    assert residence.registered_elsewhere is False


def test_a_hukou_known_only_from_another_department_is_not_evidence() -> None:
    evidence = [Evidence("320505", "employer_division", 0.15, D(2025, 1, 1), "hr_social_security")]
    residence = infer_residence(evidence, "341221")  # a migrant's home county, no register date
    assert residence is not None
    assert residence.division == "320505"
    assert residence.registered_elsewhere is True
    assert infer_residence([]) is None


def test_evidence_from_a_record() -> None:
    fields = {
        "residence_division": "320583",
        "address": "江苏省苏州市昆山市前进路1号2幢301室",
        "lease_start": "2024-05-01",
        "employer_division": "320506",
    }
    found = evidence_from("housing", fields, D(2025, 12, 31))
    kinds = {(e.kind, e.division) for e in found}
    assert kinds == {
        ("residence_division", "320583"),
        ("address", "320583"),
        ("employer_division", "320506"),
    }
    assert {e.since for e in found} == {D(2024, 5, 1)}
    assert division_in_address("上海市浦东新区张江路1号") == "310115"
    assert evidence_from("tax", {"address": "no place"}, D(2025, 1, 1)) == []


def test_a_later_lease_supersedes_an_earlier_one() -> None:
    stale = Evidence("320505", "residence_division", 1.0, D(2024, 3, 1), "housing")
    stale_address = Evidence("320505", "address", 0.7, D(2024, 3, 1), "housing")
    current = Evidence("320583", "residence_division", 1.0, D(2025, 6, 1), "housing")
    residence = infer_residence([stale, stale_address, current])
    assert residence is not None
    assert residence.division == "320583"
    assert residence.confidence == 1.0  # the stale lease no longer dilutes it
    # Two leases in one district: both count (nothing to supersede).
    same = Evidence("320583", "residence_division", 1.0, D(2024, 3, 1), "housing")
    both = infer_residence([same, current])
    assert both is not None
    assert both.since == D(2024, 3, 1)
