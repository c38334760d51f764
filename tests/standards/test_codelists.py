"""Tests for the national code lists and their department synonyms.

The official tables below are transcribed independently of the data files, so a typo
in a CSV fails here instead of being compared with itself.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from importlib import resources
from types import SimpleNamespace

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hukou.standards import codelists
from hukou.standards.codelists import (
    EDUCATION,
    ETHNICITY,
    MARITAL_STATUS,
    RELATIONSHIP,
    SEX,
    CodeList,
    CodeListDefinitionError,
    Entry,
    education_code,
    education_completed,
    education_level,
    education_rank,
    ethnicity_code,
    map_column,
    marital_status_code,
    normalise,
    relationship_code,
    sex_code,
)
from hukou.standards.errors import StandardsError, UnknownCodeError

ALL_LISTS = {
    "sex": SEX,
    "ethnicity": ETHNICITY,
    "relationship": RELATIONSHIP,
    "education": EDUCATION,
    "marital_status": MARITAL_STATUS,
}
LISTS = pytest.mark.parametrize("code_list", ALL_LISTS.values(), ids=ALL_LISTS.keys())

# GB/T 3304-1991: code, name, roman spelling, letter code.
ETHNIC_GROUPS = """
01 汉族 Han HA|02 蒙古族 Mongol MG|03 回族 Hui HU|04 藏族 Zang ZA|05 维吾尔族 Uygur UG
06 苗族 Miao MH|07 彝族 Yi YI|08 壮族 Zhuang ZH|09 布依族 Buyei BY|10 朝鲜族 Chosen CS
11 满族 Man MA|12 侗族 Dong DO|13 瑶族 Yao YA|14 白族 Bai BA|15 土家族 Tujia TJ
16 哈尼族 Hani HN|17 哈萨克族 Kazak KZ|18 傣族 Dai DA|19 黎族 Li LI|20 傈僳族 Lisu LS
21 佤族 Va VA|22 畲族 She SH|23 高山族 Gaoshan GS|24 拉祜族 Lahu LH|25 水族 Sui SU
26 东乡族 Dongxiang DX|27 纳西族 Naxi NX|28 景颇族 Jingpo JP|29 柯尔克孜族 Kirgiz KG
30 土族 Tu TU|31 达斡尔族 Daur DU|32 仫佬族 Mulao ML|33 羌族 Qiang QI|34 布朗族 Blang BL
35 撒拉族 Salar SL|36 毛南族 Maonan MN|37 仡佬族 Gelao GL|38 锡伯族 Xibe XB
39 阿昌族 Achang AC|40 普米族 Pumi PM|41 塔吉克族 Tajik TA|42 怒族 Nu NU
43 乌孜别克族 Uzbek UZ|44 俄罗斯族 Russ RS|45 鄂温克族 Ewenki EW|46 德昂族 Deang DE
47 保安族 Bonan BN|48 裕固族 Yugur YG|49 京族 Gin GI|50 塔塔尔族 Tatar TT
51 独龙族 Derung DR|52 鄂伦春族 Oroqen OR|53 赫哲族 Hezhen HZ|54 门巴族 Monba MB
55 珞巴族 Lhoba LB|56 基诺族 Jino JN
"""
ETHNIC_TABLE = [
    tuple(item.split()) for item in ETHNIC_GROUPS.replace("\n", "|").split("|") if item.strip()
]

# GB/T 4761-2008 家庭关系代码.
RELATIONSHIP_TABLE = dict(
    item.split()
    for item in """
01 本人|02 户主|10 配偶|11 夫|12 妻|20 子|21 独生子|22 长子|23 次子|24 三子|25 四子|26 五子
27 养子或继子|28 女婿|29 其他儿子|30 女|31 独生女|32 长女|33 次女|34 三女|35 四女|36 五女
37 养女或继女|38 儿媳|39 其他女儿|40 孙子、孙女或外孙子、外孙女|41 孙子|42 孙女|43 外孙子
44 外孙女|45 孙媳妇或外孙媳妇|46 孙女婿或外孙女婿|47 曾孙子或外曾孙子|48 曾孙女或外曾孙女
49 其他孙子、孙女或外孙子、外孙女|50 父母|51 父亲|52 母亲|53 公公|54 婆婆|55 岳父|56 岳母
57 继父或养父|58 继母或养母|59 其他父母关系|60 祖父母或外祖父母|61 祖父|62 祖母|63 外祖父
64 外祖母|65 配偶的祖父母或外祖父母|66 曾祖父|67 曾祖母|68 配偶的曾祖父母或外曾祖父母
69 其他祖父母或外祖父母关系|70 兄弟姐妹|71 兄|72 嫂|73 弟|74 弟媳|75 姐姐|76 姐夫|77 妹妹
78 妹夫|79 其他兄弟姐妹|80 其他|81 伯父|82 伯母|83 叔父|84 婶母|85 舅父|86 舅母|87 姨父
88 姨母|89 姑父|90 姑母|91 堂兄弟、堂姐妹|92 表兄弟、表姐妹|93 侄子|94 侄女|95 外甥
96 外甥女|97 其他亲属|99 非亲属
""".replace("\n", "|").split("|")
    if item.strip()
)

# GB/T 4658-2006 学历代码 (not the withdrawn 1984 文化程度代码).
EDUCATION_TABLE = dict(
    item.split()
    for item in """
10 研究生教育|11 博士研究生毕业|12 博士研究生结业|13 博士研究生肄业|14 硕士研究生毕业
15 硕士研究生结业|16 硕士研究生肄业|17 研究生班毕业|18 研究生班结业|19 研究生班肄业
20 大学本科教育|21 大学本科毕业|22 大学本科结业|23 大学本科肄业|28 大学普通班毕业
30 大学专科教育|31 大学专科毕业|32 大学专科结业|33 大学专科肄业|40 中等职业教育
41 中等专科毕业|42 中等专科结业|43 中等专科肄业|44 职业高中毕业|45 职业高中结业
46 职业高中肄业|47 技工学校毕业|48 技工学校结业|49 技工学校肄业|60 普通高级中学教育
61 普通高中毕业|62 普通高中结业|63 普通高中肄业|70 初级中学教育|71 初中毕业|73 初中肄业
80 小学教育|81 小学毕业|83 小学肄业|90 其他
""".replace("\n", "|").split("|")
    if item.strip()
)

SEX_TABLE = {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}
MARITAL_TABLE = {
    "10": "未婚",
    "20": "已婚",
    "21": "初婚",
    "22": "再婚",
    "23": "复婚",
    "30": "丧偶",
    "40": "离婚",
    "90": "未说明的婚姻状况",
}

SYNONYMS = [
    # GB/T 2261.1
    (SEX, "男", "1"),
    (SEX, "女", "2"),
    (SEX, "男性", "1"),
    (SEX, "女性", "2"),
    (SEX, "M", "1"),
    (SEX, "f", "2"),
    (SEX, "Male", "1"),
    (SEX, "FEMALE", "2"),
    (SEX, "man", "1"),
    (SEX, "Woman", "2"),
    (SEX, "1", "1"),
    (SEX, "2", "2"),
    (SEX, "01", "1"),
    (SEX, "１", "1"),
    (SEX, "未知", "0"),
    (SEX, "不详", "0"),
    (SEX, "未说明", "9"),
    (SEX, " 男 ", "1"),
    # GB/T 3304
    (ETHNICITY, "汉族", "01"),
    (ETHNICITY, "汉", "01"),
    (ETHNICITY, "01", "01"),
    (ETHNICITY, "1", "01"),
    (ETHNICITY, "001", "01"),
    (ETHNICITY, "０５", "05"),
    (ETHNICITY, "蒙古", "02"),
    (ETHNICITY, "维吾尔", "05"),
    (ETHNICITY, "维族", "05"),
    (ETHNICITY, "HA", "01"),
    (ETHNICITY, "han", "01"),
    (ETHNICITY, "Uyghur", "05"),
    (ETHNICITY, "土", "30"),
    (ETHNICITY, "土家", "15"),
    (ETHNICITY, "土家族", "15"),
    (ETHNICITY, "哈尼", "16"),
    (ETHNICITY, "哈萨克", "17"),
    (ETHNICITY, "汉 族", "01"),
    (ETHNICITY, "97", "97"),
    (ETHNICITY, "外国血统中国籍人士", "98"),
    # GB/T 4761
    (RELATIONSHIP, "户主", "02"),
    (RELATIONSHIP, "户主本人", "02"),
    (RELATIONSHIP, "本人", "01"),
    (RELATIONSHIP, "2", "02"),
    (RELATIONSHIP, "配偶", "10"),
    (RELATIONSHIP, "爱人", "10"),
    (RELATIONSHIP, "子", "20"),
    (RELATIONSHIP, "儿子", "20"),
    (RELATIONSHIP, "女", "30"),
    (RELATIONSHIP, "女儿", "30"),
    (RELATIONSHIP, "丈夫", "11"),
    (RELATIONSHIP, "妻子", "12"),
    (RELATIONSHIP, "父", "51"),
    (RELATIONSHIP, "母", "52"),
    (RELATIONSHIP, "孙", "41"),
    (RELATIONSHIP, "孙女", "42"),
    (RELATIONSHIP, "外孙", "43"),
    (RELATIONSHIP, "长子", "22"),
    (RELATIONSHIP, "儿媳妇", "38"),
    (RELATIONSHIP, "姨夫", "87"),
    (RELATIONSHIP, "堂妹", "91"),
    (RELATIONSHIP, "表兄", "92"),
    (RELATIONSHIP, "表哥", "92"),
    (RELATIONSHIP, "堂哥", "91"),
    (RELATIONSHIP, "非亲属", "99"),
    # GB/T 4658
    (EDUCATION, "博士", "11"),
    (EDUCATION, "硕士", "14"),
    (EDUCATION, "研究生", "10"),
    (EDUCATION, "本科", "21"),
    (EDUCATION, "大学本科", "21"),
    (EDUCATION, "大学", "21"),
    (EDUCATION, "大专", "31"),
    (EDUCATION, "专科", "31"),
    (EDUCATION, "中专", "41"),
    (EDUCATION, "职高", "44"),
    (EDUCATION, "技校", "47"),
    (EDUCATION, "高中", "61"),
    (EDUCATION, "初中", "71"),
    (EDUCATION, "小学", "81"),
    (EDUCATION, "文盲", "90"),
    (EDUCATION, "半文盲", "90"),
    (EDUCATION, "不识字", "90"),
    (EDUCATION, "PhD", "11"),
    (EDUCATION, "高中 肄业", "63"),
    # GB/T 2261.2
    (MARITAL_STATUS, "未婚", "10"),
    (MARITAL_STATUS, "unmarried", "10"),
    (MARITAL_STATUS, "已婚", "20"),
    (MARITAL_STATUS, "结婚", "20"),
    (MARITAL_STATUS, "Married", "20"),
    (MARITAL_STATUS, "初婚", "21"),
    (MARITAL_STATUS, "再婚", "22"),
    (MARITAL_STATUS, "复婚", "23"),
    (MARITAL_STATUS, "丧偶", "30"),
    (MARITAL_STATUS, "widowed", "30"),
    (MARITAL_STATUS, "离婚", "40"),
    (MARITAL_STATUS, "离异", "40"),
    (MARITAL_STATUS, "divorced", "40"),
    (MARITAL_STATUS, "未说明", "90"),
]

UNKNOWN = [
    (SEX, "男女"),
    (SEX, "X"),
    (SEX, ""),
    (SEX, "   "),
    (SEX, "3"),
    (SEX, "1.0"),
    (SEX, "男 性别"),
    (ETHNICITY, "哈族"),
    (ETHNICITY, "57"),
    (ETHNICITY, "0"),
    (ETHNICITY, "汉族人"),
    (ETHNICITY, "Chinese"),
    (RELATIONSHIP, "媳妇"),
    (RELATIONSHIP, "弟妹"),
    (RELATIONSHIP, "大伯"),
    (RELATIONSHIP, "阿姨"),
    (RELATIONSHIP, "98"),
    (RELATIONSHIP, "亲属"),
    (EDUCATION, "中学"),
    (EDUCATION, "中技"),
    (EDUCATION, "1"),
    (EDUCATION, "50"),
    (EDUCATION, "72"),
    (MARITAL_STATUS, "单身"),
    (MARITAL_STATUS, "single"),
    (MARITAL_STATUS, "不详"),
    (MARITAL_STATUS, "50"),
]


def _ids(params: Sequence[tuple[object, ...]]) -> list[str]:
    return [f"{next(k for k, v in ALL_LISTS.items() if v is p[0])}-{p[1]!r}" for p in params]


# --- official codes --------------------------------------------------------------


@LISTS
def test_official_codes_names_and_labels_round_trip(code_list: CodeList) -> None:
    for code, entry in code_list.items():
        assert entry.code == code
        assert code_list.lookup(code) is entry
        assert code_list.lookup(entry.zh) is entry
        assert code_list.lookup(entry.en) is entry
        assert code_list.code(entry.zh) == code
        assert code_list.label(code) == entry.zh
        assert code_list.label(code, "en") == entry.en
        for spelling in entry.spellings():
            assert code_list.lookup(spelling) is entry, spelling


@pytest.mark.parametrize(
    ("code_list", "table"),
    [
        (SEX, SEX_TABLE),
        (RELATIONSHIP, RELATIONSHIP_TABLE),
        (EDUCATION, EDUCATION_TABLE),
        (MARITAL_STATUS, MARITAL_TABLE),
        (
            ETHNICITY,
            {code: zh for code, zh, *_ in ETHNIC_TABLE}
            | {"97": "其他", "98": "外国血统中国籍人士"},
        ),
    ],
    ids=["sex", "relationship", "education", "marital_status", "ethnicity"],
)
def test_lists_match_the_standards(code_list: CodeList, table: dict[str, str]) -> None:
    assert {code: entry.zh for code, entry in code_list.items()} == table
    assert list(code_list) == sorted(table)


def test_all_56_ethnic_groups_with_unique_codes_and_roman_spellings() -> None:
    assert len(ETHNIC_TABLE) == 56
    groups = [entry for entry in ETHNICITY.values() if entry.abbr is not None]
    assert [entry.code for entry in groups] == [f"{n:02d}" for n in range(1, 57)]
    assert [(e.code, e.zh, e.en, e.abbr) for e in groups] == ETHNIC_TABLE
    abbrs = [entry.abbr for entry in groups]
    assert len(set(abbrs)) == 56
    assert all(a is not None and len(a) == 2 and a.isupper() for a in abbrs)
    assert len({entry.en.casefold() for entry in groups}) == 56
    assert len({entry.zh for entry in groups}) == 56
    assert ETHNICITY["97"].abbr is None
    assert ETHNICITY["98"].abbr is None


@pytest.mark.parametrize(("code", "zh", "roman", "abbr"), ETHNIC_TABLE)
def test_each_ethnic_group_by_every_habitual_spelling(
    code: str, zh: str, roman: str, abbr: str
) -> None:
    short = zh.removesuffix("族")
    for spelling in (zh, short, roman, roman.upper(), abbr, abbr.lower(), code, code.lstrip("0")):
        assert ethnicity_code(spelling) == code, spelling


def test_hierarchy_parents() -> None:
    assert EDUCATION["21"].parent == "20"
    assert EDUCATION["47"].parent == "40"
    assert EDUCATION["20"].parent is None
    assert RELATIONSHIP["22"].parent == "20"
    assert RELATIONSHIP["12"].parent == "10"
    assert RELATIONSHIP["02"].parent is None
    assert MARITAL_STATUS["22"].parent == "20"
    for code_list in ALL_LISTS.values():
        for entry in code_list.values():
            if entry.parent is not None:
                assert code_list[entry.parent].parent is None
                assert int(entry.parent) < int(entry.code), entry


# --- department synonyms -----------------------------------------------------------


@pytest.mark.parametrize(("code_list", "value", "code"), SYNONYMS, ids=_ids(SYNONYMS))
def test_department_synonyms(code_list: CodeList, value: str, code: str) -> None:
    assert code_list.lookup(value).code == code


def test_convenience_functions() -> None:
    assert sex_code("male") == "1"
    assert ethnicity_code("汉") == "01"
    assert relationship_code("儿子") == "20"
    assert education_code("本科") == "21"
    assert marital_status_code("divorced") == "40"


# --- unknown values are reported, never guessed -----------------------------------------


@pytest.mark.parametrize(("code_list", "value"), UNKNOWN, ids=_ids(UNKNOWN))
def test_unknown_values_raise_with_value_and_list(code_list: CodeList, value: str) -> None:
    with pytest.raises(UnknownCodeError) as caught:
        code_list.lookup(value)
    assert caught.value.value == value
    assert caught.value.code_list == code_list.name
    assert isinstance(caught.value, StandardsError)
    assert isinstance(caught.value, ValueError)
    assert code_list.name in str(caught.value)


def test_convenience_functions_raise_too() -> None:
    with pytest.raises(UnknownCodeError, match=r"GB/T 2261\.1-2003 sex"):
        sex_code("男女")
    with pytest.raises(UnknownCodeError, match="GB/T 3304-1991"):
        ethnicity_code("哈族")


# --- the build-time checks ---------------------------------------------------------------

HEADER = "code,zh,en,parent,abbr,synonyms\n"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("1,甲,a,,,同\n2,乙,b,,,同\n", "names both 1 and 2"),
        ("1,甲,a,,,Same\n2,乙,b,,,ｓａｍｅ\n", "names both 1 and 2"),
        ("1,甲,a,,,\n2,乙,A,,,\n", "names both 1 and 2"),
        ("01,土族,Tu,,TU,土\n02,土家族,Tujia,,TU,\n", "names both 01 and 02"),
        ("1,甲,a,,,\n1,乙,b,,,\n", "appears twice"),
        ("1,甲,a,,,\n01,乙,b,,,\n", "leading zeros"),
        ("01,甲,a,,,\n02,乙,b,,,1\n", "reads as code 01"),
        ("1,甲,a,9,,\n", "unknown parent 9"),
        ("1,甲,,,,\n", "empty spelling"),
        ("1,甲,a,,\n", "has 5 fields"),
        ("", "no codes"),
    ],
)
def test_inconsistent_data_is_rejected_when_built(body: str, problem: str) -> None:
    with pytest.raises(CodeListDefinitionError, match=problem):
        CodeList.from_csv("test", HEADER + body)


def test_blank_synonyms_are_dropped_not_indexed() -> None:
    built = CodeList.from_csv("test", HEADER + "1,甲,a,,, |\u3000|乙|\n")
    assert dict(built.synonyms) == {"1": "1", "甲": "1", "a": "1", "乙": "1"}
    assert built["1"].synonyms == ("乙",)


def test_wrong_header_is_rejected() -> None:
    with pytest.raises(CodeListDefinitionError, match="header"):
        CodeList.from_csv("test", "code,name\n1,甲\n")
    with pytest.raises(CodeListDefinitionError, match="header"):
        CodeList.from_csv("test", "")


@pytest.mark.parametrize("file_name", [f"{name}.csv" for name in ALL_LISTS])
def test_shipped_files_have_no_ambiguous_spelling(file_name: str) -> None:
    """Re-check the data files independently of the constructor's own check."""
    path = resources.files("hukou.standards").joinpath("data").joinpath(file_name)
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    seen: dict[str, str] = {}
    for row in rows:
        spellings = [row["code"], row["zh"], row["en"], row["abbr"], *row["synonyms"].split("|")]
        for spelling in filter(None, (s.strip() for s in spellings)):
            key = normalise(spelling)
            assert seen.setdefault(key, row["code"]) == row["code"], (file_name, spelling)


def test_module_builds_its_lists_through_the_checked_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ambiguous data file makes the module's loader raise, i.e. the import fails."""
    ambiguous = HEADER + "1,男性,male,,,M\n2,女性,female,,,m\n"

    class FakeFile:
        def joinpath(self, _name: str) -> FakeFile:
            return self

        def read_text(self, encoding: str) -> str:
            assert encoding == "utf-8"
            return ambiguous

    monkeypatch.setattr(codelists, "resources", SimpleNamespace(files=lambda _pkg: FakeFile()))
    with pytest.raises(CodeListDefinitionError, match="names both 1 and 2"):
        codelists._load("sex.csv", "GB/T 2261.1-2003 sex")


# --- mapping behaviour and immutability -------------------------------------------------


def test_mapping_answers_about_official_codes_only() -> None:
    assert "1" in SEX
    assert "男" not in SEX
    assert "01" not in SEX
    assert SEX.get("男") is None
    assert SEX["2"].zh == "女性"
    with pytest.raises(KeyError):
        SEX["男"]
    assert len(ETHNICITY) == 58
    assert repr(SEX) == "CodeList('GB/T 2261.1-2003 sex', 4 codes)"


def test_label_accepts_official_codes_only() -> None:
    assert RELATIONSHIP.label("02") == "户主"
    assert RELATIONSHIP.label("02", "en") == "head of household"
    with pytest.raises(UnknownCodeError) as caught:
        RELATIONSHIP.label("户主")
    assert caught.value.value == "户主"


def test_code_lists_and_entries_are_immutable() -> None:
    with pytest.raises(AttributeError):
        SEX._name = "changed"
    with pytest.raises(AttributeError):
        del SEX._index
    with pytest.raises(TypeError):
        SEX.synonyms["x"] = "1"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SEX["1"].zh = "女性"  # type: ignore[misc]
    assert SEX.name == "GB/T 2261.1-2003 sex"


def test_normalise() -> None:
    assert normalise(" Ｍ ") == "m"
    assert normalise("汉\u3000 族\t") == "汉族"
    assert normalise("\u200b男\ufeff") == "男"
    assert normalise("RUß") == "russ"
    assert normalise("") == ""


# --- education ranking -------------------------------------------------------------------


def test_education_levels_ranks_and_completion() -> None:
    assert education_level("21") == "20"
    assert education_level("10") == "10"
    assert education_level("47") == "40"
    order = ["90", "81", "71", "61", "31", "21", "14", "11"]
    ranks = [education_rank(code) for code in order]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)
    assert education_rank("44") == education_rank("61")
    assert education_rank("10") == education_rank("14") < education_rank("13")
    assert education_rank("28") == education_rank("21")
    graduated = {code for code in EDUCATION if education_completed(code)}
    assert graduated == {"11", "14", "17", "21", "28", "31", "41", "44", "47", "61", "71", "81"}
    for code in EDUCATION:
        assert education_rank(code) == education_rank(education_level(code)) or code in {
            "11",
            "12",
            "13",
        }


@pytest.mark.parametrize("helper", [education_level, education_rank, education_completed])
def test_education_helpers_take_official_codes_only(helper: object) -> None:
    assert callable(helper)
    with pytest.raises(UnknownCodeError):
        helper("本科")
    with pytest.raises(UnknownCodeError):
        helper("50")


# --- scalar and vectorised agree ---------------------------------------------------------


def _scalar(code_list: CodeList, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return code_list.lookup(value).code
    except UnknownCodeError:
        return None


def _vector(code_list: CodeList, values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    return frame.select(map_column(code_list, pl.col("raw"))).to_series().to_list()


def _variants(spelling: str) -> list[str]:
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in spelling)
    return [spelling, spelling.upper(), spelling.lower(), f" {spelling}\u3000", wide]


@LISTS
def test_scalar_and_vectorised_agree_on_every_spelling(code_list: CodeList) -> None:
    unknown: list[str | None] = [None, "", "男女", "X", "哈族", "单身", "0000x", "1.0"]
    known: list[str | None] = [
        variant
        for entry in code_list.values()
        for spelling in entry.spellings()
        for variant in _variants(spelling)
    ]
    values = unknown + known
    vector = _vector(code_list, values)
    assert vector == [_scalar(code_list, value) for value in values]
    assert vector[: len(unknown)] == [None] * len(unknown)
    assert None not in vector[len(unknown) :]


def test_vectorised_unknowns_become_null_for_quarantine() -> None:
    frame = pl.DataFrame({"xb": ["男", "女", "男女", None, "X", "９"]})
    out = frame.with_columns(code=map_column(SEX, pl.col("xb")))
    assert out["code"].to_list() == ["1", "2", None, None, None, "9"]
    quarantined = out.filter(pl.col("xb").is_not_null() & pl.col("code").is_null())
    assert quarantined["xb"].to_list() == ["男女", "X"]


def test_vectorised_handles_integer_columns_lazy_frames_and_empty_input() -> None:
    ints = pl.DataFrame({"mz": [1, 5, 56, 57, None]})
    assert ints.select(map_column(ETHNICITY, pl.col("mz")))["mz"].to_list() == [
        "01",
        "05",
        "56",
        None,
        None,
    ]
    lazy = pl.LazyFrame({"gx": ["户主", "妻", "孙", "媳妇"] * 3})
    got = lazy.select(map_column(RELATIONSHIP, pl.col("gx"))).collect(engine="streaming")
    assert got["gx"].to_list() == ["02", "12", "41", None] * 3
    assert _vector(SEX, []) == []
    assert _vector(SEX, [None, None]) == [None, None]
    assert _vector(SEX, ["未知", "X"]) == ["0", None]


def _noisy_spellings(code_list: CodeList) -> st.SearchStrategy[str]:
    spellings = sorted({s for entry in code_list.values() for s in entry.spellings()})
    return st.builds(
        lambda spelling, pad, variant: pad + _variants(spelling)[variant] + pad,
        st.sampled_from(spellings),
        st.sampled_from(["", " ", "\t", "\u3000", "\u200b"]),
        st.integers(min_value=0, max_value=4),
    )


@LISTS
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_scalar_and_vectorised_agree_on_random_input(
    code_list: CodeList, data: st.DataObject
) -> None:
    value = st.one_of(
        st.none(),
        st.text(max_size=6),
        st.text(alphabet="0123456789０１ ", max_size=5),
        _noisy_spellings(code_list),
    )
    values = data.draw(st.lists(value, max_size=20))
    assert _vector(code_list, values) == [_scalar(code_list, v) for v in values]


@LISTS
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_noisy_spellings_still_resolve(code_list: CodeList, data: st.DataObject) -> None:
    value = data.draw(_noisy_spellings(code_list))
    assert code_list.lookup(value).code in code_list


def test_entry_spellings_order() -> None:
    entry = Entry("1", "甲", "first", synonyms=("一",))
    assert entry.spellings() == ("1", "甲", "first", "一")
