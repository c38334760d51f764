"""Benchmark: the synthetic city at 1,000,000 people with all feeds, time and peak memory.

Target (issue 3): 1,000,000 people with all feeds written in at most 3 minutes on the
development machine, peak memory at most 6 GiB, streamed to disk. The generation runs
in a child process so that its peak resident memory is measured alone.

Anchor, same run: the I/O floor — Polars writing the truth persons table (the same
people, one flat CSV) — so the ratio says what the realism costs over bare output.

    .venv/bin/python bench/synth.py [--population 1000000] [--out var/bench-city]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

CHILD = """
import json, sys
from pathlib import Path
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
report = generate_city(CityConfig(population=int(sys.argv[1])), Path(sys.argv[2]))
print(json.dumps({"records": report.records, "seconds": report.seconds,
                  "persons": report.persons}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("var/bench-city"))
    args = parser.parse_args()

    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.population), str(args.out)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    report = json.loads(child.stdout.strip().splitlines()[-1])

    persons = pl.read_parquet(args.out / "truth" / "persons.parquet")
    anchor_path = args.out.parent / "bench-anchor.csv"
    anchor_started = time.perf_counter()
    persons.write_csv(anchor_path)
    anchor = time.perf_counter() - anchor_started
    anchor_path.unlink()

    size = sum(p.stat().st_size for p in (args.out / "feeds").rglob("*") if p.is_file())
    records = sum(report["records"].values())
    print(f"population {report['persons']:,}; feed records {records:,}; feeds {size / 1e6:,.0f} MB")
    print(f"wall time {wall:.1f} s (target <= 180 s); peak memory {peak_gib:.2f} GiB (target <= 6)")
    for stage, seconds in report["seconds"].items():
        print(f"  {stage:<28} {seconds:7.2f} s")
    print(f"anchor: persons table to CSV {anchor:.2f} s; ratio city/anchor {wall / anchor:.1f}x")
    shutil.rmtree(args.out)


if __name__ == "__main__":
    main()
