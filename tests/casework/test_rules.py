"""Deciding from facts: tests per kind, the decision table, and what the machine may not do."""

from __future__ import annotations

import datetime

import pytest

from hukou.casework.catalog import Condition, Outcome, load_catalog
from hukou.casework.rules import Source, decide, find_facts, holds, materials_to_ask

DAY = datetime.date(2025, 6, 16)  # a Monday
CITY = "3205"


@pytest.mark.parametrize(
    ("test", "value", "expected"),
    [
        (Condition(present=True), "x", True),
        (Condition(present=True), None, None),
        (Condition(present=True), "", None),
        (Condition(equals="paying"), "paying", True),
        (Condition(equals="paying"), "stopped", False),
        (Condition(equals=False), False, True),
        (Condition(equals=False), True, False),
        (Condition(equals=False), "false", None),  # text is not a bool: cannot judge
        (Condition(one_of=("20", "21")), "21", True),
        (Condition(one_of=("20", "21")), "10", False),
        (Condition(at_least=12), 12, True),
        (Condition(at_least=12), "11", False),
        (Condition(at_least=12), True, None),
        (Condition(at_most=3), 4, False),
        (Condition(at_most=0), 0, True),
        (Condition(in_city=True), "320508", True),
        (Condition(in_city=True), "110105", False),
        (Condition(in_city=False), "110105", True),
        (Condition(in_city=True), "32****", None),  # masked: cannot judge
        (Condition(age_at_least=6), "2019-06-16", True),  # sixth birthday today
        (Condition(age_at_least=6), "2019-06-17", False),
        (Condition(age_below=45), "1980-06-17", True),  # 44 until tomorrow
        (Condition(age_below=45), "1980-06-16", False),
        (Condition(days_since_at_least=180), "2024-12-18", True),  # 180 days
        (Condition(days_since_at_least=180), "2024-12-19", False),
        (Condition(days_since_at_most=366), "2025-06-20", False),  # in the future
        (Condition(days_since_at_most=366), "2024-06-15", True),
        (Condition(not_before_filing=True), "2025-06-16", True),
        (Condition(not_before_filing=True), "2025-06-15", False),
        (Condition(not_before_filing=True), "soon", None),
    ],
)
def test_each_kind_of_test(test: Condition, value: object, expected: bool | None) -> None:
    assert holds(test, value, filed_on=DAY, city=CITY) is expected


def test_a_test_has_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Condition(present=True, at_least=1)
    with pytest.raises(ValueError, match="exactly one"):
        Condition()


BIRTH = load_catalog()["birth_registration"]
PARENT_HERE = {("applicant", "registered_division"): "320508"}


def test_registry_facts_decide_instantly() -> None:
    values = PARENT_HERE | {("subject", "birth_date"): "2025-06-01"}
    findings = find_facts(BIRTH, values, filed_on=DAY, city=CITY)
    assert {f.source for f in findings.values()} == {Source.REGISTRY}
    decision = decide(BIRTH, findings)
    assert (decision.outcome, decision.instant_decision, decision.row) == (Outcome.APPROVE, True, 0)
    assert materials_to_ask(BIRTH, findings) == ()


def test_a_missing_fact_asks_for_its_material_and_material_means_review() -> None:
    findings = find_facts(BIRTH, PARENT_HERE, filed_on=DAY, city=CITY)
    assert findings["born_recently"].source is Source.MISSING
    assert [m.code for m in materials_to_ask(BIRTH, findings)] == ["birth_medical_certificate"]
    assert decide(BIRTH, findings).outcome is Outcome.REVIEW
    certificate = frozenset({"birth_medical_certificate"})
    supplied = find_facts(BIRTH, PARENT_HERE, supplied=certificate, filed_on=DAY, city=CITY)
    assert supplied["born_recently"].source is Source.MATERIAL
    decision = decide(BIRTH, supplied)
    # The approving row matched, but on paper: a person looks at it.
    assert (decision.outcome, decision.proposed, decision.instant_decision) == (
        Outcome.REVIEW,
        Outcome.APPROVE,
        False,
    )


def test_the_registry_outvotes_material() -> None:
    values = PARENT_HERE | {("subject", "birth_date"): "2019-01-01"}  # not a newborn
    findings = find_facts(
        BIRTH, values, supplied=frozenset({"birth_medical_certificate"}), filed_on=DAY, city=CITY
    )
    assert (findings["born_recently"].holds, findings["born_recently"].source) == (
        False,
        Source.REGISTRY,
    )


def test_the_machine_never_refuses_alone() -> None:
    values = {
        ("applicant", "registered_division"): "110105",
        ("subject", "birth_date"): "2025-06-01",
    }
    decision = decide(BIRTH, find_facts(BIRTH, values, filed_on=DAY, city=CITY))
    assert (decision.outcome, decision.proposed, decision.instant_decision) == (
        Outcome.REVIEW,
        Outcome.REJECT,
        False,
    )
    assert "户口所在地" in decision.reason.zh


@pytest.mark.parametrize(
    ("code", "values", "outcome"),
    [
        (
            "residence_permit_application",
            {
                ("subject", "registered_division"): "110105",
                ("subject", "residence_since"): "2024-10-01",
                ("subject", "contribution_months"): 8,
            },
            Outcome.APPROVE,
        ),
        (
            "residence_permit_application",
            {
                ("subject", "registered_division"): "110105",
                ("subject", "residence_since"): "2025-05-01",  # six weeks
                ("subject", "contribution_months"): 1,
            },
            Outcome.REVIEW,  # a proposed rejection
        ),
        ("register_certificate", {("subject", "registered_division"): "320506"}, Outcome.APPROVE),
        (
            "school_enrolment",
            {
                ("subject", "birth_date"): "2019-03-01",
                ("subject", "actual_residence_division"): "320508",
                ("applicant", "contribution_months"): 30,
            },
            Outcome.APPROVE,
        ),
        (
            "settlement_application",  # the criminal-record check is always a person's
            {("subject", "education"): "21", ("subject", "birth_date"): "1995-01-01"},
            Outcome.REVIEW,
        ),
    ],
)
def test_services_decide_as_their_tables_say(
    code: str, values: dict[tuple[str, str], object], outcome: Outcome
) -> None:
    service = load_catalog()[code]
    assert decide(service, find_facts(service, values, filed_on=DAY, city=CITY)).outcome is outcome
