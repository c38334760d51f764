"""What every department feed shares: the context it draws from and how it is emitted.

A feed module builds one frame of clean records in the department's own columns
(plus ``pid`` and helper columns starting with ``_``), then calls :func:`emit`, which
injects the defects, writes the files and returns the ground-truth rows:
(department, file, position, record_id, person_id, defects).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from hukou.synth.config import CityConfig
from hukou.synth.defects import FieldRoles, inject_defects
from hukou.synth.population import Population
from hukou.synth.rng import Streams
from hukou.synth.writers import FileFormat, write_records

__all__ = ["TRUTH_SCHEMA", "FeedContext", "emit", "format_dates"]

TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "department": pl.String(),
    "file": pl.String(),
    "position": pl.Int64(),
    "record_id": pl.String(),
    "person_id": pl.String(),
    "defects": pl.String(),
}


@dataclass(frozen=True, slots=True)
class FeedContext:
    """Everything a feed module may read, and where it writes."""

    cfg: CityConfig
    streams: Streams
    population: Population
    out: Path  # the city folder: feeds go to out/feeds/<department>/

    def rng(self, department: str, purpose: str) -> np.random.Generator:
        """The random stream for one purpose of one department."""
        return self.streams.get(f"feed:{department}:{purpose}")


def format_dates(column: str | pl.Expr, pattern: str) -> pl.Expr:
    """A date column as the department writes it (strftime ``pattern``), null stays null.

    Patterns with unpadded numbers (2023/1/5, 2023年1月5日) use ``%-m``/``%-d``.
    """
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.dt.strftime(pattern)


def emit(
    ctx: FeedContext,
    department: str,
    records: pl.DataFrame,
    *,
    roles: FieldRoles,
    fmt: FileFormat,
    stem: str,
    partition: str | None = None,
    record_id: str | None = None,
    quality: float = 1.0,
) -> pl.DataFrame:
    """Inject defects, write the department's files, return the truth rows.

    ``records`` holds the file columns in order, then ``pid`` and helper columns
    (``_birth_year``, ``_previous_address``, ``_defects`` for semantic defects the
    feed module already applied). ``partition`` names a column whose value is part
    of the file name (one file per value: the department's file split).
    """
    # One stream per file stem: a department emitting several files must not get
    # the same draws (row i defective in every file).
    rng = ctx.rng(department, f"defects:{stem}")
    defective = inject_defects(records, roles, ctx.cfg.defects, rng, quality=quality)
    if "_defects" in defective.columns:
        defective = defective.with_columns(
            pl.col("_defects").fill_null([]).list.concat(pl.col("defects")).alias("defects")
        )
    file_columns = [c for c in records.columns if c != "pid" and not c.startswith("_")]
    extension = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl"}[fmt.kind]
    groups: list[tuple[str, pl.DataFrame]]
    if partition is None:
        groups = [(f"{stem}.{extension}", defective)]
    else:
        keys = defective[partition].unique(maintain_order=False).sort()
        groups = [
            (f"{stem}_{key}.{extension}", defective.filter(pl.col(partition) == key))
            for key in keys.to_list()
        ]
    truth = []
    folder = ctx.out / "feeds" / department
    write_rng = ctx.rng(department, f"malformed:{stem}")
    for name, part in groups:
        written = write_records(
            part.select(file_columns),
            folder / name,
            fmt,
            malformed_rate=ctx.cfg.defects.rate("malformed_line") * quality,
            rng=write_rng,
            chunk_rows=ctx.cfg.chunk_rows,
        )
        defects = part["defects"]
        if written.malformed.any():
            defects = pl.select(
                pl.when(pl.Series(written.malformed))
                .then(pl.lit(defects).list.concat(pl.lit(["malformed_line"])))
                .otherwise(defects)
            ).to_series()
        truth.append(
            pl.DataFrame(
                {
                    "department": [department] * part.height,
                    "file": [f"feeds/{department}/{name}"] * part.height,
                    "position": written.positions,
                    "record_id": part[record_id].cast(pl.String)
                    if record_id
                    else pl.Series([None] * part.height, dtype=pl.String),
                    "person_id": part["pid"],
                    "defects": defects.list.join(";"),
                }
            )
            .select(
                *[pl.col(c).cast(t) for c, t in TRUTH_SCHEMA.items() if c != "person_id"],
                pl.format("P{}", pl.col("person_id").cast(pl.String).str.zfill(7)).alias(
                    "person_id"
                ),
            )
            .select(list(TRUTH_SCHEMA))
        )
    return pl.concat(truth)
