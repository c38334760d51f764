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
from hukou.casework.store import Filing, Judged, check_filing, file_cases, new_case_id
from hukou.exchange import Asked, Exchange, automatic_reader

__all__ = ["CHECKER", "Application", "Casework", "Judgement", "checker"]

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
class Application:
    """What :meth:`Casework.judge_many` judges: a service's facts about its people."""

    service: Service
    case_id: str | None
    applicant_id: str | None
    subject_id: str | None
    supplied: frozenset[str] = frozenset()

    @property
    def people(self) -> dict[str, str | None]:
        return {"applicant": self.applicant_id, "subject": self.subject_id}

    def wanted(self) -> dict[str, list[str]]:
        """The registry items to read, per person (not per role: an applicant filing for
        themselves is read once)."""
        people = self.people
        wanted: dict[str, list[str]] = {}
        for fact in self.service.facts.values():
            person = people[fact.of]
            if fact.item is not None and person is not None:
                items = wanted.setdefault(person, [])
                if fact.item not in items:
                    items.append(fact.item)
        return wanted


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
        application = Application(service, case_id, applicant_id, subject_id, supplied)
        return self.judge_many(db, [application], now=now)[0]

    def judge_many(
        self, db: Session, applications: Sequence[Application], *, now: datetime.datetime
    ) -> list[Judgement]:
        """:meth:`judge` for each application, their reads made in one
        :meth:`~hukou.exchange.Exchange.read_many`."""
        readers: dict[str, ActiveSession] = {}
        wanted = [one.wanted() for one in applications]
        asked: list[Asked] = []
        for one, items_of in zip(applications, wanted, strict=True):
            department = one.service.first_contact
            if department not in readers:  # one automatic checker per department
                readers[department] = checker(department, now)
            reader = readers[department]
            reason = (
                f"办件 {one.case_id} 自动核验 (automatic check of case)"
                if one.case_id
                else "窗口预审 (check at the window before filing)"
            )
            asked.extend(
                Asked(
                    reader,
                    person,
                    items,
                    one.service.purpose,
                    case_id=one.case_id,
                    unmask=items,
                    reason=reason,
                )
                for person, items in items_of.items()
            )
        views = iter(self.exchange.read_many(db, asked, today=now.date()))
        judged = []
        for one, items_of in zip(applications, wanted, strict=True):
            found: dict[str, Mapping[str, object]] = {}
            seq_of: dict[str, int] = {}
            for person in items_of:
                view = next(views)
                found[person], seq_of[person] = view.values, view.ledger_seq
            judged.append(self._judgement(one, found, seq_of, now))
        return judged

    def _judgement(
        self,
        application: Application,
        found: Mapping[str, Mapping[str, object]],
        seq_of: Mapping[str, int],
        now: datetime.datetime,
    ) -> Judgement:
        service, people = application.service, application.people
        values = {
            (role, item): found[person].get(item)
            for role, person in people.items()
            if person is not None and person in found
            for item in found[person]
        }
        findings = find_facts(
            service, values, supplied=application.supplied, filed_on=now.date(), city=self.city
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
        return self.file_many(db, [(filing, supplied)], now=now)[0]

    def file_many(
        self,
        db: Session,
        filings: Sequence[tuple[Filing, frozenset[str]]],
        *,
        now: datetime.datetime,
    ) -> list[CaseRow]:
        """:meth:`file` for many filings (each with the material supplied) in ``db``'s
        transaction: their reads in one batch, their cases and steps in another."""
        for filing, _supplied in filings:
            check_filing(filing)
        case_ids = [new_case_id(now.date()) for _ in filings]
        judgements = self.judge_many(
            db,
            [
                Application(
                    filing.service, case_id, filing.applicant_id, filing.subject_id, supplied
                )
                for (filing, supplied), case_id in zip(filings, case_ids, strict=True)
            ],
            now=now,
        )
        judged = [
            Judged(filing, judgement.findings, judgement.reads, case_id)
            for (filing, _supplied), judgement, case_id in zip(
                filings, judgements, case_ids, strict=True
            )
        ]
        return file_cases(db, judged, now=now)

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
        filings = [
            Filing(
                service=service,
                channel=Channel.ENTERPRISE_STATION,
                applicant_id=employee,
                subject_id=employee,
                filed_by=filed_by,
                department=department,
                employer_code=employer_code,
                batch_id=batch_id,
            )
            for employee in dict.fromkeys(employees)
        ]
        return self.file_many(db, [(filing, frozenset()) for filing in filings], now=now)
