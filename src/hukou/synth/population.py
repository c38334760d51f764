"""The synthetic population: households, people, where they are registered and where they live.

Everything is drawn with NumPy in whole arrays (a million people in seconds) from one
seeded generator per concern, so that the same seed gives the same city and a change
to, say, employment does not reshuffle everyone's names.

The result is the *truth*: what every department's feed is a partial, delayed and
defective view of. Its columns are documented in ``docs/synth/truth.md``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from hukou.standards.identity import WEIGHTS
from hukou.synth.config import CityConfig
from hukou.synth.geography import (
    DISTRICTS,
    ORIGINS,
    birthplace_codes,
    district_weights,
    origin_county_codes,
)
from hukou.synth.naming import ERAS, MINORITY_NAMES, SURNAMES, era_index
from hukou.synth.rng import Streams

__all__ = ["Population", "generate_population"]

_CHECK = np.array(list("10X98765432"))
_EPOCH = datetime.date(1970, 1, 1)

# Household compositions: (kind, share). Counts per household are drawn below.
_KINDS = ("single", "couple", "couple_children", "three_generations", "single_parent")
_KIND_SHARE = np.array([0.20, 0.22, 0.38, 0.14, 0.06])
# Migration status of a household: native (registered and living in the same district),
# intra_city (registered in one district, living in another), migrant (registered
# outside the city), out_migrant (registered here, living elsewhere).
_STATUSES = ("native", "intra_city", "migrant", "out_migrant")
_STATUS_SHARE = np.array([0.69, 0.055, 0.225, 0.03])
_COLLECTIVE_SHARE = 0.05  # people in 集体户 (dormitories), all migrant workers
# Ethnic groups other than Han (~9 %), with their usual origins (index into ORIGINS).
_MINORITIES = ("08", "03", "11", "05", "06", "07", "15", "04", "02", "10", "17")
_MINORITY_SHARE = np.array([0.20, 0.16, 0.13, 0.10, 0.09, 0.08, 0.08, 0.06, 0.05, 0.03, 0.02])
_MINORITY_ORIGIN = {
    "08": 12,
    "03": 14,
    "11": 15,
    "05": 13,
    "06": 4,
    "07": 11,
    "15": 8,
    "04": 3,
    "02": 15,
    "10": 15,
    "17": 13,
}


@dataclass(frozen=True, slots=True)
class Population:
    """People and households of the synthetic city (the ground truth)."""

    persons: pl.DataFrame
    households: pl.DataFrame
    employers: pl.DataFrame


def _choice(rng: np.random.Generator, n: int, shares: np.ndarray) -> np.ndarray:
    return rng.choice(len(shares), size=n, p=shares / shares.sum())


def _days(date: datetime.date) -> int:
    return (date - _EPOCH).days


def _household_shapes(cfg: CityConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Household-level draws: kind, status, district, head age and member counts."""
    family_people = round(cfg.population * (1 - _COLLECTIVE_SHARE))
    n = int(family_people / 2.4) + 64
    kind = _choice(rng, n, _KIND_SHARE)
    status = _choice(rng, n, _STATUS_SHARE)
    migrant = status == 2
    # Head's age: young workers, families, empty nesters; migrants younger.
    head_age = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3, kind == 4],
        [
            np.where(rng.random(n) < 0.7, rng.integers(19, 36, n), rng.integers(60, 92, n)),
            np.where(rng.random(n) < 0.45, rng.integers(22, 36, n), rng.integers(52, 88, n)),
            rng.integers(24, 58, n),
            rng.integers(28, 52, n),
            rng.integers(26, 52, n),
        ],
    )
    head_age = np.where(migrant & (head_age > 60) & (rng.random(n) < 0.7), head_age - 25, head_age)
    children = np.where(
        (kind == 2) | (kind == 3) | (kind == 4),
        1 + (rng.random(n) < 0.38) + (rng.random(n) < 0.06),
        0,
    )
    elders = np.where(kind == 3, 1 + (rng.random(n) < 0.55), 0)
    spouse = (kind == 1) | (kind == 2) | (kind == 3)
    size = 1 + spouse + children + elders
    keep = np.cumsum(size) <= family_people
    last = int(keep.sum())
    return {
        "kind": kind[:last],
        "status": status[:last],
        "head_age": head_age[:last],
        "children": children[:last],
        "elders": elders[:last],
        "spouse": spouse[:last],
        "size": size[:last],
    }


@dataclass(slots=True)
class _People:
    """Person-level arrays while the population is being drawn (one entry per person)."""

    household: np.ndarray
    role: np.ndarray  # 0 head, 1 spouse, 2 child, 3 elder parent, 4 collective member
    age: np.ndarray
    sex: np.ndarray  # 1 male, 2 female


@dataclass(slots=True)
class _Households:
    """Household-level arrays: composition, migration status, districts, origin."""

    kind: np.ndarray
    status: np.ndarray
    registered: np.ndarray  # index into DISTRICTS
    actual: np.ndarray
    origin: np.ndarray  # index into ORIGINS


def _family_households(cfg: CityConfig, streams: Streams) -> tuple[_Households, _People]:
    """Family households (家庭户): members in order head, spouse, children, elder parents."""
    rng = streams.get("households")
    shapes = _household_shapes(cfg, rng)
    n = len(shapes["kind"])
    weights = district_weights()
    registered = _choice(rng, n, weights)
    actual = registered.copy()
    moved = shapes["status"] == 1
    shift = rng.integers(1, len(DISTRICTS), int(moved.sum()))
    actual[moved] = (registered[moved] + shift) % len(DISTRICTS)
    migrant = shapes["status"] == 2
    actual[migrant] = _choice(rng, int(migrant.sum()), weights)
    origin = _choice(rng, n, np.array([o.weight for o in ORIGINS]))
    households = _Households(shapes["kind"], shapes["status"], registered, actual, origin)

    size = shapes["size"]
    household = np.repeat(np.arange(n), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    position = np.arange(len(household)) - np.repeat(first, size)
    has_spouse = shapes["spouse"][household]
    last_child = has_spouse.astype(int) + shapes["children"][household]
    role = np.select(
        [position == 0, has_spouse & (position == 1), position <= last_child],
        [0, 1, 2],
        default=3,
    )
    people = len(household)
    prng = streams.get("people")
    head_age = shapes["head_age"][household]
    head_sex = np.where(prng.random(n) < 0.62, 1, 2)[household]
    spouse_gap = prng.integers(-3, 6, people) * np.where(head_sex == 1, -1, 1)
    age = np.select(
        [role == 0, role == 1, role == 2],
        [
            head_age,
            np.clip(head_age + spouse_gap, 18, 100),
            # Parents were 22-38 when a child was born (never a child older than possible).
            head_age - 22 - (prng.random(people) * (np.minimum(head_age, 38) - 21)).astype(int),
        ],
        default=head_age + prng.integers(24, 34, people),
    )
    sex = np.select(
        [role == 0, role == 1],
        [head_sex, 3 - head_sex],
        default=np.where(prng.random(people) < 0.512, 1, 2),
    )
    return households, _People(household, role, np.clip(age, 0, 104), sex)


def _collective_households(
    streams: Streams, people: int, first_index: int
) -> tuple[_Households, _People]:
    """Collective households (集体户): migrant workers in dormitories, 4-40 to a unit."""
    rng = streams.get("collectives")
    sizes = rng.integers(4, 41, max(1, people // 10 + 1))
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), people)) + 1]
    sizes[-1] -= int(sizes.sum()) - people
    sizes = sizes[sizes > 0]
    n = len(sizes)
    household = np.repeat(np.arange(n) + first_index, sizes)
    district = _choice(rng, n, district_weights())
    households = _Households(
        kind=np.full(n, len(_KINDS)),
        status=np.full(n, 2),
        registered=district,
        actual=district,
        origin=_choice(rng, n, np.array([o.weight for o in ORIGINS])),
    )
    members = _People(
        household=household,
        role=np.full(len(household), 4),
        age=rng.integers(18, 46, len(household)),
        sex=np.where(rng.random(len(household)) < 0.6, 1, 2),
    )
    return households, members


def _join(a: _Households, b: _Households) -> _Households:
    return _Households(
        *(np.concatenate([x, y]) for x, y in zip(_fields(a), _fields(b), strict=True))
    )


def _fields(households: _Households) -> tuple[np.ndarray, ...]:
    h = households
    return (h.kind, h.status, h.registered, h.actual, h.origin)


def _ethnicity(streams: Streams, households: _Households) -> np.ndarray:
    """~9 % of households belong to a minority group; migrants of a group come from its region."""
    rng = streams.get("ethnicity")
    n = len(households.kind)
    minority = rng.random(n) < 0.09
    groups = np.array(_MINORITIES, dtype=np.int64)[_choice(rng, n, _MINORITY_SHARE)]
    ethnic = np.where(minority, groups, 1)  # GB/T 3304 code as an integer; 1 = 汉族
    origins = {int(code): index for code, index in _MINORITY_ORIGIN.items()}
    usual_origin = np.array([origins.get(code, 0) for code in range(100)])[ethnic]
    households.origin = np.where(
        minority & (households.status == 2), usual_origin, households.origin
    )
    return ethnic


def _head_of_person(household: np.ndarray) -> np.ndarray:
    """Index of each person's household head (the first member of the household)."""
    starts = np.concatenate([[0], np.flatnonzero(np.diff(household)) + 1])
    return np.repeat(starts, np.diff(np.append(starts, len(household))))


def _registration(
    streams: Streams,
    *,
    status: np.ndarray,
    registered: np.ndarray,
    origin: np.ndarray,
    birth_year: np.ndarray,
    head: np.ndarray,
    role: np.ndarray,
    year: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Birthplace code of each identity number, and the registered division today."""
    rng = streams.get("identity")
    migrant = status == 2
    codes = np.array([d.code for d in DISTRICTS], dtype=np.int64)
    birthplace = _lookup_codes(
        rng,
        key_a=np.where(migrant, origin + 100, registered),
        years=birth_year,
        table=lambda a, y: (
            origin_county_codes(a - 100, y) if a >= 100 else birthplace_codes(str(codes[a]), y)
        ),
    )
    division = np.where(migrant, birthplace, codes[registered])
    # A migrant's birthplace code may have been abolished; they are registered at a current one.
    stale = migrant & ~np.isin(division, _current_codes(origin, year))
    if stale.any():
        division[stale] = _lookup_codes(
            rng,
            key_a=origin[stale] + 100,
            years=np.full(int(stale.sum()), year),
            table=lambda a, y: origin_county_codes(a - 100, y),
        )
    # Family members share the head's registration (户 is one place); dorm members do not.
    return birthplace, np.where(role == 4, division, division[head])


def _birth_ymd(birth: np.ndarray) -> np.ndarray:
    """YYYYMMDD integers of datetime64[D] dates."""
    month_start = birth.astype("datetime64[M]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = month_start.astype(np.int64) % 12 + 1
    day = (birth - month_start).astype(np.int64) + 1
    ymd: np.ndarray = year * 10000 + month * 100 + day
    return ymd


def generate_population(cfg: CityConfig, streams: Streams) -> Population:
    """Draw the whole population for ``cfg``; deterministic for its seed."""
    family_hh, family = _family_households(cfg, streams)
    dorm_hh, dorms = _collective_households(
        streams, cfg.population - len(family.household), len(family_hh.kind)
    )
    hh = _join(family_hh, dorm_hh)
    household = np.concatenate([family.household, dorms.household])
    role = np.concatenate([family.role, dorms.role])
    sex = np.concatenate([family.sex, dorms.sex])
    age = np.concatenate([family.age, dorms.age])
    n = len(household)
    assert n == cfg.population
    ethnic_hh = _ethnicity(streams, hh)
    status = hh.status[household]
    head = _head_of_person(household)

    # Birth dates: age at the snapshot date, a uniform day within that year of life.
    snapshot = cfg.snapshot_date
    brng = streams.get("birth")
    birth_days = _days(snapshot) - (age * 365.25 + brng.integers(0, 365, n)).astype(np.int64)
    birth = (np.datetime64("1970-01-01") + birth_days.astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    origin = hh.origin[household]
    birthplace, registered_division = _registration(
        streams,
        status=status,
        registered=hh.registered[household],
        origin=origin,
        birth_year=birth_year,
        head=head,
        role=role,
        year=snapshot.year,
    )
    rng = streams.get("identity numbers")
    outside = np.array([310115, 310112, 330106, 320106, 440305, 110105])
    codes = np.array([d.code for d in DISTRICTS], dtype=np.int64)
    actual_division = np.where(
        status == 3,
        outside[rng.integers(0, len(outside), n)][head],
        codes[hh.actual[household]],
    )
    sequence = rng.integers(0, 500, n) * 2 + np.where(sex == 1, 1, 0)
    body = birthplace * 10**11 + _birth_ymd(birth) * 1000 + sequence
    identity_number = _with_check(_unique_bodies(rng, body, sex))

    # Moves: when each household came to where it lives now (natives: since birth).
    mrng = streams.get("moves")
    moved_days = _days(snapshot) - (mrng.random(len(hh.kind)) * 365.25 * 15).astype(np.int64) - 30
    since = np.where(status == 0, birth_days, np.maximum(moved_days[household], birth_days))

    persons = pl.DataFrame(
        {
            "pid": np.arange(n, dtype=np.int32),
            "household_index": household.astype(np.int32),
            "head_pid": head.astype(np.int32),
            "role": role.astype(np.int8),
            "sex": _code(sex),
            "birth_date": birth,
            "ethnicity": _code(ethnic_hh[household]).str.zfill(2),
            "identity_number": identity_number,
            "birthplace_code": _code(birthplace),
            "status": _label(_STATUSES, status),
            "registered_division": _code(registered_division),
            "actual_division": _code(actual_division),
            "actual_since": (np.datetime64("1970-01-01") + since.astype("timedelta64[D]")).astype(
                "datetime64[D]"
            ),
            "origin": _label([o.label for o in ORIGINS], origin),
        }
    ).with_columns(
        pl.format("P{}", pl.col("pid").cast(pl.String).str.zfill(7)).alias("person_id"),
        _household_id("household_index"),
        (pl.col("registered_division") != pl.col("actual_division")).alias("registered_elsewhere"),
    )
    households = pl.DataFrame(
        {
            "household_index": np.arange(len(hh.kind), dtype=np.int32),
            "kind": _label([*_KINDS, "collective"], hh.kind),
            "status": _label(_STATUSES, hh.status),
        }
    ).with_columns(_household_id("household_index"))
    persons = persons.with_columns(_names(streams.get("names"), persons, head))
    return Population(persons=persons, households=households, employers=pl.DataFrame())


def _code(values: np.ndarray) -> pl.Series:
    """Integer codes as text (a NumPy string array would cost seconds to hand to Polars)."""
    return pl.Series(values).cast(pl.String)


def _label(labels: Sequence[str], index: np.ndarray) -> pl.Series:
    """``labels[index]`` as a Polars column."""
    return pl.Series(labels).gather(index)


def _household_id(column: str) -> pl.Expr:
    return pl.format("H{}", pl.col(column).cast(pl.String).str.zfill(7)).alias("household_id")


def _current_codes(origins: np.ndarray, year: int) -> np.ndarray:
    codes = {code for o in np.unique(origins) for code in origin_county_codes(int(o), year)}
    return np.array(sorted(codes), dtype=np.int64)


def _lookup_codes(rng, key_a: np.ndarray, years: np.ndarray, table) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Draw one code per person from ``table(key, year)``, vectorised over unique keys."""
    keys = key_a.astype(np.int64) * 10000 + years
    unique, inverse = np.unique(keys, return_inverse=True)
    flat: list[str] = []
    offsets = np.empty(len(unique), dtype=np.int64)
    lengths = np.empty(len(unique), dtype=np.int64)
    for i, key in enumerate(unique):
        codes = table(int(key // 10000), int(key % 10000))
        offsets[i], lengths[i] = len(flat), len(codes)
        flat.extend(codes)
    pick = (rng.random(len(keys)) * lengths[inverse]).astype(np.int64)
    drawn: np.ndarray = np.array(flat, dtype=np.int64)[offsets[inverse] + pick]
    return drawn


def _unique_bodies(rng: np.random.Generator, body: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Re-draw the sequence of any number that collides, keeping its parity (sex)."""
    body = body.copy()
    for _ in range(50):
        _, first_index, counts = np.unique(body, return_index=True, return_counts=True)
        if (counts == 1).all():
            return body
        seen = np.zeros(len(body), dtype=bool)
        seen[first_index] = True
        duplicate = ~seen
        sequence = rng.integers(0, 500, int(duplicate.sum())) * 2 + np.where(
            sex[duplicate] == 1, 1, 0
        )
        body[duplicate] = body[duplicate] // 1000 * 1000 + sequence
    raise RuntimeError("could not make identity numbers unique")


def _with_check(body: np.ndarray) -> pl.Series:
    total = np.zeros(len(body), dtype=np.int64)
    for i, weight in enumerate(WEIGHTS):
        total += (body // 10 ** (16 - i)) % 10 * weight
    return pl.select(
        pl.lit(pl.Series(body)).cast(pl.String) + pl.lit(pl.Series(_CHECK).gather(total % 11))
    ).to_series()


def _names(
    rng: np.random.Generator, persons: pl.DataFrame, head_of_person: np.ndarray
) -> list[pl.Series]:
    """Surname (children take their father's), given names in the fashion of the birth era."""
    n = persons.height
    shares = np.array([w for _, w in SURNAMES])
    own = _choice(rng, n, shares)
    role = persons["role"].to_numpy()
    male = (persons["sex"] == "1").to_numpy()
    # Children take the father's surname: the head's if he is male, else the spouse's.
    head_surname = own[head_of_person]
    spouse_surname = own[np.minimum(head_of_person + 1, n - 1)]
    child_surname = np.where(male[head_of_person], head_surname, spouse_surname)
    mostly_father = np.where(rng.random(n) < 0.93, child_surname, head_surname)
    surname_index = np.where(role == 2, mostly_father, own)
    birth_year = persons["birth_date"].dt.year().to_numpy()
    era = np.array([era_index(y) for y in range(1880, 2031)])[birth_year - 1880]
    double = rng.random(n) < np.array([e.double_share for e in ERAS])[era]
    pools = [pool for e in ERAS for pool in (e.male, e.female)]
    chars = pl.Series([ch for pool in pools for ch in pool])
    offsets = np.cumsum([0, *(len(pool) for pool in pools)])[:-1]
    lengths = np.array([len(pool) for pool in pools])
    block = era * 2 + np.where(male, 0, 1)

    def draw() -> pl.Series:
        return chars.gather(offsets[block] + (rng.random(n) * lengths[block]).astype(np.int64))

    first, second = draw(), draw()
    frame = pl.DataFrame(
        {
            "surname": pl.Series([s for s, _ in SURNAMES]).gather(surname_index),
            "given_name": pl.select(
                pl.when(pl.Series(double)).then(pl.lit(first) + pl.lit(second)).otherwise(first)
            ).to_series(),
        }
    ).with_columns((pl.col("surname") + pl.col("given_name")).alias("name"))
    return _minority_names(rng, frame, persons["ethnicity"].to_numpy(), male)


def _minority_names(
    rng: np.random.Generator, frame: pl.DataFrame, ethnicity: np.ndarray, male: np.ndarray
) -> list[pl.Series]:
    """Names written with the separator (买买提·艾力) or without surname (扎西次仁)."""
    surname, given, full = frame["surname"], frame["given_name"], frame["name"]
    for code, (male_names, female_names, second) in MINORITY_NAMES.items():
        rows = np.flatnonzero(ethnicity == code)
        if len(rows) == 0:
            continue
        count = len(rows)
        first_part = np.where(
            male[rows],
            np.array(male_names)[rng.integers(0, len(male_names), count)],
            np.array(female_names)[rng.integers(0, len(female_names), count)],
        )
        if second[0]:
            tail = np.array(second)[rng.integers(0, len(second), count)]
            names = [f"{a}·{b}" for a, b in zip(first_part, tail, strict=True)]
        else:
            pool = male_names + female_names
            tail = np.array(pool)[rng.integers(0, len(pool), count)]
            names = [f"{a}{b}" for a, b in zip(first_part, tail, strict=True)]
        values = pl.Series(names, dtype=pl.String)
        surname = surname.scatter(rows, pl.Series([""] * count))
        given = given.scatter(rows, values)
        full = full.scatter(rows, values)
    return [surname.alias("surname"), given.alias("given_name"), full.alias("name")]
