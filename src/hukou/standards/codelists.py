"""National code lists, with the mappings from what departments really write.

Department feeds rarely carry the official codes: the public-security bureau writes
``男``, the education bureau ``M``, a street office ``男性`` and a spreadsheet ``１``
in full-width digits. Each :class:`CodeList` knows one national standard and a
reviewed synonym index, so every spelling that *certainly* means one code resolves
to it, and everything else raises :class:`~hukou.standards.errors.UnknownCodeError`.
Unknown values are reported, never guessed: a wrong code in a household register is
worse than a quarantined row, because nobody looks at it again.

The lists and their data files (``src/hukou/standards/data/*.csv``):

* :data:`SEX` - GB/T 2261.1-2003 (``sex.csv``).
* :data:`ETHNICITY` - GB/T 3304-1991, the 56 groups with their roman spelling and
  two-letter code, plus 97 其他 and 98 外国血统中国籍人士, the two codes every
  administrative data standard (education, public security) adds to the list
  (``ethnicity.csv``).
* :data:`RELATIONSHIP` - GB/T 4761-2008 家庭关系代码 (``relationship.csv``).
* :data:`EDUCATION` - GB/T 4658-2006 学历代码 (``education.csv``). Note that the
  2006 edition has 40 中等职业教育 with 47-49 技工学校; lists that show 47 农业高中
  or 90 文盲或半文盲 are copies of the withdrawn 1984 edition.
* :data:`MARITAL_STATUS` - GB/T 2261.2-2003 (``marital_status.csv``).

Every CSV has the columns ``code,zh,en,parent,abbr,synonyms``: the official code and
Chinese name, an English label, the code of the level above in hierarchical lists
(``21`` 大学本科毕业 sits under ``20`` 大学本科教育), the roman letter code of an
ethnic group, and ``|``-separated synonyms. The code, both names, the letter code
and the synonyms all go into the index.

Decisions on doubtful synonyms (each is tested):

* Numeric codes are accepted with or without leading zeros (``1`` and ``001`` are
  ethnicity ``01``) because spreadsheets strip them; a list whose codes would
  collide once zeros are stripped is rejected when it is built.
* ``户主本人`` is relationship ``02`` 户主: the phrase names the household-head
  role and 本人 is emphasis. Plain ``本人`` stays ``01`` as the standard says; the
  caller decides whether 01 and 02 both mean the head in its feed.
* Bare education levels mean graduation (``本科`` -> 21, ``高中`` -> 61), because
  the 文化程度 field records the highest level completed; ``大学`` is read as
  本科 the way household registers use it. ``研究生`` maps to the category ``10``
  since it does not say doctoral or master. ``文盲``/``半文盲``/``不识字`` map to
  ``90`` 其他, the 2006 edition having no code of its own for them.
* Left out as ambiguous, so they raise: ``哈族`` (哈尼族 or 哈萨克族), ``单身`` and
  ``single`` (a divorced or widowed person is single too), ``媳妇`` (wife or
  daughter-in-law), ``弟妹`` (a younger brother's wife, or younger siblings),
  ``大伯`` (father's elder brother, or husband's elder brother), ``阿姨``
  (used for unrelated women), ``中学`` (junior or senior), ``中技`` (中专 or 技校),
  ``不详`` for marital status (the list has no "unknown", only "not stated").
* Traditional characters are not converted; a caller with a Hong Kong or Taiwan
  feed converts it first (OpenCC), so that conversion is visible in its own step.

>>> SEX.lookup(" Ｍ ").code
'1'
>>> ETHNICITY.lookup("1").zh
'汉族'
>>> relationship_code("户主本人"), education_code("大专"), marital_status_code("离异")
('02', '31', '40')
>>> sex_code("男女")
Traceback (most recent call last):
...
hukou.standards.errors.UnknownCodeError: GB/T 2261.1-2003 sex: unknown value '男女'
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal, NoReturn

import polars as pl

from hukou.standards.errors import UnknownCodeError

__all__ = [
    "EDUCATION",
    "ETHNICITY",
    "MARITAL_STATUS",
    "RELATIONSHIP",
    "SEX",
    "CodeList",
    "CodeListDefinitionError",
    "Entry",
    "education_code",
    "education_completed",
    "education_level",
    "education_rank",
    "ethnicity_code",
    "map_column",
    "marital_status_code",
    "normalise",
    "relationship_code",
    "sex_code",
]

_COLUMNS: Final = ("code", "zh", "en", "parent", "abbr", "synonyms")
_SYNONYM_SEPARATOR: Final = "|"


class CodeListDefinitionError(ValueError):
    """A code list's data is inconsistent, e.g. one synonym names two codes.

    Raised when a list is built, which for the shipped lists is at import time: an
    ambiguous data file must stop the program, not silently pick one of the codes.
    """


@dataclass(frozen=True, slots=True)
class Entry:
    """One official code of a list.

    ``parent`` is the code of the level above in hierarchical standards (GB/T 4658,
    GB/T 4761, GB/T 2261.2) and ``None`` for top-level codes; ``abbr`` is the roman
    letter code of GB/T 3304 and ``None`` elsewhere; ``synonyms`` are the extra
    spellings from the data file, as written there.
    """

    code: str
    zh: str
    en: str
    parent: str | None = None
    abbr: str | None = None
    synonyms: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        """Every spelling that names this entry: code, names, letter code, synonyms.

        >>> Entry("01", "汉族", "Han", abbr="HA", synonyms=("汉",)).spellings()
        ('01', '汉族', 'Han', 'HA', '汉')
        """
        abbr = () if self.abbr is None else (self.abbr,)
        return (self.code, self.zh, self.en, *abbr, *self.synonyms)


def normalise(value: str) -> str:
    """The key a value is looked up by: NFKC, case-folded, without white space.

    NFKC turns the full-width letters and digits of Chinese input methods into ASCII;
    case folding makes ``M``, ``m`` and ``Ｍ`` one key; white space (including the
    ideographic space) and invisible format characters (zero-width space, byte order
    mark) are removed anywhere, because feeds pad cells and split words at random.

    >>> normalise(" 汉\u3000族 ")
    '汉族'
    >>> normalise("\ufeffＭａｌｅ")
    'male'
    """
    text = unicodedata.normalize("NFKC", value).casefold()
    return "".join(
        char for char in text if not char.isspace() and unicodedata.category(char) != "Cf"
    )


def _numeric_key(key: str) -> str | None:
    """The key of an all-digit value without its leading zeros, else ``None``."""
    if not (key.isascii() and key.isdigit()):
        return None
    return key.lstrip("0") or "0"


def _reject(name: str, problem: str) -> NoReturn:
    raise CodeListDefinitionError(f"{name}: {problem}")


class CodeList(Mapping[str, Entry]):
    """An immutable national code list: a mapping of official code to :class:`Entry`.

    As a mapping it answers about *official codes* only (``"1" in SEX`` is true,
    ``"男" in SEX`` is false); messy department values go through :meth:`lookup`.
    Iteration follows the standard's order.

    The constructor checks the data: codes unique, parents known, and every
    normalised spelling naming exactly one code, so that a lookup never depends on
    the order of the file.

    >>> demo = CodeList("demo", [Entry("1", "甲", "first"), Entry("2", "乙", "second")])
    >>> demo.lookup("FIRST").code, len(demo), list(demo)
    ('1', 2, ['1', '2'])
    >>> demo.label("2", "en")
    'second'
    >>> CodeList("demo", [Entry("1", "甲", "x"), Entry("2", "乙", "X")])
    Traceback (most recent call last):
    ...
    hukou.standards.codelists.CodeListDefinitionError: demo: 'X' names both 1 and 2
    """

    __slots__ = ("_entries", "_index", "_name", "_numeric")

    _name: str
    _entries: Mapping[str, Entry]
    _index: Mapping[str, str]
    _numeric: Mapping[str, str]

    def __init__(self, name: str, entries: Iterable[Entry]) -> None:
        by_code: dict[str, Entry] = {}
        for entry in entries:
            if not entry.code or entry.code != entry.code.strip():
                _reject(name, f"malformed code {entry.code!r}")
            if entry.code in by_code:
                _reject(name, f"code {entry.code} appears twice")
            by_code[entry.code] = entry
        if not by_code:
            _reject(name, "no codes")

        index: dict[str, str] = {}
        for entry in by_code.values():
            if entry.parent is not None and entry.parent not in by_code:
                _reject(name, f"code {entry.code} has unknown parent {entry.parent}")
            for spelling in entry.spellings():
                key = normalise(spelling)
                if not key:
                    _reject(name, f"code {entry.code} has an empty spelling")
                other = index.setdefault(key, entry.code)
                if other != entry.code:
                    _reject(name, f"{spelling!r} names both {other} and {entry.code}")

        numeric: dict[str, str] = {}
        for code in by_code:
            number = _numeric_key(code)
            if number is not None:
                other = numeric.setdefault(number, code)
                if other != code:
                    _reject(name, f"codes {other} and {code} differ only in leading zeros")
        for key, code in index.items():
            number = _numeric_key(key)
            if number is not None and numeric.get(number, code) != code:
                _reject(name, f"{key!r} names {code} but reads as code {numeric[number]}")

        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_entries", MappingProxyType(by_code))
        object.__setattr__(self, "_index", MappingProxyType(index))
        object.__setattr__(self, "_numeric", MappingProxyType(numeric))

    @classmethod
    def from_csv(cls, name: str, text: str) -> CodeList:
        """Build a list from the text of a data file (see the module docstring).

        >>> CodeList.from_csv("demo", "code,zh,en,parent,abbr,synonyms\\n7,七,seven,,,柒|VII\\n")
        CodeList('demo', 1 codes)
        """
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None or tuple(header) != _COLUMNS:
            _reject(name, f"header must be {','.join(_COLUMNS)}, not {header}")
        entries = []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(_COLUMNS):
                _reject(name, f"line {line} has {len(row)} fields, not {len(_COLUMNS)}")
            code, zh, en, parent, abbr, synonyms = (field.strip() for field in row)
            entries.append(
                Entry(
                    code=code,
                    zh=zh,
                    en=en,
                    parent=parent or None,
                    abbr=abbr or None,
                    synonyms=tuple(
                        word.strip() for word in synonyms.split(_SYNONYM_SEPARATOR) if word.strip()
                    ),
                )
            )
        return cls(name, entries)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def name(self) -> str:
        """The standard and the list, e.g. ``GB/T 2261.1-2003 sex``; used in errors."""
        return self._name

    @property
    def synonyms(self) -> Mapping[str, str]:
        """The read-only index: :func:`normalise`-d spelling -> official code."""
        return self._index

    def __getitem__(self, code: str) -> Entry:
        return self._entries[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"CodeList({self._name!r}, {len(self._entries)} codes)"

    def _resolve(self, value: str) -> str | None:
        """The code ``value`` certainly means, or ``None``; shared by both paths."""
        key = normalise(value)
        code = self._index.get(key)
        if code is None:
            number = _numeric_key(key)
            if number is not None:
                code = self._numeric.get(number)
        return code

    def lookup(self, value: str) -> Entry:
        """The entry a department's value means; raise if it is not certain.

        >>> ETHNICITY.lookup("维吾尔").code, ETHNICITY.lookup("ug").code
        ('05', '05')
        >>> ETHNICITY.lookup("哈族")
        Traceback (most recent call last):
        ...
        hukou.standards.errors.UnknownCodeError: GB/T 3304-1991 ethnic groups: unknown value '哈族'
        """
        code = self._resolve(value)
        if code is None:
            raise UnknownCodeError(self._name, value)
        return self._entries[code]

    def code(self, value: str) -> str:
        """The official code a department's value means (:meth:`lookup`'s code)."""
        return self.lookup(value).code

    def label(self, code: str, lang: Literal["zh", "en"] = "zh") -> str:
        """The official Chinese name, or the English label, of an official code.

        Only official codes are accepted, so a stored value that is not one shows up
        as an error instead of being displayed as something else.

        >>> SEX.label("2"), SEX.label("2", "en")
        ('女性', 'female')
        """
        entry = _official(self, code)
        return entry.zh if lang == "zh" else entry.en


def _official(code_list: CodeList, code: str) -> Entry:
    entry = code_list.get(code)
    if entry is None:
        raise UnknownCodeError(code_list.name, code)
    return entry


def map_column(code_list: CodeList, expr: pl.Expr) -> pl.Expr:
    """Map a Polars column of department values to official codes, unknowns to null.

    A non-null input that comes out null is an unknown value: the caller quarantines
    the row with a reason, as the scalar :meth:`CodeList.lookup` would have raised.
    Non-string columns (a sex column read as integers) are cast to strings first.

    The distinct values of each batch are resolved by the very function the scalar
    lookup uses and then applied with ``replace_strict``. Doing the normalisation
    natively would be faster on paper but would disagree with the scalar path:
    Polars lower-cases where Python case-folds (``ß`` vs ``ss``) and its white space
    is not Python's. Code columns have a handful of distinct values per million
    rows, so the Python part costs nothing measurable.

    >>> frame = pl.DataFrame({"sex": ["男", " f ", "１", None, "男女", "9"]})
    >>> frame.select(map_column(SEX, pl.col("sex"))).to_series().to_list()
    ['1', '2', '1', None, None, '9']
    """

    def codes(batch: pl.Series) -> pl.Series:
        known: dict[str, str] = {}
        for value in batch.unique().drop_nulls().to_list():
            code = code_list._resolve(value)
            if code is not None:
                known[value] = code
        return batch.replace_strict(
            pl.Series(list(known), dtype=pl.String),
            pl.Series(list(known.values()), dtype=pl.String),
            default=None,
            return_dtype=pl.String,
        )

    return expr.cast(pl.String).map_batches(codes, return_dtype=pl.String, is_elementwise=True)


def _load(file_name: str, name: str) -> CodeList:
    data = resources.files("hukou.standards").joinpath("data").joinpath(file_name)
    return CodeList.from_csv(name, data.read_text(encoding="utf-8"))


SEX: Final = _load("sex.csv", "GB/T 2261.1-2003 sex")
"""GB/T 2261.1-2003: 0 未知的性别, 1 男性, 2 女性, 9 未说明的性别."""

ETHNICITY: Final = _load("ethnicity.csv", "GB/T 3304-1991 ethnic groups")
"""GB/T 3304-1991: 01 汉族 ... 56 基诺族, with 97 其他 and 98 外国血统中国籍人士."""

RELATIONSHIP: Final = _load("relationship.csv", "GB/T 4761-2008 family relationships")
"""GB/T 4761-2008: 01 本人, 02 户主, 10 配偶 ... 97 其他亲属, 99 非亲属."""

EDUCATION: Final = _load("education.csv", "GB/T 4658-2006 education")
"""GB/T 4658-2006: 10 研究生教育 ... 83 小学肄业, 90 其他."""

MARITAL_STATUS: Final = _load("marital_status.csv", "GB/T 2261.2-2003 marital status")
"""GB/T 2261.2-2003: 10 未婚, 20 已婚 (21-23), 30 丧偶, 40 离婚, 90 未说明."""


def sex_code(value: str) -> str:
    """The GB/T 2261.1 code of a department's value, e.g. ``male`` -> ``1``."""
    return SEX.code(value)


def ethnicity_code(value: str) -> str:
    """The GB/T 3304 code of a department's value, e.g. ``汉`` -> ``01``."""
    return ETHNICITY.code(value)


def relationship_code(value: str) -> str:
    """The GB/T 4761 code of a department's value, e.g. ``儿子`` -> ``20``."""
    return RELATIONSHIP.code(value)


def education_code(value: str) -> str:
    """The GB/T 4658 code of a department's value, e.g. ``本科`` -> ``21``."""
    return EDUCATION.code(value)


def marital_status_code(value: str) -> str:
    """The GB/T 2261.2 code of a department's value, e.g. ``divorced`` -> ``40``."""
    return MARITAL_STATUS.code(value)


# Rank of attainment by GB/T 4658 level: upper-secondary general (60) and vocational
# (40) schooling are the same stage, so they share a rank.
_LEVEL_RANKS: Final = MappingProxyType(
    {"90": 0, "80": 1, "70": 2, "60": 3, "40": 3, "30": 4, "20": 5, "10": 6}
)
_DOCTORAL: Final = frozenset({"11", "12", "13"})
_DOCTORAL_RANK: Final = 7


def education_level(code: str) -> str:
    """The level (top-level code) of an official GB/T 4658 code.

    >>> education_level("23"), education_level("20"), education_level("90")
    ('20', '20', '90')
    """
    entry = _official(EDUCATION, code)
    return entry.code if entry.parent is None else entry.parent


def education_rank(code: str) -> int:
    """A rank of attainment for an official GB/T 4658 code, for points scoring.

    0 其他 (including the illiterate), 1 primary, 2 junior secondary, 3 senior
    secondary (general or vocational), 4 junior college, 5 undergraduate,
    6 postgraduate (master's, postgraduate class, or unspecified), 7 doctoral. The
    rank says how far schooling went, not whether it was finished: a rule such as
    "本科毕业 or above" is ``education_rank(c) >= 5 and education_completed(c)``.
    A bare ``10`` ranks with master's because it does not prove a doctorate.

    >>> education_rank("11"), education_rank("14"), education_rank("21"), education_rank("47")
    (7, 6, 5, 3)
    """
    if _official(EDUCATION, code).code in _DOCTORAL:
        return _DOCTORAL_RANK
    return _LEVEL_RANKS[education_level(code)]


def education_completed(code: str) -> bool:
    """Whether an official GB/T 4658 code records graduation (毕业).

    结业 (coursework finished, certificate of completion only) and 肄业 (left early)
    are not graduation; neither is a bare level such as ``20``, which does not say.

    >>> education_completed("21"), education_completed("22"), education_completed("20")
    (True, False, False)
    """
    return _official(EDUCATION, code).zh.endswith("毕业")
