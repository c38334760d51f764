"""``hukou demo``'s set-up: every role seated, every agreement the catalog needs in force
(in the ledger), a story family whose birth 一件事 the window decides at once, and a
second run that makes nothing new."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from hukou.accounts import Role, requires_second_factor
from hukou.accounts.events import ignore_events
from hukou.accounts.store import TOTP_CONTEXT, AccountStore, LoginOutcome
from hukou.accounts.totp import secret_from_base32, totp_code
from hukou.audit import ledger
from hukou.casework.catalog import load_catalog
from hukou.casework.sharing import needed_agreements
from hukou.cli import app
from hukou.config import get_settings
from hukou.db import create_engine_for, session_scope
from hukou.demo.late_leases import TENANTS
from hukou.demo.seats import DEMO_PASSWORD
from hukou.demo.setup import demo_agreements, demo_year, prepare
from hukou.demo.state import DemoState, state_file
from hukou.exchange.catalog import load_catalog as load_sharing
from hukou.exchange.model import AgreementRow
from hukou.keyring import data_cipher, load_keyring
from hukou.registry import find_by_identity_number
from hukou.registry.model import Batch, ReviewPair, SourceRecord
from hukou.security.datakeys import scope_of
from tests.demo.conftest import POPULATION, TODAY, Prepared


def _store(prepared: Prepared, engine: Engine) -> AccountStore:
    return AccountStore(
        data_cipher(engine, load_keyring(prepared.settings), scope_of(TOTP_CONTEXT)),
        prepared.settings.secret_key.get_secret_value(),
        on_event=ignore_events,
    )


def test_every_role_has_a_seat_and_second_factors_are_provisioned(prepared: Prepared) -> None:
    roles = {a.role for a in prepared.state.accounts}
    assert roles == {r.value for r in Role}
    engine = create_engine_for(prepared.settings.database_url)
    store = _store(prepared, engine)
    officer = next(a for a in prepared.state.accounts if a.role == "data_officer")
    clerk = next(a for a in prepared.state.accounts if a.username == "clerk")
    assert clerk.totp_secret is None
    for account in prepared.state.accounts:
        assert (account.totp_secret is not None) == requires_second_factor({Role(account.role)})
    with session_scope(engine) as db:
        assert store.login(db, "clerk", DEMO_PASSWORD).outcome is LoginOutcome.OK
        pending = store.login(db, officer.username, DEMO_PASSWORD)
        assert pending.outcome is LoginOutcome.NEEDS_SECOND_FACTOR
        assert pending.enrolment is None  # provisioned: no enrolment step
        assert pending.token is not None
        assert officer.totp_secret is not None
        now = datetime.datetime.now(datetime.UTC)
        code = totp_code(secret_from_base32(officer.totp_secret), now)
        assert store.verify_second_factor(db, pending.token, code).outcome is LoginOutcome.OK
    engine.dispose()


def test_every_agreement_the_catalog_needs_is_approved_in_the_ledger(prepared: Prepared) -> None:
    needed = demo_agreements(load_catalog(), load_sharing())
    services_need = needed_agreements(load_catalog(), load_sharing())
    assert {(n.provider, n.consumer) for n in services_need} <= {
        (n.provider, n.consumer) for n in needed
    }  # the points office's read comes on top
    assert prepared.state.agreements == len(needed)
    engine = create_engine_for(prepared.settings.database_url)
    with session_scope(engine) as db:
        rows = list(db.scalars(select(AgreementRow)))
        assert {(r.provider, r.consumer) for r in rows} == {
            (n.provider, n.consumer) for n in needed
        }
        assert {r.status for r in rows} == {"approved"}
        assert all(r.proposed_by != r.decided_by for r in rows)  # 审批分离
        actions = [ledger.read_entry(db, seq).action for seq in range(ledger.ledger_size(db))]
    assert actions.count("agreement.propose") == len(needed)
    assert actions.count("agreement.approve") == len(needed)
    assert "user.created" in actions  # accounts' events reach the ledger too
    engine.dispose()


def test_the_birth_story_is_a_registered_parent_and_a_recent_baby(prepared: Prepared) -> None:
    birth = next(s for s in prepared.state.samples if s.service == "birth_registration")
    assert birth.subject is not None
    engine = create_engine_for(prepared.settings.database_url)
    cipher = data_cipher(engine, load_keyring(prepared.settings))
    with session_scope(engine) as db:
        parent = find_by_identity_number(db, cipher, birth.applicant)
        baby = find_by_identity_number(db, cipher, birth.subject)
        resident = _store(prepared, engine).find_account(db, "resident1")
    engine.dispose()
    assert len(parent) == 1
    assert len(baby) == 1
    assert resident is not None
    assert resident.person_id == parent[0]
    born = datetime.date(
        int(birth.subject[6:10]), int(birth.subject[10:12]), int(birth.subject[12:14])
    )
    assert TODAY - datetime.timedelta(days=366) <= born <= TODAY
    # Printed accounts carry masked numbers only.
    printed = [a.person for a in prepared.state.accounts if a.person]
    assert printed
    assert all("*" in p for p in printed)


def test_a_late_batch_of_hand_typed_leases_fills_the_review_queue(prepared: Prepared) -> None:
    engine = create_engine_for(prepared.settings.database_url)
    try:
        with session_scope(engine) as db:
            late = db.scalars(select(Batch).where(Batch.file_name.like("zlba_%"))).all()
            batch = max(late, key=lambda b: b.file_name)  # the city's own file, then the late one
            pairs = db.scalars(select(ReviewPair)).all()
            late_records = set(
                db.scalars(select(SourceRecord.id).where(SourceRecord.batch_id == batch.id))
            )
    finally:
        engine.dispose()
    assert batch.rows_in == 4 * TENANTS == batch.rows_accepted + batch.rows_quarantined
    assert pairs  # some pairs the model cannot decide
    assert all(0.5 <= p.probability < 0.95 for p in pairs)
    assert all({p.record_l, p.record_r} & late_records for p in pairs)


def test_a_second_run_makes_nothing_new_and_keeps_the_secrets(prepared: Prepared) -> None:
    before = DemoState.read(state_file(prepared.settings))
    assert before is not None
    messages: list[str] = []
    again = prepare(prepared.settings, population=POPULATION, progress=messages.append, today=TODAY)
    assert not any("generating" in m for m in messages)
    assert [a.totp_secret for a in again.accounts] == [a.totp_secret for a in before.accounts]
    assert again.agreements == before.agreements
    assert again.samples == before.samples
    assert prepared.state.cases > 0  # the first run filed a sample of the year
    assert again.cases == 0  # and the second none


def test_the_city_is_of_the_year_whose_births_are_recent() -> None:
    assert demo_year(datetime.date(2026, 12, 6)) == 2026
    assert demo_year(datetime.date(2026, 11, 18)) == 2025
    assert demo_year(datetime.date(2027, 3, 1)) == 2026


def test_demo_code_prints_the_current_code_and_refuses_an_unknown_name(
    prepared: Prepared, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUKOU_DATA_DIR", str(prepared.settings.data_dir))
    monkeypatch.setenv("HUKOU_ENV", "test")
    get_settings.cache_clear()
    try:
        auditor = next(a for a in prepared.state.accounts if a.username == "auditor")
        assert auditor.totp_secret is not None
        shown = CliRunner().invoke(app, ["demo", "code", "auditor"])
        assert shown.exit_code == 0, shown.output
        now = datetime.datetime.now(datetime.UTC)
        expected = {
            totp_code(secret_from_base32(auditor.totp_secret), now + datetime.timedelta(seconds=d))
            for d in (-30, 0)
        }
        assert shown.output.strip() in expected
        refused = CliRunner().invoke(app, ["demo", "code", "clerk"])  # no second factor
        assert refused.exit_code == 1
    finally:
        get_settings.cache_clear()
