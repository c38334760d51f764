"""``hukou demo``: a working platform on the synthetic city, set up once and then reused.

Each step is skipped when already done, so a second run costs seconds:

1. the schema (Alembic, as ``hukou db upgrade``);
2. the synthetic city under the data folder (kept while its population is the one asked);
3. its feeds ingested (a file ingested before is recognised by its content hash) and the
   registry linked (a no-op when nothing is pending), then a late batch of hand-typed leases
   (:mod:`hukou.demo.late_leases`) that gives the clerical-review queue its pairs;
4. the departments, and one demo account per role (:mod:`hukou.demo.seats`); accounts whose
   role needs a second factor get a TOTP secret provisioned and printed — a demo's keys;
5. the sharing agreements the service catalog needs (``hukou.casework.sharing``), each
   proposed by the consumer's data officer and approved by the provider's, in the ledger;
6. portal accounts for a few residents registered in the city;
7. a sample of the city's year of applications filed through the casework, and the
   departments' reviews of those that waited for one, as their year went (once);
8. a signed ledger checkpoint, so the audit pages have one to verify against.

What was made is kept in ``<data>/demo.json`` (user names, second-factor secrets, the
residents' masked numbers): the demo's own file, under ``var/`` and never committed.
"""

from __future__ import annotations

import datetime
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Final

import polars as pl
from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hukou.accounts import AccountKind, Level, Role, permissions_of, requires_second_factor
from hukou.accounts.access import ActiveSession
from hukou.accounts.errors import UnknownDepartmentError
from hukou.accounts.store import TOTP_CONTEXT, AccountStore
from hukou.accounts.totp import new_secret, secret_to_base32
from hukou.app import account_event_to_ledger
from hukou.audit import ledger
from hukou.audit.keys import signer_for
from hukou.casework.catalog import Catalog, Channel, load_departments
from hukou.casework.catalog import load_catalog as load_services
from hukou.casework.lifecycle import StepRefusedError, TaskState
from hukou.casework.model import CaseRow, CaseTask
from hukou.casework.routes import SHANGHAI
from hukou.casework.service import Casework
from hukou.casework.sharing import Needed, needed_agreements
from hukou.casework.store import Filing, FilingError, act_on_task
from hukou.config import Settings
from hukou.db import create_engine_for, session_scope, upgrade
from hukou.demo.late_leases import write_late_leases
from hukou.demo.seats import (
    DEMO_PASSWORD,
    RESIDENT_SEATS,
    Seat,
    staff_departments,
    staff_seats,
)
from hukou.demo.state import DemoAccount, DemoState, Sample, state_file
from hukou.exchange.agreements import approve, propose
from hukou.exchange.catalog import Catalog as SharingCatalog
from hukou.exchange.catalog import load_catalog as load_sharing
from hukou.exchange.masking import mask_identity_number
from hukou.exchange.model import AgreementRow
from hukou.exchange.service import Exchange, ReadRefusedError
from hukou.keyring import data_cipher, load_keyring
from hukou.points.attributes import ITEMS as POINTS_ITEMS
from hukou.points.attributes import PURPOSE as POINTS_PURPOSE
from hukou.registry import find_by_identity_number
from hukou.registry.evaluate import registry_ids
from hukou.registry.link import link_pending
from hukou.registry.model import Batch
from hukou.registry.parallel import IngestJob, city_jobs, default_workers, ingest_jobs
from hukou.security import KeyRing
from hukou.security.datakeys import scope_of
from hukou.security.fields import FieldCipher
from hukou.standards.workdays import add_workdays
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

__all__ = ["DemoError", "demo_year", "prepare"]

Progress = Callable[[str], None]


def city_folder(settings: Settings) -> Path:
    return settings.data_dir / "city"


def demo_year(today: datetime.date) -> int:
    """The simulated year of the demo's city: the last one whose births are recent.

    The generator's births run from early January to mid-November of its year, and a
    birth 一件事 is decided at once only within a year of the birth; so the city is of
    last year until 19 November, of this year after (its last weeks then lie a little
    ahead: a synthetic city's, never a resident's).
    """
    return today.year if (today.month, today.day) >= (11, 19) else today.year - 1


def _city(
    settings: Settings, population: int, today: datetime.date, progress: Progress
) -> tuple[Path, CityConfig, bool]:
    """The city folder, its configuration, and whether it was generated just now."""
    folder = city_folder(settings)
    config = CityConfig(population=population, year=demo_year(today))
    try:
        made = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["config"]
        if int(made["population"]) == population and int(made["year"]) == config.year:
            kept = CityConfig(population=population, seed=int(made["seed"]), year=config.year)
            return folder, kept, False
    except (OSError, ValueError, KeyError, TypeError):
        pass
    progress(f"生成合成城市 generating the synthetic city ({population:,} people, {config.year}) …")
    generate_city(config, folder)
    return folder, config, True


def _start_afresh(settings: Settings, progress: Progress) -> None:
    """A new city needs an empty registry: the demo's own SQLite file is removed (its
    keys are kept); any other database must be emptied by whoever owns it."""
    if not settings.is_sqlite:
        engine = create_engine_for(settings.database_url)
        try:
            with session_scope(engine) as db:
                held = db.scalar(select(Batch.id).limit(1)) if _has_registry(engine) else None
        finally:
            engine.dispose()
        if held is not None:
            raise DemoError(
                "the database already holds another city's registry: "
                "point HUKOU_DATABASE_URL at an empty database for a new demo city"
            )
        return
    path = Path(make_url(settings.database_url).database or "")
    if path.is_file():
        progress("新城市：重建演示数据库 a new city: the demo database starts afresh")
        path.unlink()
    state_file(settings).unlink(missing_ok=True)


def _has_registry(engine: Engine) -> bool:
    return inspect(engine).has_table(Batch.__tablename__)


class DemoError(RuntimeError):
    """The demo cannot be set up as asked (the message says what to do)."""


def _registry(
    settings: Settings,
    engine: Engine,
    *,
    keyring: KeyRing,
    folder: Path,
    config: CityConfig,
    progress: Progress,
) -> None:
    jobs = city_jobs(folder)
    progress(
        f"导入部门数据 ingesting {len(jobs)} feed files (already ingested files are skipped) …"
    )
    key_file = settings.resolved_key_file if settings.keys is None else None
    ingest_jobs(
        settings.database_url,
        jobs,
        keyring=keyring,
        key_file=key_file,
        workers=default_workers(),
        today=config.snapshot_date,
    )
    progress("关联比对 linking records to persons …")
    link_pending(engine, keyring)  # a full run the first time, then only what is new
    late = write_late_leases(
        folder,
        settings.data_dir / "late",
        seed=config.seed,
        day=config.snapshot_date + datetime.timedelta(days=5),
    )
    progress("补录租赁登记 a late batch of hand-typed leases (for clerical review) …")
    ingest_jobs(
        settings.database_url,
        [IngestJob("housing", late)],
        keyring=keyring,
        key_file=key_file,
        workers=1,
        today=config.snapshot_date,
    )
    link_pending(engine, keyring)


def _acting(account_id: str, username: str, seat: Seat) -> ActiveSession:
    """The installer acting as a demo officer (the ledger names the officer's account)."""
    now = datetime.datetime.now(datetime.UTC)
    return ActiveSession(
        session_key="demo-setup",
        user_id=account_id,
        username=username,
        display_name=seat.display_name,
        kind=AccountKind.STAFF,
        department_code=seat.department,
        person_id=None,
        roles=frozenset({seat.role}),
        permissions=permissions_of({seat.role}),
        created_at=now,
        expires_at=now + datetime.timedelta(minutes=5),
        password_change_due=False,
        csrf_token=uuid.uuid4().hex,
    )


def _staff(
    db: Session, store: AccountStore, seats: list[Seat], departments: dict[str, str]
) -> tuple[list[DemoAccount], dict[str, str]]:
    """The departments and staff accounts; the accounts and their ids by user name."""
    names = staff_departments(departments)
    for code, name in sorted(names.items()):
        try:
            store.department(db, code)
        except UnknownDepartmentError:
            store.create_department(db, code, name, Level.CITY)
    made: list[DemoAccount] = []
    ids: dict[str, str] = {}
    for seat in seats:
        existing = store.find_account(db, seat.username)
        secret: str | None = None
        if existing is None:
            account = store.create_user(
                db,
                kind=AccountKind.STAFF,
                username=seat.username,
                password=DEMO_PASSWORD,
                display_name=seat.display_name,
                department_code=seat.department,
                roles=[seat.role],
                must_change_password=False,
            )
            if requires_second_factor({seat.role}):
                raw = new_secret()
                store.provision_second_factor(db, account.id, raw, actor_id=None)
                secret = secret_to_base32(raw)
            existing = account
        ids[seat.username] = existing.id
        made.append(
            DemoAccount(seat.username, seat.role.value, seat.department, seat.display_name, secret)
        )
    return made, ids


def _agreements(
    db: Session,
    seats: list[Seat],
    ids: dict[str, str],
    *,
    needed: list[Needed],
    sharing: SharingCatalog,
    since: datetime.date,
) -> int:
    """Every agreement ``needed``, proposed and approved; how many exist."""
    by_department = {s.department: s for s in seats if s.role is Role.DATA_OFFICER}
    approved = {
        (row.provider, row.consumer)
        for row in db.scalars(select(AgreementRow).where(AgreementRow.status == "approved"))
    }
    count = len(approved)
    for need in needed:
        if (need.provider, need.consumer) in approved:
            continue
        asker, giver = by_department[need.consumer], by_department[need.provider]
        proposed = propose(
            db,
            sharing,
            _acting(ids[asker.username], asker.username, asker),
            provider=need.provider,
            fields=need.items,
            purposes=need.purposes,
            valid_from=since,
        )
        approve(db, _acting(ids[giver.username], giver.username, giver), proposed.id)
        count += 1
    return count


_PARENTS: Final = (0, 1)  # the synthetic city's household roles: head, spouse
_CHILD: Final = 2


def _story_people(
    folder: Path, today: datetime.date, division: str, services: Catalog
) -> list[tuple[str, str]]:
    """(identity number, part) of the residents the demo gives accounts to, from the
    synthetic city's truth: a parent of a baby born in the last year (the birth 一件事
    story, decided at once) and an older child of theirs (a late registration: the
    departments review it in parallel), then the first other residents registered here."""
    persons = pl.read_parquet(
        folder / "truth" / "persons.parquet",
        columns=[
            "pid",
            "household_index",
            "role",
            "birth_date",
            "identity_number",
            "registered_division",
            "alive",
        ],
    ).filter(pl.col("alive") & pl.col("registered_division").str.starts_with(division))
    test = services["birth_registration"].facts["born_recently"].test
    window = test.days_since_at_most if test and test.days_since_at_most else 0
    babies = persons.filter(
        (pl.col("birth_date") >= today - datetime.timedelta(days=window))
        & (pl.col("birth_date") <= today)
    ).sort("pid")
    parents = persons.filter(pl.col("role").is_in(_PARENTS))
    story = babies.join(parents, on="household_index", suffix="_parent").sort("pid")
    chosen: list[tuple[str, str]] = []
    if story.height:
        row = story.row(0, named=True)
        chosen += [(row["identity_number_parent"], "parent"), (row["identity_number"], "baby")]
    older = persons.filter(
        (pl.col("role") == _CHILD)
        & (pl.col("birth_date") < today - datetime.timedelta(days=window))
    ).join(parents, on="household_index", suffix="_parent")
    if story.height:  # the story family's own older child first, else any family's
        household = story.row(0, named=True)["household_index"]
        older = older.sort(pl.col("household_index") != household, "pid")
    if older.height:
        row = older.row(0, named=True)
        chosen += [(row["identity_number_parent"], "older_parent")]
        chosen += [(row["identity_number"], "older_child")]
    taken = {number for number, _part in chosen}
    others = persons.filter(~pl.col("identity_number").is_in(list(taken))).sort("pid")
    chosen += [(n, "resident") for n in others["identity_number"].head(RESIDENT_SEATS)]
    return chosen


def _residents(
    db: Session, store: AccountStore, cipher: FieldCipher, people: list[tuple[str, str]]
) -> tuple[list[DemoAccount], list[Sample]]:
    """Portal accounts for the story's residents, and the window's samples."""
    made: list[DemoAccount] = []
    found: dict[str, str] = {}
    for number, part in people:
        persons = find_by_identity_number(db, cipher, number)
        if len(persons) != 1:
            continue  # a number the registry holds twice (or not at all) is no demo
        found[part] = found.get(part) or number
        if part in {"baby", "older_parent", "older_child"} or len(made) >= RESIDENT_SEATS:
            continue
        index = len(made) + 1
        username = f"resident{index}"
        name = f"居民{index}（演示{'，新生儿的父母' if part == 'parent' else ''}）"
        if store.find_account(db, username) is None:
            store.create_user(
                db,
                kind=AccountKind.RESIDENT,
                username=username,
                password=DEMO_PASSWORD,
                display_name=name,
                person_id=persons[0],
                must_change_password=False,
            )
        masked = mask_identity_number(number)
        made.append(DemoAccount(username, Role.RESIDENT.value, None, name, None, masked))
    samples = []
    if "parent" in found and "baby" in found:
        samples.append(
            Sample(
                "出生一件事：resident1 为新生儿申报",
                "Birth: resident1 files for the baby",
                "birth_registration",
                found["parent"],
                found["baby"],
            )
        )
    if "older_parent" in found and "older_child" in found:
        samples.append(
            Sample(
                "出生登记补登：为较大的孩子申报（三部门并联审核）",
                "Late birth registration of an older child (parallel review)",
                "birth_registration",
                found["older_parent"],
                found["older_child"],
            )
        )
    if "resident" in found:
        samples.append(
            Sample(
                "户籍证明",
                "Certificate of registration",
                "register_certificate",
                found["resident"],
                None,
            )
        )
    return made, samples


SAMPLE_CASES: Final = 300
"""Applications of the city's year filed when the demo is set up (an evenly spread sample)."""
_COUNTER_CHANNELS: Final = {"assisted", "enterprise_station"}  # filed as at a window here
_SEED: Final = "demo:seed"
POINTS_SERVICE: Final = "points_settlement"  # who filed (and reviewed) the sample cases


def _sample_cases(
    settings: Settings,
    engine: Engine,
    *,
    keyring: KeyRing,
    folder: Path,
    until: datetime.datetime,
    services: Catalog,
    sharing: SharingCatalog,
) -> int:
    """File a sample of the city's year of applications through the casework, each on
    its own day: the KPI page then has cases to count (decided at once, or waiting in a
    department's inbox with their clock running). Done once: none when cases exist."""
    with session_scope(engine) as db:
        if db.scalar(select(CaseRow.id).limit(1)) is not None:
            return 0
    files = sorted((folder / "applications").glob("applications_*.csv"))
    if not files:
        return 0
    frame = pl.read_csv(files[-1], infer_schema_length=0)
    who = registry_ids(engine, folder / "truth")
    rows = [
        row
        for row in frame.iter_rows(named=True)
        if row["service"] in services
        and who.get(row["applicant_person_id"] or "")
        and datetime.datetime.fromisoformat(row["submitted_at"]) <= until
    ]
    every = max(1, len(rows) // SAMPLE_CASES)
    casework = Casework(Exchange(data_cipher(engine, keyring), sharing), settings.city_division)
    filed = 0
    for row in rows[::every][:SAMPLE_CASES]:
        service = services[row["service"]]
        channel = Channel.WINDOW if row["channel"] in _COUNTER_CHANNELS else Channel(row["channel"])
        if channel not in service.channels:
            continue
        applicant = who[row["applicant_person_id"]]
        filing = Filing(
            service=service,
            channel=channel,
            applicant_id=applicant,
            subject_id=who.get(row["subject_person_id"] or "") or applicant,
            filed_by=_SEED,
            department="resident" if channel is Channel.ONLINE else service.first_contact,
        )
        at = datetime.datetime.fromisoformat(row["submitted_at"])
        try:
            with session_scope(engine) as db:
                casework.file(db, filing, now=at)
            filed += 1
        except (FilingError, StepRefusedError, ReadRefusedError):
            continue  # a filing the rules refuse is no demo case
    return filed


def demo_agreements(services: Catalog, sharing: SharingCatalog) -> list[Needed]:
    """The agreements a working installation signs: what the services' facts read, and
    what the points office reads to score a 积分落户 application (``hukou.points.attributes``)."""
    points = services.services.get(POINTS_SERVICE)
    also = [] if points is None else [(points.first_contact, POINTS_ITEMS, POINTS_PURPOSE)]
    return needed_agreements(services, sharing, also)


def _review_samples(engine: Engine, services: Catalog, today: datetime.date) -> int:
    """The departments' reviews of the sample cases, as their year went: each open task
    approved 1 to 7 working days after its case was filed (task by task, so parallel
    tasks finish on different days), if that day has come. Only the cases filed by the
    demo itself; a task someone opened in the console is left to them."""
    decided = 0
    with session_scope(engine) as db:
        tasks = db.execute(
            select(CaseTask, CaseRow)
            .join(CaseRow, CaseRow.id == CaseTask.case_id)
            .where(CaseRow.filed_by == _SEED, CaseTask.state == TaskState.OPEN.value)
            .order_by(CaseTask.id)
        ).all()
        for task, case in tasks:
            day = add_workdays(case.filed_on, 1 + task.id % 7)
            if day >= today:
                continue
            at = datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI)
            act_on_task(
                db,
                task.id,
                TaskState.APPROVED,
                version=task.version,
                by=_SEED,
                department=task.department,
                service=services[case.service],
                now=at,
            )
            decided += 1
    return decided


def _timer(into: dict[str, float]) -> Callable[[str], AbstractContextManager[None]]:
    """``with timer(name):`` adds the block's seconds to ``into[name]``."""

    @contextmanager
    def step(name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            into[name] = time.perf_counter() - started

    return step


def prepare(
    settings: Settings,
    *,
    population: int,
    progress: Progress,
    today: datetime.date | None = None,
) -> DemoState:
    """Set the demo up (or find it set up); what it holds. ``today`` picks the city's
    year (:func:`demo_year`; default: today in China)."""
    today = today or datetime.datetime.now(SHANGHAI).date()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    previous = DemoState.read(state_file(settings))
    state = DemoState(population=population)
    timer = _timer(state.steps)
    with timer("city"):
        folder, config, made = _city(settings, population, today, progress)
    if made:
        _start_afresh(settings, progress)
        previous = None
    engine = create_engine_for(settings.database_url)
    try:
        with timer("schema"):
            upgrade(engine)
        keyring = load_keyring(settings)
        with timer("registry"):
            _registry(
                settings, engine, keyring=keyring, folder=folder, config=config, progress=progress
            )
        progress("账号与共享协议 accounts and sharing agreements …")
        store = AccountStore(
            data_cipher(engine, keyring, scope_of(TOTP_CONTEXT)),
            settings.secret_key.get_secret_value(),
            on_event=account_event_to_ledger,
        )
        departments = {code: d.zh for code, d in load_departments().items()}
        services, sharing = load_services(), load_sharing()
        needed = demo_agreements(services, sharing)
        seats = staff_seats(departments, needed)
        with timer("accounts"), session_scope(engine) as db:
            staff, ids = _staff(db, store, seats, departments)
            state.agreements = _agreements(
                db,
                seats,
                ids,
                needed=needed,
                sharing=sharing,
                since=config.period_start,
            )
            people = _story_people(folder, today, settings.city_division, services)
            residents, state.samples = _residents(db, store, data_cipher(engine, keyring), people)
        state.accounts = _keep_secrets(previous, [*staff, *residents])
        with timer("cases"):
            progress("示例办件 a sample of the city's year of applications …")
            state.cases = _sample_cases(
                settings,
                engine,
                keyring=keyring,
                folder=folder,
                until=datetime.datetime.combine(today, datetime.time.max, tzinfo=SHANGHAI),
                services=services,
                sharing=sharing,
            )
            if state.cases:  # reviewed once, with the filing
                _review_samples(engine, services, today)
        with timer("checkpoint"):
            signer = signer_for(settings)
            if signer is not None:
                with session_scope(engine) as db:
                    ledger.checkpoint(db, signer)
        path = state_file(settings)
        path.write_text(state.to_json(), encoding="utf-8")
        os.chmod(path, 0o600)  # it holds second-factor secrets
        return state
    finally:
        engine.dispose()


def _keep_secrets(previous: DemoState | None, accounts: list[DemoAccount]) -> list[DemoAccount]:
    """A second run creates nothing: the secrets printed are the first run's."""
    if previous is None:
        return accounts
    known = {a.username: a.totp_secret for a in previous.accounts}
    return [
        a
        if a.totp_secret is not None
        else DemoAccount(**{**asdict(a), "totp_secret": known.get(a.username)})
        for a in accounts
    ]
