"""The synthetic population: households, people, where they are registered and where they live.

Everything is drawn with NumPy in whole arrays (a million people in seconds) from one
seeded generator per concern, so that the same seed gives the same city and a change
to, say, employment does not reshuffle everyone's names.

The result is the *truth*: what every department's feed is a partial, delayed and
defective view of. Its columns are documented in ``docs/synth/truth.md``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import polars as pl

from hukou.standards.identity import WEIGHTS
from hukou.synth.config import CityConfig
from hukou.synth.geography import (
    DISTRICTS,
    ORIGINS,
    birthplace_codes,
    origin_county_codes,
)
from hukou.synth.naming import ERAS, MINORITY_NAMES, SURNAMES, era_index
from hukou.synth.rng import Streams

__all__ = ["Population", "generate_population"]

_CHECK = np.array(list("10X98765432"))
_EPOCH = datetime.date(1970, 1, 1)

# Household compositions: (kind, share). Counts per household are drawn below.
_KINDS = ("single", "couple", "couple_children", "three_generations", "single_parent")
_KIND_SHARE = np.array([0.20, 0.22, 0.40, 0.12, 0.06])
# Migration status of a household: native (registered and living in the same district),
# intra_city (registered in one district, living in another), migrant (registered
# outside the city), out_migrant (registered here, living elsewhere).
_STATUSES = ("native", "intra_city", "migrant", "out_migrant")
_STATUS_SHARE = np.array([0.655, 0.055, 0.26, 0.03])
_COLLECTIVE_SHARE = 0.05  # people in 集体户 (dormitories), all migrant workers
# Ethnic groups other than Han (~9 %), with their usual origins (index into ORIGINS).
_MINORITIES = ("08", "03", "11", "05", "06", "07", "15", "04", "02", "10", "17")
_MINORITY_SHARE = np.array([0.20, 0.16, 0.13, 0.10, 0.09, 0.08, 0.08, 0.06, 0.05, 0.03, 0.02])
_MINORITY_ORIGIN = {"08": 12, "03": 14, "11": 15, "05": 13, "06": 4, "07": 11, "15": 8,
                    "04": 3, "02": 15, "10": 15, "17": 13}
# GB/T 4658 education codes and their shares by era (oldest to youngest).
_EDUCATION_CODES = ("81", "71", "61", "41", "31", "21", "14", "11")
_EDUCATION_BY_ERA = np.array([
    [0.45, 0.30, 0.15, 0.04, 0.03, 0.03, 0.00, 0.00],
    [0.30, 0.38, 0.18, 0.06, 0.04, 0.04, 0.00, 0.00],
    [0.15, 0.40, 0.22, 0.10, 0.07, 0.05, 0.01, 0.00],
    [0.06, 0.32, 0.20, 0.12, 0.14, 0.13, 0.025, 0.005],
    [0.02, 0.22, 0.16, 0.10, 0.22, 0.23, 0.045, 0.005],
    [0.01, 0.14, 0.12, 0.08, 0.26, 0.31, 0.07, 0.01],
    [0.01, 0.10, 0.12, 0.08, 0.26, 0.34, 0.08, 0.01],
])


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
    family_people = int(round(cfg.population * (1 - _COLLECTIVE_SHARE)))
    n = int(family_people / 2.4) + 64
    kind = _choice(rng, n, _KIND_SHARE)
    status = _choice(rng, n, _STATUS_SHARE)
    migrant = status == 2
    # Head's age: young workers, families, empty nesters; migrants younger.
    head_age = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3, kind == 4],
        [
            np.where(rng.random(n) < 0.7, rng.integers(19, 36, n), rng.integers(60, 92, n)),
            np.where(rng.random(n) < 0.55, rng.integers(22, 36, n), rng.integers(50, 85, n)),
            rng.integers(24, 58, n),
            rng.integers(28, 52, n),
            rng.integers(26, 52, n),
        ],
    )
    head_age = np.where(migrant & (head_age > 60) & (rng.random(n) < 0.7), head_age - 25, head_age)
    children = np.where((kind == 2) | (kind == 3) | (kind == 4), 1 + (rng.random(n) < 0.38) + (rng.random(n) < 0.06), 0)
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


def generate_population(cfg: CityConfig, streams: Streams) -> Population:
    """Draw the whole population for ``cfg``; deterministic for its seed."""
    rng = streams.get("households")
    shapes = _household_shapes(cfg, rng)
    n_households = len(shapes["kind"])
    district_weights = np.array([d.weight for d in DISTRICTS])
    registered_district = _choice(rng, n_households, district_weights)
    actual_district = registered_district.copy()
    moved = shapes["status"] == 1
    actual_district[moved] = (registered_district[moved] + rng.integers(1, len(DISTRICTS), int(moved.sum()))) % len(DISTRICTS)
    migrant_hh = shapes["status"] == 2
    actual_district[migrant_hh] = _choice(rng, int(migrant_hh.sum()), district_weights)
    origin = _choice(rng, n_households, np.array([o.weight for o in ORIGINS]))

    # --- people: one row per member, in household order (head, spouse, children, elders)
    size = shapes["size"]
    hh_of = np.repeat(np.arange(n_households), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    position = np.arange(len(hh_of)) - np.repeat(first, size)
    has_spouse = shapes["spouse"][hh_of]
    n_children = shapes["children"][hh_of]
    spouse_slot = has_spouse.astype(int)
    role = np.where(position == 0, 0, np.where(has_spouse & (position == 1), 1, np.where(position < 1 + spouse_slot + n_children, 2, 3)))
    # role: 0 head, 1 spouse, 2 child, 3 elder parent
    n_people = len(hh_of)
    prng = streams.get("people")
    head_age = shapes["head_age"][hh_of]
    head_sex = np.where(prng.random(n_households) < 0.62, 1, 2)[hh_of]
    age = np.select(
        [role == 0, role == 1, role == 2, role == 3],
        [
            head_age,
            np.clip(head_age + prng.integers(-3, 6, n_people) * np.where(head_sex == 1, -1, 1), 18, 100),
            np.clip(head_age - prng.integers(22, 38, n_people), 0, None),
            head_age + prng.integers(24, 34, n_people),
        ],
    )
    age = np.clip(age, 0, 104)
    sex = np.select(
        [role == 0, role == 1],
        [head_sex, 3 - head_sex],
        default=np.where(prng.random(n_people) < 0.512, 1, 2),
    )

    # --- collective households: unrelated migrant workers in dormitories
    collective_people = cfg.population - n_people
    c_sizes = prng.integers(4, 41, max(1, collective_people // 10))
    c_sizes = c_sizes[: int(np.searchsorted(np.cumsum(c_sizes), collective_people)) + 1]
    c_sizes[-1] -= int(c_sizes.sum()) - collective_people
    c_sizes = c_sizes[c_sizes > 0]
    c_hh = np.repeat(np.arange(len(c_sizes)) + n_households, c_sizes)
    c_n = len(c_hh)
    c_age = prng.integers(18, 46, c_n)
    c_sex = np.where(prng.random(c_n) < 0.6, 1, 2)
    c_district = _choice(prng, len(c_sizes), district_weights)
    c_origin = _choice(prng, len(c_sizes), np.array([o.weight for o in ORIGINS]))

    household = np.concatenate([hh_of, c_hh])
    role = np.concatenate([role, np.full(c_n, 4)])  # 4: member of a collective household
    age = np.concatenate([age, c_age])
    sex = np.concatenate([sex, c_sex])
    total_households = n_households + len(c_sizes)
    status_hh = np.concatenate([shapes["status"], np.full(len(c_sizes), 2)])
    reg_hh = np.concatenate([registered_district, c_district])
    act_hh = np.concatenate([actual_district, c_district])
    origin_hh = np.concatenate([origin, c_origin])
    kind_hh = np.concatenate([shapes["kind"], np.full(len(c_sizes), len(_KINDS))])
    status = status_hh[household]
    n_all = len(household)
    assert n_all == cfg.population

    # --- birth dates: age at the snapshot date, a uniform day within that year of life
    snapshot = cfg.snapshot_date
    brng = streams.get("birth")
    birth_days = _days(snapshot) - (age * 365.25 + brng.integers(0, 365, n_all)).astype(np.int64)
    birth = (np.datetime64("1970-01-01") + birth_days.astype("timedelta64[D]"))
    birth_year = birth.astype("datetime64[Y]").astype(int) + 1970

    # --- ethnicity (~9 % minorities; origin follows the group)
    erng = streams.get("ethnicity")
    minority_hh = erng.random(total_households) < 0.09
    ethnic_hh = np.where(minority_hh, np.array(_MINORITIES)[_choice(erng, total_households, _MINORITY_SHARE)], "01")
    ethnicity = ethnic_hh[household]
    migrant_minority = minority_hh & (status_hh == 2)
    origin_hh = np.where(migrant_minority, np.array([_MINORITY_ORIGIN.get(e, 0) for e in ethnic_hh]), origin_hh)

    # --- registration place and birthplace code of the identity number
    is_migrant = status == 2
    district_codes = np.array([d.code for d in DISTRICTS])
    reg_district = reg_hh[household]
    act_district = act_hh[household]
    person_origin = origin_hh[household]
    irng = streams.get("identity")
    birthplace = _lookup_codes(
        irng,
        key_a=np.where(is_migrant, person_origin + 100, reg_district),
        years=birth_year,
        table=lambda a, y: origin_county_codes(a - 100, y) if a >= 100 else birthplace_codes(str(district_codes[a]), y),
    )
    current_year = snapshot.year
    registered_division = np.where(is_migrant, birthplace, district_codes[reg_district])
    # A migrant's birthplace code may have been abolished; they are registered at a current one.
    stale = is_migrant & ~np.isin(registered_division, _current_codes(person_origin, current_year))
    if stale.any():
        registered_division[stale] = _lookup_codes(
            irng, key_a=person_origin[stale] + 100, years=np.full(int(stale.sum()), current_year),
            table=lambda a, y: origin_county_codes(a - 100, y),
        )
    # Household members share the head's registration (户 is one place).
    head_index = np.concatenate([[0], np.flatnonzero(np.diff(household)) + 1])
    head_of_person = np.repeat(head_index, np.diff(np.append(head_index, n_all)))
    registered_division = np.where(role == 4, registered_division, registered_division[head_of_person])
    out_city = np.array(["310115", "310112", "330106", "320106", "440305", "110105"])
    actual_division = np.where(
        status == 3,
        out_city[irng.integers(0, len(out_city), n_all)][head_of_person],
        district_codes[act_district],
    )

    # --- identity numbers: birthplace + birth date + sequence (odd male) + check
    ymd = (birth.astype("datetime64[D]").astype(object))
    ymd_int = np.array([d.year * 10000 + d.month * 100 + d.day for d in ymd], dtype=np.int64)
    sequence = irng.integers(0, 500, n_all) * 2 + np.where(sex == 1, 1, 0)
    body = birthplace.astype(np.int64) * 10**11 + ymd_int * 1000 + sequence
    body = _unique_bodies(irng, body, sex)
    identity_number = _with_check(body)

    # --- moves: when people came to their current residence
    mrng = streams.get("moves")
    arrival_age = np.clip(mrng.integers(16, 45, total_households), 0, None)
    hh_move_days = _days(snapshot) - (mrng.random(total_households) * 365.25 * 15).astype(np.int64) - 30
    since_days = np.where(
        status == 0, birth_days + 0, np.maximum(hh_move_days[household], birth_days)
    )
    del arrival_age
    actual_since = np.datetime64("1970-01-01") + since_days.astype("timedelta64[D]")

    persons = pl.DataFrame(
        {
            "pid": np.arange(n_all, dtype=np.int32),
            "household_index": household.astype(np.int32),
            "head_pid": head_of_person.astype(np.int32),
            "role": role.astype(np.int8),
            "sex": np.where(sex == 1, "1", "2"),
            "birth_date": birth.astype("datetime64[D]"),
            "ethnicity": ethnicity,
            "identity_number": identity_number,
            "birthplace_code": birthplace,
            "status": np.array(_STATUSES)[status],
            "registered_division": registered_division,
            "actual_division": actual_division,
            "actual_since": actual_since.astype("datetime64[D]"),
            "origin": np.array([o.label for o in ORIGINS])[person_origin],
        }
    ).with_columns(
        pl.format("P{}", pl.col("pid").cast(pl.String).str.zfill(7)).alias("person_id"),
        pl.format("H{}", pl.col("household_index").cast(pl.String).str.zfill(7)).alias("household_id"),
        (pl.col("registered_division") != pl.col("actual_division")).alias("registered_elsewhere"),
    )
    households = pl.DataFrame(
        {
            "household_index": np.arange(total_households, dtype=np.int32),
            "kind": np.array([*_KINDS, "collective"])[kind_hh],
            "status": np.array(_STATUSES)[status_hh],
        }
    ).with_columns(pl.format("H{}", pl.col("household_index").cast(pl.String).str.zfill(7)).alias("household_id"))
    names = _names(streams.get("names"), persons, head_of_person)
    persons = persons.with_columns(names)
    return Population(persons=persons, households=households, employers=pl.DataFrame())


def _current_codes(origins: np.ndarray, year: int) -> np.ndarray:
    codes = {code for o in np.unique(origins) for code in origin_county_codes(int(o), year)}
    return np.array(sorted(codes))


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
    return np.array(flat)[offsets[inverse] + pick]


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
        sequence = rng.integers(0, 500, int(duplicate.sum())) * 2 + np.where(sex[duplicate] == 1, 1, 0)
        body[duplicate] = body[duplicate] // 1000 * 1000 + sequence
    raise RuntimeError("could not make identity numbers unique")


def _with_check(body: np.ndarray) -> np.ndarray:
    total = np.zeros(len(body), dtype=np.int64)
    for i, weight in enumerate(WEIGHTS):
        total += (body // 10 ** (16 - i)) % 10 * weight
    return np.char.add(body.astype(str), _CHECK[total % 11])


def _names(rng: np.random.Generator, persons: pl.DataFrame, head_of_person: np.ndarray) -> list[pl.Series]:
    """Surname (children take the head's if he is their father), given names by era."""
    n = persons.height
    surnames = np.array([s for s, _ in SURNAMES])
    shares = np.array([w for _, w in SURNAMES])
    own = surnames[_choice(rng, n, shares)]
    role = persons["role"].to_numpy()
    sex = persons["sex"].to_numpy()
    head_surname = own[head_of_person]
    # Children take the father's surname (the head if male, else the spouse).
    father_is_head = sex[head_of_person] == "1"
    spouse_surname = own[np.minimum(head_of_person + 1, n - 1)]
    child_surname = np.where(father_is_head, head_surname, spouse_surname)
    surname = np.where(role == 2, np.where(rng.random(n) < 0.93, child_surname, head_surname), own)
    birth_year = persons["birth_date"].dt.year().to_numpy()
    era = np.array([era_index(int(y)) for y in range(1880, 2031)])[birth_year - 1880]
    double = rng.random(n) < np.array([e.double_share for e in ERAS])[era]
    first_char = _era_chars(rng, era, sex)
    second_char = _era_chars(rng, era, sex)
    given = np.where(double, np.char.add(first_char, second_char), first_char)
    full = np.char.add(surname, given)
    # Minority names written with the separator, e.g. 买买提·艾力.
    ethnicity = persons["ethnicity"].to_numpy()
    for code, (male, female, second) in MINORITY_NAMES.items():
        mask = ethnicity == code
        if not mask.any():
            continue
        count = int(mask.sum())
        first_part = np.where(sex[mask] == "1", np.array(male)[rng.integers(0, len(male), count)],
                              np.array(female)[rng.integers(0, len(female), count)])
        if second[0]:
            full[mask] = np.char.add(np.char.add(first_part, "·"), np.array(second)[rng.integers(0, len(second), count)])
        else:
            full[mask] = np.char.add(first_part, np.array(male + female)[rng.integers(0, len(male) + len(female), count)])
        surname[mask] = ""
        given[mask] = full[mask]
    return [pl.Series("surname", surname), pl.Series("given_name", given), pl.Series("name", full)]


def _era_chars(rng: np.random.Generator, era: np.ndarray, sex: np.ndarray) -> np.ndarray:
    out = np.empty(len(era), dtype="<U1")
    for index, e in enumerate(ERAS):
        for code, pool in (("1", e.male), ("2", e.female)):
            mask = (era == index) & (sex == code)
            if mask.any():
                out[mask] = np.array(list(pool))[rng.integers(0, len(pool), int(mask.sum()))]
    return out
