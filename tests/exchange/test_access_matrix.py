"""Every role × department × purpose × item, on both engines: no item is returned
without an agreement (or being the reader's own department's, or the resident's own),
none is unmasked without the permission and a reason, and none is read without a
ledger entry that names it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from hukou.accounts import Permission, Role
from hukou.audit import ledger
from hukou.db import session_scope
from hukou.exchange import approve, propose, revoke
from hukou.exchange.masking import Mask, apply_mask
from hukou.exchange.service import UNMASKED_SUFFIX
from hukou.registry import person_facts
from tests.exchange.conftest import TODAY, Registry, resident, staff

DEPARTMENTS = (
    "public_security",
    "hr_social_security",
    "education",
    "medical_insurance",
    "civil_affairs",
    "tax",
    "housing",
    "unlisted_bureau",
)
STAFF_ROLES = tuple(role for role in Role if role is not Role.RESIDENT)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Deal:
    provider: str
    consumer: str
    fields: tuple[str, ...]
    purpose: str
    valid_from: datetime.date
    valid_until: datetime.date | None = None
    revoked: bool = False

    def opens(self, provider: str, consumer: str, field: str, purpose: str) -> bool:
        """Whether this agreement lets ``consumer`` read ``field`` today, by its terms."""
        return (
            not self.revoked
            and (self.provider, self.consumer, self.purpose) == (provider, consumer, purpose)
            and field in self.fields
            and self.valid_from <= TODAY
            and (self.valid_until is None or self.valid_until >= TODAY)
        )


DEALS = (
    Deal(
        "public_security",
        "education",
        ("name", "registered_division", "birth_date"),
        "school_enrolment",
        TODAY - 30 * DAY,
    ),
    Deal(
        "public_security",
        "hr_social_security",
        ("identity_number", "name"),
        "social_insurance",
        TODAY - 400 * DAY,
        TODAY - DAY,
    ),
    Deal("public_security", "housing", ("registered_address",), "residence_permit", TODAY + DAY),
    Deal(
        "hr_social_security",
        "public_security",
        ("employer_name", "contribution_months", "phone"),
        "points_settlement",
        TODAY - DAY,
        TODAY + DAY,
    ),
    Deal(
        "education",
        "medical_insurance",
        ("school_name",),
        "medical_insurance",
        TODAY - DAY,
        revoked=True,
    ),
    Deal(
        "public_security",
        "civil_affairs",
        ("registered_division",),
        "community_services",
        TODAY - DAY,
    ),
    Deal(
        "registry",
        "public_security",
        ("actual_residence_division", "registered_elsewhere"),
        "statistics",
        TODAY - DAY,
    ),
)


def _allowed_by_terms(registry: Registry, department: str, field: str, purpose: str) -> bool:
    item = registry.exchange.catalog.fields.get(field)
    if item is None:
        return False
    if item.provider == department:
        return True
    if item.share == "never":
        return False
    if registry.exchange.catalog.purposes[purpose].needs_consent:
        return False  # nobody consented in this test
    return any(deal.opens(item.provider, department, field, purpose) for deal in DEALS)


@pytest.fixture(scope="module")
def agreed(registry: Registry) -> Registry:
    catalog = registry.exchange.catalog
    with session_scope(registry.engine) as db:
        for deal in DEALS:
            draft = propose(
                db,
                catalog,
                staff(Role.DATA_OFFICER, deal.consumer, user_id=f"officer-{deal.consumer}"),
                provider=deal.provider,
                fields=deal.fields,
                purposes=[deal.purpose],
                valid_from=deal.valid_from,
                valid_until=deal.valid_until,
            )
            approver = staff(Role.DATA_OFFICER, deal.provider, user_id=f"officer-{deal.provider}")
            approve(db, approver, draft.id)
            if deal.revoked:
                revoke(db, approver, draft.id)
    return registry


def _richest_person(registry: Registry) -> tuple[str, dict[str, object]]:
    with session_scope(registry.engine) as db:
        best: tuple[str, dict[str, object]] | None = None
        for person_id in registry.person_ids:
            facts = person_facts(db, registry.exchange.cipher, person_id)
            assert facts is not None
            if best is None or len(facts.values) > len(best[1]):
                best = (person_id, dict(facts.values))
    assert best is not None
    return best


def test_every_role_department_purpose_and_item(agreed: Registry) -> None:
    registry = agreed
    catalog = registry.exchange.catalog
    person_id, clear = _richest_person(registry)
    asked = [*catalog.fields, "not_in_catalogue", "password"]
    purposes = [p for p in catalog.purposes if p != "self_access"]
    reads = 0
    returned_somewhere: set[str] = set()
    for role in STAFF_ROLES:
        for department in DEPARTMENTS:
            reader = staff(role, department)
            may_read = Permission.PERSON_READ in reader.permissions
            may_unmask = Permission.PERSON_UNMASK in reader.permissions
            for purpose in [*purposes, "self_access", "marketing"]:
                with session_scope(registry.engine) as db:
                    before = ledger.ledger_size(db)
                    view = registry.exchange.read(
                        db,
                        reader,
                        person_id,
                        asked,
                        purpose,
                        unmask=asked,
                        reason="矩阵测试核查",
                        today=TODAY,
                    )
                    assert ledger.ledger_size(db) == before + 1, "a read without an entry"
                    entry = ledger.read_entry(db, view.ledger_seq)
                reads += 1
                where = f"{role}/{department}/{purpose}"
                if not may_read or purpose not in purposes:
                    assert view.values == {}, where
                for field, value in view.values.items():
                    returned_somewhere.add(field)
                    assert _allowed_by_terms(registry, department, field, purpose), (
                        f"{where}: {field}"
                    )
                    mask = catalog.fields[field].mask
                    if not may_unmask and mask is not Mask.NONE:
                        assert value == apply_mask(mask, clear.get(field)), (
                            f"{where}: {field} in clear"
                        )
                # every item that was returned is in the entry, unmasked ones marked so
                logged = {name.removesuffix(UNMASKED_SUFFIX) for name in entry.fields}
                assert set(view.values) <= logged, where
                assert {f"{n}{UNMASKED_SUFFIX}" for n in view.unmasked} <= set(entry.fields), where
                assert (entry.person_id, entry.purpose, entry.department) == (
                    person_id,
                    purpose,
                    department,
                )
                assert entry.actor == reader.user_id
                for field in asked:
                    if field not in view.values:
                        assert field in view.denied or not may_read, f"{where}: {field} vanished"
    assert reads == len(STAFF_ROLES) * len(DEPARTMENTS) * (len(purposes) + 2)
    # The matrix really opened something through agreements, not only own data.
    assert {
        "registered_division",
        "employer_name",
        "actual_residence_division",
    } <= returned_somewhere


def test_a_resident_reads_only_themselves(agreed: Registry) -> None:
    registry = agreed
    person_id, clear = _richest_person(registry)
    other = next(p for p in registry.person_ids if p != person_id)
    asked = list(registry.exchange.catalog.fields)
    with session_scope(registry.engine) as db:
        for purpose in registry.exchange.catalog.purposes:
            mine = registry.exchange.read(db, resident(person_id), person_id, asked, purpose)
            theirs = registry.exchange.read(db, resident(other), person_id, asked, purpose)
            assert theirs.values == {}
            if purpose == "self_access":
                # everything in the catalogue, in clear; None where there is no value
                assert set(mine.values) == set(asked)
                assert {k: v for k, v in mine.values.items() if v is not None} == clear
            else:
                assert mine.values == {}
