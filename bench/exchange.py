"""Benchmark: one read through the exchange on a linked registry, in-process.

Target (issue 5): on a 1,000,000-person registry, read-by-identity-number with
masking and a ledger append at p99 <= 10 ms in-process. The ledger's own targets
(append rate, proofs at 10 M entries, verification beside raw SM3) are measured by
``bench/ledger.py``.

Each timed read is what an API call does, in its own transaction: find the person
by the blind index of their identity number, decide (agreements, purpose), read
the facts, decrypt and mask them, append the ledger entry, commit. The anchor in
the same run is the bare lookup: the same blind-index query and a fetch of the
person row, without decision, masking or ledger, so the ratio is the door's cost.

    .venv/bin/python bench/exchange.py --database sqlite:///var/bench-1m/link.db \
        --keys var/bench-1m/keys.json --truth var/bench-city-1m/truth [--reads 2000]

The database must hold a linked registry (``hukou ingest all`` then ``hukou registry
link``, or bench/registry.py's work folder); it is migrated to the newest schema.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import time
from pathlib import Path

import polars as pl
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the logged-in staff stand-ins are the exchange tests' own

from tests.exchange.conftest import staff  # noqa: E402

from hukou.accounts import Role  # noqa: E402
from hukou.db import create_engine_for, session_scope, upgrade  # noqa: E402
from hukou.exchange import Exchange, approve, load_catalog, propose  # noqa: E402
from hukou.keyring import data_cipher  # noqa: E402
from hukou.registry import find_by_identity_number  # noqa: E402
from hukou.registry.model import Person  # noqa: E402
from hukou.security import KeyRing  # noqa: E402

FIELDS = ["identity_number", "name", "sex", "birth_date", "registered_division", "phone"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    engine = create_engine_for(args.database)
    upgrade(engine)
    cipher = data_cipher(engine, KeyRing.from_file(args.keys))  # envelope: data keys
    exchange = Exchange(cipher, load_catalog())
    numbers = (
        pl.read_parquet(args.truth / "persons.parquet", columns=["identity_number"])
        .drop_nulls()
        .sample(n=args.reads * 2, seed=args.seed)["identity_number"]
        .to_list()
    )
    # The consumer reads public security's and social security's items under an agreement.
    today = datetime.datetime.now(datetime.UTC).date()
    with session_scope(engine) as db:
        draft = propose(
            db,
            exchange.catalog,
            staff(Role.DATA_OFFICER, "housing"),
            provider="public_security",
            fields=["identity_number", "name", "sex", "birth_date", "registered_division"],
            purposes=["residence_permit"],
            valid_from=today,
        )
        approve(db, staff(Role.DATA_OFFICER, "public_security"), draft.id)
    clerk = staff(Role.WINDOW_CLERK, "housing")
    with session_scope(engine) as db:
        people = db.scalar(select(func.count()).select_from(Person)) or 0
    if not people:
        raise SystemExit("the database holds no linked persons: ingest and link first")

    random.Random(args.seed).shuffle(numbers)
    door: list[float] = []
    bare: list[float] = []
    found = 0
    for number in numbers[: args.reads]:
        started = time.perf_counter()
        with session_scope(engine) as db:
            ids = find_by_identity_number(db, cipher, number)
            for person_id in ids[:1]:
                view = exchange.read(db, clerk, person_id, FIELDS, "residence_permit")
                found += bool(view.values)
        door.append(time.perf_counter() - started)
    for number in numbers[args.reads :]:
        started = time.perf_counter()
        with session_scope(engine) as db:
            for person_id in find_by_identity_number(db, cipher, number)[:1]:
                db.get(Person, person_id)
        bare.append(time.perf_counter() - started)

    def ms(values: list[float], q: float) -> str:
        return f"{_percentile(values, q) * 1000:.2f}"

    print(f"registry: {people:,} persons; {args.database.split(':')[0]}; {len(door):,} reads")
    print(
        f"read by identity number + decision + mask + ledger append: p50 {ms(door, 0.5)} ms, "
        f"p99 {ms(door, 0.99)} ms, mean {statistics.fmean(door) * 1000:.2f} ms "
        f"({found:,} persons found and read)"
    )
    print(
        f"anchor, bare lookup (blind index + person row): p50 {ms(bare, 0.5)} ms, "
        f"p99 {ms(bare, 0.99)} ms; door/bare at p99 "
        f"{_percentile(door, 0.99) / _percentile(bare, 0.99):.2f}x"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
