"""Cases filed on their facts alone (no registry): the birth bundle, one parent and child,
and the ledger as the child sees it. Shared by the store and rating tests."""

from __future__ import annotations

import datetime
import json

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hukou.audit import ledger
from hukou.casework.catalog import Channel, load_catalog
from hukou.casework.model import CaseRow
from hukou.casework.rules import find_facts
from hukou.casework.store import Filing, file_case, supply_material
from hukou.db import session_scope

NOW = datetime.datetime(2025, 6, 16, 9, 30, tzinfo=datetime.UTC)
CITY = "3205"
CATALOG = load_catalog()
BIRTH = CATALOG["birth_registration"]
MOVE = CATALOG["household_move"]
HERE = {("applicant", "registered_division"): "320508"}
NEWBORN = {("subject", "birth_date"): "2025-06-01"}
BOOKLET = BIRTH.facts["parent_registered_here"].material
assert BOOKLET is not None


def filing(service_code: str = "birth_registration", **extra: object) -> Filing:
    """The parent files for the child at a public-security window."""
    return Filing(
        service=CATALOG[service_code],
        channel=Channel.WINDOW,
        applicant_id="Rparent",
        subject_id="Rchild",
        filed_by="u-clerk",
        department="public_security",
        **extra,  # type: ignore[arg-type]
    )


def file_on_facts(
    engine: Engine,
    values: dict[tuple[str, str], object],
    code: str = "birth_registration",
    supplied: frozenset[str] = frozenset(),
) -> str:
    """File a case of ``code`` judged on ``values`` and ``supplied`` material; its id."""
    service = CATALOG[code]
    findings = find_facts(service, values, supplied=supplied, filed_on=NOW.date(), city=CITY)
    with session_scope(engine) as db:
        return file_case(db, filing(code), findings, now=NOW).id


def supply(
    db: Session, case: CaseRow, codes: frozenset[str], now: datetime.datetime = NOW
) -> CaseRow:
    """The clerk hands in ``codes``; the birth case is judged again on them."""
    findings = find_facts(BIRTH, HERE, supplied=codes, filed_on=NOW.date(), city=CITY)
    return supply_material(
        db,
        case.id,
        findings,
        version=case.version,
        by="u-clerk",
        department="public_security",
        service=BIRTH,
        now=now,
    )


BOTH = frozenset({"birth_medical_certificate", "household_booklet"})


def actions(db: Session, case_id: str) -> list[str]:
    """The case's steps as the person it is about sees them in their ledger entries."""
    entries = [json.loads(text) for _seq, text in ledger.person_entries(db, "Rchild", limit=500)]
    return [
        e["action"] for e in entries if e["case_id"] == case_id and e["capability"] == "casework"
    ]
