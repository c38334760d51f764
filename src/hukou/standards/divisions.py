"""GB/T 2260 administrative divisions, with the codes of the past.

Identity numbers carry the address code of the place that issued them, and codes are
abolished, created and even reused as districts merge. A registry that knew only
today's table would reject every citizen of a county abolished in 1993, so this table
keeps every province, prefecture and county code since the early 1980s with the years
in which each name held it.

Source: the location table shipped in the ``python-stdnum`` package
(``stdnum/cn/loc.dat``; LGPL-2.1+, itself generated from the Chinese Wikipedia lists of
the PRC administrative division codes). The package version is pinned in ``uv.lock``;
the revision we use is recorded in ``docs/standards.md``. Years in that table are
whole years, inclusive on both ends: ``[1983-1993]潮阳县`` held 440524 from 1983 to 1993.

>>> name_at("440524", datetime.date(1990, 6, 1))
'潮阳县'
>>> valid_at("440524", datetime.date(2000, 1, 1))
False
>>> full_name("440524", datetime.date(1990, 6, 1))
'广东省汕头市潮阳县'
>>> [d.code for d in lookup("广西")]
['450000']
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from typing import Literal

from hukou.standards.errors import UnknownCodeError

__all__ = [
    "Division",
    "Level",
    "NamePeriod",
    "all_divisions",
    "children",
    "division",
    "full_name",
    "get",
    "last_valid_year",
    "level_of",
    "lookup",
    "name_at",
    "parent",
    "short_name",
    "source_revision",
    "valid_at",
    "valid_on_or_after",
]

Level = Literal["province", "prefecture", "county"]

CODE_LIST = "GB/T 2260 administrative division"
_SOURCE_PACKAGE = "stdnum.cn"
_SOURCE_FILE = "loc.dat"
# A period written "[1986-]" is still open; an open end compares as this year.
_OPEN_END = 9999
_OPEN_START = 0
_PERIOD = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)$")
_GROUPING_ROWS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
# Longest first, so 壮族自治区 is stripped before 自治区.
_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "特別行政區",
    "特別行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "矿区",
    "新区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)


@dataclass(frozen=True, slots=True)
class NamePeriod:
    """One name a code held, for whole years ``start``..``end`` (``None`` = unbounded)."""

    name: str
    start: int | None
    end: int | None

    def covers(self, year: int) -> bool:
        """Whether the name held the code during ``year``."""
        return (self.start or _OPEN_START) <= year <= (self.end or _OPEN_END)


@dataclass(frozen=True, slots=True)
class Division:
    """A province, prefecture or county code and every name it has carried."""

    code: str
    level: Level
    periods: tuple[NamePeriod, ...]

    @property
    def name(self) -> str:
        """The most recent name the code carried (today's name if it is still in use)."""
        return self.periods[-1].name

    @property
    def is_current(self) -> bool:
        """Whether the code is still in use."""
        return self.periods[-1].end is None

    def name_in(self, year: int) -> str | None:
        """The name that held the code in ``year``, or ``None`` if it was not in use."""
        for period in reversed(self.periods):
            if period.covers(year):
                return period.name
        return None

    @property
    def last_year(self) -> int:
        """The last year the code was in use (9999 while it still is)."""
        return max(p.end or _OPEN_END for p in self.periods)


def _level(code: str) -> Level:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def _parse_periods(value: str) -> tuple[NamePeriod, ...]:
    periods = []
    for part in value.split(","):
        match = _PERIOD.match(part)
        if match is None:
            periods.append(NamePeriod(part, None, None))
            continue
        start, end = match.group("start"), match.group("end")
        periods.append(
            NamePeriod(
                match.group("name"),
                int(start) if start else None,
                int(end) if end else None,
            )
        )
    return tuple(sorted(periods, key=lambda p: (p.start or _OPEN_START, p.end or _OPEN_END)))


def _parse_table(text: str) -> dict[str, Division]:
    """Parse the two-level ``loc.dat`` layout: a province line, then indented sub-codes."""
    table: dict[str, Division] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, rest = line.strip().partition(" ")
        attribute, _, quoted = rest.partition("=")
        value = quoted.strip('"')
        if attribute == "province":
            province = key
            table.setdefault(
                key + "0000", Division(key + "0000", "province", _parse_periods(value))
            )
        else:
            code = province + key
            table[code] = Division(code, _level(code), _parse_periods(value))
    return table


@cache
def _table() -> Mapping[str, Division]:
    text = resources.files(_SOURCE_PACKAGE).joinpath(_SOURCE_FILE).read_text(encoding="utf-8")
    return _parse_table(text)


@cache
def _name_index() -> Mapping[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for code, item in _table().items():
        for period in item.periods:
            for key in {period.name, short_name(period.name)}:
                bucket = index.setdefault(key, [])
                if code not in bucket:
                    bucket.append(code)
    return {key: tuple(codes) for key, codes in index.items()}


def source_revision() -> str:
    """Name and version of the package the table comes from, for reports and docs."""
    return f"python-stdnum {metadata.version('python-stdnum')} ({_SOURCE_PACKAGE}/{_SOURCE_FILE})"


def all_divisions() -> Iterator[Division]:
    """Every code in the table, in code order."""
    table = _table()
    return (table[code] for code in sorted(table))


def get(code: str) -> Division | None:
    """The division with this six-digit code, or ``None`` if the code never existed."""
    return _table().get(code)


def division(code: str) -> Division:
    """The division with this code; :class:`UnknownCodeError` if it never existed.

    >>> division("110105").name
    '朝阳区'
    """
    found = get(code)
    if found is None:
        raise UnknownCodeError(CODE_LIST, code)
    return found


def level_of(code: str) -> Level:
    """Province, prefecture or county, read from the shape of the code.

    >>> level_of("320500"), level_of("320506"), level_of("320000")
    ('prefecture', 'county', 'province')
    """
    return _level(code)


def name_at(code: str, when: datetime.date) -> str | None:
    """The name that held ``code`` on ``when`` (to the year), or ``None``."""
    found = get(code)
    return None if found is None else found.name_in(when.year)


def valid_at(code: str, when: datetime.date) -> bool:
    """Whether ``code`` was an assigned division code on ``when`` (to the year)."""
    return name_at(code, when) is not None


def last_valid_year(code: str) -> int | None:
    """The last year ``code`` was in use (9999 if still in use), ``None`` if never."""
    found = get(code)
    return None if found is None else found.last_year


def valid_on_or_after(code: str, when: datetime.date) -> bool:
    """Whether ``code`` was in use in the year of ``when`` or any later year.

    This is the test an identity number's address code must pass against the birth
    date: a code abolished before the person was born cannot be theirs, while one
    abolished since still is (the number is for life).

    >>> valid_on_or_after("440524", datetime.date(1880, 1, 1))
    True
    >>> valid_on_or_after("440524", datetime.date(1994, 1, 1))
    False
    """
    last = last_valid_year(code)
    return last is not None and last >= when.year


def parent(code: str, when: datetime.date | None = None) -> Division | None:
    """The division ``code`` belongs to: its prefecture if one exists, else its province.

    With ``when``, the parent must have been in use that year (prefectures were
    created and dissolved over time); without it, any parent that ever existed.

    >>> parent("440524").code
    '440500'
    >>> parent("440500").code
    '440000'
    """
    level = _level(code)
    if level == "province":
        return None
    candidates = [code[:4] + "00", code[:2] + "0000"] if level == "county" else [code[:2] + "0000"]
    for candidate in candidates:
        found = get(candidate)
        if found is not None and (when is None or found.name_in(when.year) is not None):
            return found
    return None


def children(code: str, when: datetime.date | None = None) -> tuple[Division, ...]:
    """The divisions directly below ``code`` (in use on ``when`` if given)."""
    return tuple(
        item
        for item in all_divisions()
        if item.code != code
        and (p := parent(item.code, when)) is not None
        and p.code == code
        and (when is None or item.name_in(when.year) is not None)
    )


def full_name(code: str, when: datetime.date | None = None) -> str:
    """Province + prefecture + county name, as an address is written.

    Parents named 市辖区 or 县 (the grouping rows of municipalities) are left out.
    """
    year = (when or datetime.date.today()).year
    chain: list[Division] = []
    current: Division | None = division(code)
    while current is not None:
        chain.append(current)
        current = parent(current.code, when)
    parts: list[str] = []
    for item in reversed(chain):
        name = item.name_in(year) or item.name
        # A municipality's province row and its 0000 row share a name (北京市北京市).
        if name not in _GROUPING_ROWS and (not parts or parts[-1] != name):
            parts.append(name)
    return "".join(parts)


def short_name(name: str) -> str:
    """The name as people say it: 广西壮族自治区 → 广西, 朝阳区 → 朝阳.

    A two-character county name keeps its suffix (the 2260 convention: 景县 stays
    景县), since one character alone is no name.

    >>> short_name("广西壮族自治区"), short_name("内蒙古自治区"), short_name("景县")
    ('广西', '内蒙古', '景县')
    """
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def lookup(name: str, when: datetime.date | None = None) -> tuple[Division, ...]:
    """Divisions whose full or short name is ``name`` (in use on ``when`` if given).

    Several counties share a name (朝阳区 in Beijing and in Changchun), so a tuple
    comes back and the caller narrows it by parent.
    """
    key = name.strip()
    codes = _name_index().get(key, ()) or _name_index().get(short_name(key), ())
    found = (division(code) for code in codes)
    if when is None:
        return tuple(found)
    return tuple(item for item in found if item.name_in(when.year) is not None)
