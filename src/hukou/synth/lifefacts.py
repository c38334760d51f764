"""What the departments know about people: events of the year, work, schooling, health, tax.

Drawn in whole arrays after the population exists. Probabilities are round figures
of the kind published in statistical yearbooks; where a figure changes what Hukou
computes (who is insured, who rents, which children are 随迁子女), it is stated here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import polars as pl
from stdnum.cn import uscc

from hukou.standards import divisions
from hukou.synth.config import CityConfig
from hukou.synth.geography import CITY_NAME, DISTRICTS, district_weights
from hukou.synth.iit import annual_tax
from hukou.synth.population import Population
from hukou.synth.rng import Streams

__all__ = ["add_life_facts"]

# GB/T 4658 codes as integers (0 = none yet, a pupil) until the frame is built.
_EDUCATION_CODES = np.array([81, 71, 61, 41, 31, 21, 14, 11])
# Shares of attainment by birth decade (1930s … 2000s), oldest first.
_EDUCATION_BY_DECADE = np.array(
    [
        [0.50, 0.28, 0.14, 0.04, 0.02, 0.02, 0.00, 0.00],  # <1940
        [0.38, 0.34, 0.17, 0.05, 0.03, 0.03, 0.00, 0.00],  # 1940s
        [0.22, 0.40, 0.22, 0.07, 0.05, 0.04, 0.00, 0.00],  # 1950s
        [0.12, 0.40, 0.23, 0.10, 0.08, 0.06, 0.01, 0.00],  # 1960s
        [0.06, 0.33, 0.20, 0.12, 0.14, 0.12, 0.025, 0.005],  # 1970s
        [0.02, 0.23, 0.16, 0.10, 0.22, 0.22, 0.045, 0.005],  # 1980s
        [0.01, 0.14, 0.12, 0.08, 0.26, 0.31, 0.07, 0.01],  # 1990s
        [0.01, 0.10, 0.12, 0.08, 0.27, 0.34, 0.07, 0.01],  # 2000s
    ]
)
_EDUCATION_RANK = {code: rank for rank, code in enumerate(_EDUCATION_CODES)}
_INDUSTRIES = (
    "科技",
    "电子",
    "精密机械",
    "纺织",
    "物流",
    "建设",
    "餐饮管理",
    "商贸",
    "医药",
    "光电",
    "服装",
    "汽车部件",
)
_FIRMS = (
    "华",
    "吴",
    "苏",
    "瑞",
    "新",
    "恒",
    "金",
    "博",
    "正",
    "鼎",
    "盛",
    "达",
    "通",
    "信",
    "泰",
    "联",
    "创",
    "源",
)
_MOBILE_PREFIXES = np.array(
    [
        "133",
        "135",
        "136",
        "137",
        "138",
        "139",
        "150",
        "151",
        "152",
        "158",
        "159",
        "177",
        "180",
        "181",
        "186",
        "187",
        "188",
        "189",
        "199",
    ]
)


def _days(date: datetime.date) -> int:
    return (date - datetime.date(1970, 1, 1)).days


def _employers(cfg: CityConfig, rng: np.random.Generator) -> pl.DataFrame:
    """Employers with a valid unified social credit code (统一社会信用代码)."""
    count = max(20, cfg.population // 40)
    district = rng.choice(len(DISTRICTS), count, p=district_weights())
    names, codes = [], []
    for index in range(count):
        firm = "".join(rng.choice(list(_FIRMS), 2))
        industry = _INDUSTRIES[index % len(_INDUSTRIES)]
        names.append(f"{CITY_NAME[:2]}{firm}{industry}有限公司")
        body = (
            "91"
            + DISTRICTS[district[index]].code
            + "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), 9))
        )
        codes.append(body + uscc.calc_check_digit(body))
    # Several firms may draw the same name: number them the way the registry would.
    return pl.DataFrame(
        {
            "employer_name": names,
            "employer_code": codes,
            "employer_division": [DISTRICTS[i].code for i in district],
        }
    ).with_columns(
        pl.when(pl.col("employer_name").is_duplicated())
        .then(
            pl.format(
                "{}（{}分公司）", pl.col("employer_name"), pl.int_range(pl.len()).cast(pl.String)
            )
        )
        .otherwise(pl.col("employer_name"))
        .alias("employer_name"),
        pl.int_range(pl.len(), dtype=pl.Int32).alias("employer_index"),
    )


@dataclass(frozen=True, slots=True)
class _View:
    """The person arrays every section below reads."""

    n: int
    birth: np.ndarray  # days since 1970-01-01
    age: np.ndarray  # years at the snapshot date
    sex: np.ndarray
    role: np.ndarray
    status: np.ndarray
    household: np.ndarray
    start: int  # first day of the simulated year (days since 1970-01-01)
    snapshot: int

    @property
    def migrant(self) -> np.ndarray:
        flags: np.ndarray = self.status == "migrant"
        return flags

    @property
    def households(self) -> int:
        return int(self.household.max()) + 1


Columns = dict[str, np.ndarray | pl.Series]
_EPOCH64 = np.datetime64("1970-01-01")


def _array(columns: Columns, name: str) -> np.ndarray:
    """A column drawn as a NumPy array (the string columns are Polars series)."""
    values = columns[name]
    assert isinstance(values, np.ndarray), name
    return values


def _as_dates(days: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    dates = (_EPOCH64 + days.astype("timedelta64[D]")).astype("datetime64[D]")
    return dates if present is None else np.where(present, dates, np.datetime64("NaT"))


def _events(v: _View, rng: np.random.Generator) -> Columns:
    """Deaths during the year (Gompertz-like) and who was born in it."""
    p_death = np.clip(0.0006 * np.exp(0.09 * (v.age - 30)), 0, 0.35)
    death_day = v.start + rng.integers(0, 365, v.n)
    born_in_year = v.birth >= v.start
    died = (rng.random(v.n) < p_death) & (~born_in_year | (death_day > v.birth))
    return {
        "alive": ~died,
        "death_date": _as_dates(death_day, died).astype("datetime64[D]"),
        "born_in_year": born_in_year,
    }


def _marriage(v: _View, rng: np.random.Generator) -> Columns:
    """Marital status (GB/T 2261.2), spouses, and marriages registered during the year."""
    household_has_spouse = np.bincount(v.household, weights=v.role == 1) > 0
    paired = (v.role == 1) | ((v.role == 0) & household_has_spouse[v.household])
    pid = np.arange(v.n)
    spouse_pid = np.where((v.role == 0) & paired, pid + 1, np.where(v.role == 1, pid - 1, -1))
    married = paired | ((v.role == 3) & (rng.random(v.n) < 0.55))
    # GB/T 2261.2 codes as integers until the end: 10 未婚, 21 初婚, 22 再婚, 30 丧偶, 40 离婚.
    marital = np.where(married, np.where(rng.random(v.n) < 0.92, 21, 22), 10)
    single_adult = ~married & (v.age >= 18)
    widowed_or_divorced = np.where(rng.random(v.n) < 0.7, 30, 40)
    marital = np.where(single_adult & (v.age >= 60), widowed_or_divorced, marital)
    divorced = single_adult & (v.age >= 30) & (v.age < 60) & (rng.random(v.n) < 0.25)
    marital = np.where(divorced, 40, np.where(v.age < 18, 10, marital))
    household_size = np.bincount(v.household)[v.household]
    # Legal marriage age: 22 for men, 20 for women (Civil Code art. 1047).
    of_age = v.age >= np.where(v.sex == "1", 22, 20)
    partner = np.clip(spouse_pid, 0, None)
    young_couple = paired & (v.age < 32) & (household_size == 2) & of_age & of_age[partner]
    # ~4-5 marriages per 1,000 people a year (6.1 million in China in 2024).
    drawn = young_couple & (rng.random(v.n) < 0.16)
    married_in_year = (drawn | drawn[partner]) & young_couple
    # Both partners share the date: one draw per household.
    marriage_day = (v.start + rng.integers(0, 365, v.households))[v.household]
    return {
        "marital_status": pl.Series(marital).cast(pl.String),
        "spouse_pid": spouse_pid.astype(np.int32),
        "married_in_year": married_in_year,
        "marriage_date": _as_dates(marriage_day, married_in_year).astype("datetime64[D]"),
    }


def _education(v: _View, rng: np.random.Generator) -> Columns:
    """GB/T 4658 attainment for adults by birth decade; pupils are still at school."""
    birth_year = (v.birth // 365.25 + 1970).astype(np.int64)
    decade = np.clip((birth_year - 1930) // 10 + 1, 0, 7)
    cumulative = np.cumsum(_EDUCATION_BY_DECADE, axis=1)[decade]
    drawn = _EDUCATION_CODES[(rng.random(v.n)[:, None] > cumulative).sum(axis=1).clip(0, 7)]
    teenage = np.where(v.age < 19, 71, 61)
    return {"education": np.where(v.age < 16, 0, np.where(v.age < 22, teenage, drawn))}


@dataclass(frozen=True, slots=True)
class _WorkInputs:
    employers: pl.DataFrame
    actual: np.ndarray  # district where each person lives
    since: np.ndarray  # days: since when they live there
    died_early: np.ndarray  # died in the first month of the year


def _work(v: _View, rng: np.random.Generator, inputs: _WorkInputs) -> Columns:
    """Employment, employer (70 % in the district where one lives), social insurance months."""
    retire = np.where(v.sex == "1", 60, 55)
    dorm = v.role == 4
    rate = np.where(v.migrant | dorm, 0.86, 0.74)
    employed = (v.age >= 18) & (v.age < retire) & (rng.random(v.n) < rate) & ~inputs.died_early
    employer_division = inputs.employers["employer_division"].to_numpy()
    local = rng.random(v.n) < 0.7
    employer = rng.integers(0, inputs.employers.height, v.n)
    for code in np.unique(employer_division):
        firms = np.flatnonzero(employer_division == code)
        mask = local & (inputs.actual == code)
        employer[mask] = firms[rng.integers(0, len(firms), int(mask.sum()))]
    career_start = v.birth + ((18 + rng.random(v.n) * 8) * 365.25).astype(np.int64)
    arrived = np.where(v.migrant | dorm, inputs.since, career_start)
    si_start = np.minimum(np.maximum(arrived, career_start), v.snapshot - 31)
    gaps = rng.integers(0, 14, v.n) * (rng.random(v.n) < 0.3)
    si_months = np.where(employed, np.maximum(1, (v.snapshot - si_start) // 30 - gaps), 0)
    return {
        "employed": employed,
        "employer_index": np.where(employed, employer, -1).astype(np.int32),
        "si_start": _as_dates(si_start),
        "si_months": si_months.astype(np.int32),
    }


def _housing(
    v: _View, rng: np.random.Generator, actual: np.ndarray, registered: np.ndarray
) -> Columns:
    """Tenure, rental registration, and the addresses: actual, previous, registered."""
    h = v.households
    owner = np.where(v.migrant, (rng.random(h) < 0.16)[v.household], False)
    owner |= ~v.migrant & (rng.random(h) < 0.78)[v.household]
    tenure = np.where(v.role == 4, 2, np.where(owner, 0, 1))
    tenure = np.where(v.status == "out_migrant", 3, tenure)
    rental_registered = (tenure == 1) & (rng.random(h) < 0.72)[v.household]
    book = _AddressBook(
        road=rng.integers(0, 100, h),
        number=rng.integers(1, 400, h),
        building=rng.integers(1, 40, h),
        room=rng.integers(101, 2600, h),
    )
    previous = book.moved((book.road + 1 + rng.integers(0, 5, h)) % 100)
    in_city = np.isin(registered, [d.code for d in DISTRICTS])
    registered_address = pl.select(
        pl.when(pl.Series(in_city))
        .then(pl.lit(book.addresses(registered, v.household)))
        .otherwise(pl.lit(_origin_addresses(registered, book.number[v.household])))
    ).to_series()
    return {
        "tenure": pl.Series(["owned", "rented", "dormitory", "elsewhere"]).gather(tenure),
        "rental_registered": rental_registered,
        "address": book.addresses(actual, v.household),
        "previous_address": previous.addresses(actual, v.household),
        "registered_address": registered_address,
    }


def _schooling(v: _View, rng: np.random.Generator, alive: np.ndarray) -> Columns:
    """Enrolment: compulsory 6-14, senior high 15-17 (90 %); a few never-registered children."""
    senior = (v.age >= 15) & (v.age < 18) & (rng.random(v.n) < 0.9)
    school_age = ((v.age >= 6) & (v.age < 15)) | senior
    natives = np.isin(v.status, ["native", "intra_city"])
    return {
        "enrolled": school_age & (v.status != "out_migrant") & alive,
        # A few native children were never entered in the household register (黑户).
        "unregistered": (v.role == 2) & natives & (rng.random(v.n) < 0.003),
        "school_level": pl.Series(["primary", "junior", "senior"]).gather(
            np.where(v.age < 12, 0, np.where(v.age < 15, 1, 2))
        ),
    }


def _medical(v: _View, rng: np.random.Generator, employed: np.ndarray) -> Columns:
    """Employees insured locally; others in the resident scheme, migrants at their origin."""
    local = employed | ~v.migrant
    cross_region = ~local & (rng.random(v.n) < np.where(v.age >= 60, 0.5, 0.3))
    insured = (rng.random(v.n) < 0.97) & (v.status != "out_migrant")
    return {
        "medical_insured": insured,
        "medical_scheme": pl.Series(["resident", "employee"]).gather(employed.astype(np.int64)),
        "medical_local": local,
        "cross_region_medical": cross_region & insured,
    }


def _income(
    v: _View, rng: np.random.Generator, employed: np.ndarray, education: np.ndarray
) -> Columns:
    """Annual income by education, income tax, rare records, mobile phone numbers."""
    rank = np.zeros(v.n)
    for code, value in _EDUCATION_RANK.items():
        rank[education == code] = value
    drawn = np.round(np.exp(rng.normal(10.9 + 0.16 * rank, 0.45)), -2)
    income = np.where(employed, drawn, 0).astype(np.int64)
    prefix = pl.Series(_MOBILE_PREFIXES).gather(rng.integers(0, len(_MOBILE_PREFIXES), v.n))
    line = pl.Series(rng.integers(0, 100_000_000, v.n)).cast(pl.String).str.zfill(8)
    phone = pl.select(
        pl.when(pl.Series(v.age >= 14)).then(pl.lit(prefix) + pl.lit(line))
    ).to_series()
    return {
        "annual_income": income,
        "income_tax": annual_tax(income),
        "criminal_record": (v.age >= 18) & (rng.random(v.n) < 0.003),
        "tax_violation": employed & (rng.random(v.n) < 0.001),
        "phone": phone,
    }


def add_life_facts(cfg: CityConfig, streams: Streams, population: Population) -> Population:
    """Population with events, work, education, housing, schooling, insurance and tax."""
    persons = population.persons
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    snapshot = _days(cfg.snapshot_date)
    v = _View(
        n=persons.height,
        birth=birth,
        age=(snapshot - birth) / 365.25,
        sex=persons["sex"].to_numpy(),
        role=persons["role"].to_numpy(),
        status=persons["status"].to_numpy(),
        household=persons["household_index"].to_numpy(),
        start=_days(cfg.period_start),
        snapshot=snapshot,
    )
    actual = persons["actual_division"].to_numpy()
    facts = _events(v, streams.get("events"))
    facts |= _marriage(v, streams.get("marriage"))
    facts |= _education(v, streams.get("education"))
    work_rng = streams.get("work")
    employers = _employers(cfg, work_rng)
    alive = _array(facts, "alive")
    death_day = _array(facts, "death_date").astype(np.int64)
    inputs = _WorkInputs(
        employers=employers,
        actual=actual,
        since=persons["actual_since"].to_numpy().astype("datetime64[D]").astype(np.int64),
        died_early=~alive & (death_day < v.start + 30),
    )
    facts |= _work(v, work_rng, inputs)
    registered = persons["registered_division"].to_numpy()
    facts |= _housing(v, streams.get("housing"), actual, registered)
    employed = _array(facts, "employed")
    facts |= _schooling(v, streams.get("schooling"), alive)
    facts |= _medical(v, streams.get("medical"), employed)
    facts |= _income(v, streams.get("tax"), employed, _array(facts, "education"))
    persons = pl.concat([persons, pl.DataFrame(facts)], how="horizontal").with_columns(
        pl.when(pl.col("education") > 0)
        .then(pl.col("education").cast(pl.String))
        .alias("education"),
    )
    persons = persons.join(
        employers.select("employer_index", "employer_name", "employer_code", "employer_division"),
        on="employer_index",
        how="left",
    ).sort("pid")
    return Population(persons=persons, households=population.households, employers=employers)


@dataclass(frozen=True, slots=True)
class _AddressBook:
    """Household-level address draws; members of a household share one address."""

    road: np.ndarray
    number: np.ndarray
    building: np.ndarray
    room: np.ndarray

    def moved(self, road: np.ndarray) -> _AddressBook:
        """The same household's address on another road (where it lived before)."""
        return _AddressBook(road, self.number, self.building, self.room)

    def addresses(self, division: np.ndarray, household: np.ndarray) -> pl.Series:
        """Street addresses in each person's ``division``; "外地" outside the city."""
        roads = pl.DataFrame(
            [
                {"division": d.code, "road": i, "street": f"江苏省苏州市{d.name}{name}"}
                for d in DISTRICTS
                for i, name in enumerate(d.roads)
            ],
            schema={"division": pl.String, "road": pl.Int64, "street": pl.String},
        )
        lengths = {d.code: len(d.roads) for d in DISTRICTS}
        people = pl.DataFrame(
            {
                "division": division,
                "road": self.road[household],
                "number": self.number[household],
                "building": self.building[household],
                "room": self.room[household],
            }
        ).with_columns(
            pl.col("road") % pl.col("division").replace_strict(lengths, default=1),
        )
        return (
            people.join(roads, on=["division", "road"], how="left", maintain_order="left")
            .select(
                pl.format(
                    "{}{}号{}幢{}室",
                    pl.col("street").fill_null("外地"),
                    "number",
                    "building",
                    "room",
                )
            )
            .to_series()
        )


_VILLAGES = ("东风", "红旗", "新河", "桥头", "王庄", "李集", "双庙", "柳湾", "前进", "大营")


def _origin_addresses(codes: np.ndarray, numbers: np.ndarray) -> pl.Series:
    """Registered addresses outside the city: county, township, village, number."""
    unique = np.unique(codes)
    names = {code: divisions.full_name(str(code)) for code in unique}
    village = pl.Series(_VILLAGES)
    number = pl.Series(numbers)
    return pl.select(
        pl.format(
            "{}{}镇{}村{}号",
            pl.lit(pl.Series(codes)).replace_strict(names, default=""),
            pl.lit(village.gather(numbers % 10)),
            pl.lit(village.gather((numbers // 10) % 10)),
            pl.lit(number),
        )
    ).to_series()
