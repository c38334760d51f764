"""A policy compiled to loops over the rows (numba), for ranking a large list year's table
against its quota in one pass.

The Polars engine (:mod:`hukou.points.engine`) evaluates a policy as about fifty
elementwise passes over the whole table. Here the same rules become the text of two Python
functions — each indicator a few lines of integer arithmetic on a row's values, in the same
units of 1/1200 point — compiled once per policy and table layout:

- ``kernel`` runs over a slice of the table (one slice per core, in threads: compiled
  loops release the GIL), block by block: first the values looked up in tables (a degree's
  points, an age by birth day) into small buffers, then everything else, which reads each
  array in order and so compiles to vector instructions. It writes every row's score and
  qualification and returns the lowest qualified score and a count per score,
  from which :func:`cutoff_of` finds the cutoff without another pass.
- ``breakdown`` scores chosen rows (the admitted) indicator by indicator, the columns
  :func:`hukou.points.engine.score_frame` would give them.

It serves the common case — one version of every indicator in force for the whole table
(a list year's), ages by birth day, no missing birth or application date;
:func:`hukou.points.engine.kernel_table` answers ``None`` otherwise and the engine scores
the table itself. The generated text holds only integers and names of its own making
(``a0``, ``g1``, …): nothing from a policy file reaches it as code. It depends on the
policy and the table's columns and types, never on the values (so a policy compiles
once); compiled functions are kept on disk (:func:`_cached_module`). Property tests hold
both loops to :func:`hukou.points.explain.explain`, and ``admit`` to ``rank(score_frame)``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import polars as pl

from hukou.points.policy import UNITS_PER_POINT, Indicator, Policy, Rounding, Version, units_of

__all__ = [
    "Breakdown",
    "Compiled",
    "OutOfRangeError",
    "Scores",
    "compile_table",
    "cutoff_of",
    "rows_at_or_above",
]

_LOCK = threading.Lock()
_KERNELS: dict[str, tuple[Callable[..., Any], ...]] = {}
_POOL: ThreadPoolExecutor | None = None


_HIGHEST = 2**63 - 1
"""The lowest score where no row qualified in a slice (the loop keeps no branch on a row's
outcome)."""


@dataclass
class _Source:
    """The kernel's text being written and the arrays it will read.

    Expressions are written for one row ``i``: a per-row array as ``a3[i]``, a value
    looked up in a table by something of the row as a token ``G0`` (see :meth:`gather`),
    rendered inline for the loop over chosen rows and hoisted into a loop of its own for
    the loop over the table (:func:`_kernels`).
    """

    frame: pl.DataFrame
    arrays: list[np.ndarray] = field(default_factory=list)
    named: dict[tuple[Any, ...], str] = field(default_factory=dict)
    gathers: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    temporaries: int = 0
    ones: np.ndarray | None = None

    def table(self, key: tuple[Any, ...], make: Callable[[], np.ndarray]) -> str:
        """The name of the argument holding ``make()``, made once per ``key``."""
        if key not in self.named:
            values = np.ascontiguousarray(make())
            self.named[key] = f"a{len(self.arrays)}"
            self.arrays.append(values)
        return self.named[key]

    def row(self, key: tuple[Any, ...], make: Callable[[], np.ndarray]) -> str:
        """The row's value of a per-row array."""
        return f"{self.table(key, make)}[i]"

    def gather(self, table: str, index: str) -> str:
        """``table[index]``, once per pair."""
        pair = (table, index)
        if pair not in self.gathers:
            self.gathers.append(pair)
        return f"G{self.gathers.index(pair)}"

    def temporary(self, expression: str) -> str:
        name = f"t{self.temporaries}"
        self.temporaries += 1
        self.lines.append(f"{name} = {expression}")
        return name

    def _column(self, name: str) -> pl.Series | None:
        return self.frame.get_column(name) if name in self.frame.columns else None

    def count(self, name: str | None) -> str:
        """A count as the rules read it: absent 0, below zero 0 (the engine's ``_count``)."""
        column = None if name is None else self._column(name)
        if column is None:
            return "0"
        if column.dtype != pl.Int64 or column.null_count():
            column = column.cast(pl.Int64).fill_null(0)
        return f"max({self.row(('count', name), column.rechunk().to_numpy)}, 0)"

    def flag(self, name: str) -> str:
        """A flag as the rules read it (1 or 0): absent or missing, not set."""
        column = self._column(name)
        if column is None:
            return "0"
        if column.dtype != pl.Boolean:
            column = column.cast(pl.Boolean)
        return self._bits(name, column)

    def _bits(self, name: str, flags: pl.Series) -> str:
        """A Boolean column (missing: 0) as bytes of 0 or 1, unpacked from its Arrow
        buffers (a fraction of a millisecond for a million, against half a millisecond for
        Polars' own conversion)."""
        held = flags.rechunk().to_arrow()
        values = held.buffers()[1]
        assert values is not None
        value = self._unpacked(("bits", name), values, held.offset, len(held))
        return f"({value} & {self._valid(name, held)})"

    def _valid(self, name: str | None, held: Any) -> str:
        """1 where an Arrow array has a value, 0 where it is missing. Read even where none
        is missing, so that the kernel's text depends on the table's columns and types
        alone, not on where its gaps fall (each text is compiled once)."""
        validity = held.buffers()[0]
        if validity is None or not held.null_count:
            if self.ones is None or len(self.ones) != len(held):
                self.ones = np.ones(len(held), np.uint8)
            ones = self.ones
            return self.row(("valid", name), lambda: ones)  # one array, an argument each
        return self._unpacked(("valid", name), validity, held.offset, len(held))

    def _unpacked(self, key: tuple[Any, ...], buffer: Any, offset: int, count: int) -> str:
        def unpack() -> np.ndarray:
            bits = np.frombuffer(buffer, np.uint8)
            return np.unpackbits(bits, count=offset + count, bitorder="little")[offset:]

        return self.row(key, unpack)

    def lookup(self, name: str | None, table: Mapping[str, int]) -> str:
        """Units by an attribute's value (absent, missing or unlisted: 0)."""
        column = None if name is None else self._column(name)
        if column is None:
            return "0"
        key = tuple(sorted(table.items()))
        assert name is not None
        if not isinstance(column.dtype, pl.Enum):
            # Text becomes codes of the table's own keys (an unlisted value: missing).
            listed = pl.Enum(list(table))
            column = self.frame.select(
                pl.col(name).cast(pl.String).cast(listed, strict=False)
            ).to_series()
            name = f"{name}:{key}"
        assert isinstance(column.dtype, pl.Enum)
        categories = column.dtype.categories.to_list()
        by_code = self.table(
            ("by_code", name, key),
            lambda: np.array([table.get(c, 0) for c in categories] + [0], dtype=np.int64),
        )
        return self._code_lookup(name, column, by_code)

    def _code_lookup(self, name: str | None, column: pl.Series, by_code: str) -> str:
        """``by_code`` at the row's code, read from the column's Arrow buffers without a
        copy; a missing value's code is whatever the buffer holds, so it is bounded by the
        table's last entry (a 0) and the row's validity decides."""
        held = column.rechunk().to_physical().to_arrow()
        values = held.buffers()[1]
        assert values is not None
        dtype = np.dtype(held.type.to_pandas_dtype())
        codes = self.row(
            ("code", name),
            lambda: np.frombuffer(values, dtype)[held.offset : held.offset + len(held)],
        )
        found = self.gather(by_code, f"min({codes}, {by_code}.shape[0] - 1)")
        return f"({found} * {self._valid(name, held)})"

    def equals(self, name: str, value: bool | int | str) -> str:
        column = self._column(name)
        if column is None:
            return "0"
        # Written alike whatever the column's type, so that one text serves every table:
        # a flag equal to True is the flag; to False, not the flag; anything else, the
        # flag of the comparison (``!=`` for False). Missing: 0.
        if isinstance(value, bool) and column.dtype == pl.Boolean:
            key: tuple[Any, ...] = ("bits", name)
        else:
            test = pl.col(name) == value if value is not False else pl.col(name) != value
            column = self.frame.select(test).to_series()
            key = ("bits", name, value)
        held = column.rechunk().to_arrow()
        values = held.buffers()[1]
        assert values is not None
        flag = self._unpacked(key, values, held.offset, len(held))
        return f"({flag if value is not False else f'({flag} ^ 1)'} & {self._valid(name, held)})"


def _capped(units: str, cap: Decimal | None) -> str:
    if cap is None:
        return units
    limit = units_of(cap)
    return f"min({units}, {limit})" if limit >= 0 else f"max({units}, {limit})"


def _highest(options: Sequence[str]) -> str:
    return f"max({', '.join(['0', *options])})"


def _indicator(source: _Source, indicator: Indicator, version: Version, age_points: str) -> str:
    """An expression of the row's units of ``indicator`` (statements go to ``source``)."""
    kind = indicator.kind
    if kind == "per_period":
        assert version.rate is not None
        months = source.temporary(source.count(indicator.input))
        if version.cap_months_by is not None:
            cap = source.lookup(indicator.cap_by, version.cap_months_by)
            months = source.temporary(f"min({months}, {cap})")
        if version.cap_months is not None:
            months = source.temporary(f"min({months}, {int(version.cap_months)})")
        per_month = int(version.rate * UNITS_PER_POINT / (1 if version.per == "month" else 12))
        return _capped(f"{months} * {per_month}", version.cap_points)
    if kind == "tiered_periods":
        assert version.tiers is not None
        remaining = source.temporary(source.count(indicator.cap_by)) if indicator.cap_by else None
        terms: list[str] = []
        tiers = list(version.tiers.items())
        for index, (name, rate) in enumerate(tiers):
            counted = source.temporary(source.count(name))
            if remaining is not None:
                counted = source.temporary(f"min({counted}, {remaining})")
                if index + 1 < len(tiers):
                    remaining = source.temporary(f"{remaining} - {counted}")
            terms.append(f"{counted} * {int(rate * UNITS_PER_POINT / 12)}")
        return _capped(f"({' + '.join(terms) or '0'})", version.cap_points)
    if kind == "table":
        assert version.table is not None
        return source.lookup(indicator.input, {k: units_of(v) for k, v in version.table.items()})
    if kind == "highest_of":
        options = [
            f"({units_of(points)} * {source.flag(name)})"
            for name, points in (version.items or {}).items()
        ]
        options.extend(
            source.lookup(name, {k: units_of(v) for k, v in table.items()})
            for name, table in (version.tables or {}).items()
        )
        return _highest(options)
    if kind == "age":
        return age_points
    if kind == "per_event":
        assert version.points is not None
        events = source.count(indicator.input)
        return _capped(f"{events} * {units_of(version.points)}", version.cap_points)
    assert version.points is not None  # a flag
    assert indicator.input is not None
    return f"({units_of(version.points)} * {source.flag(indicator.input)})"


class OutOfRangeError(ValueError):
    """A row's units are beyond what the kernel rounds exactly (absurd counts): the table
    is for the Polars engine."""


@dataclass(frozen=True, slots=True)
class Scores:
    """Every row's score (in the policy's rounding) and qualification, the lowest qualified
    score and how many qualified."""

    score: np.ndarray
    qualified: np.ndarray
    lowest: int
    count: int
    per_score: np.ndarray
    """How many qualified scored each score from ``-_PER_SCORE_MIDDLE`` on (the ends also
    count everyone beyond them)."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A table ready to score: the compiled loop and the arrays it reads."""

    run: Callable[..., Any]
    explain: Callable[..., Any]
    arrays: tuple[np.ndarray, ...]
    rows: int

    def scores(self) -> Scores:
        score = np.empty(self.rows, dtype=np.int64)
        qualified = np.empty(self.rows, dtype=np.bool_)

        def run(start: int, stop: int) -> tuple[Any, ...]:
            per_score = np.zeros(2 * _PER_SCORE_MIDDLE, np.int64)
            found = self.run(start, stop, score, qualified, per_score, *self.arrays)
            return (*found, per_score)

        parts = _in_slices(self.rows, run)
        if any(beyond for _, _, beyond, _ in parts):
            raise OutOfRangeError
        counted = [(low, n) for low, n, _, _ in parts if n]
        return Scores(
            score,
            qualified,
            min((low for low, _ in counted), default=0),
            sum(n for _, n in counted),
            np.sum([per_score for *_, per_score in parts], axis=0),
        )

    def breakdown(self, rows: np.ndarray, indicators: int) -> Breakdown:
        """``rows``' ages, units per indicator (in the policy's order), units, scores and
        qualification: the columns :func:`hukou.points.engine.score_frame` adds."""
        count = len(rows)
        found = Breakdown(
            np.empty(count, np.int32),
            np.empty((count, indicators), np.int64),
            np.empty(count, np.int64),
            np.empty(count, np.int64),
            np.empty(count, np.bool_),
        )
        self.explain(
            np.ascontiguousarray(rows, dtype=np.int64),
            found.age,
            found.parts,
            found.units,
            found.score,
            found.qualified,
            *self.arrays,
        )
        return found


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Some rows scored indicator by indicator."""

    age: np.ndarray
    parts: np.ndarray
    units: np.ndarray
    score: np.ndarray
    qualified: np.ndarray


_SLICE_FROM = 65_536


def _in_slices(rows: int, work: Callable[[int, int], Any]) -> list[Any]:
    """``work(start, stop)`` over the rows in one slice per core (the compiled loops release
    the GIL), each slice's answer in order."""
    workers = max(1, min(os.cpu_count() or 1, rows // _SLICE_FROM))
    bounds = np.linspace(0, rows, workers + 1).astype(np.int64).tolist()
    if workers == 1:
        return [work(0, rows)]
    futures = [_pool().submit(work, start, stop) for start, stop in itertools.pairwise(bounds)]
    return [future.result() for future in futures]


def _pool() -> ThreadPoolExecutor:
    global _POOL  # noqa: PLW0603 (one pool of worker threads per process, made on first use)
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="points-kernel")
        return _POOL


def compile_table(
    policy: Policy,
    applicants: pl.DataFrame,
    versions: Mapping[str, Version | None],
    age: tuple[pl.Series, int, Mapping[str, pl.Series]],
) -> Compiled:
    """``policy`` over ``applicants``, with ``versions`` the one in force per indicator
    (``None``: not in force on the table's date, no points).

    ``age`` is the engine's table of ages by birth day: the ``age`` per day, the first
    day's offset (days since 1970-01-01) and each age indicator's units per day.
    """
    source = _Source(applicants)
    by_day, offset, points_by_day = age
    birth = applicants.get_column("birth_date").rechunk()
    first_day = source.table(("first_day",), lambda: np.array([offset], np.int64))
    day = f"{source.row(('birth_day',), birth.to_physical().to_numpy)} - {first_day}[0]"
    age_of_row = source.gather(source.table(("ages",), by_day.cast(pl.Int64).to_numpy), f"{day}")
    terms: list[str] = []
    for name, indicator in policy.indicators.items():
        version = versions[name]
        if version is None:  # not in force on the table's date
            terms.append("0")
            continue
        points = ""
        if indicator.kind == "age":
            by_day_units = points_by_day[name].cast(pl.Int64)
            points = source.gather(source.table(("age_points", name), by_day_units.to_numpy), day)
        terms.append(source.temporary(_indicator(source, indicator, version, points)))
    source.lines.append(f"units = {' + '.join(terms) or '0'}")
    tests: list[str] = []
    for condition in policy.qualification:
        if condition.equals is not None:
            tests.append(source.equals(condition.attribute, condition.equals))
        elif condition.at_least is not None:
            tests.append(f"{source.count(condition.attribute)} >= {int(condition.at_least)}")
        else:
            assert condition.below_by_sex is not None
            limits = {str(k): int(v) for k, v in condition.below_by_sex.items()}
            limit = source.temporary(source.lookup("sex", limits))
            tests.append(f"({age_of_row} < {limit}) & ({limit} > 0)")
    if policy.pass_mark is not None:
        tests.append(f"s >= {int(policy.pass_mark * policy.rounding.power)}")
    held = f"held = ({' & '.join(f'({t})' for t in tests) or '1'}) != 0"
    run, breakdown = _kernels(source, terms, age_of_row, policy.rounding, held)
    return Compiled(run, breakdown, tuple(source.arrays), applicants.height)


_BLOCK = 2048
_PER_SCORE_MIDDLE = 1 << 16
"""The loop counts the qualified per score from -655.36 to 655.35 points (in hundredths);
a score beyond counts at the end it passed."""
_EXACT_BELOW = 2**50
"""|units| below which a float64 quotient floors exactly (any quotient of integers under
2^53 does); a table with a row beyond it is scored by the Polars engine instead."""


def _kernels(
    source: _Source, terms: Sequence[str], age: str, rounding: Rounding, held: str
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The loop over the table and the loop over chosen rows, compiled (or loaded from the
    cache).

    The loop over the table goes block by block: first the values looked up in tables
    (each block's into a small buffer), then the rest, which reads every array in order
    and so is compiled to vector instructions (16 rows at a time with AVX-512) — a lookup
    in the same loop, or Python's floor division of signed integers, keeps the compiler
    to one row at a time. Rounding there is a float64 quotient, exact under
    :data:`_EXACT_BELOW`, which the loop checks.
    """
    half, step = rounding.half, rounding.step
    arguments = ", ".join(f"a{k}" for k in range(len(source.arrays)))
    per_row = sorted(
        {int(k) for line in source.lines for k in re.findall(r"\ba(\d+)\[i\]", line)}
        | {int(k) for _, index in source.gathers for k in re.findall(r"\ba(\d+)\[i\]", index)}
        | {int(k) for k in re.findall(r"\ba(\d+)\[i\]", held)}
    )

    def inline(line: str) -> str:
        return re.sub(
            r"\bG(\d+)\b",
            lambda m: "{}[{}]".format(*source.gathers[int(m.group(1))]),
            line,
        )

    def blocked(line: str) -> str:
        return re.sub(r"\bG(\d+)\b", r"g\1[j]", re.sub(r"\ba(\d+)\[i\]", r"v\1[j]", line))

    rows_body = "\n".join(
        f"        {inline(line)}"
        for line in [
            *source.lines,
            f"rounded = (abs(units) + {half}) // {step}",
            "s = -rounded if units < 0 else rounded",
            held,
        ]
    )
    block_body = "\n".join(
        f"            {blocked(line)}"
        for line in [
            *source.lines,
            f"beyond += (units >= {_EXACT_BELOW}) | (units <= {-_EXACT_BELOW})",
            f"rounded = np.int64(np.float64(abs(units) + {half}) / {float(step)!r})",
            "s = -rounded if units < 0 else rounded",
            held,
        ]
    )
    buffers = "".join(
        f"    g{k} = np.empty({_BLOCK}, np.int64)\n" for k in range(len(source.gathers))
    )
    views = "".join(f"        v{k} = a{k}[b0:b0 + n]\n" for k in per_row)
    lookups = "".join(
        f"            g{k}[j] = {table}[{blocked(index)}]\n"
        for k, (table, index) in enumerate(source.gathers)
    )
    parts = "\n".join(f"        parts[k, {j}] = {inline(term)}" for j, term in enumerate(terms))
    text = (
        '"""Generated by hukou.points.kernel from a points policy; do not edit."""\n\n'
        "import numpy as np\n\n\n"
        f"def kernel(start, stop, score, qualified, per_score, {arguments}):\n"
        f"    lowest, count, beyond = {_HIGHEST}, 0, 0\n"
        f"{buffers}"
        f"    for b0 in range(start, stop, {_BLOCK}):\n"
        f"        n = min({_BLOCK}, stop - b0)\n"
        f"{views}"
        "        sv = score[b0:b0 + n]\n"
        "        qv = qualified[b0:b0 + n]\n"
        + (f"        for j in range(n):\n{lookups}" if lookups else "")
        + "        for j in range(n):\n"
        f"{block_body}\n"
        "            sv[j] = s\n"
        "            qv[j] = held\n"
        "            count += held\n"
        f"            lowest = min(lowest, s if held else {_HIGHEST})\n"
        "        for j in range(n):\n"
        "            if qv[j]:\n"
        f"                per_score[min(max(sv[j] + {_PER_SCORE_MIDDLE}, 0), "
        f"{2 * _PER_SCORE_MIDDLE - 1})] += 1\n"
        "    return lowest, count, beyond\n\n\n"
        f"def breakdown(rows, age, parts, total, score, qualified, {arguments}):\n"
        "    for k in range(rows.shape[0]):\n"
        "        i = rows[k]\n"
        f"{rows_body}\n"
        f"        age[k] = {inline(age)}\n"
        f"{parts}\n"
        "        total[k] = units\n"
        "        score[k] = s\n"
        "        qualified[k] = held\n"
        "    return 0\n"
    )
    with _LOCK:
        if text not in _KERNELS:
            import numba  # noqa: PLC0415 (0.5 s to import; large tables only)

            module = _cached_module(text)
            _KERNELS[text] = tuple(
                numba.njit(nogil=True, cache=True)(getattr(module, name))
                for name in ("kernel", "breakdown")
            )
        run, breakdown = _KERNELS[text]
        return run, breakdown


def _cached_module(text: str) -> ModuleType:
    """``text`` as a module in a file of the cache folder, named by its digest: numba keeps
    the machine code beside it, so a policy is compiled once per machine, not per process
    (about 2 s, against 0.1 s to load)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    folder = _cache_folder()
    path = folder / f"kernel_{digest}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        staged = folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}"
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, path)
    spec = importlib.util.spec_from_file_location(f"hukou_points_kernel_{digest}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # numba finds the module by name when it loads its cache
    spec.loader.exec_module(module)
    return module


def _cache_folder() -> Path:
    """``<data_dir>/cache/points`` (or a folder under the system's temporary one if the data
    folder cannot be written)."""
    from hukou.config import get_settings  # noqa: PLC0415 (only when compiling)

    for folder in (
        get_settings().data_dir / "cache" / "points",
        Path(tempfile.gettempdir()) / f"hukou-points-{os.getuid()}",
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise OSError("no writable folder for the points kernels' cache")


def _compiled(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` compiled on its first call (numba is imported only when it is used)."""
    compiled: list[Callable[..., Any]] = []

    def call(*args: Any) -> Any:
        with _LOCK:
            if not compiled:
                import numba  # noqa: PLC0415

                compiled.append(numba.njit(nogil=True, cache=True)(function))
        return compiled[0](*args)

    return call


def _rows_loop(
    score: np.ndarray, qualified: np.ndarray, start: int, stop: int, cutoff: int
) -> np.ndarray:
    rows = np.empty(stop - start, dtype=np.int64)
    k = 0
    for i in range(start, stop):
        if qualified[i] and score[i] >= cutoff:
            rows[k] = i
            k += 1
    return rows[:k]


_rows = _compiled(_rows_loop)


def cutoff_of(scores: Scores, quota: int) -> int | None:
    """The score of the quota-th qualified applicant (the lowest qualified if fewer qualify;
    ``None`` if none do or there are no places), from the count per score the loop kept;
    by a partition of the qualified if it falls at an end of that count."""
    if scores.count == 0 or quota <= 0:
        return None
    if scores.count <= quota:
        return scores.lowest
    at_or_above = np.cumsum(scores.per_score[::-1])
    found = len(scores.per_score) - 1 - int(np.searchsorted(at_or_above, quota))
    if 0 < found < len(scores.per_score) - 1:
        return found - _PER_SCORE_MIDDLE
    pool = scores.score[scores.qualified]
    return int(-np.partition(-pool, quota - 1)[quota - 1])


def rows_at_or_above(scores: Scores, cutoff: int) -> np.ndarray:
    """The row numbers, in table order, of the qualified scoring at least ``cutoff``."""
    parts = _in_slices(
        len(scores.score),
        lambda start, stop: _rows(scores.score, scores.qualified, start, stop, cutoff),
    )
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
