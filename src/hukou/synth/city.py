"""Build a whole synthetic city: people, seven department feeds, the rest of the world, truth.

Layout of the output folder (documented in docs/synth/README.md)::

    DIR/manifest.json                 every file with its sha256 and size, the config
    DIR/feeds/<department>/…          what each department exports, as it exports it
    DIR/facilities/…                  schools and clinics with capacities
    DIR/applications/…                a year of service applications
    DIR/points/…                      the points-based settlement applicant pool
    DIR/truth/persons.parquet         every person as they really are
    DIR/truth/households.parquet      households (户)
    DIR/truth/employers.parquet       employers
    DIR/truth/records.parquet         every feed record: its person and its defects
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import polars as pl

from hukou.synth import facilities, world
from hukou.synth.config import CityConfig
from hukou.synth.feeds import (
    civil_affairs,
    education,
    housing,
    hr_social_security,
    medical_insurance,
    public_security,
    tax,
)
from hukou.synth.feeds.base import TRUTH_SCHEMA, FeedContext
from hukou.synth.lifefacts import add_life_facts
from hukou.synth.population import generate_population
from hukou.synth.rng import Streams

__all__ = ["FEEDS", "CityReport", "generate_city"]

T = TypeVar("T")

FEEDS: tuple[tuple[str, Callable[[FeedContext], pl.DataFrame]], ...] = (
    (public_security.DEPARTMENT, public_security.write),
    (hr_social_security.DEPARTMENT, hr_social_security.write),
    (education.DEPARTMENT, education.write),
    (medical_insurance.DEPARTMENT, medical_insurance.write),
    (civil_affairs.DEPARTMENT, civil_affairs.write),
    (housing.DEPARTMENT, housing.write),
    (tax.DEPARTMENT, tax.write),
)


@dataclass(slots=True)
class CityReport:
    """What was generated, and how long each stage took."""

    out: Path
    persons: int = 0
    households: int = 0
    records: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(cfg: CityConfig, out: Path, report: CityReport) -> None:
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {
        "generator": f"hukou {metadata.version('hukou')}",
        "config": {k: v for k, v in asdict(cfg).items() if k != "chunk_rows"},
        "persons": report.persons,
        "households": report.households,
        "records": report.records,
        "files": [
            {"path": p.relative_to(out).as_posix(), "bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in files
        ],
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    (out / "manifest.json").write_text(text + "\n", encoding="utf-8")


def generate_city(
    cfg: CityConfig, out: Path, *, progress: Callable[[str], None] | None = None
) -> CityReport:
    """Generate the city for ``cfg`` into ``out`` (emptied first). Same config, same bytes."""
    say = progress or (lambda _stage: None)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    report = CityReport(out)
    streams = Streams(cfg.seed)

    def timed(stage: str, action: Callable[[], T]) -> T:
        say(stage)
        started = time.perf_counter()
        result = action()
        report.seconds[stage] = round(time.perf_counter() - started, 3)
        return result

    base = timed("population", lambda: generate_population(cfg, streams))
    population = timed("life facts", lambda: add_life_facts(cfg, streams, base))
    ctx = FeedContext(cfg, streams, population, out)
    truth = []
    for department, write in FEEDS:
        rows = timed(f"feed {department}", partial(write, ctx))
        report.records[department] = rows.height
        truth.append(rows)
    timed("facilities", lambda: facilities.write_facilities(ctx))
    timed("applications", lambda: world.write_applications(ctx))
    timed("points pool", lambda: world.write_points_pool(ctx))

    def write_truth() -> None:
        folder = out / "truth"
        folder.mkdir()
        persons = ctx.population.persons
        persons.write_parquet(folder / "persons.parquet", statistics=False)
        ctx.population.households.write_parquet(folder / "households.parquet", statistics=False)
        ctx.population.employers.write_parquet(folder / "employers.parquet", statistics=False)
        pl.concat(truth).cast(pl.Schema(TRUTH_SCHEMA)).write_parquet(
            folder / "records.parquet", statistics=False
        )

    timed("truth", write_truth)
    report.persons = ctx.population.persons.height
    report.households = ctx.population.households.height
    timed("manifest", lambda: _manifest(cfg, out, report))
    return report
