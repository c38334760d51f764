"""Defects departments' records really have, injected at configured rates and recorded.

Each defect is applied to a random subset of a feed's records and named in the
record's ``defects`` list, so that every later stage can be scored against what was
done: a homophone in a name, a transposed digit, a 15-digit number, an empty field,
a duplicated row, a stale address. Malformed lines are made by the writers (they
depend on the file format); semantic defects such as a death not yet known are
made by the feed modules, which know what a record means.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from hukou.synth.config import DefectRates

__all__ = ["DEFECT_KINDS", "FieldRoles", "inject_defects", "legacy_number"]

DEFECT_KINDS = (
    "name_homophone",
    "name_lookalike",
    "name_traditional",
    "id_full_width",
    "id_transposed",
    "id_mistyped",
    "id_wrong_check",
    "id_legacy_15",
    "missing_field",
    "duplicate_row",
    "date_out_of_range",
    "stale_address",
    "malformed_line",
    "death_not_known",
    "stale_lease",
    "guardian_id_mistyped",
)

# Same sound, different character: how a clerk mishears a name at a counter.
_HOMOPHONES = {
    "伟": "玮炜",
    "丽": "莉俐",
    "敏": "民闽",
    "婷": "亭庭",
    "军": "君钧",
    "华": "桦骅",
    "明": "铭鸣",
    "杰": "洁捷",
    "涛": "韬滔",
    "峰": "锋枫",
    "芳": "方",
    "红": "虹宏",
    "英": "瑛莹",
    "玲": "琳铃",
    "斌": "彬滨",
    "鹏": "朋",
    "磊": "垒",
    "浩": "皓昊",
    "宇": "雨语",
    "欣": "馨新",
    "怡": "宜仪",
    "涵": "含晗",
    "轩": "萱宣",
    "辰": "晨臣",
    "雪": "学",
    "晶": "菁精",
    "艳": "燕彦",
    "霞": "侠",
    "萍": "平苹",
    "梅": "美玫",
    "兰": "蓝岚",
    "凤": "风",
    "珍": "真",
    "秀": "绣",
    "桂": "贵",
    "建": "健剑",
    "国": "果",
    "民": "敏",
    "平": "萍",
    "勇": "永咏",
    "刚": "钢纲",
    "超": "潮",
    "飞": "菲",
    "鑫": "新",
    "阳": "洋扬",
    "俊": "骏",
    "凯": "恺",
    "博": "波",
    "文": "雯闻",
    "睿": "锐瑞",
    "昊": "浩",
    "泽": "择",
    "熙": "希曦",
    "梓": "子紫",
    "雨": "宇",
    "桐": "彤童",
    "诗": "思",
    "可": "珂",
    "馨": "欣",
    "若": "如",
    "萱": "宣",
    "静": "婧靖",
    "丹": "单",
    "娟": "鹃",
    "张": "章",
    "程": "成",
    "肖": "萧",
    "徐": "许",
    "杨": "阳",
    "刘": "柳",
    "吴": "武",
    "黄": "皇",
}
# Look-alike characters: how a form is misread when it is typed in.
_LOOKALIKES = {
    "王": "玉",
    "天": "夭",
    "大": "太",
    "土": "士",
    "人": "入",
    "干": "千",
    "田": "由",
    "日": "曰",
    "己": "已",
    "未": "末",
    "晴": "睛",
    "侯": "候",
    "戊": "戌",
    "宇": "字",
    "洁": "沽",
    "浩": "告",
    "琳": "淋",
    "婷": "亭",
    "燕": "熏",
    "博": "傅",
    "雪": "雷",
    "晨": "晟",
    "鹏": "朋",
    "磊": "垒",
}
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@dataclass(frozen=True, slots=True)
class FieldRoles:
    """Which of a feed's columns hold what, so defects land on the right fields."""

    identity: str | None = None
    name: str | None = None
    date: str | None = None  # the record's main date (the birth date where there is one)
    address: str | None = None
    previous_address: str | None = None  # helper column: the address before the last move
    required: tuple[str, ...] = ()


@cache
def _to_traditional() -> Callable[[str], str]:
    import opencc  # noqa: PLC0415  (loaded only when a city is generated)

    converter = opencc.OpenCC("s2t")
    convert: Callable[[str], str] = converter.convert
    return convert


def legacy_number(number: str) -> str:
    """The 15-digit form of an 18-digit number of someone born in the 1900s."""
    return number[:6] + number[8:17]


def _replace_char(name: str, table: dict[str, str], rng: np.random.Generator) -> str | None:
    positions = [i for i, ch in enumerate(name) if ch in table]
    if not positions:
        return None
    i = positions[int(rng.integers(len(positions)))]
    options = table[name[i]]
    return name[:i] + options[int(rng.integers(len(options)))] + name[i + 1 :]


def _transpose(number: str, rng: np.random.Generator) -> str | None:
    candidates = [i for i in range(16) if number[i] != number[i + 1]]
    if not candidates:
        return None
    i = candidates[int(rng.integers(len(candidates)))]
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def _mistype(number: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(17))
    digit = (int(number[i]) + int(rng.integers(1, 10))) % 10
    return number[:i] + str(digit) + number[i + 1 :]


def _wrong_check(number: str, rng: np.random.Generator) -> str:
    options = [c for c in "0123456789X" if c != number[17]]
    return number[:17] + options[int(rng.integers(len(options)))]


_DATE_PARTS = re.compile(r"^(\d{4})(\D*)(\d{1,2})(\D*)(\d{1,2})(.*)$")


def _out_of_range(value: str, rng: np.random.Generator) -> str:
    """Keep the department's date format, break the date: month 13, day 32 or year 2099.

    Works for padded and unpadded forms alike (20230105, 2023/1/5, 2023年1月5日).
    """
    compact = len(value) >= 8 and value[:8].isdigit()
    match = None if compact else _DATE_PARTS.match(value)
    if compact:
        year, sep1, month, sep2, day, rest = value[:4], "", value[4:6], "", value[6:8], value[8:]
    elif match is not None:
        year, sep1, month, sep2, day, rest = match.groups()
    else:
        return "2099-01-01"
    kind = int(rng.integers(3))
    if kind == 0:
        year = "2099"  # a year in the future
    elif kind == 1:
        month = "13"
    else:
        day = "32"
    return f"{year}{sep1}{month}{sep2}{day}{rest}"


class _Edits:
    """Changes to a few rows of a large frame, applied at the end with one scatter per column.

    Converting a million-row column to Python objects costs seconds; the defects
    touch a few per cent of rows, so only those rows are read and written.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.values: dict[str, dict[int, object]] = {}
        self.defects: dict[int, list[str]] = {}

    def read(self, column: str, rows: np.ndarray) -> list[object]:
        changed = self.values.get(column, {})
        original = self.frame[column].gather(rows).to_list()
        return [changed.get(int(r), v) for r, v in zip(rows, original, strict=True)]

    def write(self, column: str, row: int, value: object, defect: str) -> None:
        self.values.setdefault(column, {})[row] = value
        self.defects.setdefault(row, []).append(defect)

    def apply(self) -> pl.DataFrame:
        columns = []
        for name in self.frame.columns:
            series = self.frame[name]
            changed = self.values.get(name)
            if changed:
                rows = sorted(changed)
                series = series.clone().scatter(
                    rows, pl.Series([changed[r] for r in rows], dtype=series.dtype)
                )
            columns.append(series)
        labels = np.full(self.frame.height, "", dtype=object)
        for row, kinds in self.defects.items():
            labels[row] = ";".join(kinds)
        return pl.DataFrame(columns).with_columns(
            _as_list(pl.Series("defects", labels, dtype=pl.String))
        )


def _as_list(labels: pl.Series | pl.Expr) -> pl.Expr:
    """A ``;``-joined label column as a list column (empty list for no defects)."""
    expr = pl.lit(labels) if isinstance(labels, pl.Series) else labels
    return (
        pl.when(expr == "")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(expr.str.split(";"))
        .alias("defects")
    )


@dataclass(frozen=True, slots=True)
class _Draw:
    """Which rows get a defect: each row independently at the defect's scaled rate."""

    rng: np.random.Generator
    rates: DefectRates
    quality: float
    n: int

    def rows(self, kind: str, eligible: np.ndarray | None = None) -> np.ndarray:
        mask = self.rng.random(self.n) < self.rates.rate(kind) * self.quality
        if eligible is not None:
            mask &= eligible
        return np.flatnonzero(mask)


def _name_defects(edits: _Edits, column: str, draw: _Draw) -> None:
    for kind, table in (("name_homophone", _HOMOPHONES), ("name_lookalike", _LOOKALIKES)):
        rows = draw.rows(kind)
        for row, name in zip(rows, edits.read(column, rows), strict=True):
            if name and (changed := _replace_char(str(name), table, draw.rng)) is not None:
                edits.write(column, int(row), changed, kind)
    rows = draw.rows("name_traditional")
    for row, name in zip(rows, edits.read(column, rows), strict=True):
        if name and (changed := _to_traditional()(str(name))) != name:
            edits.write(column, int(row), changed, "name_traditional")


def _identity_defects(edits: _Edits, column: str, draw: _Draw, years: np.ndarray) -> None:
    """At most one identity-number defect per record, applied in this order."""
    touched: set[int] = set()
    steps: list[tuple[str, Callable[[str, np.random.Generator], str | None], np.ndarray | None]] = [
        ("id_legacy_15", lambda v, _r: legacy_number(v), (years >= 1900) & (years < 1984)),
        ("id_transposed", _transpose, None),
        ("id_mistyped", _mistype, None),
        ("id_wrong_check", _wrong_check, None),
        ("id_full_width", lambda v, _r: v.translate(_FULL_WIDTH), None),
    ]
    for kind, change, eligible in steps:
        rows = draw.rows(kind, eligible)
        for row, value in zip(rows, edits.read(column, rows), strict=True):
            if int(row) in touched or not value or len(str(value)) != 18:
                continue
            if (changed := change(str(value), draw.rng)) is not None:
                edits.write(column, int(row), changed, kind)
                touched.add(int(row))


def _field_defects(edits: _Edits, roles: FieldRoles, draw: _Draw) -> None:
    """Impossible dates, stale addresses and empty required fields."""
    if roles.date is not None:
        rows = draw.rows("date_out_of_range")
        for row, value in zip(rows, edits.read(roles.date, rows), strict=True):
            if value:
                broken = _out_of_range(str(value), draw.rng)
                edits.write(roles.date, int(row), broken, "date_out_of_range")
    if roles.address is not None and roles.previous_address is not None:
        rows = draw.rows("stale_address")
        current = edits.read(roles.address, rows)
        previous = edits.read(roles.previous_address, rows)
        for row, now, before in zip(rows, current, previous, strict=True):
            if now and before and before != now:
                edits.write(roles.address, int(row), before, "stale_address")
    if roles.required:
        rows = draw.rows("missing_field")
        picks = draw.rng.integers(0, len(roles.required), len(rows))
        for row, pick in zip(rows, picks, strict=True):
            column = roles.required[int(pick)]
            (value,) = edits.read(column, np.array([row]))
            if value not in (None, ""):
                edits.write(column, int(row), None, f"missing_field:{column}")


def inject_defects(
    frame: pl.DataFrame,
    roles: FieldRoles,
    rates: DefectRates,
    rng: np.random.Generator,
    *,
    quality: float = 1.0,
    birth_year: str = "_birth_year",
) -> pl.DataFrame:
    """Apply the defects to ``frame`` and list them in a ``defects`` column (list of str).

    ``quality`` scales this feed's rates (the household register is cleaner than a
    rental register). ``birth_year`` names a helper column used to decide who can
    still carry a 15-digit number. Helper columns are kept; the caller drops them.
    Duplicated rows are inserted right after their original and carry
    ``duplicate_row``; the original does not.
    """
    n = frame.height
    edits = _Edits(frame)
    draw = _Draw(rng, rates, quality, n)
    if roles.name is not None:
        _name_defects(edits, roles.name, draw)
    if roles.identity is not None:
        years = frame[birth_year].to_numpy() if birth_year in frame.columns else np.full(n, 2000)
        _identity_defects(edits, roles.identity, draw, years)
    _field_defects(edits, roles, draw)
    result = edits.apply()
    duplicates = draw.rows("duplicate_row")
    if len(duplicates) == 0:
        return result
    order = np.sort(np.concatenate([np.arange(n), duplicates]))
    is_copy = np.zeros(len(order), dtype=bool)
    is_copy[1:] = order[1:] == order[:-1]
    marked: pl.DataFrame = result[order.tolist()].with_columns(
        pl.when(pl.Series(is_copy))
        .then(pl.col("defects").list.concat(pl.lit(["duplicate_row"])))
        .otherwise(pl.col("defects"))
        .alias("defects")
    )
    return marked
