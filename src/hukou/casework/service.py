"""Casework on top of ``exchange``: a case's facts are read for the case, then judged.

Every fact is an :meth:`hukou.exchange.Exchange.read` with the service's purpose and the
case's id: the sharing agreements decide what the first-contact department may see (an
item no agreement covers is not read, and its material is asked for instead), each read
is a ledger entry the resident sees, and the entry's number is kept beside the fact
(``casework_fact.ledger_seq``). The reads are made by the first-contact department's
automatic checker (:func:`checker`), which unmasks what it judges, with the case as
its reason: the decision needs the real birth date, the clerk does not — the clerk
sees whether each fact held, never the value.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from hukou.accounts import ActiveSession
from hukou.casework.catalog import Channel, Service
from hukou.casework.model import CaseRow
from hukou.casework.rules import Finding, find_facts
from hukou.casework.store import Filing, file_case, new_case_id
from hukou.exchange import Exchange, automatic_reader

__all__ = ["CHECKER", "Casework", "Judgement", "checker"]

CHECKER: Final = "system:casework"
"""The actor of the automatic checks in the ledger (never a person's login)."""


def checker(department: str, now: datetime.datetime) -> ActiveSession:
    """The automatic checker of ``department``: reads and unmasks a case's facts, nothing
    else, under that department's agreements."""
    return automatic_reader(CHECKER, department, "一窗通办自动核验 (automatic check)", now)


@dataclass(frozen=True, slots=True)
class Judgement:
    """A case's facts as judged, and the ledger entry of the read behind each."""

    findings: Mapping[str, Finding]
    reads: Mapping[str, int | None]


@dataclass(frozen=True, slots=True)
class Casework:
    """Filing and judging cases for the city whose divisions start with ``city``."""

    exchange: Exchange
    city: str

    def judge(
        self,
        db: Session,
        service: Service,
        *,
        case_id: str | None,
        applicant_id: str | None,
        subject_id: str | None,
        supplied: frozenset[str] = frozenset(),
        now: datetime.datetime,
    ) -> Judgement:
        """Read every fact of ``service`` (one read per person) and judge them; without a
        ``case_id``, the window's check before filing (预审)."""
        reader = checker(service.first_contact, now)
        people = {"applicant": applicant_id, "subject": subject_id}
        # Items per person, not per role: an applicant filing for themselves is read once.
        wanted: dict[str, list[str]] = {}
        for fact in service.facts.values():
            person = people[fact.of]
            if fact.item is not None and person is not None:
                wanted.setdefault(person, []).append(fact.item)
        found: dict[str, Mapping[str, object]] = {}
        seq_of: dict[str, int] = {}
        for person, items in wanted.items():
            unique = list(dict.fromkeys(items))
            view = self.exchange.read(
                db,
                reader,
                person,
                unique,
                service.purpose,
                case_id=case_id,
                unmask=unique,
                reason=(
                    f"办件 {case_id} 自动核验 (automatic check of case)"
                    if case_id
                    else "窗口预审 (check at the window before filing)"
                ),
                today=now.date(),
            )
            found[person], seq_of[person] = view.values, view.ledger_seq
        values = {
            (role, item): found[person].get(item)
            for role, person in people.items()
            if person is not None and person in found
            for item in found[person]
        }
        findings = find_facts(
            service, values, supplied=supplied, filed_on=now.date(), city=self.city
        )
        reads = {
            name: None if fact.item is None else seq_of.get(people[fact.of] or "")
            for name, fact in service.facts.items()
        }
        return Judgement(findings, reads)

    def file(
        self,
        db: Session,
        filing: Filing,
        *,
        supplied: frozenset[str] = frozenset(),
        now: datetime.datetime,
    ) -> CaseRow:
        """File a case: its facts read and judged, then its first step (秒批, material
        asked for, or the departments' tasks), all in ``db``'s transaction."""
        case_id = new_case_id(now.date())
        judgement = self.judge(
            db,
            filing.service,
            case_id=case_id,
            applicant_id=filing.applicant_id,
            subject_id=filing.subject_id,
            supplied=supplied,
            now=now,
        )
        return file_case(
            db, filing, judgement.findings, reads=judgement.reads, now=now, case_id=case_id
        )

    def file_batch(
        self,
        db: Session,
        service: Service,
        *,
        employer_code: str,
        employees: Sequence[str],
        filed_by: str,
        department: str,
        now: datetime.datetime,
    ) -> list[CaseRow]:
        """An employer's enterprise service station files for many employees at once
        (企业服务站): one case per employee, all in one batch, each judged on its own."""
        batch_id = str(uuid.uuid4())
        return [
            self.file(
                db,
                Filing(
                    service=service,
                    channel=Channel.ENTERPRISE_STATION,
                    applicant_id=employee,
                    subject_id=employee,
                    filed_by=filed_by,
                    department=department,
                    employer_code=employer_code,
                    batch_id=batch_id,
                ),
                now=now,
            )
            for employee in dict.fromkeys(employees)
        ]
