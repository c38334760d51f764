"""Golden records for every cluster at once: :mod:`hukou.registry.golden`, vectorised.

The scalar path (:func:`hukou.registry.golden.golden_record` per cluster, then
``json.dumps``) costs 0.3 to 0.5 ms per person in Python; at a million people that
alone is five to eight minutes, against a ten-minute budget for ingest, link and
golden together. This module computes the same thing for all clusters with Polars: every
(record, field, value) becomes one row of a long frame, one sort puts each field's
candidates in the scalar order (rank, then most recent, then later arrival), and the
first row of each (cluster, field) run is the chosen value.

Byte-identical output is the contract, so nothing is re-encoded that need not be.
A record's ``fields`` text is what ingest wrote (``json.dumps(..., ensure_ascii=False,
sort_keys=True)`` of scalar values), so each value's JSON text is cut out of it
unchanged, with plain substring splits (a regular expression was several
times slower): ints stay ints, bools stay bools, strings keep their exact escapes. Text in
any other shape (floats, nested values, other separators, ASCII-escaped characters)
is refused with ``ValueError`` rather than mis-read. The golden and conflict JSON is
then assembled with string functions, in json.dumps's key order and separators.

Python's ``!=`` decides what a conflict is, and in Python ``True == 1`` and
``False == 0``: values are compared by a key in which ``true`` is ``1`` and ``false``
is ``0``, so a bool and the equal int are not a conflict, exactly as in the scalar path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping

import polars as pl

from hukou.registry.golden import _NOT_PERSONAL, _UNRANKED

__all__ = ["INPUT_SCHEMA", "OUTPUT_SCHEMA", "golden_frame", "iter_golden_frames"]

# What golden_frame reads; other columns are ignored.
INPUT_SCHEMA: dict[str, pl.DataType] = {
    "cluster_id": pl.String(),
    "record_key": pl.Int64(),
    "department": pl.String(),
    "batch_id": pl.String(),
    "file_name": pl.String(),
    "position": pl.Int64(),
    "as_of": pl.Date(),
    "fields": pl.String(),
    "name": pl.String(),
    "sex": pl.String(),
    "birth_date": pl.Date(),
}

# Golden fields whose chosen value is returned as a column when it is a string (the
# household and its members are read from them): decoding them back out of the golden
# JSON cost a sixth of the time of building a million persons.
_STRING_FIELDS = ("household_number", "relationship", "person_status", "registered_address")

OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "cluster_id": pl.String(),
    "golden": pl.String(),
    "conflicts": pl.String(),
    "name": pl.String(),
    "sex": pl.String(),
    "birth_date": pl.Date(),
    "registered_division": pl.String(),
    "registered_division_rank": pl.Int64(),
    "registered_division_as_of": pl.Date(),
    **{f"{name}_department": pl.String() for name in ("sex", "birth_date")},
    **{name: pl.String() for name in _STRING_FIELDS},
}

# The record's own columns; they replace any key of the same name in ``fields``,
# as ``values.update(name=…, sex=…, birth_date=…)`` does in the scalar path.
_COLUMN_FIELDS = ("name", "sex", "birth_date")
# Between two pairs of json.dumps text. Inside a string literal every '"' follows a
# backslash, so ', "' only ever separates pairs, and '": ' (first occurrence, in a
# key without escapes) only ever ends a key.
_BETWEEN = ', "'
_AFTER_KEY = '": '
# A value that is not a string: an int, a bool or null (json.dumps writes ints so).
_SCALAR = r"^(?:-?(?:0|[1-9][0-9]*)|true|false|null)$"
# Records per slice: bounds the long frame (about a dozen rows per record).
_CHUNK_RECORDS = 500_000


def _text(expr: pl.Expr) -> pl.Expr:
    """The JSON text of a string column, escaped as json.dumps(ensure_ascii=False) does
    (Polars' encoder escapes the same characters the same way); null gives ``null``."""
    return (
        pl.struct(expr.alias("v"))
        .struct.json_encode()
        .str.strip_prefix('{"v":')
        .str.strip_suffix("}")
    )


def _iso(expr: pl.Expr) -> pl.Expr:
    """``date.isoformat()``: four-digit, zero-padded year."""
    return expr.dt.strftime("%Y-%m-%d")


def _check(records: pl.DataFrame) -> None:
    missing = [name for name in INPUT_SCHEMA if name not in records.columns]
    if missing:
        raise ValueError(f"golden_frame: missing columns {missing}")
    wrong = {
        name: str(records.schema[name])
        for name, dtype in INPUT_SCHEMA.items()
        if records.schema[name] != dtype and records.schema[name] != pl.Null()
    }
    if wrong:
        raise ValueError(f"golden_frame: wrong column types {wrong}")
    required = ["cluster_id", "record_key", "department", "batch_id", "file_name"]
    nulls = records.select(pl.col(*required, "position", "as_of", "fields").null_count())
    bad = [name for name, count in nulls.row(0, named=True).items() if count]
    if bad:
        raise ValueError(f"golden_frame: null values in {bad}")


def golden_frame(
    records: pl.DataFrame,
    authority: Mapping[str, Mapping[str, int]],
    *,
    chunk_records: int = _CHUNK_RECORDS,
) -> pl.DataFrame:
    """Every cluster's golden record, as :func:`hukou.registry.golden.golden_record` and
    link's JSON give it, computed for all clusters at once.

    ``records``: one row per source record with the columns of :data:`INPUT_SCHEMA`
    (``fields`` as ingest stores it; ``as_of`` the batch's date). Within a cluster,
    ascending ``record_key`` is the order of arrival: among candidates of equal rank
    and date the later one wins. ``authority[department][field]`` is the spec's rank;
    unranked fields rank 99.

    Returns one row per cluster, sorted by ``cluster_id``, with :data:`OUTPUT_SCHEMA`:
    ``golden`` and ``conflicts`` (null when there is none) are the JSON texts link
    stores; ``name``, ``sex``, ``birth_date`` the chosen values; ``registered_division``
    the chosen value when it is a string (what residence inference uses), else null,
    with its rank and ``as_of`` (null exactly when it is null).
    ``sex_department`` and ``birth_date_department`` say whose value was chosen (the
    cross-checks read it); ``household_number``, ``relationship``, ``person_status``
    and ``registered_address`` are the chosen values when they are strings, else null.

    Memory: the golden JSON is about 1.7 KB per person (1.6 GB at a million people),
    so a caller that stores as it goes should use :func:`iter_golden_frames` instead.
    """
    parts = list(iter_golden_frames(records, authority, chunk_records=chunk_records))
    if not parts:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    return pl.concat(parts).sort("cluster_id")


def iter_golden_frames(
    records: pl.DataFrame,
    authority: Mapping[str, Mapping[str, int]],
    *,
    chunk_records: int = _CHUNK_RECORDS,
) -> Iterator[pl.DataFrame]:
    """:func:`golden_frame` slice by slice: frames of whole clusters of about
    ``chunk_records`` records together, each sorted by ``cluster_id`` (not across
    slices), so that only one slice's work and output is held at a time.
    """
    _check(records)
    frame = records.select([pl.col(name).cast(dtype) for name, dtype in INPUT_SCHEMA.items()])
    slices = math.ceil(frame.height / max(1, chunk_records))
    if slices <= 1:
        if frame.height:
            yield _golden_slice(frame, authority)
        return
    # Whole clusters per slice, by a hash of the cluster id: no cluster straddles two.
    slice_of = frame.select(pl.col("cluster_id").hash(seed=0) % slices).to_series()
    for index in range(slices):
        part = frame.filter(slice_of == index)
        if part.height:
            yield _golden_slice(part, authority)


class _Keys:
    """Field codes (in the sorted order json.dumps gives keys), their JSON text, and
    the rank of each (department, field): small tables built once per slice, in Python.

    A key is seen as ``{"name`` (a record's first pair) or ``name`` (any other);
    both forms map to the same code.
    """

    def __init__(
        self,
        key_texts: list[str],
        departments: list[str],
        authority: Mapping[str, Mapping[str, int]],
    ) -> None:
        names = {text: text.removeprefix('{"') for text in key_texts}
        odd = sorted(text for text, name in names.items() if '"' in name or "\\" in name)
        if odd:
            raise ValueError(
                "golden_frame: field names must need no JSON escapes "
                f"(and fields must be json.dumps text), got {odd[:5]!r}"
            )
        kept = {
            name
            for name in names.values()
            if name not in _NOT_PERSONAL and name not in _COLUMN_FIELDS
        }
        ordered = sorted(kept | set(_COLUMN_FIELDS))
        self.code = {name: index for index, name in enumerate(ordered)}
        # Key text (as split out of ``fields``) -> code; keys not kept are absent.
        self.by_text = {text: self.code[name] for text, name in names.items() if name in kept}
        # Code -> the key as json.dumps writes it.
        self.texts = pl.Series([json.dumps(name, ensure_ascii=False) for name in ordered])
        self.departments = {name: index for index, name in enumerate(sorted(set(departments)))}
        # (department code * fields + field code) -> rank; unranked everywhere else.
        ranks = [_UNRANKED] * (len(self.departments) * len(ordered))
        for department, ranked in authority.items():
            if department in self.departments:
                for name, rank in ranked.items():
                    if name in self.code:
                        ranks[self.departments[department] * len(ordered) + self.code[name]] = rank
        self.ranks = pl.Series(ranks, dtype=pl.Int64)


def _refuse(what: str, sample: str) -> ValueError:
    return ValueError(
        "golden_frame: fields must be json.dumps(..., ensure_ascii=False) text of an object "
        f"with string, int, bool or null values; {what}, e.g. {sample[:200]!r}"
    )


def _pairs(part: pl.DataFrame) -> pl.DataFrame:
    """Every (record, key text, value JSON text) of the records' ``fields``.

    Cut with plain substring splits, which are exact for json.dumps text with scalar
    values (see ``_BETWEEN``); anything else is refused, never mis-read: the text must
    be an object, every value a string literal, an int, a bool or null, and text with
    escapes (rare: a backslash) must be exactly what json.dumps writes for it.
    """
    text = pl.col("fields")
    shape = part.filter(~((text.str.starts_with('{"') | (text == "{}")) & text.str.ends_with("}")))
    if shape.height:
        raise _refuse(f"{shape.height} records are not an object", shape["fields"][0])
    escaped = part.filter(text.str.contains("\\", literal=True))["fields"]
    for value in escaped.to_list():  # only records with a backslash: almost none
        try:
            same = json.dumps(json.loads(value), ensure_ascii=False) == value
        except ValueError:
            same = False
        if not same:
            raise _refuse("its escapes are not json.dumps's", value)
    pieces = (
        part.select(text.str.split(_BETWEEN).alias("_p"))
        .with_row_index("_i")
        .filter(pl.col("_p").list.first() != "{}")
        .explode("_p")
        .select("_i", pl.col("_p").str.split_exact(_AFTER_KEY, 1).struct.unnest())
        .rename({"field_0": "_key", "field_1": "_v"})
        # The last pair of a record carries the object's closing brace; a value that
        # ended in "}" would be an object, which the check below refuses anyway.
        .with_columns(pl.col("_v").str.strip_suffix("}"))
    )
    value = pl.col("_v")
    string = value.str.starts_with('"')
    bad = pieces.filter(
        value.is_null() | string & (~value.str.ends_with('"') | (value.str.len_bytes() < 2))
    )
    if bad.height:
        raise _refuse(f"{bad.height} pairs are not key and value", str(bad["_v"][0]))
    bad = pieces.filter(~string).filter(~value.str.contains(_SCALAR))
    if bad.height:
        raise _refuse(f"{bad.height} values are neither string, int, bool nor null", bad["_v"][0])
    return pieces


def _golden_slice(part: pl.DataFrame, authority: Mapping[str, Mapping[str, int]]) -> pl.DataFrame:
    """Whole clusters' golden records: one long frame of candidates, one sort, and the
    first candidate of each (cluster, field) run is the chosen one."""
    # Arrival order within a cluster is ascending record_key: after this sort the row
    # index _i orders records by cluster, then arrival.
    part = part.sort("cluster_id", "record_key")
    fields = _pairs(part)
    keys = _Keys(
        fields["_key"].unique().to_list(), part["department"].unique().to_list(), authority
    )
    part = part.with_columns(
        pl.col("cluster_id").rle_id().cast(pl.UInt32).alias("_c"),
        pl.col("department").replace_strict(keys.departments, return_dtype=pl.UInt32).alias("_d"),
    )
    fields = (
        fields.filter(pl.col("_v") != "null")
        .select(
            "_i",
            pl.col("_key")
            .replace_strict(keys.by_text, default=None, return_dtype=pl.UInt32)
            .alias("_f"),
            "_v",
        )
        .drop_nulls("_f")
    )
    columns = [
        part.with_row_index("_i")
        .filter(pl.col(name).is_not_null())
        .select(
            "_i",
            pl.lit(keys.code[name], dtype=pl.UInt32).alias("_f"),
            (
                pl.concat_str(pl.lit('"'), _iso(pl.col(name)), pl.lit('"'))
                if name == "birth_date"
                else _text(pl.col(name))
            ).alias("_v"),
        )
        for name in _COLUMN_FIELDS
    ]
    candidates = pl.concat([fields, *columns])
    del fields, columns
    record = part.select("_c", "as_of", "_d")
    candidates = candidates.with_columns(
        record["_c"].gather(candidates["_i"]).alias("_c"),
        record["as_of"].gather(candidates["_i"]).alias("as_of"),
        keys.ranks.gather(
            record["_d"].gather(candidates["_i"]) * len(keys.code) + candidates["_f"]
        ).alias("rank"),
    )
    candidates = _in_scalar_order(candidates, part, len(keys.code))
    first = (
        (pl.col("_c") != pl.col("_c").shift(1)) | (pl.col("_f") != pl.col("_f").shift(1))
    ).fill_null(True)
    # Python's == : True == 1, False == 0; otherwise equal values have equal JSON text.
    same = (
        pl.when(pl.col("_v") == "true")
        .then(pl.lit("1"))
        .when(pl.col("_v") == "false")
        .then(pl.lit("0"))
        .otherwise(pl.col("_v"))
    )
    candidates = candidates.with_columns(first.alias("_first"), same.alias("_same"))
    candidates = candidates.with_columns(
        pl.when("_first").then("_same").forward_fill().alias("_best"),
        # Each other candidate knows the row chosen before it (for the conflict's "chosen").
        pl.when("_first").then("_i").forward_fill().alias("_chosen"),
    )
    chosen = candidates.filter("_first").select("_c", "_f", "_i", "_v", "rank", "as_of")
    others = candidates.filter(~pl.col("_first") & (pl.col("_same") != pl.col("_best"))).select(
        "_c", "_f", "_i", "_chosen"
    )
    del candidates
    return _assemble(part, keys, chosen, others)


def _bits(largest: int) -> int:
    return max(0, largest).bit_length()


def _in_scalar_order(candidates: pl.DataFrame, part: pl.DataFrame, fields: int) -> pl.DataFrame:
    """Candidates by cluster, field, then the scalar order: lowest rank, then most
    recent, then the later arrival.

    The five sort keys are packed into one unsigned 64-bit integer when their ranges
    fit (they do unless a slice holds an enormous cluster or span of dates): one
    integer sort instead of a five-column one. Ranks and dates enter as their dense
    order, arrival as the position within the cluster.
    """
    if candidates.height == 0:
        return candidates
    row = pl.int_range(pl.len(), dtype=pl.UInt32)
    starts = part.select(
        pl.when(pl.col("_c") != pl.col("_c").shift(1, fill_value=-1)).then(row).forward_fill()
    ).to_series()
    offset = candidates["_i"] - starts.gather(candidates["_i"])
    ranks = candidates["rank"].unique().sort()
    days = candidates["as_of"].unique().sort()
    widths = [
        _bits(int(part["_c"].max() or 0)),  # type: ignore[arg-type]
        _bits(fields - 1),
        _bits(ranks.len() - 1),
        _bits(days.len() - 1),
        _bits(int(offset.max() or 0)),  # type: ignore[arg-type]
    ]
    if sum(widths) > 64:
        return candidates.sort(
            ["_c", "_f", "rank", "as_of", "_i"], descending=[False, False, False, True, True]
        )
    columns = [
        pl.col("_c"),
        pl.col("_f"),
        pl.col("rank").replace_strict(
            ranks, pl.int_range(ranks.len(), eager=True), return_dtype=pl.Int64
        ),
        # Most recent first, later arrival first: both enter reversed.
        days.len()
        - 1
        - pl.col("as_of").replace_strict(
            days, pl.int_range(days.len(), eager=True), return_dtype=pl.Int64
        ),
        2 ** widths[4] - 1 - offset,
    ]
    key = pl.lit(0, pl.UInt64)
    for width, column in zip(widths, columns, strict=True):
        key = key * (2**width) + column.cast(pl.UInt64)
    return candidates.with_columns(key.alias("_key")).sort("_key").drop("_key")


def _assemble(
    part: pl.DataFrame, keys: _Keys, chosen: pl.DataFrame, others: pl.DataFrame
) -> pl.DataFrame:
    """The JSON texts and chosen columns, one row per cluster of the slice.

    Rows of ``chosen`` and ``others`` come sorted by cluster, then field, so joining
    strings group by group keeps json.dumps's key order and the scalar candidate order.
    """
    # Provenance repeats per batch: its JSON is built once per distinct source.
    source = ["as_of", "batch_id", "department", "file_name"]
    batches = (
        part.select(source)
        .unique()
        .with_row_index("_s")
        .with_columns(
            pl.concat_str(
                pl.lit('{"as_of": "'),
                _iso(pl.col("as_of")),
                pl.lit('", "batch_id": '),
                _text(pl.col("batch_id")),
                pl.lit(', "department": '),
                _text(pl.col("department")),
                pl.lit(', "file": '),
                _text(pl.col("file_name")),
                pl.lit(', "position": '),
            ).alias("_head"),
            _text(pl.col("department")).alias("_department"),
        )
    )
    of_record = part.select(source).join(
        batches.select(*source, "_s"), on=source, how="left", maintain_order="left"
    )["_s"]
    head, department = batches["_head"], batches["_department"]
    position = part["position"]
    # The sources the chosen values cite (a record's batch and line; identical ones once),
    # in golden.source_order, numbered within the cluster.
    chosen = chosen.with_columns(
        of_record.gather(chosen["_i"]).alias("_s"), position.gather(chosen["_i"]).alias("_p")
    )
    cited = chosen.select("_c", "_s", "_p").unique()
    at = cited["_s"]
    cited = (
        cited.with_columns(
            *(batches[name].gather(at) for name in source), head.gather(at).alias("_head")
        )
        .sort("_c", "as_of", "department", "file_name", "_p", "batch_id")
        .select(
            "_c",
            "_s",
            "_p",
            pl.int_range(pl.len(), dtype=pl.UInt32).over("_c").alias("_n"),
            pl.concat_str("_head", pl.col("_p").cast(pl.String), pl.lit("}")).alias("sources"),
        )
    )
    entries = chosen.join(
        cited.select("_c", "_s", "_p", "_n"), on=["_c", "_s", "_p"], maintain_order="left"
    )
    entries = entries.select(
        "_c",
        pl.concat_str(
            keys.texts.gather(entries["_f"]),
            pl.lit(": ["),
            pl.col("_n").cast(pl.String),
            pl.lit(", "),
            pl.col("rank").cast(pl.String),
            pl.lit(", "),
            pl.col("_v"),
            pl.lit("]"),
        ).alias("golden"),
    )
    golden = _joined(entries, "golden").join(
        _joined(cited.select("_c", "sources"), "sources"), on="_c", maintain_order="left"
    )
    del entries, cited
    listed = (
        others.with_columns(
            pl.concat_str(
                pl.lit('{"department": '),
                department.gather(of_record.gather(others["_i"])),
                pl.lit(', "position": '),
                position.gather(others["_i"]).cast(pl.String),
                pl.lit("}"),
            ).alias("_o")
        )
        .group_by("_c", "_f", maintain_order=True)
        .agg(pl.col("_o"), pl.col("_chosen").first())
        .with_columns(pl.col("_o").list.join(", "))
    )
    listed = listed.select(
        "_c",
        pl.concat_str(
            pl.lit('{"field": '),
            keys.texts.gather(listed["_f"]),
            pl.lit(', "chosen": '),
            department.gather(of_record.gather(listed["_chosen"])),
            pl.lit(', "others": ['),
            pl.col("_o"),
            pl.lit("]}"),
        ).alias("conflicts"),
    )
    conflicts = _joined(listed, "conflicts")
    picked = _picked(part, keys, chosen)
    clusters = part.filter(pl.col("_c").is_first_distinct()).select("_c", "cluster_id")
    return (
        clusters.join(golden, on="_c", how="left")
        .join(conflicts, on="_c", how="left")
        .join(picked, on="_c", how="left")
        .with_columns(
            pl.concat_str(
                pl.lit('{"fields": {'),
                pl.col("golden").fill_null(""),
                pl.lit('}, "sources": ['),
                pl.col("sources").fill_null(""),
                pl.lit("]}"),
            ).alias("golden"),
            pl.concat_str(pl.lit("["), pl.col("conflicts"), pl.lit("]")).alias("conflicts"),
        )
        .select([pl.col(name).cast(dtype) for name, dtype in OUTPUT_SCHEMA.items()])
    )


def _joined(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Per cluster, the rows' texts joined by ", " (json.dumps's item separator).

    Collecting lists and joining them is about twice as fast as ``str.join`` inside
    the aggregation, which runs group by group.
    """
    return (
        frame.group_by("_c", maintain_order=True)
        .agg(pl.col(column))
        .with_columns(pl.col(column).list.join(", "))
    )


def _picked(part: pl.DataFrame, keys: _Keys, chosen: pl.DataFrame) -> pl.DataFrame:
    """Chosen name, sex, birth date (typed, from the records), whose sex and birth date
    were chosen, the household's string fields and the chosen hukou."""
    frame = part.select("_c").unique(maintain_order=True)
    for name in _COLUMN_FIELDS:
        rows = chosen.filter(pl.col("_f") == keys.code[name])
        frame = frame.join(
            rows.select("_c", part[name].gather(rows["_i"]).alias(name)), on="_c", how="left"
        )
    for name in ("sex", "birth_date"):
        rows = chosen.filter(pl.col("_f") == keys.code[name])
        frame = frame.join(
            rows.select("_c", part["department"].gather(rows["_i"]).alias(f"{name}_department")),
            on="_c",
            how="left",
        )
    for name in _STRING_FIELDS:
        code = keys.code.get(name)
        if code is None:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
            continue
        rows = chosen.filter((pl.col("_f") == code) & pl.col("_v").str.starts_with('"'))
        frame = frame.join(
            rows.select("_c", pl.col("_v").str.json_decode(pl.String).alias(name)),
            on="_c",
            how="left",
        )
    code = keys.code.get("registered_division")
    if code is None:
        return frame.with_columns(
            pl.lit(None, pl.String).alias("registered_division"),
            pl.lit(None, pl.Int64).alias("registered_division_rank"),
            pl.lit(None, pl.Date).alias("registered_division_as_of"),
        )
    hukou = chosen.filter((pl.col("_f") == code) & pl.col("_v").str.starts_with('"')).select(
        "_c",
        pl.col("_v").str.json_decode(pl.String).alias("registered_division"),
        pl.col("rank").alias("registered_division_rank"),
        pl.col("as_of").alias("registered_division_as_of"),
    )
    return frame.join(hukou, on="_c", how="left")
