"""Benchmark: the audit ledger — batched append, inclusion proofs at size, full verification.

Targets (issue 5): ledger append at least 20,000 entries/s batched; an inclusion
proof at 10,000,000 entries in at most 5 ms; the full verification rate reported
beside raw OpenSSL SM3 throughput over 1 KiB blocks (``hukou.security.sm.sm3``),
the physical limit of any SM3 verifier on this machine.

Per engine (SQLite file; PostgreSQL if reachable, in a database made for the run
and dropped after):

1. append ``--entries`` synthetic access entries with ``ledger.append`` in
   batches of ``--batch``, one transaction per batch (entries built beforehand;
   their construction and validation rate is reported apart);
2. sign a checkpoint and ``verify`` the whole ledger;
3. grow the ledger to ``--proof-size`` entries (``--big``: 10,000,000) through
   ``append`` itself, in batches of 50,000 reusing a pool of built entries
   (every entry still gets its own sequence number, canonical text, SM3 leaf
   and stored subtree hashes: the tables are those of a real ledger), sign a
   checkpoint (on PostgreSQL, ``VACUUM (ANALYZE)`` the tables, the steady state
   autovacuum keeps), then time ``inclusion_proof`` for ``--proofs`` random
   entries, twice (a first, colder pass and a second one), each in its own
   session as an API request has, and check a sample against the signed root;
4. with ``--verify-all``, verify the grown ledger in full.

    .venv/bin/python bench/ledger.py [--entries 200000] [--batch 5000]
        [--proof-size 1000000 | --big] [--proofs 2000] [--engines sqlite,postgresql]
        [--verify-all]
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hukou.audit.checkpoint import Checkpoint, NoteSigner, open_checkpoint
from hukou.audit.entry import LedgerEntry, Outcome
from hukou.audit.ledger import append, checkpoint, inclusion_proof, verify
from hukou.audit.merkle import SM3_HASHER, verify_inclusion
from hukou.audit.model import EntryRow
from hukou.db import create_engine_for, session_scope, upgrade
from hukou.security.sm import sm3

ORIGIN = "hukou.bench/audit"
POSTGRES_ADMIN_URL = os.environ.get(
    "HUKOU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEPARTMENTS = ("110105-rsj", "320505-ga", "320506-yb", "320507-jy", "320508-mz")
PURPOSES = ("social_insurance.enrolment", "school.admission", "points.scoring", "casework.review")
FIELDS = (("name", "birth_date"), ("registered_address",), ("name", "identity_number", "phone"))


def build_entries(count: int, seed: int = 20261201) -> list[LedgerEntry]:
    """Synthetic access entries shaped like the exchange's: ids, codes, no personal data."""
    rng = random.Random(seed)
    start = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    return [
        LedgerEntry.access(
            actor=f"u-{rng.randrange(5000):05d}",
            department=rng.choice(DEPARTMENTS),
            purpose=rng.choice(PURPOSES),
            person_id=f"R{rng.getrandbits(80):020x}",
            fields=rng.choice(FIELDS),
            outcome=Outcome.ALLOWED if rng.random() < 0.95 else Outcome.DENIED,
            case_id=f"C2026-{rng.randrange(10**6):06d}" if rng.random() < 0.6 else None,
            at=start + datetime.timedelta(microseconds=i * 1_000),
        )
        for i in range(count)
    ]


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="hukou-ledger-bench-") as folder:
        engine = create_engine_for(f"sqlite:///{Path(folder) / 'ledger.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_engine() -> Iterator[Engine | None]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hukou_ledger_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        yield None
        return
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def append_all(engine: Engine, pool: list[LedgerEntry], total: int, batch: int) -> float:
    """Append ``total`` entries (cycling through ``pool``); return the seconds taken."""
    source = itertools.cycle(pool)
    started = time.perf_counter()
    done = 0
    while done < total:
        chunk = list(itertools.islice(source, min(batch, total - done)))
        with session_scope(engine) as session:
            append(session, chunk)
        done += len(chunk)
    return time.perf_counter() - started


def entry_text_bytes(engine: Engine) -> int:
    with engine.connect() as connection:
        total = connection.scalar(text(f"SELECT sum(length(entry)) FROM {EntryRow.__tablename__}"))
    return int(total or 0)


def sm3_throughput(block_count: int, block_size: int) -> tuple[float, float]:
    """(MB/s, hashes/s) of SM3 over ``block_count`` blocks of ``block_size`` random bytes."""
    block = os.urandom(block_size)
    started = time.perf_counter()
    for _ in range(block_count):
        sm3(block)
    seconds = time.perf_counter() - started
    return block_count * block_size / seconds / 1e6, block_count / seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_proofs(
    engine: Engine, signed: Checkpoint, count: int, rng: random.Random, label: str
) -> None:
    """Time ``count`` inclusion proofs of random entries, each in its own session."""
    indexes = [rng.randrange(signed.size) for _ in range(count)]
    timings = []
    proofs = []
    for index in indexes:
        started = time.perf_counter()
        with session_scope(engine) as session:
            proof = inclusion_proof(session, index, signed.size)
        timings.append(time.perf_counter() - started)
        proofs.append(proof)
    for proof in proofs[:50]:  # each proof is real: it leads to the signed root
        with engine.connect() as connection:
            entry = connection.scalar(
                text("SELECT entry FROM audit_entry WHERE seq = :i"), {"i": proof.index}
            )
        leaf = SM3_HASHER.hash_leaf(str(entry).encode())
        verify_inclusion(leaf, proof.index, signed.size, proof.hashes, signed.root_hash)
    ms = [t * 1000 for t in timings]
    p99 = percentile(ms, 0.99)
    lengths = sorted(len(p.hashes) for p in proofs)
    print(
        f"inclusion proof at {signed.size:,} entries, {label} ({count:,} random "
        f"entries, {lengths[0]}-{lengths[-1]} hashes, a session per proof): "
        f"p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, max {max(ms):.2f} ms "
        f"(target p99 <= 5 ms: {'met' if p99 <= 5 else 'MISSED'})"
    )


def run_engine(kind: str, engine: Engine, args: argparse.Namespace, signer: NoteSigner) -> None:
    upgrade(engine)
    pool_size = min(args.entries, 50_000)
    started = time.perf_counter()
    pool = build_entries(pool_size)
    built = pool_size / (time.perf_counter() - started)
    print(f"\n== {kind} ==")
    print(f"entries built and validated: {built:,.0f} /s ({pool_size:,} entries)")

    seconds = append_all(engine, pool, args.entries, args.batch)
    rate = args.entries / seconds
    print(
        f"append: {args.entries:,} entries in batches of {args.batch:,}: {seconds:.2f} s, "
        f"{rate:,.0f} entries/s (target >= 20,000: {'met' if rate >= 20_000 else 'MISSED'})"
    )

    with session_scope(engine) as session:
        checkpoint(session, signer)
    with session_scope(engine) as session:
        report = verify(session, verifier=signer.verifier())
    assert report.ok, report.summary()
    text_mb = entry_text_bytes(engine) / 1e6
    print(
        f"verify: {report.entries_verified:,} entries in {report.seconds:.2f} s: "
        f"{report.entries_verified / report.seconds:,.0f} entries/s, "
        f"{text_mb / report.seconds:.1f} MB/s of entry text "
        f"(mean entry {text_mb * 1e6 / report.entries_verified:.0f} bytes)"
    )

    grow = args.proof_size - args.entries
    if grow > 0:
        seconds = append_all(engine, pool, grow, 50_000)
        print(
            f"grown to {args.proof_size:,} entries through append(): {seconds:.0f} s, "
            f"{grow / seconds:,.0f} entries/s"
        )
    with session_scope(engine) as session:
        head = checkpoint(session, signer)
    signed = open_checkpoint(head.note, origin=ORIGIN, log_key=signer.verifier())
    if engine.dialect.name == "postgresql":
        # The steady state autovacuum keeps: statistics, hint bits and the visibility
        # map set. Right after a bulk load, reads would also write hint bits.
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("audit_entry", "audit_node"):
                connection.execute(text(f"VACUUM (ANALYZE) {table}"))
        print(f"VACUUM (ANALYZE) after the load: {time.perf_counter() - started:.0f} s")
    rng = random.Random(7)
    for label in ("first pass", "second pass"):
        time_proofs(engine, signed, args.proofs, rng, label)
    if args.verify_all:
        with session_scope(engine) as session:
            report = verify(session, verifier=signer.verifier())
        assert report.ok, report.summary()
        print(
            f"verify at {report.entries_verified:,} entries: {report.seconds:.0f} s, "
            f"{report.entries_verified / report.seconds:,.0f} entries/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--entries", type=int, default=200_000, help="entries appended and verified"
    )
    parser.add_argument("--batch", type=int, default=5_000, help="entries per append")
    parser.add_argument("--proof-size", type=int, default=1_000_000, help="ledger size for proofs")
    parser.add_argument("--big", action="store_true", help="proofs at 10,000,000 entries")
    parser.add_argument("--proofs", type=int, default=2_000, help="inclusion proofs timed")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--verify-all", action="store_true", help="also verify the grown ledger in full"
    )
    parser.add_argument("--sm3-blocks", type=int, default=200_000, help="1 KiB blocks hashed")
    args = parser.parse_args()
    if args.big:
        args.proof_size = 10_000_000
    args.proof_size = max(args.proof_size, args.entries)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {datetime.date.today().isoformat()}"
    )
    mb_s, per_s = sm3_throughput(args.sm3_blocks, 1024)
    small_mb_s, small_per_s = sm3_throughput(args.sm3_blocks, 300)
    print(
        f"raw OpenSSL SM3 (hukou.security.sm.sm3): 1 KiB blocks {mb_s:.0f} MB/s "
        f"({per_s:,.0f} hashes/s); 300-byte inputs {small_mb_s:.0f} MB/s ({small_per_s:,.0f}/s)"
    )
    signer = NoteSigner.generate(ORIGIN)
    for kind in args.engines.split(","):
        if kind == "sqlite":
            with sqlite_engine() as engine:
                run_engine("SQLite", engine, args, signer)
        elif kind == "postgresql":
            with postgres_engine() as maybe:
                if maybe is None:
                    print("\n== PostgreSQL: not reachable, skipped ==")
                    continue
                run_engine("PostgreSQL", maybe, args, signer)
        else:
            parser.error(f"unknown engine {kind}")


if __name__ == "__main__":
    main()
