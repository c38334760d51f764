"""What the departments know about people: events of the year, work, schooling, health, tax.

Drawn in whole arrays after the population exists. Probabilities are round figures
of the kind published in statistical yearbooks; where a figure changes what Hukou
computes (who is insured, who rents, which children are 随迁子女), it is stated here.
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl
from stdnum.cn import uscc

from hukou.standards import divisions
from hukou.synth.config import CityConfig
from hukou.synth.geography import CITY_NAME, DISTRICTS
from hukou.synth.population import Population
from hukou.synth.rng import Streams

__all__ = ["add_life_facts"]

_EDUCATION_CODES = np.array(["81", "71", "61", "41", "31", "21", "14", "11"])
# Shares of attainment by birth decade (1930s … 2000s), oldest first.
_EDUCATION_BY_DECADE = np.array([
    [0.50, 0.28, 0.14, 0.04, 0.02, 0.02, 0.00, 0.00],  # <1940
    [0.38, 0.34, 0.17, 0.05, 0.03, 0.03, 0.00, 0.00],  # 1940s
    [0.22, 0.40, 0.22, 0.07, 0.05, 0.04, 0.00, 0.00],  # 1950s
    [0.12, 0.40, 0.23, 0.10, 0.08, 0.06, 0.01, 0.00],  # 1960s
    [0.06, 0.33, 0.20, 0.12, 0.14, 0.12, 0.025, 0.005],  # 1970s
    [0.02, 0.23, 0.16, 0.10, 0.22, 0.22, 0.045, 0.005],  # 1980s
    [0.01, 0.14, 0.12, 0.08, 0.26, 0.31, 0.07, 0.01],  # 1990s
    [0.01, 0.10, 0.12, 0.08, 0.27, 0.34, 0.07, 0.01],  # 2000s
])
_EDUCATION_RANK = {code: rank for rank, code in enumerate(_EDUCATION_CODES)}
_INDUSTRIES = ("科技", "电子", "精密机械", "纺织", "物流", "建设", "餐饮管理", "商贸", "医药", "光电", "服装", "汽车部件")
_FIRMS = ("华", "吴", "苏", "瑞", "新", "恒", "金", "博", "正", "鼎", "盛", "达", "通", "信", "泰", "联", "创", "源")
_MOBILE_PREFIXES = np.array(["133", "135", "136", "137", "138", "139", "150", "151", "152", "158",
                             "159", "177", "180", "181", "186", "187", "188", "189", "199"])


def _days(date: datetime.date) -> int:
    return (date - datetime.date(1970, 1, 1)).days


def _employers(cfg: CityConfig, rng: np.random.Generator) -> pl.DataFrame:
    """Employers with a valid unified social credit code (统一社会信用代码)."""
    count = max(20, cfg.population // 40)
    district = rng.choice(len(DISTRICTS), count, p=_district_weights())
    names, codes = [], []
    for index in range(count):
        firm = "".join(rng.choice(list(_FIRMS), 2))
        industry = _INDUSTRIES[index % len(_INDUSTRIES)]
        names.append(f"{CITY_NAME[:2]}{firm}{industry}有限公司")
        body = "91" + DISTRICTS[district[index]].code + "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), 9))
        codes.append(body + uscc.calc_check_digit(body))
    # Several firms may draw the same name: number them the way the registry would.
    frame = pl.DataFrame({"employer_name": names, "employer_code": codes,
                          "employer_division": [DISTRICTS[i].code for i in district]})
    frame = frame.with_columns(
        pl.when(pl.col("employer_name").is_duplicated())
        .then(pl.format("{}（{}分公司）", pl.col("employer_name"), pl.int_range(pl.len()).cast(pl.String)))
        .otherwise(pl.col("employer_name")).alias("employer_name"),
        pl.int_range(pl.len(), dtype=pl.Int32).alias("employer_index"),
    )
    return frame


def _district_weights() -> np.ndarray:
    weights = np.array([d.weight for d in DISTRICTS])
    return weights / weights.sum()


def add_life_facts(cfg: CityConfig, streams: Streams, population: Population) -> Population:
    """Population with events, work, education, housing, schooling, insurance and tax."""
    persons = population.persons
    n = persons.height
    snapshot = cfg.snapshot_date
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    age = (_days(snapshot) - birth) / 365.25
    sex = persons["sex"].to_numpy()
    role = persons["role"].to_numpy()
    status = persons["status"].to_numpy()
    migrant = status == "migrant"
    household = persons["household_index"].to_numpy()

    # --- deaths during the year (Gompertz-like, ~0.7 % overall)
    rng = streams.get("events")
    p_death = np.clip(0.0004 * np.exp(0.085 * (age - 30)), 0, 0.35)
    died = rng.random(n) < p_death
    start = _days(cfg.period_start)
    death_day = np.where(died, start + rng.integers(0, 365, n), -1)
    born_in_year = birth >= start
    died &= ~born_in_year | (death_day > birth)
    # --- marital status (GB/T 2261.2) and marriages during the year
    household_size = np.bincount(household)[household]
    household_has_spouse = np.bincount(household, weights=role == 1) > 0
    has_spouse_role = (role == 1) | ((role == 0) & household_has_spouse[household])
    pid = np.arange(n)
    spouse_pid = np.where((role == 0) & household_has_spouse[household], pid + 1, np.where(role == 1, pid - 1, -1))
    married = has_spouse_role | ((role == 3) & (rng.random(n) < 0.55))
    marital = np.where(married, np.where(rng.random(n) < 0.92, "21", "22"), "10")
    single_adult = ~married & (age >= 18)
    marital = np.where(single_adult & (age >= 60), np.where(rng.random(n) < 0.7, "30", "40"), marital)
    marital = np.where(single_adult & (age >= 30) & (age < 60) & (rng.random(n) < 0.25), "40", marital)
    marital = np.where(age < 18, "10", marital)
    young_couple = has_spouse_role & (age < 32) & (household_size == 2)
    married_in_year = young_couple & (rng.random(n) < 0.35)
    # Both partners share the date: take the head's draw for the household.
    marriage_draw = start + rng.integers(0, 365, household.max() + 1)
    marriage_day = np.where(married_in_year, marriage_draw[household], -1)

    # --- education (adults), by birth decade
    erng = streams.get("education")
    decade = np.clip((persons["birth_date"].dt.year().to_numpy() - 1930) // 10 + 1, 0, 7)
    cumulative = np.cumsum(_EDUCATION_BY_DECADE, axis=1)[decade]
    education = _EDUCATION_CODES[(erng.random(n)[:, None] > cumulative).sum(axis=1).clip(0, 7)]
    education = np.where(age < 16, "", np.where(age < 22, np.where(age < 19, "71", "61"), education))

    # --- employment, employer, social insurance months
    wrng = streams.get("work")
    employers = _employers(cfg, wrng)
    retire = np.where(sex == "1", 60, 55)
    working_age = (age >= 18) & (age < retire)
    employed = working_age & (wrng.random(n) < np.where(migrant | (role == 4), 0.86, 0.74)) & ~(died & (death_day < start + 30))
    actual = persons["actual_division"].to_numpy()
    employer_division = employers["employer_division"].to_numpy()
    by_district = {code: np.flatnonzero(employer_division == code) for code in np.unique(employer_division)}
    local_pick = wrng.random(n) < 0.7
    employer = wrng.integers(0, employers.height, n)
    for code, firms in by_district.items():
        mask = local_pick & (actual == code)
        employer[mask] = firms[wrng.integers(0, len(firms), int(mask.sum()))]
    employer = np.where(employed, employer, -1)
    since = persons["actual_since"].to_numpy().astype("datetime64[D]").astype(np.int64)
    career_start = birth + ((18 + wrng.integers(0, 8, n)) * 365.25).astype(np.int64)
    si_start = np.maximum(np.where(migrant | (role == 4), since, career_start), career_start)
    si_start = np.minimum(si_start, _days(snapshot) - 31)
    gaps = wrng.integers(0, 14, n) * (wrng.random(n) < 0.3)
    si_months = np.where(employed, np.maximum(1, (_days(snapshot) - si_start) // 30 - gaps), 0)

    # --- housing: owned, rented (registered with 住建 or not), dormitory, with family
    hrng = streams.get("housing")
    hh_owner = hrng.random(household.max() + 1) < 0.78
    hh_migrant_owner = hrng.random(household.max() + 1) < 0.16
    owned = np.where(migrant, hh_migrant_owner[household], hh_owner[household])
    tenure = np.where(role == 4, "dormitory", np.where(owned, "owned", "rented"))
    tenure = np.where(status == "out_migrant", "elsewhere", tenure)
    rental_registered_hh = hrng.random(household.max() + 1) < 0.72
    rental_registered = (tenure == "rented") & rental_registered_hh[household]
    road = hrng.integers(0, 100, household.max() + 1)
    number = hrng.integers(1, 400, household.max() + 1)
    building = hrng.integers(1, 40, household.max() + 1)
    room = hrng.integers(101, 2600, household.max() + 1)
    district_roads = {d.code: d.roads for d in DISTRICTS}
    district_name = {d.code: d.name for d in DISTRICTS}
    address = _addresses(actual, household, road, number, building, room, district_roads, district_name)
    registered = persons["registered_division"].to_numpy()
    registered_address = _addresses(registered, household, road, number, building, room, district_roads, district_name)
    outside = ~np.isin(registered, list(district_roads))
    registered_address[outside] = _origin_addresses(registered[outside], number[household][outside])
    previous_road = (road + 1 + hrng.integers(0, 5, household.max() + 1)) % 100
    previous_address = _addresses(actual, household, previous_road, number, building, room, district_roads, district_name)

    # --- schooling: compulsory education 6–14, senior high 15–17 (90 %)
    school_age = ((age >= 6) & (age < 15)) | ((age >= 15) & (age < 18) & (hrng.random(n) < 0.9))
    in_city = status != "out_migrant"
    # A few native children were never entered in the household register (黑户).
    unregistered = (role == 2) & np.isin(status, ["native", "intra_city"]) & (hrng.random(n) < 0.003)
    enrolled = school_age & in_city & ~died
    school_level = np.where(age < 12, "primary", np.where(age < 15, "junior", "senior"))

    # --- medical insurance: employees locally; others resident scheme, migrants at origin
    mrng = streams.get("medical")
    medical_scheme = np.where(employed, "employee", "resident")
    medical_local = employed | ~migrant
    cross_region = ~medical_local & (mrng.random(n) < np.where(age >= 60, 0.5, 0.3))
    insured = (mrng.random(n) < 0.97) & (status != "out_migrant")

    # --- income and tax
    trng = streams.get("tax")
    edu_rank = np.zeros(n)
    for code, value in _EDUCATION_RANK.items():
        edu_rank[education == code] = value
    income = np.where(employed, np.round(np.exp(trng.normal(10.9 + 0.16 * edu_rank, 0.45)), -2), 0).astype(np.int64)
    tax = _income_tax(income)
    criminal = (age >= 18) & (trng.random(n) < 0.003)
    tax_violation = employed & (trng.random(n) < 0.001)
    phone = np.char.add(_MOBILE_PREFIXES[trng.integers(0, len(_MOBILE_PREFIXES), n)],
                        np.char.zfill(trng.integers(0, 100_000_000, n).astype(str), 8))
    phone = np.where(age >= 14, phone, "")

    epoch = np.datetime64("1970-01-01")
    facts = pl.DataFrame({
        "alive": ~died,
        "death_date": np.where(died, epoch + death_day.astype("timedelta64[D]"), np.datetime64("NaT")).astype("datetime64[D]"),
        "born_in_year": born_in_year,
        "marital_status": marital,
        "spouse_pid": spouse_pid.astype(np.int32),
        "married_in_year": married_in_year,
        "marriage_date": np.where(married_in_year, epoch + marriage_day.astype("timedelta64[D]"), np.datetime64("NaT")).astype("datetime64[D]"),
        "education": education,
        "employed": employed,
        "employer_index": employer.astype(np.int32),
        "si_start": (epoch + si_start.astype("timedelta64[D]")).astype("datetime64[D]"),
        "si_months": si_months.astype(np.int32),
        "tenure": tenure,
        "rental_registered": rental_registered,
        "address": address,
        "previous_address": previous_address,
        "registered_address": registered_address,
        "enrolled": enrolled,
        "unregistered": unregistered,
        "school_level": school_level,
        "medical_insured": insured,
        "medical_scheme": medical_scheme,
        "medical_local": medical_local,
        "cross_region_medical": cross_region & insured,
        "annual_income": income,
        "income_tax": tax,
        "criminal_record": criminal,
        "tax_violation": tax_violation,
        "phone": phone,
    })
    persons = pl.concat([persons, facts], how="horizontal").with_columns(
        pl.col("education").replace("", None),
        pl.col("phone").replace("", None),
    )
    persons = persons.join(employers.select("employer_index", "employer_name", "employer_code", "employer_division"),
                           on="employer_index", how="left").sort("pid")
    return Population(persons=persons, households=population.households, employers=employers)


def _addresses(actual, household, road, number, building, room, district_roads, district_name):  # type: ignore[no-untyped-def]
    """Street addresses in the district where each household lives."""
    head_actual = actual  # members share the household's district
    out = np.empty(len(actual), dtype=object)
    road_h = road[household]
    for code, roads in district_roads.items():
        mask = head_actual == code
        if mask.any():
            names = np.array(roads)[road_h[mask] % len(roads)]
            out[mask] = np.char.add(f"江苏省苏州市{district_name[code]}", names)
    elsewhere = out == None  # noqa: E711  (object array comparison)
    out[elsewhere] = "外地"
    detail = np.char.add(
        np.char.add(np.char.add(number[household].astype(str), "号"), np.char.add(building[household].astype(str), "幢")),
        np.char.add(room[household].astype(str), "室"),
    )
    return np.char.add(out.astype(str), detail)


_VILLAGES = ("东风", "红旗", "新河", "桥头", "王庄", "李集", "双庙", "柳湾", "前进", "大营")


def _origin_addresses(codes: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Registered addresses outside the city: county, township, village, number."""
    names = {code: divisions.full_name(code) for code in np.unique(codes)}
    return np.array(
        [f"{names[c]}{_VILLAGES[k % 10]}镇{_VILLAGES[(k // 10) % 10]}村{k}号" for c, k in zip(codes, numbers, strict=True)]
    )


def _income_tax(income: np.ndarray) -> np.ndarray:
    """Annual individual income tax (IIT, 2019 brackets) after the 60,000 yuan deduction."""
    taxable = np.maximum(income - 60_000 - (income * 0.105).astype(np.int64), 0)
    brackets = [(36_000, 0.03, 0), (144_000, 0.10, 2_520), (300_000, 0.20, 16_920),
                (420_000, 0.25, 31_920), (660_000, 0.30, 52_920), (960_000, 0.35, 85_920)]
    tax = taxable * 0.45 - 181_920
    for limit, rate, quick in reversed(brackets):
        tax = np.where(taxable <= limit, taxable * rate - quick, tax)
    return np.round(np.maximum(tax, 0)).astype(np.int64)
