"""Benchmark: golden records for a million clusters, vectorised against the scalar path.

Target (issue 4): ``golden_frame`` over 1,000,000 clusters (about 3 M records) in well
under 60 s with under about 4 GiB of extra memory, on the 2-core machine. Anchor, same
run: the scalar path (committed link.py: group iteration, ``golden_record`` and
``json.dumps`` per cluster) timed on a sample of clusters and scaled to all of them;
the sample is also checked to be byte-identical between the two paths.

Input: the 20,000-person city (var/bench-city-20k) ingested into a scratch SQLite
database, its records clustered by the true person, replicated until there are
``--clusters`` clusters (copies get their own cluster ids and record keys).

    .venv/bin/python bench/golden.py [--clusters 1000000] [--city var/bench-city-20k]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the scalar reference lives with the tests that pin it

from tests.registry.test_golden_frame import _stored_records, scalar_frame  # noqa: E402

from hukou.db import create_engine_for, upgrade  # noqa: E402
from hukou.registry.golden_frame import golden_frame, iter_golden_frames  # noqa: E402
from hukou.registry.ingest import ingest_file  # noqa: E402
from hukou.registry.spec import load_all  # noqa: E402
from hukou.security import KeyRing  # noqa: E402


def _rss_gib() -> float:
    """Resident memory now (Linux /proc), GiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024**3


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _city_records(city: Path, work: Path) -> pl.DataFrame:
    engine = create_engine_for(f"sqlite:///{work / 'registry.db'}")
    upgrade(engine)
    keyring = KeyRing.generate()
    for folder in sorted((city / "feeds").iterdir()):
        for path in sorted(folder.iterdir()):
            ingest_file(
                engine, folder.name, path, keyring=keyring, today=datetime.date(2025, 12, 31)
            )
    records = _stored_records(engine)
    engine.dispose()
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    return (
        records.with_columns(
            pl.concat_str(pl.lit("feeds/"), "department", pl.lit("/"), "file_name").alias("file")
        )
        .join(truth.select("file", "position", "person_id"), on=["file", "position"], how="left")
        .with_columns(
            pl.coalesce("person_id", pl.col("record_key").cast(pl.String)).alias("cluster_id")
        )
        .drop("file", "person_id")
    )


def _replicate(records: pl.DataFrame, clusters: int) -> pl.DataFrame:
    per_copy = records["cluster_id"].n_unique()
    copies = math.ceil(clusters / per_copy)
    stride = records.height + int(records.select(pl.col("record_key").max()).item() or 0)
    frame = pl.concat(
        records.with_columns(
            pl.concat_str("cluster_id", pl.lit(f"#{copy}")).alias("cluster_id"),
            pl.col("record_key") + copy * stride,
        )
        for copy in range(copies)
    )
    keep = frame["cluster_id"].unique(maintain_order=True).head(clusters)
    return frame.filter(pl.col("cluster_id").is_in(keep.implode()))


def _child(path: Path, mode: str) -> None:
    """One measurement in a fresh process, so its peak memory is its own."""
    authority = {spec.department: dict(spec.authority) for spec in load_all()}
    records = pl.read_parquet(path)
    base = _rss_gib()
    started = time.perf_counter()
    cpu = time.process_time()
    if mode == "frame":
        out = golden_frame(records, authority)
        clusters, text = out.height, int(out["golden"].str.len_bytes().cast(pl.Int64).sum() or 0)
    else:  # slice by slice, each slice's output dropped as a caller storing it would
        clusters = text = 0
        for part in iter_golden_frames(records, authority):
            clusters += part.height
            text += int(part["golden"].str.len_bytes().cast(pl.Int64).sum() or 0)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": time.process_time() - cpu,
                "clusters": clusters,
                "golden_bytes": text,
                "base_gib": base,
                "peak_gib": _peak_gib(),
            }
        )
    )


def _measure(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--mode", mode],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1_000_000)
    parser.add_argument("--city", type=Path, default=ROOT / "var" / "bench-city-20k")
    parser.add_argument("--sample", type=int, default=20_000, help="clusters timed scalar")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="frame", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.mode)
        return
    work = Path(tempfile.mkdtemp(prefix="hukou-bench-golden-"))
    started = time.perf_counter()
    city = _city_records(args.city, work)
    records = _replicate(city, args.clusters)
    path = work / "records.parquet"
    records.write_parquet(path)
    print(
        f"input: {records.height:,} records, {records['cluster_id'].n_unique():,} clusters "
        f"({city.height:,} records of the city, replicated; prepared in "
        f"{time.perf_counter() - started:.0f} s)"
    )
    load = os.getloadavg()
    authority = {spec.department: dict(spec.authority) for spec in load_all()}
    sample_ids = records["cluster_id"].unique(maintain_order=True).head(args.sample)
    sample = records.filter(pl.col("cluster_id").is_in(sample_ids.implode()))
    del records
    started = time.perf_counter()
    expected = scalar_frame(sample, authority)
    scalar_seconds = time.perf_counter() - started
    identical = golden_frame(sample, authority).equals(expected)
    per_cluster = scalar_seconds / sample_ids.len()
    print(
        f"scalar (anchor): {sample_ids.len():,} clusters in {scalar_seconds:.1f} s = "
        f"{per_cluster * 1e3:.3f} ms per cluster -> {per_cluster * args.clusters:,.0f} s "
        f"for {args.clusters:,}; vectorised identical on the sample: {identical}"
    )
    for mode in ("frame", "slices"):
        got = _measure(path, mode)
        print(
            f"golden_frame ({mode}): {got['clusters']:,.0f} clusters in {got['seconds']:.1f} s "
            f"(cpu {got['cpu']:.1f} s); memory {got['base_gib']:.2f} GiB input, peak "
            f"{got['peak_gib']:.2f} GiB (+{got['peak_gib'] - got['base_gib']:.2f}); golden JSON "
            f"{got['golden_bytes'] / 1024**3:.2f} GiB; "
            f"{per_cluster * args.clusters / got['seconds']:.0f}x the scalar path"
        )
    print(f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    print(f"load average at end:   {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    shutil.rmtree(work)  # the scratch database and the records (about 200 MB)


if __name__ == "__main__":
    main()
