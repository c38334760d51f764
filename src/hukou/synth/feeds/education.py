"""教育 学籍: every pupil in a primary, junior or senior school of the city.

Who: children enrolled in school (6–14 compulsory, most 15–17 in senior school) who
live in the city, wherever they are registered: 随迁子女 of migrants are here, and so
are the few children never entered in the household register (黑户), who are enrolled
all the same; this feed is where they surface. Each pupil is at a school of the
district where they live (see ``hukou.synth.facilities``).

What it knows: the pupil's 学籍号 (G + identity number; a child without one has a J
number built the same way from the school's district, birth date and a sequence), the
school and grade, where the child is registered (户籍所在地, as text), whether a
随迁子女, one guardian (a parent, with ID and phone) and the home address the family
gave (can be stale). It knows nothing of adults beyond that guardian.

How: one JSON Lines export of the 学籍 system's API (``xueji_<year>.jsonl``), English
keys, gender M/F, ethnicity as its short name (汉, 回, 维吾尔), birth dates unpadded
(2015/3/7), enrolment dates ISO. Sorted by school, grade, 学籍号. Teachers type the
guardian's ID from the 户口本, so a few are mistyped (``guardian_id_mistyped``); a
few birth dates are impossible (``date_out_of_range``, applied here because the
dates are unpadded). Columns and defects: docs/synth/feeds/education.md.
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl

from hukou.standards import divisions
from hukou.standards.codelists import ETHNICITY
from hukou.standards.identity import check_character
from hukou.synth.defects import FieldRoles
from hukou.synth.facilities import school_assignment
from hukou.synth.feeds.base import FeedContext, emit
from hukou.synth.writers import FileFormat

__all__ = ["DEPARTMENT", "write"]

DEPARTMENT = "education"
_QUALITY = 0.6
_FIRST_GRADE = {"primary": 1, "junior": 7, "senior": 10}
_LAST_GRADE = {"primary": 6, "junior": 9, "senior": 12}
_SCHOOL_START_MONTH = 9  # a child starts school in the September after turning six
_MOTHER_GUARDIAN_SHARE = 0.4  # the guardian on file is the head's spouse, else the head
_GUARDIAN_ID_ERROR_FACTOR = 2.0  # parents' numbers are copied by hand: twice the usual


def _short_ethnicity(code: str) -> str:
    label = ETHNICITY.label(code)
    return "入籍" if label == "外国血统中国籍人士" else label.removesuffix("族")


def _j_numbers(frame: pl.DataFrame, rng: np.random.Generator) -> list[str]:
    """J学籍号 for children without an identity number: district + birth date + sequence + check."""
    sequence = rng.integers(0, 1000, frame.height)
    bodies = [
        f"{district}{birth:%Y%m%d}{seq:03d}"
        for district, birth, seq in zip(
            frame["actual_division"], frame["birth_date"], sequence, strict=True
        )
    ]
    return [f"J{body}{check_character(body)}" for body in bodies]


def _mistype(number: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(17))
    digit = (int(number[i]) + int(rng.integers(1, 10))) % 10
    return number[:i] + str(digit) + number[i + 1 :]


def _impossible(birth: datetime.date, rng: np.random.Generator) -> str:
    """An unpadded date that cannot be: month 13, 30 February or a day 32, or the year 2099."""
    kind = int(rng.integers(3))
    if kind == 0:
        return f"{birth.year}/13/{birth.day}"
    if kind == 1:
        return f"{birth.year}/2/30" if birth.month == 2 else f"{birth.year}/{birth.month}/32"
    return f"2099/{birth.month}/{birth.day}"


def write(ctx: FeedContext) -> pl.DataFrame:
    """Write the 学籍 export and return its truth rows."""
    persons = ctx.population.persons
    cfg = ctx.cfg
    rng = ctx.rng(DEPARTMENT, "records")
    schools, assignment = school_assignment(cfg, ctx.streams, persons)
    pupils = persons.select(
        "pid",
        "head_pid",
        "identity_number",
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "status",
        "registered_division",
        "actual_division",
        "actual_since",
        "address",
        "previous_address",
        "unregistered",
        "enrolled",
        "school_level",
        assignment.alias("_school_id"),
    ).filter(pl.col("enrolled"))
    k = pupils.height

    # Guardian on file: the head of household or the head's spouse (the child's parents).
    head = pupils["head_pid"].to_numpy()
    spouse_of_head = persons["spouse_pid"].to_numpy()[head]
    guardian = pl.Series(
        np.where(
            (spouse_of_head >= 0) & (rng.random(k) < _MOTHER_GUARDIAN_SHARE), spouse_of_head, head
        )
    )
    guardian_ids = persons["identity_number"].gather(guardian).to_list()
    defects: list[list[str]] = [[] for _ in range(k)]
    rate = cfg.defects.rate("id_mistyped") * _GUARDIAN_ID_ERROR_FACTOR * _QUALITY
    for i in np.flatnonzero(rng.random(k) < rate):
        guardian_ids[i] = _mistype(guardian_ids[i], rng)
        defects[i].append("guardian_id_mistyped")
    births = pupils["birth_date"].to_list()
    birth_text = pupils["birth_date"].dt.strftime("%Y/%-m/%-d").to_list()
    for i in np.flatnonzero(rng.random(k) < cfg.defects.rate("date_out_of_range") * _QUALITY):
        birth_text[i] = _impossible(births[i], rng)
        defects[i].append("date_out_of_range")

    # A child without an identity number is on file under a J number.
    unregistered = pupils["unregistered"].to_numpy()
    student_no = pupils.select(pl.format("G{}", "identity_number")).to_series().to_list()
    for i, number in zip(
        np.flatnonzero(unregistered),
        _j_numbers(pupils.filter(pl.col("unregistered")), rng),
        strict=True,
    ):
        student_no[i] = number

    # Grade: entry in the September after turning six, kept within the school's level.
    entry_year = (
        pl.col("birth_date").dt.year()
        + 6
        + (pl.col("birth_date").dt.month() >= _SCHOOL_START_MONTH)
    )
    grade = (
        (pl.lit(cfg.year) - entry_year + 1)
        .clip(
            pl.col("school_level").replace_strict(_FIRST_GRADE, return_dtype=pl.Int32),
            pl.col("school_level").replace_strict(_LAST_GRADE, return_dtype=pl.Int32),
        )
        .cast(pl.Int32)
    )
    stage_start = pl.date(
        pl.lit(cfg.year)
        - (grade - pl.col("school_level").replace_strict(_FIRST_GRADE, return_dtype=pl.Int32)),
        _SCHOOL_START_MONTH,
        1,
    )
    # Pupils who moved in after the stage began transferred on arrival.
    enrolled_on = pl.max_horizontal(stage_start, pl.col("actual_since")).clip(
        upper_bound=cfg.snapshot_date
    )
    places = {
        code: divisions.full_name(code, cfg.snapshot_date)
        for code in pupils["registered_division"].unique()
    }
    ethnic = {code: _short_ethnicity(code) for code in ETHNICITY}
    names = dict(zip(schools["school_id"], schools["name"], strict=True))
    no_number = pl.col("unregistered")

    records = (
        pupils.with_columns(
            pl.Series("_student_no", student_no, dtype=pl.String),
            pl.Series("_birth_text", birth_text, dtype=pl.String),
            persons["name"].gather(guardian).alias("_guardian_name"),
            pl.Series("_guardian_id", guardian_ids, dtype=pl.String),
            persons["phone"].gather(guardian).alias("_guardian_phone"),
            # Null, not an empty list, where there is none: much faster to build.
            pl.Series("_defects", [found or None for found in defects], dtype=pl.List(pl.String)),
        )
        .select(
            pl.col("_student_no").alias("student_no"),
            pl.col("name"),
            pl.when(pl.col("sex") == "1").then(pl.lit("M")).otherwise(pl.lit("F")).alias("gender"),
            pl.col("_birth_text").alias("birth"),
            pl.col("ethnicity").replace_strict(ethnic).alias("ethnicity"),
            pl.when(~no_number).then(pl.lit("居民身份证")).alias("id_type"),
            pl.when(~no_number).then(pl.col("identity_number")).alias("id_no"),
            pl.col("_school_id").alias("school_id"),
            pl.col("_school_id").replace_strict(names).alias("school_name"),
            grade.alias("grade"),
            enrolled_on.dt.strftime("%Y-%m-%d").alias("enrol_date"),
            pl.when(~no_number)
            .then(pl.col("registered_division").replace_strict(places))
            .alias("hukou_location"),
            pl.when(pl.col("status") == "migrant")
            .then(pl.lit("Y"))
            .otherwise(pl.lit("N"))
            .alias("migrant_child"),
            pl.col("_guardian_name").alias("guardian_name"),
            pl.col("_guardian_id").alias("guardian_id"),
            pl.col("_guardian_phone").alias("guardian_phone"),
            pl.col("address").alias("home_address"),
            pl.col("pid"),
            pl.col("birth_date").dt.year().alias("_birth_year"),
            pl.col("previous_address").alias("_previous_address"),
            pl.col("_defects"),
        )
        .sort("school_id", "grade", "student_no")
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(
            identity="id_no",
            name="name",
            address="home_address",
            previous_address="_previous_address",
            required=("ethnicity", "guardian_name", "guardian_phone", "home_address"),
        ),
        fmt=FileFormat("jsonl"),
        stem=f"xueji_{cfg.year}",
        record_id="student_no",
        quality=_QUALITY,
    )
