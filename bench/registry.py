"""Benchmark: the registry pipeline on a synthetic city — ingest, link, golden — scored.

Target (issue 4): the 1,000,000-person city ingested, linked and golden in at most
10 minutes with peak memory at most 8 GiB, pairwise F1 >= 0.998. Anchor, same run:
Splink alone with its documented default workflow (its own blocking and EM, no
identity-number stage) on the same accepted records: our pipeline must beat it on
F1 and on linking time.

    .venv/bin/python bench/registry.py [--population 20000] [--city DIR] [--workers N]
                                       [--database URL] [--no-baseline]

Peak memory is the largest resident set of this process or of any ingest worker.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from hukou.db import create_engine_for, upgrade
from hukou.registry.evaluate import evaluate
from hukou.registry.link import link_all, linkage_input, load_records
from hukou.registry.linkage import pairwise_scores, splink_baseline
from hukou.registry.parallel import city_jobs, default_workers, ingest_jobs
from hukou.security import generate_key_file
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

TODAY = datetime.date(2025, 12, 31)
_ENGINE_STAGES = (
    "seconds_prepare",
    "seconds_u",
    "seconds_em",
    "seconds_predict",
    "seconds_cluster",
)


def _peak_gib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024**2


def _baseline(engine_url: str, keyring_file: Path, city: Path) -> tuple[dict[str, float], float]:
    from hukou.security import KeyRing  # noqa: PLC0415

    engine = create_engine_for(engine_url)
    records = load_records(engine, KeyRing.from_file(keyring_file))
    started = time.perf_counter()
    baseline = splink_baseline(linkage_input(records))
    seconds = time.perf_counter() - started
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    keyed = records.with_columns(
        pl.format("feeds/{}/{}", "department", "file_name").alias("file")
    ).join(truth.select("file", "position", "person_id"), on=["file", "position"])
    scores = pairwise_scores(
        baseline.join(keyed.select("record_key"), on="record_key"),
        keyed.select("record_key", "person_id"),
    )
    engine.dispose()
    return {k: float(v) for k, v in scores.items() if isinstance(v, int | float)}, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--city", type=Path, default=None, help="reuse a generated city")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the Splink anchor")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hukou-bench-"))
    city = args.city or work / "city"
    if args.city is None:
        generate_city(CityConfig(population=args.population), city)
    url = args.database or f"sqlite:///{work / 'registry.db'}"
    engine = create_engine_for(url)
    upgrade(engine)
    key_file = work / "keys.json"
    keyring = generate_key_file(key_file)
    jobs = city_jobs(city)

    started = time.perf_counter()
    reports = ingest_jobs(
        url, jobs, keyring=keyring, key_file=key_file, workers=args.workers, today=TODAY
    )
    ingest_seconds = time.perf_counter() - started
    rows = sum(r.rows_in for r in reports)
    assert all(r.balanced for r in reports)

    started = time.perf_counter()
    linked = link_all(engine, keyring)
    link_seconds = time.perf_counter() - started
    engine_seconds = sum(
        value for k in _ENGINE_STAGES if isinstance(value := linked.stats.get(k), float)
    )
    pipeline_peak = _peak_gib()
    started = time.perf_counter()
    scores = evaluate(engine, city / "truth")
    evaluate_seconds = time.perf_counter() - started
    engine.dispose()

    people = json.loads((city / "manifest.json").read_text())["persons"]
    print(
        f"city: {people:,} people; {rows:,} feed rows; {os.cpu_count()} cores; {url.split(':')[0]}"
    )
    phases = ", ".join(
        f"{name} {value:.1f} s"
        for name in ("load", "persons", "write")
        if isinstance(value := linked.stats.get(f"seconds_{name}"), float)
    )
    print(
        f"ingest {ingest_seconds:.1f} s ({rows / ingest_seconds:,.0f} rows/s, "
        f"{args.workers} workers); link + golden {link_seconds:.1f} s "
        f"(linkage engine {engine_seconds:.1f} s, {phases}); "
        f"total {ingest_seconds + link_seconds:.1f} s; "
        f"{linked.persons:,} persons; peak {pipeline_peak:.2f} GiB"
    )
    pairwise = scores["pairwise"]
    assert isinstance(pairwise, dict)
    print(
        f"ours:     P {pairwise['precision']:.5f} R {pairwise['recall']:.5f} "
        f"F1 {pairwise['f1']:.5f} (linkage engine {engine_seconds:.1f} s)"
    )
    if not args.no_baseline:
        baseline, baseline_seconds = _baseline(url, key_file, city)
        print(
            f"baseline: P {baseline['precision']:.5f} R {baseline['recall']:.5f} "
            f"F1 {baseline['f1']:.5f} (linking {baseline_seconds:.1f} s); "
            f"time ratio {baseline_seconds / engine_seconds:.2f}x"
        )
    before, after = scores["error_rate_before"], scores["error_rate_after"]
    print(
        f"error rate before {before:.2%}, after {after:.2%}; "
        f"residence accuracy {scores['residence_accuracy']:.2%}; evaluate {evaluate_seconds:.1f} s"
    )
    print(f"peak memory incl. baseline {_peak_gib():.2f} GiB")


if __name__ == "__main__":
    main()
