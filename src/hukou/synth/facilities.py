"""Schools and clinics of the synthetic city, sized against the people who use them.

Schools: each district has primary (小学), junior (初级中学) and senior (高级中学)
schools, at least one of each, more where more children live (about one school per
1,800 primary pupils, 1,400 junior and 1,800 senior pupils, the size of a Suzhou
school). Each school has a 学校标识码 (10 digits: 2-digit school category 21/31/34,
province 32, a 6-digit number) and a capacity in pupils. Capacity is sized against the
children who really go to school in the district: the historic centre (姑苏区, 虎丘区)
is oversubscribed (district occupancy 106–120 %), the outer districts and county-level
cities have room (78–93 %). That gap is what school-place forecasting has to find.
Children go to a school in the district where they live, at their level, with a
chance proportional to capacity; siblings at the same level go to the same school.

Clinics: one 社区卫生服务中心 per 街道/镇 (real subdistrict names), a few 二级医院 per
district and the 三级医院 (most of them central). Their ids follow the 医保定点医疗机构
code (H + 6-digit division + 5 digits). Daily capacity is sized from residents and
about 6.5 outpatient visits per person per year: community centres have slack (load
≈ 75 %), 三级 hospitals are crowded (≈ 120 %, they draw patients from the whole city).

Everything is deterministic for the config and seed (streams ``facilities:*``). The
tables are written to ``<city>/facilities/schools.csv`` and ``clinics.csv`` (UTF-8,
English headers); columns are documented in docs/synth/facilities.md.
"""

from __future__ import annotations

import calendar

import numpy as np
import polars as pl

from hukou.synth.config import CityConfig
from hukou.synth.feeds.base import FeedContext
from hukou.synth.geography import CITY_NAME, DISTRICTS, District
from hukou.synth.rng import Streams

__all__ = [
    "CLINIC_KINDS",
    "LEVELS",
    "assign_clinics",
    "assign_schools",
    "clinics",
    "school_assignment",
    "schools",
    "write_facilities",
]

LEVELS = ("primary", "junior", "senior")
CLINIC_KINDS = ("社区卫生服务中心", "二级医院", "三级医院")
_SCHOOL_CATEGORY = {"primary": "21", "junior": "31", "senior": "34"}  # 学校类别码
_PROVINCE = "32"  # 江苏
_TYPICAL_SIZE = {"primary": 1800, "junior": 1400, "senior": 1800}
_CLASS_SIZE = {"primary": 45, "junior": 50, "senior": 50}  # 班额 standards
_CENTRAL_OCCUPANCY = (1.06, 1.20)
_OUTER_OCCUPANCY = (0.78, 0.93)
_VISITS_PER_PERSON_YEAR = 6.5
# Share of outpatient visits and the load each kind of facility runs at.
_VISIT_SHARE = {"社区卫生服务中心": 0.40, "二级医院": 0.25, "三级医院": 0.35}
_LOAD = {"社区卫生服务中心": 0.75, "二级医院": 0.95, "三级医院": 1.20}

# Subdistricts (街道) and towns (镇) of each district: real names, recent boundaries.
_STREETS: dict[str, tuple[str, ...]] = {
    "320508": (
        "平江街道",
        "金阊街道",
        "沧浪街道",
        "双塔街道",
        "虎丘街道",
        "吴门桥街道",
        "苏锦街道",
        "白洋湾街道",
    ),
    "320505": ("狮山街道", "枫桥街道", "横塘街道", "浒墅关镇", "通安镇", "东渚街道", "镇湖街道"),
    "320506": (
        "长桥街道",
        "越溪街道",
        "郭巷街道",
        "横泾街道",
        "香山街道",
        "太湖街道",
        "城南街道",
        "木渎镇",
        "胥口镇",
        "东山镇",
        "临湖镇",
        "光福镇",
        "金庭镇",
    ),
    "320507": (
        "元和街道",
        "太平街道",
        "北桥街道",
        "黄桥街道",
        "澄阳街道",
        "漕湖街道",
        "阳澄湖镇",
        "渭塘镇",
        "黄埭镇",
        "望亭镇",
    ),
    "320509": (
        "松陵街道",
        "江陵街道",
        "横扇街道",
        "八坼街道",
        "同里镇",
        "平望镇",
        "盛泽镇",
        "七都镇",
        "震泽镇",
        "桃源镇",
        "黎里镇",
    ),
    "320581": (
        "虞山街道",
        "常福街道",
        "琴川街道",
        "莫城街道",
        "碧溪街道",
        "东南街道",
        "梅李镇",
        "海虞镇",
        "古里镇",
        "沙家浜镇",
        "支塘镇",
        "董浜镇",
        "尚湖镇",
        "辛庄镇",
    ),
    "320582": ("杨舍镇", "塘桥镇", "金港街道", "锦丰镇", "乐余镇", "凤凰镇", "南丰镇", "大新镇"),
    "320583": (
        "玉山镇",
        "巴城镇",
        "周市镇",
        "陆家镇",
        "花桥镇",
        "淀山湖镇",
        "张浦镇",
        "周庄镇",
        "千灯镇",
        "锦溪镇",
    ),
    "320585": ("城厢镇", "沙溪镇", "浏河镇", "浮桥镇", "璜泾镇", "双凤镇", "娄东街道", "陆渡街道"),
}
# 三级 hospitals by district (the centre has most of them).
_TERTIARY: dict[str, tuple[str, ...]] = {
    "320508": ("苏州市第一人民医院", "苏州市中医医院", "苏州市儿童医院"),
    "320505": ("苏州市第二人民医院",),
    "320509": ("苏州市第九人民医院",),
    "320581": ("常熟市第一人民医院",),
    "320582": ("张家港市第一人民医院",),
    "320583": ("昆山市第一人民医院",),
    "320585": ("太仓市第一人民医院",),
}
_DIGITS = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    """1 … 999 in Chinese numerals, as in 第二十一中学.

    >>> [_chinese_number(n) for n in (1, 10, 12, 20, 21, 105)]
    ['一', '十', '十二', '二十', '二十一', '一百零五']
    """
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    text = ""
    if hundreds:
        text = _DIGITS[hundreds] + "百"
        if rest and tens == 0:
            text += "零"
    if tens:
        text += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    if units:
        text += _DIGITS[units]
    return text


def _prefix(district: District) -> str:
    """How a school or hospital name starts: 苏州市吴中区…, or 常熟市… for a county-level city."""
    return district.name if district.name.endswith("市") else CITY_NAME + district.name


def _stem(street: str) -> str:
    return street.removesuffix("街道").removesuffix("镇")


def _school_names(
    district: District, level: str, count: int, rng: np.random.Generator
) -> list[str]:
    """``count`` distinct names: the flagship, then ordinals and subdistrict schools in turn."""
    streets = _STREETS[district.code]
    stems = [_stem(streets[i]) for i in rng.permutation(len(streets))]
    generic, ordinal, local = {
        "primary": ("实验小学", "实验小学", "中心小学"),
        "junior": ("实验初级中学", "初级中学", "中学"),
        "senior": ("高级中学", "高级中学", "高级中学"),
    }[level]
    ordinals = [f"第{_chinese_number(n)}{ordinal}" for n in range(2, count + 2)]
    locals_ = [f"{stem}{local}" for stem in stems]
    names = [generic]
    while len(names) < count:
        if ordinals and (len(names) % 2 == 1 or not locals_):
            names.append(ordinals.pop(0))
        else:
            names.append(locals_.pop(0))
    return [_prefix(district) + name for name in names[:count]]


def _round_capacity(raw: np.ndarray, unit: int) -> np.ndarray:
    """Whole classes for a real-sized school; at least one place for a tiny test city."""
    classes = np.round(raw / unit) * unit
    return np.where(raw >= 10 * unit, classes, np.maximum(1, np.round(raw))).astype(np.int64)


def _addresses(district: District, rng: np.random.Generator, count: int) -> list[str]:
    roads = np.array(district.roads)[rng.integers(0, len(district.roads), count)]
    numbers = rng.integers(1, 500, count)
    return [
        f"江苏省苏州市{district.name}{road}{number}号"
        for road, number in zip(roads, numbers, strict=True)
    ]


def schools(cfg: CityConfig, streams: Streams, persons: pl.DataFrame) -> pl.DataFrame:
    """Every school of the city: id, name, district, level, capacity, address, year opened."""
    rng = streams.get("facilities:schools")
    demand_frame = (
        persons.filter(pl.col("enrolled")).group_by("actual_division", "school_level").len()
    )
    demand = {(code, level): count for code, level, count in demand_frame.iter_rows()}
    columns: dict[str, list[object]] = {
        "name": [],
        "division": [],
        "level": [],
        "capacity": [],
        "address": [],
        "opened": [],
    }
    for district in DISTRICTS:
        low, high = _CENTRAL_OCCUPANCY if district.central else _OUTER_OCCUPANCY
        occupancy = rng.uniform(low, high)
        for level in LEVELS:
            pupils = demand.get((district.code, level), 0)
            count = max(1, round(pupils / _TYPICAL_SIZE[level]))
            shares = rng.dirichlet(np.full(count, 6.0))
            capacity = _round_capacity(pupils * shares / occupancy, _CLASS_SIZE[level])
            # The centre's schools are old; the outer districts keep opening new ones.
            opened = (
                rng.integers(1905, 2000, count)
                if district.central
                else rng.integers(1958, cfg.year + 1, count)
            )
            columns["name"] += _school_names(district, level, count, rng)
            columns["division"] += [district.code] * count
            columns["level"] += [level] * count
            columns["capacity"] += capacity.tolist()
            columns["address"] += _addresses(district, rng, count)
            columns["opened"] += opened.tolist()
    table = pl.DataFrame(
        columns,
        schema={
            "name": pl.String,
            "division": pl.String,
            "level": pl.String,
            "capacity": pl.Int64,
            "address": pl.String,
            "opened": pl.Int32,
        },
    )
    sequence = rng.choice(900_000, table.height, replace=False) + 100_000
    return table.select(
        pl.format(
            "{}{}{}",
            pl.col("level").replace_strict(_SCHOOL_CATEGORY),
            pl.lit(_PROVINCE),
            pl.Series(sequence.astype(str)),
        ).alias("school_id"),
        pl.all(),
    )


def clinics(cfg: CityConfig, streams: Streams, persons: pl.DataFrame) -> pl.DataFrame:
    """Every clinic and hospital: id, name, district, kind, daily outpatient capacity, address."""
    rng = streams.get("facilities:clinics")
    days = 366 if calendar.isleap(cfg.year) else 365
    residents = dict(persons.filter(pl.col("alive")).group_by("actual_division").len().iter_rows())
    daily = {d.code: residents.get(d.code, 0) * _VISITS_PER_PERSON_YEAR / days for d in DISTRICTS}
    columns: dict[str, list[object]] = {"name": [], "division": [], "kind": [], "weight": []}
    for district in DISTRICTS:
        prefix = _prefix(district)
        secondary = [f"{prefix}中医医院", f"{prefix}妇幼保健院"]
        if district.name.endswith("市"):
            secondary.insert(0, f"{district.name}第二人民医院")
        elif not district.central:
            secondary.insert(0, f"{CITY_NAME}{district.name.removesuffix('区')}人民医院")
        facilities = [
            *(
                (f"{district.name}{street}社区卫生服务中心", "社区卫生服务中心")
                for street in _STREETS[district.code]
            ),
            *((name, "二级医院") for name in secondary),
            *((name, "三级医院") for name in _TERTIARY.get(district.code, ())),
        ]
        for name, kind in facilities:
            columns["name"].append(name)
            columns["division"].append(district.code)
            columns["kind"].append(kind)
            columns["weight"].append(float(rng.gamma(6.0)) * (2.0 if district.central else 1.0))
    table = pl.DataFrame(
        columns,
        schema={
            "name": pl.String,
            "division": pl.String,
            "kind": pl.String,
            "weight": pl.Float64,
        },
    )
    # Community centres and 二级 hospitals serve their district; 三级 ones the whole city.
    tertiary = pl.col("kind") == "三级医院"
    visits = pl.col("division").replace_strict(daily, return_dtype=pl.Float64)
    pool = pl.when(tertiary).then(pl.lit(sum(daily.values()))).otherwise(visits)
    group_weight = (
        pl.when(tertiary)
        .then(pl.col("weight").filter(tertiary).sum())
        .otherwise(pl.col("weight").sum().over("division", "kind"))
    )
    share = pl.col("kind").replace_strict(_VISIT_SHARE, return_dtype=pl.Float64)
    load = pl.col("kind").replace_strict(_LOAD, return_dtype=pl.Float64)
    raw = pool * share * pl.col("weight") / group_weight / load
    capacity = (
        pl.when(raw >= 200)
        .then((raw / 10).round() * 10)
        .otherwise(raw.round().clip(lower_bound=1))
        .cast(pl.Int64)
    )
    counts = table.group_by("division", maintain_order=True).len()
    numbers = np.concatenate(
        [np.sort(rng.choice(99_999, n, replace=False) + 1) for n in counts["len"]]
    )
    addresses = [
        address
        for district in DISTRICTS
        for address in _addresses(district, rng, int(table["division"].eq(district.code).sum()))
    ]
    return table.select(
        pl.format("H{}{}", pl.col("division"), pl.Series(numbers.astype(str)).str.zfill(5)).alias(
            "clinic_id"
        ),
        "name",
        "division",
        "kind",
        capacity.alias("daily_capacity"),
        pl.Series("address", addresses, dtype=pl.String),
    )


def _pick(
    person_keys: pl.Series,
    draws: np.ndarray,
    facility_keys: pl.Series,
    weights: np.ndarray,
    ids: pl.Series,
) -> pl.Series:
    """For each person, a facility with the same key, chosen with chance ∝ weight.

    Vectorised: facilities are laid out group by group on a line where group ``g``
    covers (g, g + 1] in proportion to its weights, so ``g + draw`` falls in one.
    People whose key has no facility (or is null) get null.
    """
    order = np.argsort(facility_keys.to_numpy(), kind="stable")
    keys = facility_keys.to_numpy()[order]
    weight = weights[order].astype(np.float64)
    unique, start, inverse = np.unique(keys, return_index=True, return_inverse=True)
    end = np.append(start[1:], len(keys)) - 1
    cumulative = np.cumsum(weight)
    before = cumulative[start] - weight[start]
    total = cumulative[end] - before
    within = (cumulative - before[inverse]) / total[inverse]
    within[end] = 1.0
    line = inverse + within
    group = person_keys.replace_strict(
        dict(zip(unique.tolist(), range(len(unique)), strict=True)),
        default=-1,
        return_dtype=pl.Int64,
    ).to_numpy()
    known = group >= 0
    g = np.where(known, group, 0)
    position = np.minimum(np.searchsorted(line, g + draws, side="right"), end[g])
    chosen = ids.gather(order).gather(position)
    return pl.select(pl.when(pl.Series(known)).then(chosen).alias(ids.name)).to_series()


def _household_draws(persons: pl.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """One uniform draw per household, shared by its members (siblings, a family's clinic)."""
    household: np.ndarray = persons["household_index"].to_numpy()
    draws: np.ndarray = rng.random(int(household.max()) + 1 if len(household) else 0)
    return np.take(draws, household)


def assign_schools(
    persons: pl.DataFrame, schools: pl.DataFrame, rng: np.random.Generator
) -> pl.Series:
    """Each enrolled child's ``school_id`` (null for everyone else), aligned with ``persons``.

    The school is in the district where the child lives, at the child's level, chosen
    with chance proportional to capacity; children of one household at the same level
    go to the same school.
    """
    person_key = pl.format("{}|{}", pl.col("actual_division"), pl.col("school_level"))
    person_keys = persons.select(pl.when(pl.col("enrolled")).then(person_key))
    facility_keys = schools.select(pl.format("{}|{}", pl.col("division"), pl.col("level")))
    return _pick(
        person_keys.to_series(),
        _household_draws(persons, rng),
        facility_keys.to_series(),
        schools["capacity"].to_numpy(),
        schools["school_id"].alias("school_id"),
    )


def assign_clinics(
    persons: pl.DataFrame,
    clinics: pl.DataFrame,
    rng: np.random.Generator,
    kind: str = "社区卫生服务中心",
) -> pl.Series:
    """Each person's ``clinic_id`` of ``kind`` in the district where they live.

    Null for people living outside the city. Chosen with chance proportional to daily
    capacity; a household shares one.
    """
    offered = clinics.filter(pl.col("kind") == kind)
    return _pick(
        persons["actual_division"],
        _household_draws(persons, rng),
        offered["division"],
        offered["daily_capacity"].to_numpy(),
        offered["clinic_id"],
    )


def school_assignment(
    cfg: CityConfig, streams: Streams, persons: pl.DataFrame
) -> tuple[pl.DataFrame, pl.Series]:
    """The schools and every enrolled child's school: the same for every caller of one city."""
    table = schools(cfg, streams, persons)
    return table, assign_schools(persons, table, streams.get("facilities:school_assignment"))


def write_facilities(ctx: FeedContext) -> None:
    """Write ``facilities/schools.csv`` and ``facilities/clinics.csv`` (UTF-8, English headers)."""
    persons = ctx.population.persons
    folder = ctx.out / "facilities"
    folder.mkdir(parents=True, exist_ok=True)
    schools(ctx.cfg, ctx.streams, persons).write_csv(folder / "schools.csv")
    clinics(ctx.cfg, ctx.streams, persons).write_csv(folder / "clinics.csv")
