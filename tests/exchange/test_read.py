"""The one door on a real registry, on SQLite and PostgreSQL: agreements, masking,
unmasking, consent, the resident's own access, batches, and a ledger entry for each."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from hukou.accounts import Role
from hukou.audit import ledger
from hukou.audit.entry import Outcome
from hukou.db import session_scope
from hukou.exchange import (
    AgreementError,
    Asked,
    Denial,
    PersonView,
    approve,
    give_consent,
    propose,
    revoke,
    withdraw_consent,
)
from hukou.exchange.masking import mask_identity_number, mask_name
from hukou.exchange.model import UnmaskReasonRow
from hukou.registry import find_by_identity_number, person_facts, persons_facts
from tests.exchange.conftest import TODAY, Registry, resident, staff

ASK = ["identity_number", "name", "registered_division", "phone", "income"]


def _someone(registry: Registry) -> tuple[str, str, str]:
    """A person with a valid identity number and a name: (person id, number, name)."""
    cipher = registry.exchange.cipher
    with session_scope(registry.engine) as db:
        for person_id in registry.person_ids:
            facts = person_facts(db, cipher, person_id, ["identity_number", "name"])
            assert facts is not None
            number, name = facts.values.get("identity_number"), facts.values.get("name")
            if isinstance(number, str) and isinstance(name, str) and len(name) >= 2:
                return person_id, number, name
    raise AssertionError("the city has nobody with a number and a name")


def _approved(
    registry: Registry, provider: str, consumer: str, fields: list[str], purpose: str
) -> str:
    catalog = registry.exchange.catalog
    with session_scope(registry.engine) as db:
        draft = propose(
            db,
            catalog,
            staff(Role.DATA_OFFICER, consumer),
            provider=provider,
            fields=fields,
            purposes=[purpose],
            valid_from=TODAY - datetime.timedelta(days=1),
        )
        approve(db, staff(Role.DATA_OFFICER, provider), draft.id)
    return draft.id


def test_the_provider_reads_its_own_data_masked_and_it_is_a_ledger_entry(
    registry: Registry,
) -> None:
    person_id, number, name = _someone(registry)
    clerk = staff(Role.WINDOW_CLERK, "public_security")
    with session_scope(registry.engine) as db:
        before = ledger.ledger_size(db)
        view = registry.exchange.read(
            db, clerk, person_id, ASK, "household_registration", today=TODAY
        )
        after = ledger.ledger_size(db)
        entry = ledger.read_entry(db, view.ledger_seq)
    assert view.values["identity_number"] == mask_identity_number(number)
    assert view.values["name"] == mask_name(name)
    with session_scope(registry.engine) as db:
        facts = person_facts(db, registry.exchange.cipher, person_id, ["name"])
    assert facts is not None
    # Each value says where it came from, as the registry chose it (not always the register).
    assert view.provenance["name"] == facts.provenance["name"]
    # phone is hr_social_security's, income tax's and never shared: withheld with reasons.
    assert view.denied == {"phone": Denial.NO_AGREEMENT, "income": Denial.NEVER_SHARED}
    assert view.outcome is Outcome.PARTIAL
    assert after == before + 1
    assert entry.person_id == person_id
    assert entry.actor == clerk.user_id
    assert entry.department == "public_security"
    assert entry.purpose == "household_registration"
    assert set(entry.fields) == set(view.values)
    assert entry.outcome is Outcome.PARTIAL


def test_without_an_agreement_nothing_is_returned_but_the_attempt_is_logged(
    registry: Registry,
) -> None:
    person_id, _number, _name = _someone(registry)
    clerk = staff(Role.WINDOW_CLERK, "housing")
    with session_scope(registry.engine) as db:
        view = registry.exchange.read(
            db, clerk, person_id, ["name"], "residence_permit", today=TODAY
        )
        entry = ledger.read_entry(db, view.ledger_seq)
    assert view.values == {}
    assert view.denied == {"name": Denial.NO_AGREEMENT}
    assert entry.outcome is Outcome.DENIED
    assert entry.fields == ("name",)


def test_an_approved_agreement_opens_exactly_its_items_for_its_purpose(
    registry: Registry,
) -> None:
    person_id, number, _name = _someone(registry)
    agreement = _approved(
        registry,
        "public_security",
        "education",
        ["name", "registered_division"],
        "school_enrolment",
    )
    clerk = staff(Role.WINDOW_CLERK, "education")
    with session_scope(registry.engine) as db:
        view = registry.exchange.read(
            db,
            clerk,
            person_id,
            ["name", "registered_division", "identity_number"],
            "school_enrolment",
            today=TODAY,
        )
        other = registry.exchange.read(db, clerk, person_id, ["name"], "statistics", today=TODAY)
    assert set(view.values) == {"name", "registered_division"}
    assert view.basis["name"] == agreement
    assert view.denied == {"identity_number": Denial.NO_AGREEMENT}
    assert other.denied == {"name": Denial.PURPOSE_NOT_AGREED}
    assert number not in str(view.values)
    with session_scope(registry.engine) as db:
        revoke(db, staff(Role.DATA_OFFICER, "public_security"), agreement)
        revoked = registry.exchange.read(
            db, clerk, person_id, ["name"], "school_enrolment", today=TODAY
        )
    assert revoked.denied == {"name": Denial.NOT_IN_FORCE}


def test_four_eyes_and_the_provider_decide(registry: Registry) -> None:
    catalog = registry.exchange.catalog
    with session_scope(registry.engine) as db:
        officer = staff(Role.DATA_OFFICER, "tax", user_id="officer-tax")
        draft = propose(
            db,
            catalog,
            officer,
            provider="public_security",
            fields=["name"],
            purposes=["statistics"],
            valid_from=TODAY,
        )
        with pytest.raises(AgreementError, match="provider's data officer"):
            approve(db, staff(Role.DATA_OFFICER, "tax", user_id="another-tax"), draft.id)
        with pytest.raises(AgreementError, match="never shared"):
            propose(
                db,
                catalog,
                staff(Role.DATA_OFFICER, "housing"),
                provider="tax",
                fields=["income"],
                purposes=["statistics"],
                valid_from=TODAY,
            )
        with pytest.raises(AgreementError, match="own data"):
            propose(
                db,
                catalog,
                officer,
                provider="tax",
                fields=["tax_year"],
                purposes=["statistics"],
                valid_from=TODAY,
            )
        with pytest.raises(AgreementError, match="provided by public_security"):
            propose(
                db,
                catalog,
                officer,
                provider="housing",
                fields=["name"],
                purposes=["statistics"],
                valid_from=TODAY,
            )


def test_unmasking_needs_the_permission_and_a_reason(registry: Registry) -> None:
    person_id, number, _name = _someone(registry)
    reviewer = staff(Role.DEPARTMENT_REVIEWER, "public_security")
    clerk = staff(Role.WINDOW_CLERK, "public_security")
    with session_scope(registry.engine) as db:
        refused = registry.exchange.read(
            db,
            clerk,
            person_id,
            ["identity_number"],
            "household_registration",
            unmask=["identity_number"],
            reason="核对身份证件",
            today=TODAY,
        )
        no_reason = registry.exchange.read(
            db,
            reviewer,
            person_id,
            ["identity_number"],
            "household_registration",
            unmask=["identity_number"],
            today=TODAY,
        )
        clear = registry.exchange.read(
            db,
            reviewer,
            person_id,
            ["identity_number"],
            "household_registration",
            unmask=["identity_number"],
            reason="核对身份证件",
            today=TODAY,
        )
        entry = ledger.read_entry(db, clear.ledger_seq)
    assert refused.unmask_refused
    assert refused.values["identity_number"] != number
    assert no_reason.unmask_refused
    assert no_reason.values["identity_number"] != number
    assert clear.values["identity_number"] == number
    assert clear.unmasked == ("identity_number",)
    assert entry.fields == ("identity_number:unmasked",)
    assert number not in str(entry)


def test_reads_asked_together_are_each_what_it_would_be_alone(registry: Registry) -> None:
    """``read_many`` (the filing desk's): each read judged on its own, entries in order."""
    people = registry.person_ids[:3]
    reviewer = staff(Role.DEPARTMENT_REVIEWER, "public_security")
    clerk = staff(Role.WINDOW_CLERK, "public_security")
    fields = ["registered_division", "name", "phone"]
    asks = [
        Asked(
            reviewer,
            people[0],
            fields,
            "household_registration",
            unmask=["name"],
            reason="核对身份证件",
        ),
        Asked(
            clerk,
            people[1],
            fields,
            "household_registration",
            unmask=["name"],
            reason="核对身份证件",
        ),
        Asked(reviewer, people[2], ["identity_number", "name"], "household_registration"),
        Asked(reviewer, people[0], ["income"], "social_insurance", case_id="C1"),
    ]
    with session_scope(registry.engine) as db:
        together = registry.exchange.read_many(db, asks, today=TODAY)
        reasons = {
            row.ledger_seq: row.reason
            for row in db.scalars(
                select(UnmaskReasonRow).where(
                    UnmaskReasonRow.ledger_seq.in_([v.ledger_seq for v in together])
                )
            )
        }
        entries = [ledger.read_entry(db, view.ledger_seq) for view in together]
    with session_scope(registry.engine) as db:
        alone = [
            registry.exchange.read(
                db,
                ask.actor,
                ask.person_id,
                ask.fields,
                ask.purpose,
                case_id=ask.case_id,
                unmask=ask.unmask,
                reason=ask.reason,
                today=TODAY,
            )
            for ask in asks
        ]

    def seen(view: PersonView) -> tuple[object, ...]:
        return (
            view.person_id,
            dict(view.values),
            view.unmasked,
            dict(view.denied),
            view.outcome,
            view.unmask_refused,
            dict(view.provenance),
        )

    assert [seen(v) for v in together] == [seen(v) for v in alone]
    first = together[0].ledger_seq
    assert [v.ledger_seq for v in together] == list(range(first, first + 4))
    assert [e.person_id for e in entries] == [a.person_id for a in asks]
    assert entries[3].case_id == "C1"
    assert together[0].unmasked == ("name",)
    assert together[1].unmask_refused  # a clerk may not unmask
    assert reasons == {first: "核对身份证件"}  # kept only where something was shown in clear


def test_consent_based_purpose_stops_when_consent_is_withdrawn(registry: Registry) -> None:
    person_id, _number, _name = _someone(registry)
    _approved(
        registry, "public_security", "civil_affairs", ["registered_division"], "community_services"
    )
    clerk = staff(Role.WINDOW_CLERK, "civil_affairs")
    person = resident(person_id)
    catalog = registry.exchange.catalog

    def ask() -> dict[str, Denial]:
        with session_scope(registry.engine) as db:
            return dict(
                registry.exchange.read(
                    db,
                    clerk,
                    person_id,
                    ["registered_division"],
                    "community_services",
                    today=TODAY,
                ).denied
            )

    assert ask() == {"registered_division": Denial.NO_CONSENT}
    with session_scope(registry.engine) as db:
        give_consent(db, catalog, person, department="civil_affairs", purpose="community_services")
    assert ask() == {}
    with session_scope(registry.engine) as db:
        assert withdraw_consent(
            db, person, department="civil_affairs", purpose="community_services"
        )
    assert ask() == {"registered_division": Denial.NO_CONSENT}


def test_a_resident_sees_their_own_data_in_clear_and_nobody_elses(registry: Registry) -> None:
    person_id, number, name = _someone(registry)
    me = resident(person_id)
    other = next(p for p in registry.person_ids if p != person_id)
    with session_scope(registry.engine) as db:
        mine = registry.exchange.read(
            db, me, person_id, ["identity_number", "name", "income"], "self_access"
        )
        theirs = registry.exchange.read(db, me, other, ["name"], "self_access")
        as_clerk = registry.exchange.read(db, me, person_id, ["name"], "household_registration")
    assert mine.values["identity_number"] == number
    assert mine.values["name"] == name
    assert not mine.denied
    assert theirs.values == {}
    assert theirs.outcome is Outcome.DENIED
    assert as_clerk.values == {}


def test_batch_read_writes_one_entry_per_person(registry: Registry) -> None:
    officer = staff(Role.DATA_OFFICER, "public_security")
    people = list(registry.person_ids[:25])
    with session_scope(registry.engine) as db:
        views = registry.exchange.read_batch(
            db, officer, people, ["name", "sex"], "statistics", today=TODAY
        )
        entries = [ledger.read_entry(db, view.ledger_seq) for view in views]
    assert [v.person_id for v in views] == people
    assert [e.person_id for e in entries] == people
    assert len({v.ledger_seq for v in views}) == len(people)
    clerk = staff(Role.WINDOW_CLERK, "public_security")
    with session_scope(registry.engine) as db:
        refused = registry.exchange.read_batch(
            db, clerk, people[:2], ["name"], "statistics", today=TODAY
        )
    assert all(v.values == {} and v.outcome is Outcome.DENIED for v in refused)
    # a clerk may read one person, not batches: the reason says so, not "no agreement"
    assert all(v.denied == {"name": Denial.NOT_PERMITTED} for v in refused)


def test_lookup_by_number_finds_the_person(registry: Registry) -> None:
    person_id, number, _name = _someone(registry)
    with session_scope(registry.engine) as db:
        assert find_by_identity_number(db, registry.exchange.cipher, number) == [person_id]
        assert find_by_identity_number(db, registry.exchange.cipher, "not a number") == []


def test_facts_of_many_persons_are_those_of_each(registry: Registry) -> None:
    """The bulk read (for the simulated year) gives exactly the one-person read's facts."""
    wanted = ["name", "birth_date", "registered_division", "actual_residence_division"]
    people = [*registry.person_ids[:40], "no-such-person"]
    with session_scope(registry.engine) as db:
        many = persons_facts(db, registry.exchange.cipher, people, wanted)
        one = {p: person_facts(db, registry.exchange.cipher, p, wanted) for p in people}
    assert "no-such-person" not in many
    assert len(many) == 40
    for person, facts in many.items():
        expected = one[person]
        assert expected is not None
        assert facts.values == expected.values
        assert facts.provenance == expected.provenance
    assert any(facts.values.get("name") for facts in many.values())
