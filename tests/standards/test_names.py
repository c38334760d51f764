"""Tests for `hukou.standards.names`: name normalisation and matching keys."""

from __future__ import annotations

import dataclasses
import itertools
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hukou.standards.errors import StandardsError
from hukou.standards.names import (
    NAME_SEPARATOR,
    NameKey,
    canonical_pinyin,
    name_key,
    name_pinyin,
    normalise_name,
    to_simplified,
)

# --- strategies --------------------------------------------------------------------

# Characters that exercise every branch of normalise_name: ideographs (incl. a rare
# extension-B one, a private-use one and a Kangxi radical), Latin letters, spaces,
# every separator look-alike, invisible characters and combining marks.
_TRICKY = list(
    "张三买提艾力单曾吕女劉華abcuzAZ 　\t\n·•・‧∙⋅．.。-－—‐ꞏ⸱･\u0387"
    "\u200b\ufeff\u00ad\u0301\u0308ü:ＡＢ１⼈\ue000𠮷〇一"
)
tricky_text = st.text(alphabet=st.sampled_from(_TRICKY), max_size=12)
any_text = st.one_of(st.text(max_size=20), tricky_text)

# Common name characters that pypinyin can read, including polyphonic surnames.
_NAME_CHARS = "张王李赵刘陈杨黄吴周单曾仇朴解区查吕女小明华伟芳娜静丽强磊军洋勇艳杰涛乐黑长"
hanzi_names = st.text(alphabet=st.sampled_from(list(_NAME_CHARS)), min_size=1, max_size=4)

# After NFKC: separators everywhere, and separators only between ideographs.
_STRONG = set("·•・‧∙⋅ꞏ⸱⸳᛫･")
_WEAK = set(".。-‐‒–—―−﹘")


def _key_or_error(raw: str) -> NameKey | type[Exception]:
    try:
        return name_key(raw)
    except StandardsError as exc:
        return type(exc)


# --- normalise_name ----------------------------------------------------------------

SEPARATOR_SPELLINGS = [
    "买买提·艾力",
    "买买提•艾力",
    "买买提・艾力",
    "买买提 · 艾力",
    "买买提‧艾力",
    "买买提∙艾力",
    "买买提⋅艾力",
    "买买提･艾力",  # half-width katakana middle dot (NFKC -> U+30FB)
    "买买提ꞏ艾力",
    "买买提\u0387艾力",  # Greek ano teleia (NFKC -> U+00B7)
    "买买提．艾力",  # full-width full stop (NFKC -> '.')
    "买买提.艾力",
    "买买提。艾力",
    "买买提-艾力",
    "买买提－艾力",
    "买买提—艾力",
    "买买提 - 艾力",
    "买买提··艾力",
    "·买买提·艾力·",
    " 买买提 ·　艾力 ",
]


@pytest.mark.parametrize("raw", SEPARATOR_SPELLINGS)
def test_separator_look_alikes_become_middle_dot(raw: str) -> None:
    assert normalise_name(raw) == "买买提·艾力"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张 三", "张三"),
        ("张\u3000三", "张三"),  # padding with an ideographic space
        ("\t张三\n", "张三"),
        ("张\u200b三", "张三"),  # zero-width space
        ("\ufeff张三", "张三"),  # BOM
        ("Rene\u200b\u0301", "René"),  # invisible characters go before NFKC composes
        ("张三.", "张三"),  # trailing punctuation after a Chinese name
        ("ＺＨＡＮＧ　Ｓａｎ", "ZHANG San"),  # full-width letters, ideographic space
        ("李１２", "李12"),  # full-width digits
        ("⼈", "人"),  # KANGXI RADICAL MAN -> CJK ideograph
        ("John   Smith", "John Smith"),
        ("Jean-Luc Picard", "Jean-Luc Picard"),  # hyphen between Latin letters stays
        ("J. Smith", "J. Smith"),
        ("Smith Jr.", "Smith Jr."),
        ("张一山", "张一山"),  # 一 is a character, not a dash
        ("张 John", "张John"),
        ("John•Smith", "John·Smith"),
        ("", ""),
        ("   ", ""),
        ("· - .", ""),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_normalise_name_keeps_traditional_and_case() -> None:
    # Normalisation is display-safe: the simplified form belongs in the key.
    assert normalise_name("劉德華") == "劉德華"
    assert normalise_name("ZHANG San") == "ZHANG San"


def test_normalise_name_rejects_unpaired_surrogates() -> None:
    raw = b"\xd5\xc5\xff".decode("utf-8", errors="surrogateescape")
    with pytest.raises(StandardsError, match="surrogate"):
        normalise_name(raw)


@given(any_text)
@example("e\u200b\u0301")  # removing the ZWSP after NFKC would leave "e" + U+0301
def test_normalise_name_is_idempotent(raw: str) -> None:
    once = normalise_name(raw)
    assert normalise_name(once) == once
    assert unicodedata.is_normalized("NFKC", once)


@given(any_text)
def test_normalise_name_output_shape(raw: str) -> None:
    out = normalise_name(raw)
    assert out == out.strip()
    assert not out.startswith(NAME_SEPARATOR)
    assert not out.endswith(NAME_SEPARATOR)
    assert "  " not in out
    assert NAME_SEPARATOR * 2 not in out
    assert not any(ch in _STRONG - {NAME_SEPARATOR} for ch in out)
    assert not any(ch.isspace() and ch != " " for ch in out)
    for a, b in itertools.pairwise(out):
        if " " in (a, b):
            assert NAME_SEPARATOR not in (a, b)


@given(any_text)
def test_normalise_name_never_drops_or_changes_a_character(raw: str) -> None:
    # Only spaces, separators and invisible characters may go; every other
    # character of the NFKC form survives, in order.
    visible = "".join(
        ch
        for ch in raw
        if unicodedata.category(ch) != "Cf"
        and not (unicodedata.category(ch) == "Cc" and not ch.isspace())
    )
    nfkc = unicodedata.normalize("NFKC", visible)

    def significant(text: str) -> list[str]:
        return [c for c in text if not c.isspace() and c not in _STRONG | _WEAK]

    assert significant(normalise_name(raw)) == significant(nfkc)


# --- to_simplified ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("劉德華", "刘德华"),
        ("張偉", "张伟"),
        ("單雄信", "单雄信"),
        ("尉遲恭", "尉迟恭"),
        ("张伟", "张伟"),
        ("ZHANG San", "ZHANG San"),
        ("", ""),
    ],
)
def test_to_simplified(text: str, expected: str) -> None:
    assert to_simplified(text) == expected


# --- name_pinyin: surname readings -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("单雄信", ("shan", "xiong", "xin")),
        ("曾国藩", ("zeng", "guo", "fan")),
        ("仇英", ("qiu", "ying")),
        ("朴槿惠", ("piao", "jin", "hui")),
        ("解缙", ("xie", "jin")),
        ("区小明", ("ou", "xiao", "ming")),
        ("查良镛", ("zha", "liang", "yong")),
        ("盖小明", ("ge", "xiao", "ming")),
        ("缪小明", ("miao", "xiao", "ming")),
        ("覃小明", ("qin", "xiao", "ming")),
        ("乐毅", ("yue", "yi")),
        ("秘小明", ("bi", "xiao", "ming")),
        ("种师道", ("chong", "shi", "dao")),
        ("员半千", ("yun", "ban", "qian")),
        ("繁小明", ("po", "xiao", "ming")),
        ("黑小明", ("he", "xiao", "ming")),
        ("翟小明", ("zhai", "xiao", "ming")),
        ("句小明", ("gou", "xiao", "ming")),
        # Compound surnames are recognised before single ones.
        ("尉迟恭", ("yu", "chi", "gong")),
        ("万俟卨", ("mo", "qi", "xie")),
        ("长孙无忌", ("zhang", "sun", "wu", "ji")),
        ("令狐冲", ("ling", "hu", "chong")),
        ("澹台灭明", ("tan", "tai", "mie", "ming")),
        ("欧阳娜娜", ("ou", "yang", "na", "na")),
        # Single 尉 and 长 are surnames in their own right with other readings.
        ("尉缭", ("wei", "liao")),
        ("长小明", ("chang", "xiao", "ming")),
        # Surname readings equal to pypinyin's defaults without tones; pinned so a
        # pypinyin upgrade that changes them is noticed.
        ("华佗", ("hua", "tuo")),
        ("任小明", ("ren", "xiao", "ming")),
        ("过小明", ("guo", "xiao", "ming")),
        ("燕小明", ("yan", "xiao", "ming")),
        ("冼星海", ("xian", "xing", "hai")),
        # Traditional input: simplified first, then the surname table applies.
        ("單雄信", ("shan", "xiong", "xin")),
        ("尉遲恭", ("yu", "chi", "gong")),
    ],
)
def test_surname_readings(name: str, expected: tuple[str, ...]) -> None:
    assert name_pinyin(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("单单", ("shan", "dan")),  # surname shan, given name dan
        ("简单", ("jian", "dan")),  # 单 as a given name: ordinary reading
        ("王曾", ("wang", "ceng")),
        ("李解", ("li", "jie")),
        # Surname and given name are read separately: 曾经 as a word is "ceng jing".
        ("曾经", ("zeng", "jing")),
        # Too short for a compound surname plus a given name: 尉 + 迟.
        ("尉迟", ("wei", "chi")),
        # 单于 (chanyu) is deliberately not a compound surname.
        ("单于红", ("shan", "yu", "hong")),
    ],
)
def test_surname_reading_only_in_surname_position(name: str, expected: tuple[str, ...]) -> None:
    assert name_pinyin(name) == expected


def test_transliterated_names_have_no_surname_reading() -> None:
    # With a separator the name is a transliteration, read part by part.
    assert name_pinyin("曾·艾力") == ("ceng", "ai", "li")
    assert name_pinyin("曾艾力")[0] == "zeng"
    assert name_pinyin("买买提•艾力") == ("mai", "mai", "ti", "ai", "li")


def test_name_pinyin_spells_u_umlaut_as_v() -> None:
    assert name_pinyin("吕小明") == ("lv", "xiao", "ming")
    assert name_pinyin("女娲") == ("nv", "wa")
    assert name_pinyin("徐") == ("xu",)


def test_name_pinyin_of_latin_script() -> None:
    assert name_pinyin("ZHANG Xiaoming") == ("zhang", "xiaoming")
    assert name_pinyin("Lǚ Xiǎomíng") == ("lv", "xiaoming")
    assert name_pinyin("") == ()


# --- canonical_pinyin --------------------------------------------------------------


@pytest.mark.parametrize(
    ("syllable", "expected"),
    [
        ("lv", "lv"),
        ("lü", "lv"),
        ("lu\u0308", "lv"),  # decomposed ü
        ("lu:", "lv"),
        ("LYU", "lv"),
        ("Lǚ", "lv"),
        ("lü3", "lv"),
        ("nü", "nv"),
        ("nu:", "nv"),
        ("NYU", "nv"),
        ("lüe", "lve"),
        ("lue", "lve"),
        ("nüè", "nve"),
        ("lyue", "lve"),
        ("xü", "xu"),
        ("ju:", "ju"),
        ("yv", "yu"),
        ("qu", "qu"),
        ("lu", "lu"),  # 路: a different syllable, not folded here
        ("nu", "nu"),  # 努
        ("Zhāng", "zhang"),
        ("ZHANG1", "zhang"),
        (" shan ", "shan"),
        ("\u0261\u0251ng", "gang"),  # IPA-style script g and alpha
    ],
)
def test_canonical_pinyin(syllable: str, expected: str) -> None:
    assert canonical_pinyin(syllable) == expected


@pytest.mark.parametrize("bad", ["", "3", "吕", "lü-", "ab c"])
def test_canonical_pinyin_rejects_non_syllables(bad: str) -> None:
    with pytest.raises(StandardsError):
        canonical_pinyin(bad)


# --- name_key ----------------------------------------------------------------------


def test_traditional_and_simplified_share_the_hanzi_key() -> None:
    assert name_key("張偉").hanzi == name_key("张伟").hanzi == "张伟"
    assert name_key("劉德華").hanzi == "刘德华"
    assert name_key("劉德華") == name_key("刘德华")


def test_full_width_and_padding_share_the_key() -> None:
    assert name_key("张\u3000三") == name_key("张三")
    assert name_key("ＺＨＡＮＧ　Ｓａｎ") == name_key("zhang san")


@pytest.mark.parametrize(
    "raw",
    [
        "吕小明",
        "呂小明",  # traditional 呂
        "LYU Xiaoming",
        "LYU XIAOMING",
        "Lü Xiaoming",
        "LU Xiaoming",
        "LV Xiaoming",
        "Lu: Xiaoming",
        "Lǚ Xiǎomíng",
        "lyu xiao ming",
        "LYUXIAOMING",
    ],
)
def test_u_umlaut_spellings_share_the_pinyin_key(raw: str) -> None:
    assert name_key(raw).pinyin == "luxiaoming"


def test_u_umlaut_folding_is_deliberately_lossy_only_in_pinyin() -> None:
    # 吕 (lü) and 路 (lu) share the phonetic key; the hanzi key keeps them apart.
    lv, lu = name_key("吕小明"), name_key("路小明")
    assert lv.pinyin == lu.pinyin
    assert lv.hanzi != lu.hanzi


def test_nyu_inside_a_word_is_not_folded() -> None:
    # "chenyu" is chen + yu (陈玉), not che + nü.
    assert name_key("陈玉").pinyin == "chenyu"
    assert name_key("CHENYU").pinyin == "chenyu"
    assert name_key("NYU Wa").pinyin == name_key("女娲").pinyin == "nuwa"


@pytest.mark.parametrize(
    "raw", ["ZHANG San", "Zhang-San", "zhang san", "ZHANGSAN", "Zhāng Sān", "张三", "張三"]
)
def test_latin_script_names_meet_hanzi_names(raw: str) -> None:
    assert name_key(raw).pinyin == "zhangsan"


@pytest.mark.parametrize(
    ("hanzi", "latin"),
    [
        ("单雄信", "SHAN Xiongxin"),
        ("曾国藩", "ZENG Guofan"),
        ("仇英", "QIU Ying"),
        ("朴槿惠", "PIAO Jinhui"),
        ("解缙", "XIE Jin"),
        ("区小明", "OU Xiaoming"),
        ("查良镛", "ZHA Liangyong"),
        ("尉迟恭", "YUCHI Gong"),
    ],
)
def test_surname_readings_match_passport_romanisation(hanzi: str, latin: str) -> None:
    assert name_key(hanzi).pinyin == name_key(latin).pinyin


def test_pinyin_key_drops_the_separator_and_punctuation() -> None:
    key = name_key("买买提·艾力")
    assert key.hanzi == "买买提·艾力"
    assert key.pinyin == "maimaitiaili"
    assert name_key("买买提艾力").pinyin == key.pinyin


def test_ambiguous_surnames_list_their_variants() -> None:
    key = name_key("乐毅")
    assert key.pinyin == "yueyi"
    assert key.pinyin_variants == ("yueyi", "leyi")
    assert name_key("LE Yi").pinyin in key.pinyin_variants
    assert name_key("覃小明").pinyin_variants == ("qinxiaoming", "tanxiaoming")
    assert name_key("张三").pinyin_variants == ("zhangsan",)


def test_unreadable_characters_stay_in_the_pinyin_key() -> None:
    # A private-use rare character must not vanish, or 张<rare> would match 张.
    assert name_key("张\ue000").pinyin == "zhang\ue000"
    assert name_key("张\ue000").pinyin != name_key("张").pinyin


@pytest.mark.parametrize("raw", ["", "   ", "·", "\u200b", "-.-"])
def test_empty_names_have_no_key(raw: str) -> None:
    with pytest.raises(StandardsError, match="empty"):
        name_key(raw)


def test_name_key_is_frozen_and_hashable() -> None:
    key = name_key("张三")
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.hanzi = "李四"  # type: ignore[misc]
    assert {key: 1}[name_key("张三")] == 1


def test_stored_name_is_not_modified() -> None:
    row = {"name": "劉德華 "}
    stored = row["name"]
    key = name_key(row["name"])
    assert row["name"] is stored
    assert row["name"] == "劉德華 "
    assert key.hanzi == "刘德华"


@given(any_text)
def test_key_of_normalised_name_equals_key_of_raw_name(raw: str) -> None:
    assert _key_or_error(normalise_name(raw)) == _key_or_error(raw)


@given(any_text)
def test_name_key_does_not_change_its_input(raw: str) -> None:
    copy = "".join(list(raw))
    _key_or_error(raw)
    assert raw == copy


@given(any_text)
def test_name_key_invariants(raw: str) -> None:
    key = _key_or_error(raw)
    if not isinstance(key, NameKey):
        assert normalise_name(raw) == ""
        return
    assert key.hanzi == to_simplified(normalise_name(raw)).casefold()
    assert key.pinyin_variants[0] == key.pinyin
    assert len(set(key.pinyin_variants)) == len(key.pinyin_variants)
    assert "v" not in key.pinyin
    assert all(not c.isspace() and c != NAME_SEPARATOR for c in key.pinyin)


@given(hanzi_names)
def test_romanising_a_hanzi_name_gives_the_same_pinyin_key(hanzi: str) -> None:
    key = name_key(hanzi)
    assert key.pinyin.isascii()
    assert key.pinyin.isalpha()
    syllables = name_pinyin(hanzi)
    # Whatever way a department writes the syllables, the key is the same.
    assert name_key(" ".join(syllables).upper()).pinyin == key.pinyin
    assert name_key("".join(syllables)).pinyin == key.pinyin
    passport = [s.replace("lv", "lyu").replace("nv", "nyu") for s in syllables]
    assert name_key(" ".join(passport)).pinyin == key.pinyin
    umlaut = [s.replace("v", "ü") for s in syllables]
    assert name_key("-".join(umlaut)).pinyin == key.pinyin
