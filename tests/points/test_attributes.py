"""An applicant's attributes read through ``exchange`` for the points office: the department's
own items from the registry at once, other departments' only under an agreement, the form's
answers marked declared and outvoted by the registry, the read a ledger entry."""

from __future__ import annotations

import datetime
import json

import pytest

from hukou.accounts import Role
from hukou.audit import ledger
from hukou.db import session_scope
from hukou.exchange.agreements import approve, propose
from hukou.points.attributes import ACTOR, read_attributes
from hukou.points.explain import explain
from hukou.points.policy import load_policies
from tests.exchange.conftest import TODAY, Registry, persons_with, staff

pytestmark = pytest.mark.storage

NOW = datetime.datetime.combine(TODAY, datetime.time(10), tzinfo=datetime.UTC)
DECLARED = {"education": "doctor", "residence_permit": True, "criminal_record": False}


def _insured_graduate(registry: Registry) -> tuple[str, dict[str, object]]:
    """Someone with insurance months and a degree on record."""
    return next(
        (person, values)
        for person, values in persons_with(
            registry, ["contribution_months", "education", "birth_date"]
        )
        if isinstance(values.get("contribution_months"), int)
        and values.get("education") in {"21", "31", "14"}
    )


def _read(registry: Registry, person: str, application: str):  # type: ignore[no-untyped-def]
    with session_scope(registry.engine) as db:
        return read_attributes(
            db,
            registry.exchange,
            person,
            DECLARED,
            department="hr_social_security",
            application_id=application,
            application_date=TODAY,
            now=NOW,
        )


def test_the_department_s_own_items_come_from_the_registry_the_rest_are_declared(
    registry: Registry,
) -> None:
    person, values = _insured_graduate(registry)
    found = _read(registry, person, "JF2025TEST01")
    assert found.values["insured_months"] == values["contribution_months"]
    assert found.sources["insured_months"] == "registry:hr_social_security"
    # Public security shares nothing with the points office yet: the form's answer stands.
    assert found.values["education"] == "doctor"
    assert found.sources["education"] == "declared"
    assert found.sources["residence_permit"] == "declared"
    with session_scope(registry.engine) as db:
        entry = json.loads(
            ledger.person_entries(db, person, after=found.ledger_seq - 1, limit=1)[0][1]
        )
    assert (entry["actor"], entry["purpose"], entry["case_id"]) == (
        ACTOR,
        "points_settlement",
        "JF2025TEST01",
    )


def test_with_an_agreement_the_registry_outvotes_the_form(registry: Registry) -> None:
    person, values = _insured_graduate(registry)
    with session_scope(registry.engine) as db:
        draft = propose(
            db,
            registry.exchange.catalog,
            staff(Role.DATA_OFFICER, "hr_social_security"),
            provider="public_security",
            fields=["birth_date", "sex", "education"],
            purposes=["points_settlement"],
            valid_from=TODAY - datetime.timedelta(days=1),
        )
        approve(db, staff(Role.DATA_OFFICER, "public_security"), draft.id)
    found = _read(registry, person, "JF2025TEST02")
    degree = {"21": "bachelor_degree", "31": "associate", "14": "master"}[str(values["education"])]
    assert found.values["education"] == degree  # not the declared doctorate
    assert found.sources["education"] == "registry:public_security"
    assert found.values["birth_date"] == datetime.date.fromisoformat(str(values["birth_date"]))
    assert found.values["sex"] in {"M", "F"}
    # The attributes score: every indicator has a line.
    result = explain(load_policies()["beijing"], found.values)
    assert {line.indicator for line in result.lines} >= {"employment", "education", "age"}
