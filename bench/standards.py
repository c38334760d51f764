"""Benchmark: GB 11643 validation of 1,000,000 identity numbers in a Polars column.

Target (issue 2): the vectorised path validates 1,000,000 numbers in at most 1 s on
the development machine. The anchor, measured in the same run, is the scalar path
(``hukou.standards.identity.check``); its rate is reported beside it, with the ratio.

The input is synthetic: valid numbers over current county codes, 5 % fifteen-digit,
8 % with a defect (wrong check character, impossible date, full-width digits,
lower-case x, spaces). Every number is made here; none is real.

    .venv/bin/python bench/standards.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import random
import statistics
import time

import polars as pl

from hukou.standards import divisions, identity
from hukou.standards.identity_frame import check_frame

TODAY = datetime.date(2026, 11, 29)


def _numbers(rows: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    counties = [d.code for d in divisions.all_divisions() if d.level == "county" and d.is_current]
    start = datetime.date(1930, 1, 1).toordinal()
    span = datetime.date(2024, 12, 31).toordinal() - start
    out = []
    for _ in range(rows):
        born = datetime.date.fromordinal(start + rng.randrange(span))
        body = f"{rng.choice(counties)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + identity.check_character(body)
        roll = rng.random()
        if roll < 0.05 and born.year < 2000:
            number = number[:6] + number[8:17]  # fifteen-digit
        elif roll < 0.07:
            number = number[:17] + ("0" if number[17] != "0" else "1")
        elif roll < 0.09:
            number = number[:10] + "13" + number[12:]
        elif roll < 0.11:
            number = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif roll < 0.12:
            number = number.lower()
        elif roll < 0.13:
            number = number[:6] + " " + number[6:]
        out.append(number)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scalar-rows", type=int, default=200_000)
    args = parser.parse_args()

    numbers = _numbers(args.rows, seed=2)
    frame = pl.DataFrame({"id": numbers})
    check_frame(frame.head(1000), "id", today=TODAY)  # warm the division table

    vector_times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = check_frame(frame, "id", today=TODAY)
        vector_times.append(time.perf_counter() - started)
    invalid = result["id_reason"].is_not_null().sum()

    sample = numbers[: args.scalar_rows]
    started = time.perf_counter()
    scalar_invalid = sum(not identity.check(n, today=TODAY).valid for n in sample)
    scalar_seconds = time.perf_counter() - started
    scalar_rate = len(sample) / scalar_seconds

    best, median = min(vector_times), statistics.median(vector_times)
    vector_rate = args.rows / median
    print(f"machine: {platform.processor() or platform.machine()}, polars {pl.__version__}")
    print(f"rows: {args.rows:,}; invalid: {invalid:,} ({invalid / args.rows:.1%})")
    print(f"vectorised check_frame: median {median:.3f} s, best {best:.3f} s ({args.repeat} runs)")
    print(f"  rate {vector_rate:,.0f} numbers/s; target <= 1 s per 1,000,000")
    print(f"scalar identity.check: {scalar_rate:,.0f} numbers/s over {len(sample):,}")
    print(f"  scalar invalid share {scalar_invalid / len(sample):.1%} (same input)")
    print(f"ratio vectorised/scalar: {vector_rate / scalar_rate:.1f}x")


if __name__ == "__main__":
    main()
