"""Matching keys for person names.

Department feeds write the same person's name in many ways: full-width letters,
stray or padding spaces (two-character names are often padded to three with an
ideographic space), the minority-name separator typed as whatever dot the clerk's
input method offered (``•``, ``・``, ``.``, ``。``, ``-`` ...), traditional characters
from Hong Kong, Macao and Taiwan documents, and romanisations that disagree about
``ü`` (``吕`` is ``LYU`` on new passports, ``LU`` in older systems, ``LV`` where a
pinyin input method leaked through).

This module derives a :class:`NameKey` for matching such records. It never
replaces the stored name: the name as registered is the legal record, and a
matching heuristic must not rewrite it. Every function here is pure and returns a
new value; callers store the key next to the name.

The key has two levels:

* ``hanzi`` -- the normalised, simplified text. Precise: two records with equal
  ``hanzi`` were written with the same characters.
* ``pinyin`` -- a deliberately lossy phonetic key (no tones, ``ü`` folded into
  ``u``) that lets a hanzi name meet its romanisation, and different
  romanisations meet each other. Use it to find candidates, then confirm with
  other fields; homophones share it by design.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final

import opencc
from pypinyin import Style, lazy_pinyin

from hukou.standards.errors import StandardsError

__all__ = [
    "NAME_SEPARATOR",
    "NameKey",
    "canonical_pinyin",
    "name_key",
    "name_pinyin",
    "normalise_name",
    "to_simplified",
]

NAME_SEPARATOR: Final = "\u00b7"
"""U+00B7 MIDDLE DOT, the separator between the parts of a transliterated minority
or foreign name (``买买提·艾力``)."""

# --- character classes -----------------------------------------------------------

# Dots that are only ever used, in a name, as the part separator. They become
# U+00B7 wherever they occur, also between Latin words ("John•Smith"). Checked
# *after* NFKC, which already folds U+0387 GREEK ANO TELEIA into U+00B7 and U+FF65
# HALFWIDTH KATAKANA MIDDLE DOT into U+30FB.
_STRONG_SEPARATORS: Final = frozenset(
    {
        "\u00b7",  # · MIDDLE DOT (the standard one)
        "\u2022",  # • BULLET
        "\u2027",  # ‧ HYPHENATION POINT (Big5 input methods)
        "\u2219",  # ∙ BULLET OPERATOR
        "\u22c5",  # ⋅ DOT OPERATOR
        "\u30fb",  # ・ KATAKANA MIDDLE DOT (Japanese IMEs, NFKC target of U+FF65)
        "\uff65",  # ･ HALFWIDTH KATAKANA MIDDLE DOT (kept for clarity; NFKC maps it)
        "\ua78f",  # ꞏ LATIN LETTER SINOLOGICAL DOT
        "\u2e31",  # ⸱ WORD SEPARATOR MIDDLE DOT
        "\u2e33",  # ⸳ RAISED DOT
        "\u16eb",  # ᛫ RUNIC SINGLE PUNCTUATION
    }
)

# Characters that mean "separator" only *between two ideographs*. A Chinese name
# contains no punctuation, so a full stop or dash between hanzi can only be a
# clerk's substitute for U+00B7 (a Chinese IME turns '.' into '。'; systems without
# U+00B7 in their code page write '-'). Next to Latin letters they are kept: "J.
# Smith" and "Jean-Luc" are legitimate. NFKC has already folded U+FF0E, U+FE52 and
# U+2024 into '.', U+FF61 into '。', and U+FF0D, U+FE63 into '-'.
_WEAK_SEPARATORS: Final = frozenset(
    {
        ".",
        "\u3002",  # 。 IDEOGRAPHIC FULL STOP
        "-",
        "\u2010",  # ‐ HYPHEN (NFKC target of U+2011 NON-BREAKING HYPHEN)
        "\u2012",  # ‒ FIGURE DASH
        "\u2013",  # – EN DASH
        "\u2014",  # — EM DASH
        "\u2015",  # ― HORIZONTAL BAR
        "\u2212",  # − MINUS SIGN
        "\ufe58",  # ﹘ SMALL EM DASH
    }
)
# Deliberately absent: '一' (the character "one", looks like a dash but is a real
# name character) and 'ー' (KATAKANA PROLONGED SOUND MARK, part of Japanese names).


def _is_ideograph(ch: str) -> bool:
    """Whether ``ch`` is a hanzi, or a private-use code point standing in for one.

    Legacy registration systems store rare name characters in the GBK/Unicode
    private-use area, so PUA code points are treated as ideographs: a space next to
    one is padding, and the pinyin key keeps them verbatim instead of dropping them.
    """
    cp = ord(ch)
    return (
        cp == 0x3007  # 〇
        or 0x3400 <= cp <= 0x4DBF  # Extension A
        or 0x4E00 <= cp <= 0x9FFF  # URO
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= cp <= 0x3FFFF  # planes 2 and 3: Extensions B-I, compatibility
        or 0xE000 <= cp <= 0xF8FF  # private use area
        or cp >= 0xF0000  # supplementary private use areas
    )


# --- normalisation -------------------------------------------------------------


def _strip_invisible(raw: str) -> str:
    """Drop format and control characters; refuse undecodable input.

    Zero-width spaces, BOMs, soft hyphens and bidi marks arrive through copy and
    paste and are invisible, so two visually equal names would otherwise differ.
    They are removed *before* NFKC: removing them afterwards could bring a letter
    and a combining mark together and leave a string that is no longer NFKC,
    which would make :func:`normalise_name` not idempotent.
    """
    out: list[str] = []
    for ch in raw:
        category = unicodedata.category(ch)
        if category == "Cs":
            raise StandardsError(
                "name contains an unpaired surrogate (bytes that were not valid text)"
            )
        if category == "Cf" or (category == "Cc" and not ch.isspace()):
            continue
        out.append(ch)
    return "".join(out)


def normalise_name(raw: str) -> str:
    """Return the display-equivalent canonical spelling of a name.

    This is the first step of every key and is safe to show to a user: it only
    removes differences that are invisible or are typing accidents, never
    differences in characters (traditional stays traditional, case stays case).

    * NFKC, so full-width letters and digits, Kangxi radicals and compatibility
      ideographs become their ordinary forms.
    * Invisible format characters are removed.
    * Whitespace next to an ideograph or separator is removed (Chinese names have
      none; padding "张  三" is common); other whitespace runs become one space,
      so "John  Smith" keeps its word break.
    * Every look-alike of the minority-name separator becomes U+00B7, without
      surrounding spaces; repeated separators collapse and leading or trailing
      ones are dropped.

    >>> normalise_name("买买提 • 艾力")
    '买买提·艾力'
    >>> normalise_name("买买提。艾力")
    '买买提·艾力'
    >>> normalise_name("张\\u3000三")
    '张三'
    >>> normalise_name("  ＪＯＨＮ   Smith ")
    'JOHN Smith'
    >>> normalise_name("Jean-Luc")
    'Jean-Luc'

    Raises :class:`~hukou.standards.errors.StandardsError` if ``raw`` contains
    unpaired surrogates (bytes decoded with ``surrogateescape``): such a name
    cannot be compared or converted and must be quarantined, not guessed.
    """
    text = unicodedata.normalize("NFKC", _strip_invisible(raw))

    # Tokens: a character to keep, or one of the "glue" kinds between characters.
    chars: list[str] = []  # kept characters, in order
    glues: list[list[str]] = [[]]  # glues[i] = glue tokens before chars[i]
    for ch in text:
        if ch.isspace():
            kind = " "
        elif ch in _STRONG_SEPARATORS:
            kind = NAME_SEPARATOR
        elif ch in _WEAK_SEPARATORS:
            kind = ch
        else:
            chars.append(ch)
            glues.append([])
            continue
        glues[-1].append(kind)

    out: list[str] = []
    for i, glue in enumerate(glues):
        before = chars[i - 1] if i > 0 else None
        after = chars[i] if i < len(chars) else None
        out.append(_resolve_glue(glue, before, after))
        if after is not None:
            out.append(after)
    return "".join(out)


def _resolve_glue(glue: list[str], before: str | None, after: str | None) -> str:
    """Decide what a run of spaces and separators between two characters becomes.

    ``before``/``after`` are the neighbouring kept characters, ``None`` at the
    ends of the name.
    """
    if not glue:
        return ""
    if before is None or after is None:
        # Leading or trailing: spaces and separators are noise. A weak separator
        # may be meaningful next to a Latin word ("Jr."), but a Chinese name never
        # starts or ends with punctuation, and a name of punctuation alone is empty.
        neighbour = before if after is None else after
        if neighbour is None or _is_ideograph(neighbour):
            return ""
        return "".join(g for g in glue if g not in {" ", NAME_SEPARATOR})
    between_ideographs = _is_ideograph(before) and _is_ideograph(after)
    weak = [g for g in glue if g not in {" ", NAME_SEPARATOR}]
    if NAME_SEPARATOR in glue or (weak and between_ideographs):
        return NAME_SEPARATOR
    # Only spaces and weak separators next to at least one non-ideograph.
    pieces: list[str] = []
    for index, g in enumerate(glue):
        if g != " ":
            pieces.append(g)
            continue
        if index > 0 and glue[index - 1] == " ":
            continue  # collapse the run
        left = glue[index - 1] if index > 0 else before
        right_index = next((j for j in range(index, len(glue)) if glue[j] != " "), None)
        right = glue[right_index] if right_index is not None else after
        if not (_is_ideograph(left) or _is_ideograph(right)):
            pieces.append(" ")
    return "".join(pieces)


@cache
def _t2s() -> opencc.OpenCC:
    """The OpenCC converter, built once: loading its dictionaries takes milliseconds."""
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified ones with OpenCC ``t2s``.

    Hong Kong, Macao and Taiwan documents and some older mainland systems write
    names in traditional characters; the same person must get the same key.
    Conversion is phrase-aware, so it is done on the whole name.

    It is many-to-one: distinct traditional characters that share a simplified
    form merge (``於`` and ``于`` are different surnames but both give ``于``;
    ``鍾``/``鐘`` give ``钟``). That is acceptable for a matching key and one more
    reason the key never replaces the stored name. Variant characters that are
    not traditional/simplified pairs (``堃``/``坤``, ``喆``/``哲``) are different
    legal names and are left alone.

    >>> to_simplified("劉德華")
    '刘德华'
    >>> to_simplified("张伟")
    '张伟'
    """
    return str(_t2s().convert(text))


# --- pinyin ----------------------------------------------------------------------

# Surname readings. pypinyin has no surname mode (0.55): it reads 单 as "dan", 曾 as
# "ceng", 仇 as "chou". Values are space-separated syllables; the first reading is
# canonical (used for ``NameKey.pinyin``), the rest are readings that families or
# departments also use and that go into ``NameKey.pinyin_variants``.
#
# Surnames whose surname reading differs from pypinyin's default only in tone are
# not listed, because keys are toneless: 华 hua, 任 ren, 过 guo, 燕 yan, 冼 xian,
# 尉 wei (the single surname; 尉迟 is yuchi), 莘 shen, 朝 chao, 褚 chu, 贾 jia.
# The tests pin these so that a pypinyin upgrade changing them is noticed.
_SINGLE_SURNAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "单": ("shan",),
    "曾": ("zeng",),
    "仇": ("qiu",),
    "朴": ("piao",),
    "解": ("xie",),
    "区": ("ou",),
    "查": ("zha",),
    "盖": ("ge", "gai"),  # Gě in surname lists; many families say Gài
    "缪": ("miao",),
    "覃": ("qin", "tan"),  # two distinct surnames written alike
    "乐": ("yue", "le"),  # two distinct surnames written alike
    "秘": ("bi",),
    "种": ("chong",),
    "员": ("yun",),
    "繁": ("po",),
    "黑": ("he", "hei"),  # Hè in surname lists, but the ordinary hei is common too
    "翟": ("zhai", "di"),  # Dí is a rare separate surname
    "句": ("gou",),
    "都": ("du",),
    "召": ("shao",),
    "隗": ("wei", "kui"),
    "宓": ("mi", "fu"),
    "角": ("jue",),
    "乜": ("nie",),
    "祭": ("zhai",),
    "能": ("nai",),
    "阚": ("kan",),
    "折": ("she",),
    "蕃": ("pi",),
    "长": ("chang",),
    "藏": ("zang",),
    "重": ("chong",),
    "谌": ("chen", "shen"),
    "洗": ("xian",),
    "佴": ("nai",),
    "颉": ("xie",),
    "粘": ("nian",),
    "牟": ("mou", "mu"),
    "薄": ("bo",),
    "柏": ("bai", "bo"),
    "率": ("shuai",),
}

# Compound surnames, recognised before single ones so that 尉迟恭 is yuchi gong and
# not wei chi gong. Listed also where the reading is ordinary, because recognising
# the surname keeps pypinyin's phrase lookup from reading across the boundary
# between surname and given name. 单于 (chanyu) is deliberately absent: it is
# practically extinct, while 单 (shan) + a given name starting with 于 is common.
_COMPOUND_SURNAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "尉迟": ("yu chi",),
    "万俟": ("mo qi",),
    "长孙": ("zhang sun",),
    "令狐": ("ling hu",),
    "澹台": ("tan tai",),
    "乐正": ("yue zheng",),
    "子车": ("zi ju",),
    "中行": ("zhong hang",),
    "欧阳": ("ou yang",),
    "司马": ("si ma",),
    "上官": ("shang guan",),
    "诸葛": ("zhu ge",),
    "东方": ("dong fang",),
    "皇甫": ("huang fu",),
    "公孙": ("gong sun",),
    "慕容": ("mu rong",),
    "夏侯": ("xia hou",),
    "司徒": ("si tu",),
    "司空": ("si kong",),
    "端木": ("duan mu",),
    "轩辕": ("xuan yuan",),
    "宇文": ("yu wen",),
    "呼延": ("hu yan",),
    "赫连": ("he lian",),
    "拓跋": ("tuo ba",),
    "独孤": ("du gu",),
    "南宫": ("nan gong",),
    "西门": ("xi men",),
    "东郭": ("dong guo",),
    "闻人": ("wen ren",),
    "申屠": ("shen tu",),
    "钟离": ("zhong li",),
    "淳于": ("chun yu",),
    "鲜于": ("xian yu",),
    "公冶": ("gong ye",),
    "太叔": ("tai shu",),
    "濮阳": ("pu yang",),
    "百里": ("bai li",),
    "第五": ("di wu",),
    "左丘": ("zuo qiu",),
    "梁丘": ("liang qiu",),
    "亓官": ("qi guan",),
    "公羊": ("gong yang",),
    "谷梁": ("gu liang",),
    "仲孙": ("zhong sun",),
    "宰父": ("zai fu",),
    "巫马": ("wu ma",),
    "羊舌": ("yang she",),
    "段干": ("duan gan",),
    "司寇": ("si kou",),
    "漆雕": ("qi diao",),
    "壤驷": ("rang si",),
    "公西": ("gong xi",),
    "颛孙": ("zhuan sun",),
    "哥舒": ("ge shu",),
    "完颜": ("wan yan",),
    "爱新觉罗": ("ai xin jue luo",),
}
_COMPOUND_LENGTHS: Final = sorted({len(s) for s in _COMPOUND_SURNAMES}, reverse=True)

# Romanised text loses its combining marks (tone marks and any other accent),
# except U+0308 DIAERESIS on "u", which means ü and is respelled "v".
_DIAERESIS: Final = "\u0308"
# Letters that pinyin typography uses instead of their ASCII look-alikes.
_LETTER_FOLDS: Final = str.maketrans({"\u0251": "a", "\u0261": "g"})


def _respell(text: str) -> str:
    """Lowercase romanised text, drop tone marks and spell ü as ``v``.

    Handles ``ü`` (precomposed or decomposed, with or without a tone mark) and
    ``u:`` (the ASCII spelling in CEDICT and older systems). Other accents are
    removed. The ambiguous spellings ``lyu``/``lu`` are *not* touched here.
    """
    folded = text.casefold().translate(_LETTER_FOLDS).replace("u:", "\u00fc")
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", folded):
        if ch == _DIAERESIS and out and out[-1] == "u":
            out[-1] = "v"
        elif not unicodedata.combining(ch):
            out.append(ch)
    return "".join(out)


def canonical_pinyin(syllable: str) -> str:
    """Spell one romanised syllable the way :func:`name_pinyin` does.

    Canonical means: lowercase, no tone (marks or digits), ``ü`` written ``v``
    after ``l``/``n`` (``lv``, ``nve``) and ``u`` after ``j``/``q``/``x``/``y``,
    where pinyin spelling already makes it unambiguous. So ``lü``, ``lu:``,
    ``lyu`` (the passport spelling), ``Lǚ`` and ``lv3`` all give ``lv``.

    Plain ``lu`` stays ``lu``: 路 (lu) and 吕 (lü) are different syllables, and a
    single syllable cannot tell which one an old system meant by ``LU``. That
    ambiguity is handled by folding in :func:`name_key`, not here.

    >>> [canonical_pinyin(s) for s in ("LYU", "lü", "lu:", "Lǚ", "lv3", "lu")]
    ['lv', 'lv', 'lv', 'lv', 'lv', 'lu']
    >>> [canonical_pinyin(s) for s in ("nü", "NYU", "lüe", "lue", "xü", "jv", "Zhāng")]
    ['nv', 'nv', 'lve', 'lve', 'xu', 'ju', 'zhang']

    The spelling is checked only for its letters, not against the syllable
    inventory. Raises :class:`~hukou.standards.errors.StandardsError` if the
    result is not made of the letters a-z (for example, a hanzi was passed).
    """
    s = _respell(syllable.strip()).rstrip("012345")
    if s.startswith(("lyu", "nyu")):
        s = s[0] + "v" + s[3:]
    if s in {"lue", "nue"}:  # no plain-u syllable "lue"/"nue" exists: it is lüe/nüe
        s = s[0] + "ve"
    if s[:1] in {"j", "q", "x", "y"}:
        s = s.replace("v", "u")
    if not s or not (s.isascii() and s.isalpha()):
        raise StandardsError("not a romanised pinyin syllable")
    return s


def _is_pinyin_token(token: str) -> bool:
    """Whether pypinyin read ``token`` (it returns unreadable characters verbatim)."""
    return token != "" and not any(_is_ideograph(ch) for ch in token)


def _hanzi_run_pinyin(run: str) -> list[str]:
    """Read a run of ideographs with pypinyin's ordinary (phrase-aware) readings.

    Characters pypinyin cannot read (rare extension characters, private-use code
    points) are returned one by one, verbatim: the key keeps them, so a name with
    an unreadable character matches only names with that same character.
    """
    syllables: list[str] = []
    for token in lazy_pinyin(run, style=Style.NORMAL):
        if _is_pinyin_token(token):
            syllables.append(canonical_pinyin(token))
        else:
            syllables.extend(token)
    return syllables


def _surname_split(run: str) -> tuple[str, tuple[str, ...]]:
    """Split a leading surname off an all-ideograph run; return it and its readings.

    Compound surnames win over single ones, but only when at least one character
    is left for the given name: a two-character name 欧阳 is 欧 + 阳.
    """
    for length in _COMPOUND_LENGTHS:
        if len(run) > length and run[:length] in _COMPOUND_SURNAMES:
            surname = run[:length]
            return surname, _COMPOUND_SURNAMES[surname]
    surname = run[:1]
    readings = _SINGLE_SURNAMES.get(surname)
    if readings is None:
        readings = (" ".join(_hanzi_run_pinyin(surname)),)
    return surname, readings


# One segment of a reading: its alternative syllable sequences, canonical first.
_Segment = tuple[tuple[str, ...], ...]


def _iter_runs(part: str) -> Iterator[tuple[str, str]]:
    """Yield ``("han", run)`` and ``("text", run)`` pieces of one name part.

    A text run is letters (with their combining marks) of any other script;
    digits, punctuation and spaces end runs and are dropped.
    """
    kind_of: list[str | None] = []
    for ch in part:
        if _is_ideograph(ch):
            kind_of.append("han")
        elif unicodedata.category(ch)[0] in {"L", "M"}:
            kind_of.append("text")
        else:
            kind_of.append(None)
    index = 0
    for kind, group in itertools.groupby(kind_of):
        length = len(list(group))
        if kind is not None:
            yield kind, part[index : index + length]
        index += length


def _segments(name: str) -> list[_Segment]:
    """The reading of a name as segments of alternatives.

    ``name`` must already be normalised and simplified. Surname readings apply
    only when the name starts with an ideograph and has no U+00B7: transliterated
    minority and foreign names (``买买提·艾力``) have no Chinese surname, so each
    part gets ordinary readings.
    """
    parts = name.split(NAME_SEPARATOR)
    use_surname = len(parts) == 1 and name != "" and _is_ideograph(name[0])
    segments: list[_Segment] = []
    for part in parts:
        for kind, run in _iter_runs(part):
            if kind == "text":
                segments.append(((_respell(run),),))
                continue
            given = run
            if use_surname:
                use_surname = False
                surname, readings = _surname_split(run)
                segments.append(tuple(tuple(r.split()) for r in readings))
                given = run[len(surname) :]
            if given:
                segments.append((tuple(_hanzi_run_pinyin(given)),))
    return segments


def _prepare(raw: str) -> str:
    """Normalised, simplified and case-folded: the ``hanzi`` key."""
    return to_simplified(normalise_name(raw)).casefold()


def name_pinyin(name: str) -> tuple[str, ...]:
    """Return the toneless pinyin of a name, surname read as a surname.

    Polyphonic surnames are read with their surname reading (单 shan, 曾 zeng,
    仇 qiu, 朴 piao, 解 xie, 区 ou, 查 zha, 尉迟 yuchi ...) because pypinyin's
    default readings (dan, ceng, chou ...) would make the pinyin of a hanzi name
    disagree with the romanisation on the person's passport. Only the surname
    position gets this: ``单`` in a given name keeps its ordinary reading.

    The name is normalised and simplified first. ``ü`` is spelled ``v`` (``吕`` →
    ``lv``). Parts of a name joined by U+00B7 are read one after another. Letters
    of other scripts come back as lowercase words with tone marks removed and
    ``ü``/``u:`` spelled ``v``; they are not split into syllables.

    >>> name_pinyin("单单")
    ('shan', 'dan')
    >>> name_pinyin("尉迟恭")
    ('yu', 'chi', 'gong')
    >>> name_pinyin("吕小明")
    ('lv', 'xiao', 'ming')
    >>> name_pinyin("买买提·艾力")
    ('mai', 'mai', 'ti', 'ai', 'li')
    >>> name_pinyin("ZHANG Xiaoming")
    ('zhang', 'xiaoming')
    """
    return tuple(s for segment in _segments(_prepare(name)) for s in segment[0])


def _fold_token(token: str) -> str:
    """Fold a token's ü spellings into ``u`` for the phonetic key.

    ``lyu`` can only be lü in pinyin (no syllable ends in ``l``), so it is folded
    anywhere; ``nyu`` is folded only at the start of a token because inside a
    word it is usually n + yu (``chenyu`` is 陈玉).
    """
    token = token.replace("lyu", "lv")
    if token.startswith("nyu"):
        token = "nv" + token[3:]
    return token.replace("v", "u")


def _pinyin_key(tokens: tuple[str, ...]) -> str:
    return "".join(_fold_token(t) for t in tokens)


@dataclass(frozen=True, slots=True)
class NameKey:
    """Keys for matching one name; never a replacement for the stored name.

    ``hanzi``
        The name normalised (:func:`normalise_name`), converted to simplified
        characters and case-folded. Equal ``hanzi`` means the same characters.
    ``pinyin``
        Toneless syllables of the canonical reading joined without separators,
        with ``ü`` folded into ``u`` (``lv``, ``lyu``, ``lü`` and ``lu`` all give
        ``lu``). The folding is deliberate: departments' romanisations of ü
        disagree (passports ``LYU``, older systems ``LU``), so the phonetic key
        cannot afford the distinction; ``hanzi`` is the precise key. Only letters
        survive (plus any ideograph pypinyin cannot read); every ``v`` becomes
        ``u``, also in non-Chinese names, which is harmless because both sides of
        a comparison are folded alike. An empty string means the name has no
        phonetic key and must not be matched on it.
    ``pinyin_variants``
        ``pinyin`` first, then the keys for the other readings of an ambiguous
        surname (乐: yue, le). Match a romanised name against all of them.
    """

    hanzi: str
    pinyin: str
    pinyin_variants: tuple[str, ...]


def name_key(raw: str) -> NameKey:
    """Derive the matching key of a name as a department wrote it.

    ``raw`` is not modified (strings are immutable) and the key is a new value
    meant to be stored beside the name, never instead of it.

    >>> name_key("劉德華")
    NameKey(hanzi='刘德华', pinyin='liudehua', pinyin_variants=('liudehua',))
    >>> name_key("LYU Xiaoming").pinyin == name_key("吕小明").pinyin == "luxiaoming"
    True
    >>> name_key("乐毅").pinyin_variants
    ('yueyi', 'leyi')

    Raises :class:`~hukou.standards.errors.StandardsError` if nothing is left of
    the name after normalisation: a blank name would otherwise match every other
    blank name.
    """
    hanzi = _prepare(raw)
    if not hanzi:
        raise StandardsError("name is empty after normalisation")
    segments = _segments(hanzi)
    variants: list[str] = []
    for choice in itertools.product(*segments):
        key = _pinyin_key(tuple(s for syllables in choice for s in syllables))
        if key not in variants:
            variants.append(key)
    return NameKey(hanzi=hanzi, pinyin=variants[0], pinyin_variants=tuple(variants))
