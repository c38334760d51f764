"""The filing desk: filings that arrive together are filed in one transaction, each
answered with its own case, and a filing that fails fails alone (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest
from sqlalchemy import func, select

from hukou.audit import ledger
from hukou.casework.catalog import Channel
from hukou.casework.desk import FilingDesk
from hukou.casework.model import CaseFact, CaseNotification, CasePause, CaseRow, CaseTask
from hukou.casework.service import Casework
from hukou.casework.store import Filing, FilingError
from hukou.casework.views import case_view
from hukou.db import session_scope
from tests.casework.registry_cases import CITY, NOW, registered_here, window_filing
from tests.exchange.conftest import Registry, persons_with

pytestmark = pytest.mark.storage


@dataclass(frozen=True)
class _Held(Casework):
    """Casework whose first batch waits for ``release``; every batch's size is recorded,
    and a batch holding a filing for ``failing`` raises as a database would."""

    sizes: list[int] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    failing: str = "-"

    def file_many(
        self,
        db: object,
        filings: Sequence[tuple[Filing, frozenset[str]]],
        *,
        now: datetime.datetime,
    ) -> list[CaseRow]:
        self.sizes.append(len(filings))
        self.started.set()
        assert self.release.wait(30)
        if any(filing.applicant_id == self.failing for filing, _supplied in filings):
            raise RuntimeError("the database refused this batch")
        return super().file_many(db, filings, now=now)  # type: ignore[arg-type]


def test_filings_that_wait_are_filed_together_each_with_its_own_case(registry: Registry) -> None:
    people = registered_here(registry)[:9]
    casework = _Held(registry.exchange, CITY)
    desk = FilingDesk(registry.engine, casework, lambda: NOW)
    first = desk.submit(window_filing("register_certificate", people[0]))
    assert casework.started.wait(30)
    rest = [desk.submit(window_filing("register_certificate", person)) for person in people[1:]]
    casework.release.set()
    views = [first.result(30), *(future.result(30) for future in rest)]
    desk.close()
    assert casework.sizes == [1, 8]  # the eight that waited went in one transaction
    assert [view.applicant_id for view in views] == people
    assert {(view.state, view.instant_decision) for view in views} == {("approved", True)}
    assert len({view.id for view in views}) == 9
    with session_scope(registry.engine) as db:
        for view in views:
            # The answer is the case as stored, and the resident sees its three entries:
            # the read of their registration, the filing and the instant decision.
            assert case_view(db, view.id, today=NOW.date()) == view
            entries = [
                json.loads(text)
                for _seq, text in ledger.person_entries(db, view.applicant_id or "", limit=1000)
            ]
            mine = [(e["kind"], e.get("action")) for e in entries if e["case_id"] == view.id]
            assert mine == [
                ("access", None),
                ("state_change", "case.filed"),
                ("state_change", "case.instant_decision"),
            ]
            (fact,) = db.scalars(select(CaseFact).where(CaseFact.case_id == view.id))
            read = ledger.read_entry(db, fact.ledger_seq or 0)
            assert (read.kind, read.case_id) == ("access", view.id)


def test_a_filing_that_fails_fails_alone(registry: Registry) -> None:
    people = registered_here(registry)[:4]
    casework = _Held(registry.exchange, CITY, failing=people[2])
    later = NOW + datetime.timedelta(minutes=7)  # the cases of this test, not the module's
    desk = FilingDesk(registry.engine, casework, lambda: later)
    first = desk.submit(window_filing("register_certificate", people[0]))
    assert casework.started.wait(30)
    rest = [desk.submit(window_filing("register_certificate", person)) for person in people[1:]]
    casework.release.set()
    assert first.result(30).state == "approved"
    assert rest[0].result(30).state == "approved"
    with pytest.raises(RuntimeError, match="refused this batch"):
        rest[1].result(30)
    assert rest[2].result(30).state == "approved"
    desk.close()
    # The batch of three failed, then each was filed on its own.
    assert casework.sizes == [1, 3, 1, 1, 1]
    with session_scope(registry.engine) as db:
        filed = set(db.scalars(select(CaseRow.applicant_id).where(CaseRow.filed_at == later)))
    assert people[2] not in filed
    assert {people[0], people[1], people[3]} <= filed


def test_a_malformed_filing_is_refused_before_it_is_queued(registry: Registry) -> None:
    desk = FilingDesk(registry.engine, Casework(registry.exchange, CITY), lambda: NOW)
    filing = window_filing("register_certificate", registry.person_ids[0])
    with pytest.raises(FilingError, match="helper"):  # 帮办代办 without the helper
        desk.submit(replace(filing, channel=Channel.ASSISTED))
    desk.close()


def test_filed_together_is_filed_as_one_at_a_time(registry: Registry) -> None:
    """Every route of the first step (decided, material asked, sent to review), filed in
    one batch, stores what filing each on its own stores."""
    here = registered_here(registry)
    deceased = next(
        person
        for person, values in persons_with(registry, ["registered_division", "death_date"])
        if values.get("death_date") and str(values.get("registered_division")).startswith(CITY)
    )
    filings = [
        window_filing("register_certificate", here[0]),
        window_filing("death_cancellation", deceased, here[1]),
        window_filing("birth_registration", here[2]),
        window_filing("graduate_settlement", here[3]),
    ]
    casework = Casework(registry.exchange, CITY)
    with session_scope(registry.engine) as db:
        together = [
            c.id for c in casework.file_many(db, [(f, frozenset()) for f in filings], now=NOW)
        ]
    with session_scope(registry.engine) as db:
        alone = [casework.file(db, f, now=NOW).id for f in filings]

    def stored(case_id: str) -> tuple[object, ...]:
        with session_scope(registry.engine) as db:
            view = case_view(db, case_id, today=NOW.date())
            counts = tuple(
                db.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))
                for model in (CaseFact, CaseTask, CasePause, CaseNotification)
            )
        return (
            view.state,
            view.version,
            view.instant_decision,
            view.reason_en,
            view.materials_asked,
            [(f.name, f.holds, f.source) for f in view.facts],
            [(t.department, t.stage, t.state) for t in view.tasks],
            counts,
        )

    assert [stored(c) for c in together] == [stored(c) for c in alone]
    assert {stored(c)[0] for c in together} >= {"approved", "awaiting_material"}
