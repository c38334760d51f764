"""Filing on a linked registry: facts read through ``exchange`` for the case, under the
first-contact department's agreements, each read a ledger entry tied to the fact."""

from __future__ import annotations

import datetime
import json

import pytest
from sqlalchemy import select

from hukou.accounts import Role
from hukou.audit import ledger
from hukou.casework.model import CaseFact
from hukou.casework.service import CHECKER, Casework
from hukou.db import session_scope
from hukou.exchange.agreements import approve, propose
from tests.casework.registry_cases import CATALOG, CITY, NOW, window_filing
from tests.exchange.conftest import TODAY, Registry, persons_with, staff

pytestmark = pytest.mark.storage


def test_a_certificate_is_decided_on_the_registers_own_data(registry: Registry) -> None:
    here = next(
        person
        for person, values in persons_with(registry, ["registered_division"])
        if str(values.get("registered_division", "")).startswith(CITY)
    )
    casework = Casework(registry.exchange, CITY)
    with session_scope(registry.engine) as db:
        case = casework.file(db, window_filing("register_certificate", here), now=NOW)
        assert (case.state, case.instant_decision) == ("approved", True)
        (fact,) = db.scalars(select(CaseFact).where(CaseFact.case_id == case.id))
        assert (fact.fact, fact.holds, fact.source) == ("registered_here", True, "registry")
        assert fact.ledger_seq is not None
        read = json.loads(ledger.person_entries(db, here, after=fact.ledger_seq - 1, limit=1)[0][1])
    # The read behind the fact: the checker, for the case, the item shown in clear.
    assert (read["kind"], read["actor"], read["case_id"]) == ("access", CHECKER, case.id)
    assert read["purpose"] == "household_registration"
    assert read["fields"] == ["registered_division:unmasked"]


def test_without_an_agreement_the_fact_is_not_read_and_its_material_is_asked(
    registry: Registry,
) -> None:
    deceased = next(
        person
        for person, values in persons_with(registry, ["registered_division", "death_date"])
        if values.get("death_date") and str(values.get("registered_division")).startswith(CITY)
    )
    family = next(person for person in registry.person_ids if person != deceased)
    casework = Casework(registry.exchange, CITY)
    with session_scope(registry.engine) as db:
        case = casework.file(db, window_filing("death_cancellation", deceased, family), now=NOW)
        facts = {
            f.fact: f.source
            for f in db.scalars(select(CaseFact).where(CaseFact.case_id == case.id))
        }
    # The hukou is public security's own; the death is civil affairs', not shared yet.
    assert facts == {"registered_here": "registry", "death_recorded": "missing"}
    assert case.state == "awaiting_material"
    # Civil affairs agrees to share deaths for household registration: decided at once.
    with session_scope(registry.engine) as db:
        draft = propose(
            db,
            registry.exchange.catalog,
            staff(Role.DATA_OFFICER, "public_security"),
            provider="civil_affairs",
            fields=["death_date"],
            purposes=["household_registration"],
            valid_from=TODAY - datetime.timedelta(days=1),
        )
        approve(db, staff(Role.DATA_OFFICER, "civil_affairs"), draft.id)
    with session_scope(registry.engine) as db:
        again = casework.file(db, window_filing("death_cancellation", deceased, family), now=NOW)
        assert (again.state, again.instant_decision) == ("approved", True)


def test_an_enterprise_station_files_for_its_employees_in_one_batch(registry: Registry) -> None:
    locals_ = [
        person
        for person, values in persons_with(registry, ["registered_division"])
        if str(values.get("registered_division", "")).startswith(CITY)
    ][:3]
    casework = Casework(registry.exchange, CITY)
    with session_scope(registry.engine) as db:
        cases = casework.file_batch(
            db,
            CATALOG["register_certificate"],
            employer_code="91320508T9RE71X0FN",
            employees=[*locals_, locals_[0]],  # a name twice is filed once
            filed_by="u-station",
            department="public_security",
            now=NOW,
        )
        assert [c.subject_id for c in cases] == locals_
        assert {c.channel for c in cases} == {"enterprise_station"}
        assert len({c.batch_id for c in cases}) == 1
        assert {c.state for c in cases} == {"approved"}


def test_a_person_in_both_roles_is_read_once(registry: Registry) -> None:
    person = registry.person_ids[0]
    casework = Casework(registry.exchange, CITY)
    with session_scope(registry.engine) as db:
        # The birth bundle reads the applicant's hukou and the subject's birth date.
        case = casework.file(db, window_filing("birth_registration", person), now=NOW)
        reads = [
            entry
            for _seq, text in ledger.person_entries(db, person, limit=1000)
            if (entry := json.loads(text))["case_id"] == case.id and entry["kind"] == "access"
        ]
        seqs = {
            f.ledger_seq for f in db.scalars(select(CaseFact).where(CaseFact.case_id == case.id))
        }
    assert len(reads) == 1
    assert sorted(f.removesuffix(":unmasked") for f in reads[0]["fields"]) == [
        "birth_date",
        "registered_division",
    ]
    assert len(seqs) == 1  # both facts point at that one read
