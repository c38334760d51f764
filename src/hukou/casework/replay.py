"""A synthetic city's year of applications, read for the simulation.

The city's ``applications/applications_2025.csv`` names true persons; each is looked up
as the registry person standing for them (:func:`hukou.registry.evaluate.registry_ids`,
the stand-in for a window's identity-number look-up), and the registry's values of the
facts each service needs are read in bulk (:func:`hukou.registry.persons_facts`). What
the first-contact department may read depends on the sharing scenario:

* ``all`` — every agreement the catalog needs is in force (``hukou.casework.sharing``):
  any item another department does not refuse to share;
* ``own`` — no agreements yet: only the first-contact department's own items, the
  platform's starting point before the data officers sign anything.

The simulation writes nothing and reads no person through ``exchange``: it makes no
decision about anyone, so no resident's ledger gets an entry for it.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
from sqlalchemy import Engine

from hukou.casework.catalog import Catalog, Channel, Service, load_catalog
from hukou.casework.simulation import Application, YearReport, load_staffing, simulate
from hukou.db import create_engine_for, session_scope, upgrade
from hukou.exchange.catalog import Catalog as SharingCatalog
from hukou.exchange.catalog import Share
from hukou.exchange.catalog import load_catalog as load_sharing
from hukou.keyring import data_cipher
from hukou.registry import persons_facts
from hukou.registry.evaluate import registry_ids
from hukou.registry.link import link_all
from hukou.registry.parallel import city_jobs, default_workers, ingest_jobs
from hukou.security import KeyRing, generate_key_file
from hukou.security.fields import FieldCipher
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

__all__ = [
    "BuiltCity",
    "ReplayError",
    "Scenario",
    "built_city",
    "read_year",
    "readable_items",
    "replay_year",
]

Scenario = Literal["all", "own"]
APPLICATIONS: Path = Path("applications") / "applications_2025.csv"


class ReplayError(ValueError):
    """The city folder or the registry cannot be replayed (said in plain words)."""


def readable_items(service: Service, sharing: SharingCatalog, scenario: Scenario) -> set[str]:
    """Items of ``service``'s facts its first-contact department may read."""
    items = set()
    for fact in service.facts.values():
        if fact.item is None:
            continue
        entry = sharing.fields[fact.item]
        own = entry.provider == service.first_contact
        if own or (scenario == "all" and entry.share is not Share.NEVER):
            items.add(fact.item)
    return items


def _applications(city: Path) -> pl.DataFrame:
    path = city / APPLICATIONS
    if not path.is_file():
        raise ReplayError(f"{path}: no applications file (is this a synthetic city folder?)")
    return pl.read_csv(
        path,
        schema_overrides={
            "application_id": pl.String,
            "applicant_person_id": pl.String,
            "subject_person_id": pl.String,
            "submitted_at": pl.String,
            "eligible": pl.Boolean,
            "documents_complete": pl.Boolean,
        },
    )


def read_year(
    city: Path,
    engine: Engine,
    cipher: FieldCipher,
    catalog: Catalog,
    sharing: SharingCatalog,
    *,
    scenario: Scenario = "all",
) -> list[Application]:
    """The city's applications with the values of their facts, as the registry holds them."""
    frame = _applications(city)
    if not (city / "truth" / "records.parquet").is_file():
        raise ReplayError(f"{city}: no truth folder to find the applicants in the registry")
    who = registry_ids(engine, city / "truth")
    if not who:
        raise ReplayError(
            "the registry holds none of this city's persons: ingest and link its feeds first"
        )
    readable = {code: readable_items(s, sharing, scenario) for code, s in catalog.services.items()}
    items = sorted(set().union(*readable.values()))
    people = {
        who[p]
        for column in ("applicant_person_id", "subject_person_id")
        for p in frame[column].drop_nulls().unique().to_list()
        if p in who
    }
    with session_scope(engine) as db:
        facts = persons_facts(db, cipher, people, items)
    values_of: Mapping[str, Mapping[str, object]] = {
        person: found.values for person, found in facts.items()
    }
    applications = []
    for row in frame.iter_rows(named=True):
        allowed = readable.get(row["service"], set())
        values: dict[tuple[str, str], object] = {}
        for role in ("applicant", "subject"):
            person = who.get(row[f"{role}_person_id"] or "")
            for item, value in (values_of.get(person or "") or {}).items():
                if item in allowed and value is not None:
                    values[role, item] = value
        applications.append(
            Application(
                id=row["application_id"],
                service=row["service"],
                channel=Channel(row["channel"]),
                # The local date as written (+08:00): the day it was filed in the city.
                filed_on=datetime.date.fromisoformat(row["submitted_at"][:10]),
                values=values,
                eligible=bool(row["eligible"]),
                documents_complete=bool(row["documents_complete"]),
            )
        )
    return applications


def replay_year(
    city: Path,
    engine: Engine,
    keyring: KeyRing,
    *,
    scenario: Scenario,
    overrides: Mapping[str, int],
    city_code: str,
    progress: Callable[[str], None],
) -> tuple[YearReport, int]:
    """The simulated year of ``city`` on the registry in ``engine``; and its population."""
    manifest = city / "manifest.json"
    if not manifest.is_file():
        raise ReplayError(f"{city}: no manifest.json (is this a synthetic city folder?)")
    population = int(json.loads(manifest.read_text(encoding="utf-8"))["persons"])
    catalog = load_catalog()
    progress("reading the applications and what the registry holds on the applicants …")
    applications = read_year(
        city, engine, data_cipher(engine, keyring), catalog, load_sharing(), scenario=scenario
    )
    staffing = load_staffing()
    progress(f"replaying {len(applications):,} applications …")
    report = simulate(
        applications,
        catalog,
        staffing.reviewers(population, overrides),
        staffing,
        city=city_code,
    )
    return report, population


@dataclass(frozen=True, slots=True)
class BuiltCity:
    """A city generated for a run and its registry."""

    folder: Path
    engine: Engine
    keyring: KeyRing
    key_file: Path


@contextlib.contextmanager
def built_city(
    population: int, progress: Callable[[str], None], *, database_url: str | None = None
) -> Iterator[BuiltCity]:
    """A synthetic city generated, ingested and linked into an empty registry: a
    throw-away SQLite file, or the (empty) database at ``database_url``."""
    with tempfile.TemporaryDirectory(prefix="hukou-year-") as work:
        folder = Path(work) / "city"
        progress(f"building a synthetic city of {population:,} people for the run …")
        config = CityConfig(population=population)
        generate_city(config, folder)
        url = database_url or f"sqlite:///{Path(work) / 'registry.db'}"
        engine = create_engine_for(url)
        try:
            upgrade(engine)
            key_file = Path(work) / "keys.json"
            keyring = generate_key_file(key_file)
            jobs = city_jobs(folder)
            progress(f"ingesting {len(jobs)} feed files …")
            ingest_jobs(
                url,
                jobs,
                keyring=keyring,
                key_file=key_file,
                workers=default_workers(),
                today=datetime.date(config.year, 12, 31),
            )
            progress("linking …")
            link_all(engine, keyring)
            yield BuiltCity(folder, engine, keyring, key_file)
        finally:
            engine.dispose()
