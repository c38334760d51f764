"""Benchmark: the registry pipeline on a synthetic city — ingest, link, golden — scored.

Target (issue 4): the 1,000,000-person city ingested, linked and golden in at most
10 minutes with peak memory at most 8 GiB, pairwise F1 >= 0.998. Anchor, same run:
Splink alone with its documented default workflow (its own blocking and EM, no
identity-number stage) on the same accepted records: our pipeline must beat it on
F1 and on linking time.

    .venv/bin/python bench/registry.py [--population 20000] [--city DIR]
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from hukou.db import create_engine_for, upgrade
from hukou.registry.evaluate import evaluate
from hukou.registry.ingest import ingest_file
from hukou.registry.link import link_all, linkage_input, load_records
from hukou.registry.linkage import pairwise_scores, splink_baseline
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--city", type=Path, default=None, help="reuse a generated city")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hukou-bench-"))
    city = args.city or work / "city"
    if args.city is None:
        generate_city(CityConfig(population=args.population), city)
    engine = create_engine_for(f"sqlite:///{work / 'registry.db'}")
    upgrade(engine)
    keyring = KeyRing.generate()

    started = time.perf_counter()
    rows = 0
    for folder in sorted((city / "feeds").iterdir()):
        for path in sorted(folder.iterdir()):
            report = ingest_file(
                engine, folder.name, path, keyring=keyring, today=datetime.date(2025, 12, 31)
            )
            rows += report.rows_in
    ingest_seconds = time.perf_counter() - started
    started = time.perf_counter()
    linked = link_all(engine, keyring)
    link_seconds = time.perf_counter() - started
    scores = evaluate(engine, city / "truth")

    records = load_records(engine, keyring)
    started = time.perf_counter()
    baseline = splink_baseline(linkage_input(records))
    baseline_seconds = time.perf_counter() - started
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    keyed = records.with_columns(
        pl.format("feeds/{}/{}", "department", "file_name").alias("file")
    ).join(truth.select("file", "position", "person_id"), on=["file", "position"])
    baseline_scores = pairwise_scores(
        baseline.join(keyed.select("record_key"), on="record_key"),
        keyed.select("record_key", "person_id"),
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"city: {json.loads((city / 'manifest.json').read_text())['persons']:,} people; "
        f"{rows:,} feed rows"
    )
    print(
        f"ingest {ingest_seconds:.1f} s ({rows / ingest_seconds:,.0f} rows/s); "
        f"link + golden {link_seconds:.1f} s; {linked.persons:,} persons; peak {peak:.2f} GiB"
    )
    pairwise = scores["pairwise"]
    assert isinstance(pairwise, dict)
    print(
        f"ours:     P {pairwise['precision']:.5f} R {pairwise['recall']:.5f} "
        f"F1 {pairwise['f1']:.5f} (linking {link_seconds:.1f} s incl. golden records)"
    )
    print(
        f"baseline: P {baseline_scores['precision']:.5f} R {baseline_scores['recall']:.5f} "
        f"F1 {baseline_scores['f1']:.5f} (linking {baseline_seconds:.1f} s)"
    )
    before, after = scores["error_rate_before"], scores["error_rate_after"]
    print(f"error rate before {before:.2%}, after {after:.2%}")


if __name__ == "__main__":
    main()
