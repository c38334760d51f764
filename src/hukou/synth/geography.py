"""The synthetic city's geography: Suzhou (苏州市, GB/T 2260 320500) and where migrants come from.

Suzhou is a Yangtze-delta prefecture with a dense historic centre (姑苏区) and large
county-level cities around it, and one of the country's biggest receivers of migrants,
so 人户分离 matters there. District population weights follow the 2020 census in
round figures; the origin mix of migrants is an approximation of published surveys
(Anhui, Henan and northern Jiangsu first). Codes of the past are kept, so people born
before 2012 carry the codes their numbers were issued under (沧浪区, 吴江市, 吴县 …).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache

import numpy as np

from hukou.standards import divisions

__all__ = [
    "CITY_CODE",
    "CITY_NAME",
    "DISTRICTS",
    "ORIGINS",
    "District",
    "Origin",
    "birthplace_codes",
    "district_weights",
    "origin_county_codes",
]

CITY_CODE = "320500"
CITY_NAME = "苏州市"


@dataclass(frozen=True, slots=True)
class District:
    """A county-level division of the city today, and the codes it grew out of."""

    code: str
    name: str
    weight: float  # share of the resident population (2020 census, rounded)
    central: bool
    predecessors: tuple[str, ...]  # codes whose area it now covers, oldest first
    roads: tuple[str, ...]  # synthetic road names for addresses


DISTRICTS: tuple[District, ...] = (
    District(
        "320508",
        "姑苏区",
        0.073,
        True,
        ("320502", "320503", "320504"),
        ("人民路", "干将路", "十全街", "平江路", "景德路", "三香路", "东环路", "凤凰街"),
    ),
    District(
        "320505",
        "虎丘区",
        0.066,
        True,
        ("320511",),
        ("狮山路", "长江路", "塔园路", "滨河路", "玉山路", "金山路", "珠江路"),
    ),
    District(
        "320506",
        "吴中区",
        0.110,
        False,
        ("320524", "320586"),
        ("东吴北路", "宝带东路", "越溪路", "木渎大街", "藏书路", "太湖东路"),
    ),
    District(
        "320507",
        "相城区",
        0.071,
        False,
        ("320524", "320586"),
        ("阳澄湖路", "御窑路", "陆慕路", "华元路", "相城大道", "春申湖路"),
    ),
    District(
        "320509",
        "吴江区",
        0.122,
        False,
        ("320525", "320584"),
        ("中山路", "松陵大道", "仲英大道", "盛泽大道", "江兴路", "鲈乡路"),
    ),
    District(
        "320581",
        "常熟市",
        0.133,
        False,
        ("320520",),
        ("虞山路", "海虞路", "琴川路", "衡山路", "黄河路", "新世纪大道"),
    ),
    District(
        "320582",
        "张家港市",
        0.113,
        False,
        ("320521",),
        ("沙洲路", "人民东路", "暨阳湖路", "港城大道", "杨舍路", "长安路"),
    ),
    District(
        "320583",
        "昆山市",
        0.166,
        False,
        ("320523",),
        ("前进路", "萧林路", "马鞍山路", "柏庐路", "黄河路", "青阳路", "祖冲之路"),
    ),
    District(
        "320585",
        "太仓市",
        0.066,
        False,
        ("320522",),
        ("上海东路", "常胜路", "县府街", "郑和路", "北京路", "太平路"),
    ),
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where migrants come from: a province (or part of one) and its share."""

    label: str
    prefixes: tuple[str, ...]  # code prefixes of the counties people come from
    weight: float


ORIGINS: tuple[Origin, ...] = (
    Origin("安徽", ("34",), 0.22),
    Origin("河南", ("41",), 0.13),
    Origin("苏北", ("3203", "3207", "3208", "3209", "3213"), 0.19),
    Origin("四川", ("51",), 0.08),
    Origin("贵州", ("52",), 0.07),
    Origin("湖北", ("42",), 0.05),
    Origin("山东", ("37",), 0.05),
    Origin("江西", ("36",), 0.04),
    Origin("湖南", ("43",), 0.04),
    Origin("重庆", ("50",), 0.03),
    Origin("浙江", ("33",), 0.03),
    Origin("云南", ("53",), 0.02),
    Origin("广西", ("45",), 0.02),
    Origin("新疆", ("65",), 0.01),
    Origin("甘肃宁夏", ("62", "64"), 0.01),
    Origin("东北", ("21", "22", "23"), 0.01),
)


def district_weights() -> np.ndarray:
    """Population shares of the districts, normalised to 1.

    The listed weights leave out the Suzhou Industrial Park (a functional zone with no
    GB/T 2260 code of its own); its people are spread over the districts in proportion.
    """
    weights = np.array([d.weight for d in DISTRICTS])
    shares: np.ndarray = weights / weights.sum()
    return shares


# Identity numbers were first issued in 1985: an older person's birthplace code is the
# one in force when the number was assigned.
FIRST_ISSUE_YEAR = 1985
_LAST_YEAR = 2030


def _valid_in(code: str, year: int) -> bool:
    return divisions.valid_at(code, datetime.date(year, 7, 1))


@cache
def birthplace_codes(district: str, year: int) -> tuple[str, ...]:
    """Codes a native of ``district`` born in ``year`` may carry (never empty)."""
    issue_year = max(year, FIRST_ISSUE_YEAR)
    current = next(d for d in DISTRICTS if d.code == district)
    candidates = tuple(c for c in (*current.predecessors, current.code) if _valid_in(c, issue_year))
    return candidates or (current.code,)


@cache
def _origin_codes_by_year(origin_index: int) -> dict[int, tuple[str, ...]]:
    """For one origin: year → county codes in use, for every year numbers were issued."""
    prefixes = ORIGINS[origin_index].prefixes
    by_year: dict[int, list[str]] = {}
    for county in divisions.all_divisions():
        # 市辖区 (…01) rows group a city's districts; they are not places.
        if county.level != "county" or not county.code.startswith(prefixes):
            continue
        if county.code.endswith("01"):
            continue
        for period in county.periods:
            first = max(period.start or FIRST_ISSUE_YEAR, FIRST_ISSUE_YEAR)
            last = min(period.end or _LAST_YEAR, _LAST_YEAR)
            for year in range(first, last + 1):
                bucket = by_year.setdefault(year, [])
                if not bucket or bucket[-1] != county.code:
                    bucket.append(county.code)
    return {year: tuple(codes) for year, codes in by_year.items()}


@cache
def origin_county_codes(origin_index: int, year: int) -> tuple[str, ...]:
    """County codes of an origin that were in use when a person born in ``year`` got a number."""
    by_year = _origin_codes_by_year(origin_index)
    # Chongqing's codes start in 1997: an older Chongqing native's number was reissued
    # under them, so fall forward to the first year that has codes.
    for issue_year in range(max(year, FIRST_ISSUE_YEAR), _LAST_YEAR + 1):
        if issue_year in by_year:
            return by_year[issue_year]
    raise ValueError(f"no county codes for {ORIGINS[origin_index].label}")
