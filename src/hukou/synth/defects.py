"""Defects departments' records really have, injected at configured rates and recorded.

Each defect is applied to a random subset of a feed's records and named in the
record's ``defects`` list, so that every later stage can be scored against what was
done: a homophone in a name, a transposed digit, a 15-digit number, an empty field,
a duplicated row, a stale address. Malformed lines are made by the writers (they
depend on the file format); semantic defects such as a death not yet known are
made by the feed modules, which know what a record means.
"""

from __future__ import annotations

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
    birth_date: str | None = None
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


def _out_of_range(value: str, rng: np.random.Generator) -> str:
    """Keep the department's date format, break the date: month 13, day 32 or year 2099."""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    if len(digits) < 6:
        return "2099-01-01"
    kind = int(rng.integers(3))
    if kind == 0:  # a year in the future
        return "2099" + value[4:] if value[:4].isdigit() else value
    text = list(value)
    if kind == 1:  # month 13
        month = digits[4:6]
        text[month[0]], text[month[1]] = "1", "3"
    else:  # day 32 or more
        day = digits[-2:]
        text[day[0]], text[day[1]] = "3", "2"
    return "".join(text)


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
    columns = {name: frame[name].to_list() for name in frame.columns}
    defects: list[list[str]] = [[] for _ in range(n)]

    def chosen(kind: str, eligible: np.ndarray | None = None) -> np.ndarray:
        mask = rng.random(n) < rates.rate(kind) * quality
        if eligible is not None:
            mask &= eligible
        return np.flatnonzero(mask)

    if roles.name is not None:
        names = columns[roles.name]
        for kind, table in (("name_homophone", _HOMOPHONES), ("name_lookalike", _LOOKALIKES)):
            for i in chosen(kind):
                if names[i] and (changed := _replace_char(names[i], table, rng)) is not None:
                    names[i] = changed
                    defects[i].append(kind)
        for i in chosen("name_traditional"):
            if names[i] and (changed := _to_traditional()(names[i])) != names[i]:
                names[i] = changed
                defects[i].append("name_traditional")

    if roles.identity is not None:
        numbers = columns[roles.identity]
        years = np.array(columns[birth_year]) if birth_year in columns else np.full(n, 2000)
        # One identity defect per record at most: they are applied in this order.
        touched = np.zeros(n, dtype=bool)
        steps: list[
            tuple[str, Callable[[str, np.random.Generator], str | None], np.ndarray | None]
        ] = [
            ("id_legacy_15", lambda v, _r: legacy_number(v), (years >= 1900) & (years < 1984)),
            ("id_transposed", _transpose, None),
            ("id_mistyped", _mistype, None),
            ("id_wrong_check", _wrong_check, None),
            ("id_full_width", lambda v, _r: v.translate(_FULL_WIDTH), None),
        ]
        for kind, change, eligible in steps:
            for i in chosen(kind, eligible):
                value = numbers[i]
                if touched[i] or not value or len(value) != 18:
                    continue
                if (changed := change(value, rng)) is not None:
                    numbers[i] = changed
                    touched[i] = True
                    defects[i].append(kind)

    if roles.birth_date is not None:
        dates = columns[roles.birth_date]
        for i in chosen("date_out_of_range"):
            if dates[i]:
                dates[i] = _out_of_range(str(dates[i]), rng)
                defects[i].append("date_out_of_range")

    if roles.address is not None and roles.previous_address is not None:
        addresses, previous = columns[roles.address], columns[roles.previous_address]
        for i in chosen("stale_address"):
            if addresses[i] and previous[i] and previous[i] != addresses[i]:
                addresses[i] = previous[i]
                defects[i].append("stale_address")

    if roles.required:
        for i in chosen("missing_field"):
            column = roles.required[int(rng.integers(len(roles.required)))]
            if columns[column][i] not in (None, ""):
                columns[column][i] = None
                defects[i].append(f"missing_field:{column}")

    result = pl.DataFrame(
        {
            name: pl.Series(name, values, dtype=frame.schema[name])
            for name, values in columns.items()
        }
    ).with_columns(pl.Series("defects", defects, dtype=pl.List(pl.String)))
    duplicates = chosen("duplicate_row")
    if len(duplicates) == 0:
        return result
    order = np.sort(np.concatenate([np.arange(n), duplicates]))
    copies = result[order.tolist()]
    is_copy = np.zeros(len(order), dtype=bool)
    is_copy[1:] = order[1:] == order[:-1]
    marked: pl.DataFrame = copies.with_columns(
        pl.when(pl.Series(is_copy))
        .then(pl.col("defects").list.concat(pl.lit(["duplicate_row"])))
        .otherwise(pl.col("defects"))
        .alias("defects")
    )
    return marked
