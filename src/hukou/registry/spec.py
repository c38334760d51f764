"""Declarative feed specs: what a department sends, and what each column means.

Every department exports its files its own way: the household register sends one
GBK CSV per district with 男/女 and YYYYMMDD, the pension register pinyin column
names with sex as 1/2, the school register JSON Lines with a metadata first line,
civil affairs spreadsheets with Excel serial dates. A *feed spec* says all of that
in one YAML file per department (``src/hukou/registry/specs/<department>.yaml``):

* the files (a glob within the department's folder), their format (and other
  formats the same kind may come in, told apart by extension), encoding,
  delimiter or sheet, and lines to skip;
* what a record means: a **state** (the subject as the department knows it at the
  export; a newer export replaces it), an **event** (something that happened on a
  date; records accumulate) or a **period** (a fact true between two dates);
* which column identifies the person (the subject) and the record;
* for every column, the standard field (:mod:`hukou.registry.fields`) it carries,
  the department's words or digits for codes (through :mod:`hukou.standards`), its
  date formats, or why it is ignored;
* which standard fields the department is the authority for (rank 1 = most
  authoritative), so that conflicting values across departments resolve by rule.

Adding a department is writing a spec, not code. A spec is validated completely
when it is loaded, and every problem names the file, the line and the key
(line numbers come from PyYAML's node marks, :func:`yaml.compose`), because the
people who write specs are data stewards who need to be told exactly where.

>>> spec = parse_spec('''
... department: demo
... name_zh: 演示
... name_en: Demo
... files:
...   - pattern: "demo_*.csv"
...     format: csv
...     encoding: utf-8
...     record: {kind: state, meaning: one person as the demo office knows them}
...     record_id: null
...     subject: {identity: 身份证号, name: 姓名}
...     columns:
...       - {source: 身份证号, field: identity_number, required: true}
...       - {source: 姓名, field: name}
...       - {source: 出生日期, field: birthdate, dates: ["%Y%m%d"]}
... ''', "demo.yaml")
Traceback (most recent call last):
...
hukou.registry.spec.SpecError: demo.yaml:15: files[0].columns[2].field: unknown standard field 'birthdate' (did you mean 'birth_date'?)
"""  # noqa: E501

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import difflib
import fnmatch
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, TypeVar, get_args

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hukou.registry.fields import CODE_LISTS, STANDARD_FIELDS, FieldDef
from hukou.standards import divisions
from hukou.yamldoc import DocumentProblem

__all__ = [
    "DETECT_ENCODING",
    "FORMAT_EXTENSIONS",
    "ISO_DATE",
    "STANDARD_DATES",
    "ColumnSpec",
    "DivisionForm",
    "FeedSpec",
    "FileFormat",
    "FileSpec",
    "RecordKind",
    "RecordSpec",
    "SpecError",
    "SpecProblem",
    "StandardValue",
    "SubjectSpec",
    "UnknownDepartmentError",
    "find_spec",
    "load_all",
    "load_spec",
    "parse_spec",
]

RecordKind = Literal["state", "event", "period"]
"""What one record means: a current state, an event on a date, a period between dates."""

FileFormat = Literal["csv", "xlsx", "jsonl", "parquet"]
"""The file formats departments send."""

FORMAT_EXTENSIONS: Final[Mapping[FileFormat, str]] = MappingProxyType(
    {"csv": ".csv", "xlsx": ".xlsx", "jsonl": ".jsonl", "parquet": ".parquet"}
)
"""The file name extension of each format: a file kind that also accepts other formats
(``other_formats``) tells them apart by it, so ``cbry_*.csv`` also matches ``cbry_*.parquet``."""

ISO_DATE: Final = "%Y-%m-%d"
"""How a typed date cell of a Parquet file reads as text
(:func:`hukou.registry.readers.cell_text`)."""

DivisionForm = Literal["code", "name", "full_name"]
"""How a division column is written: a GB/T 2260 code (``320505``), a name to look
up (``虎丘区``, :func:`hukou.standards.divisions.lookup`), or the full name of
province, prefecture and county run together (``江苏省苏州市姑苏区``,
:func:`hukou.standards.divisions.full_name`)."""

StandardValue = str | bool
"""A value of a standard field as a value map gives it: a code, an enum word, a boolean."""

STANDARD_DATES: Final = "standard"
"""In ``dates``: read with :func:`hukou.standards.dates.parse_date` (every shape
Chinese departments use) instead of, or after, explicit patterns."""

DETECT_ENCODING: Final = "detect"
"""As a CSV ``encoding``: a byte-order mark if there is one, else UTF-8 if the bytes
decode, else GB18030 (which contains GBK and GB 2312)."""

RECORD_KINDS: Final[tuple[RecordKind, ...]] = get_args(RecordKind)
FILE_FORMATS: Final[tuple[FileFormat, ...]] = get_args(FileFormat)
DIVISION_FORMS: Final[tuple[DivisionForm, ...]] = get_args(DivisionForm)

_DEPARTMENT_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
_SPEC_SUFFIXES: Final = (".yaml", ".yml")
_EMPTY_VALUES: Final[Mapping[str, StandardValue]] = MappingProxyType({})
_EMPTY_RANKS: Final[Mapping[str, int]] = MappingProxyType({})


# --------------------------------------------------------------------------- errors


SpecProblem = DocumentProblem
"""One thing wrong with a spec (file, 1-based line, key path, message): the problem every
declarative YAML document reports (:class:`hukou.yamldoc.DocumentProblem`)."""


class SpecError(ValueError):
    """A spec is invalid. The attributes describe the first problem; ``problems`` has all.

    A spec is checked completely before this is raised, so the author sees every
    problem at once; ``str()`` gives one line per problem, ordered by line.
    """

    def __init__(
        self,
        file: str,
        line: int | None,
        key: str,
        message: str,
        *,
        more: Sequence[SpecProblem] = (),
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.message = message
        self.problems: tuple[SpecProblem, ...] = (SpecProblem(file, line, key, message), *more)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @classmethod
    def of(cls, problems: Sequence[SpecProblem]) -> SpecError:
        """The error for a non-empty list of problems."""
        first, *rest = problems
        return cls(first.file, first.line, first.key, first.message, more=rest)


class UnknownDepartmentError(LookupError):
    """No packaged spec has this department code."""


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """What one record of a file means.

    ``date`` is the standard field holding an event's date (events only); ``start``
    and ``end`` those bounding a period (periods only).
    """

    kind: RecordKind
    meaning: str
    date: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True, slots=True)
class SubjectSpec:
    """How the person a record is about is identified in the file.

    ``identity`` is the source column mapped to ``identity_number`` and ``name`` the
    one mapped to ``name``. A file without identity numbers says so with
    ``identity: null`` and a ``note`` on how its records can be matched.
    """

    identity: str | None
    name: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column (CSV, XLSX) or key (JSON Lines) of a file, and what it carries.

    * ``field``: the standard field, ``None`` for an ignored column (``ignore`` with
      a ``reason``).
    * ``required``: the department always fills it; an empty value is a defect.
    * ``code_list``: for ``code`` fields, the national list values are looked up in
      (:meth:`hukou.standards.codelists.CodeList.lookup`), after ``values``.
    * ``values``: the department's own words or digits → standard values (official
      codes, enum words, booleans, division codes); ``empty_value`` is what an empty
      cell stands for where the department leaves "no" blank.
    * ``dates``: strptime patterns tried in order; :data:`STANDARD_DATES` means
      :func:`hukou.standards.dates.parse_date`. ``excel_serial``: XLSX numeric cells
      are Excel serial day numbers.
    * ``division`` / ``within``: how a division is written and, for names, the
      division the name lies in (``虎丘区`` within ``320500``).
    """

    source: str
    field: str | None
    required: bool = False
    code_list: str | None = None
    values: Mapping[str, StandardValue] = dataclasses.field(default_factory=lambda: _EMPTY_VALUES)
    empty_value: StandardValue | None = None
    dates: tuple[str, ...] = ()
    excel_serial: bool = False
    division: DivisionForm | None = None
    within: str | None = None
    ignore: bool = False
    reason: str | None = None
    note: str | None = None
    line: int | None = dataclasses.field(default=None, compare=False)

    @property
    def standard_field(self) -> FieldDef | None:
        """The definition of the field this column carries (``None`` if ignored)."""
        return None if self.field is None else STANDARD_FIELDS[self.field]


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One kind of file a department sends (all files matching ``pattern``).

    ``encoding`` is a Python codec name or :data:`DETECT_ENCODING` (CSV and JSON
    Lines; ``None`` for XLSX and Parquet, which are binary). ``skip_lines`` are
    lines (XLSX: rows) before the header, or before the first record in JSON Lines;
    ``metadata_key`` says the skipped JSON line is the export's metadata object
    carrying that key, so that a file without it is noticed instead of losing its
    first record.

    ``other_formats`` are formats the same kind of file may also come in, told apart
    by the extension (:data:`FORMAT_EXTENSIONS`): a department that moves its export
    from CSV to Parquet keeps one column mapping instead of two copies that drift
    apart. :meth:`for_file` gives the kind as it reads one particular file.
    """

    pattern: str
    format: FileFormat
    record: RecordSpec
    subject: SubjectSpec
    columns: tuple[ColumnSpec, ...]
    title: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    skip_lines: int = 0
    metadata_key: str | None = None
    record_id: str | None = None
    other_formats: tuple[FileFormat, ...] = ()
    line: int | None = dataclasses.field(default=None, compare=False)

    @property
    def patterns(self) -> tuple[str, ...]:
        """The pattern and, per other format, the pattern with that format's extension.

        >>> kind = FileSpec("cbry_*.csv", "csv", RecordSpec("state", "x"),
        ...                 SubjectSpec(None, None, "none"), (), other_formats=("parquet",))
        >>> kind.patterns
        ('cbry_*.csv', 'cbry_*.parquet')
        """
        stem = self.pattern.removesuffix(FORMAT_EXTENSIONS[self.format])
        return (self.pattern, *(stem + FORMAT_EXTENSIONS[fmt] for fmt in self.other_formats))

    @property
    def sources(self) -> tuple[str, ...]:
        """The column names (JSON keys) in file order: the exact expected header."""
        return tuple(column.source for column in self.columns)

    @property
    def mapped(self) -> tuple[ColumnSpec, ...]:
        """The columns that carry a standard field (not ignored)."""
        return tuple(column for column in self.columns if column.field is not None)

    def column(self, source: str) -> ColumnSpec:
        """The column named ``source``; ``KeyError`` if the file has none."""
        for column in self.columns:
            if column.source == source:
                return column
        raise KeyError(source)

    def column_for(self, field_name: str) -> ColumnSpec | None:
        """The column carrying standard field ``field_name``, if any."""
        for column in self.columns:
            if column.field == field_name:
                return column
        return None

    def matches(self, file_name: str) -> bool:
        """Whether a file name (no folder) matches one of the patterns, case-sensitively.

        >>> spec = FileSpec("hjdj_*.csv", "csv", RecordSpec("state", "x"),
        ...                 SubjectSpec(None, None, "none"), ())
        >>> spec.matches("hjdj_320505.csv"), spec.matches("HJDJ_320505.CSV")
        (True, False)
        """
        return any(fnmatch.fnmatchcase(file_name, pattern) for pattern in self.patterns)

    def for_file(self, file_name: str) -> FileSpec:
        """This kind as it reads ``file_name``: itself, or itself in another format.

        A file matching the pattern of one of ``other_formats`` is read in that format
        with that format's defaults (CSV: detected encoding and commas; JSON Lines:
        UTF-8, no metadata line; XLSX: the first sheet): the options written in the
        spec belong to the declared format. Typed date cells of a Parquet file read as
        ISO text, so :data:`ISO_DATE` is tried after the column's own patterns.

        >>> kind = FileSpec("cbry_*.csv", "csv", RecordSpec("state", "x"),
        ...                 SubjectSpec(None, None, "none"), (), encoding="gbk",
        ...                 other_formats=("parquet",))
        >>> parquet = kind.for_file("cbry_1.parquet")
        >>> parquet.format, parquet.pattern, parquet.encoding, kind.for_file("cbry_1.csv") is kind
        ('parquet', 'cbry_*.parquet', None, True)
        """
        if fnmatch.fnmatchcase(file_name, self.pattern):
            return self
        for fmt, pattern in zip(self.other_formats, self.patterns[1:], strict=True):
            if fnmatch.fnmatchcase(file_name, pattern):
                return dataclasses.replace(
                    self,
                    pattern=pattern,
                    format=fmt,
                    encoding={"csv": DETECT_ENCODING, "jsonl": "utf-8"}.get(fmt),
                    delimiter="," if fmt == "csv" else None,
                    sheet=None,
                    skip_lines=0,
                    metadata_key=None,
                    other_formats=(),
                    columns=_with_iso_dates(self.columns) if fmt == "parquet" else self.columns,
                )
        raise ValueError(f"{file_name!r} does not match {' or '.join(self.patterns)}")


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """Everything the registry knows about one department's feed.

    ``department`` is the department code, which is also the name of its folder in
    a delivery (``feeds/<department>/``) and of its spec file. ``authority`` maps
    standard fields to ranks, 1 being the most authoritative source of that fact.
    ``source`` is where the spec was loaded from (for messages; not compared).
    """

    department: str
    name_zh: str
    name_en: str
    files: tuple[FileSpec, ...]
    authority: Mapping[str, int] = dataclasses.field(default_factory=lambda: _EMPTY_RANKS)
    description: str | None = None
    source: str = dataclasses.field(default="", compare=False)

    @property
    def fields(self) -> frozenset[str]:
        """The standard fields some file of this department carries."""
        return frozenset(c.field for f in self.files for c in f.columns if c.field is not None)

    def files_for(self, file_name: str) -> tuple[FileSpec, ...]:
        """The file kinds matching ``file_name`` (exactly one if all is well), each as it
        reads that file (:meth:`FileSpec.for_file`: a CSV kind's Parquet twin says
        ``format: parquet``)."""
        return tuple(spec.for_file(file_name) for spec in self.files if spec.matches(file_name))

    def rank(self, field_name: str) -> int | None:
        """This department's authority rank for a standard field (``None``: no claim)."""
        return self.authority.get(field_name)


def _with_iso_dates(columns: tuple[ColumnSpec, ...]) -> tuple[ColumnSpec, ...]:
    """Date columns whose explicit patterns also accept ISO dates (typed Parquet cells).

    Datetimes need nothing: their reading falls back to ISO 8601 already.
    """
    return tuple(
        dataclasses.replace(column, dates=(*column.dates, ISO_DATE))
        if column.standard_field is not None
        and column.standard_field.kind == "date"
        and column.dates
        and STANDARD_DATES not in column.dates
        and ISO_DATE not in column.dates
        else column
        for column in columns
    )


# --------------------------------------------------------------------------- loading


def parse_spec(text: str, file: str = "<spec>") -> FeedSpec:
    """Parse and validate a spec from its YAML text; ``file`` names it in messages.

    Raises:
        SpecError: the YAML is malformed or the spec breaks a rule; every problem is
            listed with its line and key.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else mark.line + 1
        detail = " ".join(part for part in (error.context, error.problem) if part)
        raise SpecError(file, line, "", f"not valid YAML: {detail}") from None
    except yaml.YAMLError as error:  # pragma: no cover - every PyYAML parse error is marked
        raise SpecError(file, None, "", f"not valid YAML: {error}") from None
    if root is None:
        raise SpecError(file, None, "", "the file is empty")
    parser = _Parser(file)
    spec = parser.feed(root)
    if parser.problems or spec is None:
        problems = sorted(parser.problems, key=lambda p: p.line or 0)
        raise SpecError.of(problems)
    return spec


def load_spec(path: str | os.PathLike[str]) -> FeedSpec:
    """Load and validate the spec at ``path`` (UTF-8 YAML named ``<department>.yaml``).

    Raises:
        SpecError: the file cannot be read or the spec is invalid.
    """
    label = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise SpecError(label, None, "", f"cannot read the file: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SpecError(label, line, "", "not UTF-8 text (save the spec as UTF-8)") from None
    return parse_spec(text, label)


def _packaged() -> resources.abc.Traversable:
    return resources.files("hukou.registry").joinpath("specs")


@cache
def load_all() -> tuple[FeedSpec, ...]:
    """Every packaged spec, sorted by department. Validated once per process.

    >>> [spec.department for spec in load_all()][:2]
    ['civil_affairs', 'education']
    """
    specs = []
    for entry in sorted(_packaged().iterdir(), key=lambda item: item.name):
        if entry.is_file() and entry.name.endswith(_SPEC_SUFFIXES):
            specs.append(parse_spec(entry.read_text(encoding="utf-8"), entry.name))
    return tuple(sorted(specs, key=lambda spec: spec.department))


def find_spec(department: str) -> FeedSpec:
    """The packaged spec of a department code.

    >>> find_spec("housing").name_en
    'Housing bureau: rental registrations'
    >>> find_spec("police")
    Traceback (most recent call last):
    ...
    hukou.registry.spec.UnknownDepartmentError: no spec for department 'police'; known: civil_affairs, education, housing, hr_social_security, medical_insurance, public_security, tax
    """  # noqa: E501
    specs = {spec.department: spec for spec in load_all()}
    spec = specs.get(department)
    if spec is None:
        raise UnknownDepartmentError(
            f"no spec for department {department!r}{_suggest(department, specs)}; "
            f"known: {', '.join(specs)}"
        )
    return spec


# --------------------------------------------------------------------------- validation

_TAG: Final = "tag:yaml.org,2002:"
_STR: Final = _TAG + "str"
_INT: Final = _TAG + "int"
_BOOL: Final = _TAG + "bool"
_NULL: Final = _TAG + "null"

_TOP_KEYS: Final = ("department", "name_zh", "name_en", "files")
_TOP_OPTIONAL: Final = ("authority", "description")
_TEXT_FORMATS: Final[tuple[FileFormat, ...]] = ("csv", "jsonl")
_FILE_KEYS: Final = ("pattern", "format", "record", "record_id", "subject", "columns")
_FILE_OPTIONAL: Final = (
    "title",
    "encoding",
    "delimiter",
    "sheet",
    "skip_lines",
    "metadata_key",
    "other_formats",
)
_RECORD_KEYS: Final = ("kind", "meaning")
_RECORD_OPTIONAL: Final = ("date", "start", "end")
_SUBJECT_KEYS: Final = ("identity", "name")
_SUBJECT_OPTIONAL: Final = ("note",)
_COLUMN_KEYS: Final = ("source",)
_COLUMN_OPTIONAL: Final = (
    "field",
    "required",
    "code_list",
    "values",
    "empty_value",
    "dates",
    "excel_serial",
    "division",
    "within",
    "ignore",
    "reason",
    "note",
)
# Options that say how to read a mapped column: meaningless on an ignored one.
_MAPPING_OPTIONS: Final = (
    "field",
    "required",
    "code_list",
    "values",
    "empty_value",
    "dates",
    "excel_serial",
    "division",
    "within",
)
_VALUE_MAP_KINDS: Final = frozenset({"code", "enum", "boolean", "division"})
_DATE_KINDS: Final = frozenset({"date", "datetime"})

# strptime directives a feed date may use. %y is refused on purpose: a two-digit
# year is ambiguous, and hukou.standards.dates refuses it for the same reason.
_DIRECTIVE_RE: Final = re.compile(r"%(.)")
_ALLOWED_DIRECTIVES: Final = frozenset("YmdjHMSfz%")
_TIME_DIRECTIVES: Final = frozenset("HMSfz")
_SAMPLE_MOMENT: Final = dt.datetime(
    2023, 1, 5, 8, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=8))
)


def _suggest(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or nothing."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _describe(node: Node) -> str:
    """What a node is, in the words of the error messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kinds = {
        _STR: "text",
        _INT: "a number",
        _TAG + "float": "a number",
        _BOOL: "a boolean",
        _NULL: "null",
        _TAG + "timestamp": "a date",
    }
    return f"{kinds.get(node.tag, node.tag)} ({node.value!r})" if node.value else "empty"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


_Entries = dict[str, tuple[Node, Node]]
_Choice = TypeVar("_Choice", bound=str)


class _Parser:
    """Walks the composed YAML, collecting every problem with its line and key path.

    Readers return ``None`` after recording a problem, so one pass reports all of
    them; cross-checks skip what could not be read.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[SpecProblem] = []
        self._constructor = SafeConstructor()
        # Fields carried by columns read so far, even of a file spec that fails later, so
        # that authority claims are checked against them without cascading errors.
        self.carried: set[str] = set()
        self.unknown_field = False

    # ---- primitives

    def fail(self, node: Node | None, key: str, message: str) -> None:
        line = None if node is None or node.start_mark is None else node.start_mark.line + 1
        self.problems.append(SpecProblem(self.file, line, key, message))

    def mapping(
        self, node: Node, path: str, required: Sequence[str], optional: Sequence[str]
    ) -> _Entries | None:
        """The entries of a mapping node, reporting unknown, repeated and missing keys."""
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"must be a mapping, not {_describe(node)}")
            return None
        allowed = (*required, *optional)
        entries: _Entries = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.tag == _STR):
                self.fail(key_node, path, f"keys must be text, not {_describe(key_node)}")
                continue
            name = key_node.value
            if name in entries:
                self.fail(key_node, _join(path, name), "appears twice")
            elif name not in allowed:
                self.fail(key_node, _join(path, name), f"unknown key{_suggest(name, allowed)}")
            else:
                entries[name] = (key_node, value_node)
        for name in required:
            if name not in entries:
                self.fail(node, _join(path, name), "required key is missing")
        return entries

    def sequence(self, node: Node, path: str, *, non_empty: bool = True) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.fail(node, path, f"must be a list, not {_describe(node)}")
            return None
        if non_empty and not node.value:
            self.fail(node, path, "must not be empty")
            return None
        return list(node.value)

    def text(self, node: Node, path: str, *, blank: bool = False) -> str | None:
        if not (isinstance(node, ScalarNode) and node.tag == _STR):
            hint = ""
            if isinstance(node, ScalarNode) and node.tag in (_INT, _BOOL, _NULL) and node.value:
                hint = f"; quote it ('{node.value}') if it is meant as text"
            self.fail(node, path, f"must be text, not {_describe(node)}{hint}")
            return None
        value: str = node.value
        if not (value if blank else value.strip()):
            self.fail(node, path, "must not be empty")
            return None
        return value

    def optional_text(self, node: Node, path: str) -> str | None:
        return None if _is_null(node) else self.text(node, path)

    def boolean(self, node: Node, path: str) -> bool | None:
        if not (isinstance(node, ScalarNode) and node.tag == _BOOL):
            self.fail(node, path, f"must be true or false, not {_describe(node)}")
            return None
        value = self._constructor.construct_object(node)
        return bool(value)

    def integer(self, node: Node, path: str, *, minimum: int) -> int | None:
        if not (isinstance(node, ScalarNode) and node.tag == _INT):
            self.fail(node, path, f"must be a whole number, not {_describe(node)}")
            return None
        value = self._constructor.construct_object(node)
        if not isinstance(value, int) or value < minimum:
            self.fail(node, path, f"must be at least {minimum}, not {value}")
            return None
        return value

    def choice(self, node: Node, path: str, choices: Sequence[_Choice]) -> _Choice | None:
        value = self.text(node, path)
        if value is None:
            return None
        for choice in choices:
            if value == choice:
                return choice
        self.fail(
            node,
            path,
            f"must be one of {', '.join(choices)}, not {value!r}{_suggest(value, choices)}",
        )
        return None

    # ---- the spec

    def feed(self, root: Node) -> FeedSpec | None:
        entries = self.mapping(root, "", _TOP_KEYS, _TOP_OPTIONAL)
        if entries is None:
            return None
        department = self.department(entries.get("department"))
        name_zh = self.text(entries["name_zh"][1], "name_zh") if "name_zh" in entries else None
        name_en = self.text(entries["name_en"][1], "name_en") if "name_en" in entries else None
        description = None
        if "description" in entries:
            description = self.optional_text(entries["description"][1], "description")
        files: list[FileSpec] = []
        if "files" in entries:
            nodes = self.sequence(entries["files"][1], "files") or []
            read: list[tuple[int, FileSpec]] = []
            for index, node in enumerate(nodes):
                spec = self.file_spec(node, _join("files", index))
                if spec is not None:
                    read.append((index, spec))
            self.check_patterns(read)
            files = [spec for _, spec in read]
        authority: dict[str, int] = {}
        if "authority" in entries:
            authority = self.authority(entries["authority"][1])
        if department is None or name_zh is None or name_en is None or not files:
            return None
        return FeedSpec(
            department=department,
            name_zh=name_zh,
            name_en=name_en,
            files=tuple(files),
            authority=MappingProxyType(authority),
            description=description,
            source=self.file,
        )

    def department(self, entry: tuple[Node, Node] | None) -> str | None:
        if entry is None:
            return None
        node = entry[1]
        code = self.text(node, "department")
        if code is None:
            return None
        if not _DEPARTMENT_RE.fullmatch(code):
            self.fail(
                node,
                "department",
                f"{code!r} is not a department code: lower-case letters, digits and _ "
                "(it is the folder name of the department's files)",
            )
            return None
        stem, suffix = os.path.splitext(os.path.basename(self.file))
        if suffix in _SPEC_SUFFIXES and stem != code:
            self.fail(
                node, "department", f"{code!r} does not match the file name: name it {code}.yaml"
            )
        return code

    def check_patterns(self, files: Sequence[tuple[int, FileSpec]]) -> None:
        """Two file kinds with one pattern would make every such file ambiguous.

        The patterns of ``other_formats`` count too: ``a_*.csv`` accepting Parquet
        and a second kind ``a_*.parquet`` would claim the same files.
        """
        seen: dict[str, tuple[int, bool]] = {}  # pattern → (file index, its own pattern)
        for index, spec in files:
            for pattern in spec.patterns:
                if pattern in seen:
                    other, own = seen[pattern]
                    whose = "the pattern" if own else "an other_formats pattern"
                    self.problems.append(
                        SpecProblem(
                            self.file,
                            spec.line,
                            _join(_join("files", index), "pattern"),
                            f"{pattern!r} is already {whose} of files[{other}]",
                        )
                    )
                else:
                    seen[pattern] = (index, pattern == spec.pattern)

    def authority(self, node: Node) -> dict[str, int]:
        """Ranks by standard field; a claim on a field no column carries is an error.

        Read after the files, and checked against every column read (``carried``),
        also those of a file spec that failed, so one mistake does not cascade.
        """
        if not isinstance(node, MappingNode):
            self.fail(node, "authority", f"must be a mapping, not {_describe(node)}")
            return {}
        entries = self.mapping(node, "authority", (), [str(k.value) for k, _ in node.value])
        if entries is None:
            return {}
        ranks: dict[str, int] = {}
        for name, (key_node, value_node) in entries.items():
            path = _join("authority", name)
            rank = self.integer(value_node, path, minimum=1)
            if name not in STANDARD_FIELDS:
                self.fail(
                    key_node,
                    path,
                    f"unknown standard field {name!r}{_suggest(name, STANDARD_FIELDS)}",
                )
            elif name not in self.carried and not self.unknown_field:
                self.fail(key_node, path, f"no column of this spec maps {name!r}")
            elif rank is not None:
                ranks[name] = rank
        return ranks

    def file_spec(self, node: Node, path: str) -> FileSpec | None:  # noqa: PLR0915
        entries = self.mapping(node, path, _FILE_KEYS, _FILE_OPTIONAL)
        if entries is None:
            return None

        def value(key: str) -> Node | None:
            entry = entries.get(key)
            return None if entry is None else entry[1]

        pattern = self.pattern(value("pattern"), _join(path, "pattern"))
        fmt_node = value("format")
        fmt = (
            None if fmt_node is None else self.choice(fmt_node, _join(path, "format"), FILE_FORMATS)
        )
        title_node = value("title")
        title = None if title_node is None else self.optional_text(title_node, _join(path, "title"))
        other_formats: tuple[FileFormat, ...] = ()
        other_node = value("other_formats")
        if other_node is not None:
            other_formats = self.other_formats(other_node, _join(path, "other_formats"), fmt)
            pattern_node = value("pattern")
            if (
                other_formats
                and fmt is not None
                and pattern is not None
                and not pattern.endswith(FORMAT_EXTENSIONS[fmt])
            ):
                self.fail(
                    pattern_node,
                    _join(path, "pattern"),
                    f"must end in {FORMAT_EXTENSIONS[fmt]!r} for other_formats to swap the "
                    "extension",
                )
                other_formats = ()
        encoding = self.encoding(value("encoding"), _join(path, "encoding"), fmt, node)
        delimiter = None
        delimiter_node = value("delimiter")
        if delimiter_node is not None:
            delimiter = self.text(delimiter_node, _join(path, "delimiter"), blank=True)
            if fmt is not None and fmt != "csv":
                self.fail(delimiter_node, _join(path, "delimiter"), f"only CSV has one, not {fmt}")
            elif delimiter is not None and len(delimiter) != 1:
                self.fail(
                    delimiter_node, _join(path, "delimiter"), 'must be one character ("\\t": tab)'
                )
        elif fmt == "csv":
            delimiter = ","
        sheet = None
        sheet_node = value("sheet")
        if sheet_node is not None:
            sheet = self.text(sheet_node, _join(path, "sheet"))
            if fmt is not None and fmt != "xlsx":
                self.fail(sheet_node, _join(path, "sheet"), f"only XLSX has sheets, not {fmt}")
        skip_lines = 0
        skip_node = value("skip_lines")
        if skip_node is not None:
            skip_lines = self.integer(skip_node, _join(path, "skip_lines"), minimum=0) or 0
        metadata_key = None
        metadata_node = value("metadata_key")
        if metadata_node is not None:
            metadata_key = self.text(metadata_node, _join(path, "metadata_key"))
            if fmt is not None and fmt != "jsonl":
                self.fail(
                    metadata_node,
                    _join(path, "metadata_key"),
                    f"only a JSON Lines metadata line has keys, not {fmt}",
                )
            elif skip_lines < 1:
                self.fail(
                    metadata_node,
                    _join(path, "metadata_key"),
                    "names the key of a skipped metadata line: set skip_lines to 1 or more",
                )

        columns: list[ColumnSpec] = []
        columns_node = value("columns")
        if columns_node is not None:
            for index, column_node in enumerate(
                self.sequence(columns_node, _join(path, "columns")) or []
            ):
                column = self.column(column_node, _join(_join(path, "columns"), index))
                if column is not None:
                    columns.append(column)
            self.check_columns(path, columns)
        by_source = {column.source: column for column in columns}

        record = None
        record_node = value("record")
        if record_node is not None:
            record = self.record(record_node, _join(path, "record"), columns)
        record_id = None
        record_id_node = value("record_id")
        if record_id_node is not None:
            record_id = self.optional_text(record_id_node, _join(path, "record_id"))
            if record_id is not None and columns:
                column = by_source.get(record_id)
                if column is None:
                    self.fail(
                        record_id_node,
                        _join(path, "record_id"),
                        f"{record_id!r} is not a column of this file"
                        f"{_suggest(record_id, by_source)}",
                    )
                elif column.ignore:
                    self.fail(
                        record_id_node,
                        _join(path, "record_id"),
                        f"column {record_id!r} is the record id: it cannot be ignored",
                    )
        subject = None
        subject_node = value("subject")
        if subject_node is not None:
            subject = self.subject(subject_node, _join(path, "subject"), columns)

        if (
            pattern is None
            or fmt is None
            or record is None
            or subject is None
            or not columns
            or (fmt in _TEXT_FORMATS and encoding is None)
        ):
            return None
        return FileSpec(
            pattern=pattern,
            format=fmt,
            record=record,
            subject=subject,
            columns=tuple(columns),
            title=title,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
            skip_lines=skip_lines,
            metadata_key=metadata_key,
            record_id=record_id,
            other_formats=other_formats,
            line=None if node.start_mark is None else node.start_mark.line + 1,
        )

    def other_formats(
        self, node: Node, path: str, fmt: FileFormat | None
    ) -> tuple[FileFormat, ...]:
        """Known formats, each once, none the declared ``format`` itself."""
        chosen: list[FileFormat] = []
        for index, item in enumerate(self.sequence(node, path) or []):
            other = self.choice(item, _join(path, index), FILE_FORMATS)
            if other is None:
                continue
            if other == fmt:
                self.fail(item, _join(path, index), f"{other!r} is already the format")
            elif other in chosen:
                self.fail(item, _join(path, index), f"{other!r} appears twice")
            else:
                chosen.append(other)
        return tuple(chosen)

    def pattern(self, node: Node | None, path: str) -> str | None:
        if node is None:
            return None
        pattern = self.text(node, path)
        if pattern is None:
            return None
        if "/" in pattern or "\\" in pattern:
            self.fail(node, path, "is a file name pattern within the department folder: no / or \\")
            return None
        return pattern

    def encoding(
        self, node: Node | None, path: str, fmt: FileFormat | None, parent: Node
    ) -> str | None:
        """A codec name Python knows, or 'detect'; required for CSV, UTF-8 for JSON Lines."""
        if node is None:
            if fmt == "csv":
                self.fail(
                    parent,
                    path,
                    "required for CSV: a codec (gbk, gb18030, utf-8, utf-8-sig) or 'detect'",
                )
                return None
            return "utf-8" if fmt == "jsonl" else None
        encoding = self.text(node, path)
        if encoding is None:
            return None
        if fmt in ("xlsx", "parquet"):
            label = "XLSX" if fmt == "xlsx" else "Parquet"
            self.fail(node, path, f"{label} has no text encoding; remove the key")
            return None
        if encoding == DETECT_ENCODING:
            return encoding
        try:
            codecs.lookup(encoding)
        except LookupError:
            self.fail(node, path, f"unknown encoding {encoding!r}")
            return None
        return encoding

    def check_columns(self, path: str, columns: Sequence[ColumnSpec]) -> None:
        sources: dict[str, int] = {}
        fields: dict[str, str] = {}
        for index, column in enumerate(columns):
            column_path = _join(_join(path, "columns"), index)
            if column.source in sources:
                self.problems.append(
                    SpecProblem(
                        self.file,
                        column.line,
                        _join(column_path, "source"),
                        f"duplicate source {column.source!r} "
                        f"(already columns[{sources[column.source]}])",
                    )
                )
            else:
                sources[column.source] = index
            if column.field is None:
                continue
            if column.field in fields:
                self.problems.append(
                    SpecProblem(
                        self.file,
                        column.line,
                        _join(column_path, "field"),
                        f"{column.field!r} is already carried by column "
                        f"{fields[column.field]!r}; one column per standard field",
                    )
                )
            else:
                fields[column.field] = column.source

    def record(self, node: Node, path: str, columns: Sequence[ColumnSpec]) -> RecordSpec | None:
        entries = self.mapping(node, path, _RECORD_KEYS, _RECORD_OPTIONAL)
        if entries is None:
            return None
        kind = None
        if "kind" in entries:
            kind = self.choice(entries["kind"][1], _join(path, "kind"), RECORD_KINDS)
        meaning = None
        if "meaning" in entries:
            meaning = self.text(entries["meaning"][1], _join(path, "meaning"))
        wanted = {"event": ("date",), "period": ("start", "end"), "state": ()}
        dates: dict[str, str | None] = {"date": None, "start": None, "end": None}
        for key in _RECORD_OPTIONAL:
            entry = entries.get(key)
            if entry is None:
                if kind is not None and key in wanted[kind]:
                    self.fail(
                        node,
                        _join(path, key),
                        f"required for a{'n' if kind == 'event' else ''} {kind}: "
                        "the standard date field it is about",
                    )
                continue
            key_path = _join(path, key)
            if kind is not None and key not in wanted[kind]:
                self.fail(
                    entry[0], key_path, f"only for {'events' if key == 'date' else 'periods'}"
                )
                continue
            name = self.text(entry[1], key_path)
            if name is None:
                continue
            carried = {c.field: c for c in columns if c.field is not None}
            if name not in carried:
                self.fail(
                    entry[1],
                    key_path,
                    f"{name!r} is not a field this file maps{_suggest(name, carried)}",
                )
            elif STANDARD_FIELDS[name].kind not in _DATE_KINDS:
                self.fail(entry[1], key_path, f"{name!r} is a {STANDARD_FIELDS[name].kind} field")
            else:
                dates[key] = name
        if kind is None or meaning is None:
            return None
        return RecordSpec(
            kind,
            " ".join(meaning.split()),
            date=dates["date"],
            start=dates["start"],
            end=dates["end"],
        )

    def subject(self, node: Node, path: str, columns: Sequence[ColumnSpec]) -> SubjectSpec | None:
        entries = self.mapping(node, path, _SUBJECT_KEYS, _SUBJECT_OPTIONAL)
        if entries is None:
            return None
        by_source = {column.source: column for column in columns}
        carriers = [c.source for c in columns if c.field == "identity_number"]
        identity: str | None = None
        name: str | None = None
        note: str | None = None
        if "note" in entries:
            note = self.optional_text(entries["note"][1], _join(path, "note"))
        if "identity" in entries:
            identity_node = entries["identity"][1]
            key_path = _join(path, "identity")
            identity = self.optional_text(identity_node, key_path)
            if identity is None and _is_null(identity_node):
                if carriers:
                    self.fail(
                        identity_node,
                        key_path,
                        f"column {carriers[0]!r} maps identity_number: name it here",
                    )
                elif note is None:
                    self.fail(
                        identity_node,
                        key_path,
                        "a file without identity numbers needs subject.note: how are its "
                        "records matched to people?",
                    )
            elif identity is not None and columns:
                self.check_subject_column(
                    identity_node, key_path, identity, "identity_number", by_source
                )
        if "name" in entries:
            name_node = entries["name"][1]
            name = self.optional_text(name_node, _join(path, "name"))
            if name is not None and columns:
                self.check_subject_column(name_node, _join(path, "name"), name, "name", by_source)
        if "identity" not in entries or "name" not in entries:
            return None
        return SubjectSpec(identity=identity, name=name, note=note)

    def check_subject_column(
        self,
        node: Node,
        path: str,
        source: str,
        wanted: str,
        by_source: Mapping[str, ColumnSpec],
    ) -> None:
        column = by_source.get(source)
        if column is None:
            self.fail(
                node,
                path,
                f"{source!r} is not a column of this file{_suggest(source, by_source)}",
            )
        elif column.field != wanted:
            self.fail(
                node,
                path,
                f"column {source!r} must map {wanted!r}, not {column.field or 'nothing'!r}",
            )

    # ---- columns

    def column(self, node: Node, path: str) -> ColumnSpec | None:  # noqa: PLR0915
        entries = self.mapping(node, path, _COLUMN_KEYS, _COLUMN_OPTIONAL)
        if entries is None:
            return None
        line = None if node.start_mark is None else node.start_mark.line + 1

        def at(key: str) -> tuple[Node, str] | None:
            entry = entries.get(key)
            return None if entry is None else (entry[1], _join(path, key))

        source = None
        if (entry := at("source")) is not None:
            source = self.text(*entry)
        ignore = False
        if (entry := at("ignore")) is not None:
            ignore = bool(self.boolean(*entry))
        note = None
        if (entry := at("note")) is not None:
            note = self.optional_text(*entry)

        if ignore:
            reason = None
            if (entry := at("reason")) is not None:
                reason = self.text(*entry)
            else:
                self.fail(node, _join(path, "reason"), "an ignored column needs a reason")
            for key in _MAPPING_OPTIONS:
                if key in entries:
                    self.fail(
                        entries[key][0],
                        _join(path, key),
                        "an ignored column maps nothing: remove this key, or the ignore",
                    )
            if source is None or reason is None:
                return None
            return ColumnSpec(source, None, ignore=True, reason=reason, note=note, line=line)

        if "reason" in entries:
            self.fail(entries["reason"][0], _join(path, "reason"), "only an ignored column has one")
        field_def = None
        if (entry := at("field")) is None:
            self.fail(node, _join(path, "field"), "required key is missing (or ignore: true)")
        else:
            name = self.text(*entry)
            if name is not None:
                field_def = STANDARD_FIELDS.get(name)
                if field_def is None:
                    self.unknown_field = True
                    self.fail(
                        entry[0],
                        entry[1],
                        f"unknown standard field {name!r}{_suggest(name, STANDARD_FIELDS)}",
                    )
        kind = None if field_def is None else field_def.kind

        required = False
        if (entry := at("required")) is not None:
            required = bool(self.boolean(*entry))

        code_list = None if field_def is None else field_def.code_list
        if (entry := at("code_list")) is not None:
            declared = self.text(*entry)
            if declared is not None and field_def is not None:
                if field_def.code_list is None:
                    self.fail(entry[0], entry[1], f"{field_def.name!r} is a {kind} field, not code")
                elif declared != field_def.code_list:
                    known = (
                        f" (lists: {', '.join(CODE_LISTS)})" if declared not in CODE_LISTS else ""
                    )
                    self.fail(
                        entry[0],
                        entry[1],
                        f"field {field_def.name!r} takes the code list {field_def.code_list!r}, "
                        f"not {declared!r}{known}",
                    )

        values: dict[str, StandardValue] = {}
        if (entry := at("values")) is not None:
            values = self.value_map(entry[0], entry[1], field_def)
        empty_value: StandardValue | None = None
        if (entry := at("empty_value")) is not None:
            if field_def is not None and field_def.kind not in _VALUE_MAP_KINDS:
                self.fail(entry[0], entry[1], f"a {field_def.kind} field takes no empty_value")
            elif field_def is not None:
                empty_value = self.standard_value(entry[0], entry[1], field_def)

        dates: tuple[str, ...] = ()
        if (entry := at("dates")) is not None:
            dates = self.dates(entry[0], entry[1], field_def)
        excel_serial = False
        if (entry := at("excel_serial")) is not None:
            excel_serial = bool(self.boolean(*entry))
            if kind is not None and kind not in _DATE_KINDS and excel_serial:
                self.fail(entry[0], entry[1], f"only date fields can be Excel serials, not {kind}")
        if kind in _DATE_KINDS and "dates" not in entries and not excel_serial:
            self.fail(
                node,
                _join(path, "dates"),
                f"a {kind} field needs dates (strptime patterns or 'standard') "
                "or excel_serial: true",
            )

        division: DivisionForm | None = "code" if kind == "division" else None
        if (entry := at("division")) is not None:
            if kind is not None and kind != "division":
                self.fail(entry[0], entry[1], f"only division fields have one, not {kind}")
            else:
                division = self.choice(entry[0], entry[1], DIVISION_FORMS)
        within = None
        if (entry := at("within")) is not None:
            within = self.text(*entry)
            if division in (None, "code") and kind is not None:
                self.fail(entry[0], entry[1], "only for division names (division: name)")
            elif within is not None and divisions.get(within) is None:
                self.fail(entry[0], entry[1], f"{within!r} is not a GB/T 2260 code")

        if field_def is not None:
            self.carried.add(field_def.name)
        if source is None or field_def is None:
            return None
        return ColumnSpec(
            source=source,
            field=field_def.name,
            required=required,
            code_list=code_list,
            values=MappingProxyType(values),
            empty_value=empty_value,
            dates=dates,
            excel_serial=excel_serial,
            division=division,
            within=within,
            note=note,
            line=line,
        )

    def value_map(
        self, node: Node, path: str, field_def: FieldDef | None
    ) -> dict[str, StandardValue]:
        if field_def is not None and field_def.kind not in _VALUE_MAP_KINDS:
            self.fail(
                node,
                path,
                f"a {field_def.kind} field takes no value map "
                f"(only {', '.join(sorted(_VALUE_MAP_KINDS))})",
            )
            return {}
        if not isinstance(node, MappingNode) or not node.value:
            self.fail(node, path, f"must be a non-empty mapping, not {_describe(node)}")
            return {}
        values: dict[str, StandardValue] = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.tag == _STR):
                what = _describe(key_node).split(" (")[0]
                self.fail(
                    key_node,
                    path,
                    f"YAML reads the department value {key_node.value} as {what}: quote it "
                    f"('{key_node.value}') so that it matches the text in the file",
                )
                continue
            word: str = key_node.value
            key_path = _join(path, word)
            if word in values:
                self.fail(key_node, key_path, "appears twice")
                continue
            if field_def is None:
                continue
            target = self.standard_value(value_node, key_path, field_def)
            if target is not None:
                values[word] = target
        return values

    def standard_value(self, node: Node, path: str, field_def: FieldDef) -> StandardValue | None:
        """Read a value-map target or empty_value: a valid value of the field."""
        if field_def.kind == "boolean":
            return self.boolean(node, path)
        value = self.text(node, path)
        if value is None:
            return None
        if field_def.kind == "code":
            code_list = CODE_LISTS[str(field_def.code_list)]
            if value in code_list:
                return value
            hint = ""
            try:
                resolved = code_list.lookup(value)
            except ValueError:
                pass
            else:
                hint = f"; did you mean {resolved.code!r} ({resolved.zh})?"
            self.fail(node, path, f"{value!r} is not a {code_list.name} code{hint}")
            return None
        if field_def.kind == "enum":
            if value in field_def.values:
                return value
            self.fail(
                node,
                path,
                f"{value!r} is not a value of {field_def.name} "
                f"({', '.join(field_def.values)}){_suggest(value, field_def.values)}",
            )
            return None
        if divisions.get(value) is None:  # division
            self.fail(node, path, f"{value!r} is not a GB/T 2260 code")
            return None
        return value

    def dates(self, node: Node, path: str, field_def: FieldDef | None) -> tuple[str, ...]:
        if field_def is not None and field_def.kind not in _DATE_KINDS:
            self.fail(node, path, f"a {field_def.kind} field has no date formats")
            return ()
        items: list[tuple[Node, str]]
        if isinstance(node, ScalarNode):
            items = [(node, path)]
        else:
            listed = self.sequence(node, path) or []
            items = [(item, _join(path, index)) for index, item in enumerate(listed)]
        patterns: list[str] = []
        for item, item_path in items:
            pattern = self.text(item, item_path)
            if pattern is None:
                continue
            if pattern in patterns:
                self.fail(item, item_path, f"{pattern!r} is listed twice")
                continue
            problem = _date_pattern_problem(pattern, None if field_def is None else field_def.kind)
            if problem is not None:
                self.fail(item, item_path, problem)
                continue
            patterns.append(pattern)
        return tuple(patterns)


def _date_pattern_problem(pattern: str, kind: str | None) -> str | None:
    """Why a ``dates`` entry cannot read the field's values, or ``None`` if it can."""
    if pattern == STANDARD_DATES:
        if kind == "datetime":
            return "'standard' (parse_date) keeps only the date; give a pattern with %H:%M"
        return None
    directives = _DIRECTIVE_RE.findall(pattern)
    if not directives:
        return f"{pattern!r} has no % directive: a strptime pattern or 'standard'"
    if "y" in directives:
        return "%y is a two-digit year (19xx or 20xx?): the standards refuse it; use %Y"
    unknown = sorted({d for d in directives if d not in _ALLOWED_DIRECTIVES})
    if unknown:
        listed = ", ".join("%" + d for d in unknown)
        return f"unsupported directive(s) {listed} (use %Y %m %d %j %H %M %S %f %z)"
    if "Y" not in directives or not ({"m", "j"} & set(directives)):
        return f"{pattern!r} needs a year (%Y) and a month (%m) or day of year (%j)"
    if kind == "datetime" and not {"H", "M"} <= set(directives):
        return f"{pattern!r} has no time of day (%H, %M) for a datetime field"
    if kind == "date" and _TIME_DIRECTIVES & set(directives) and "d" not in directives:
        return f"{pattern!r} has a time of day but no day (%d)"
    try:
        dt.datetime.strptime(_SAMPLE_MOMENT.strftime(pattern), pattern)
    except ValueError:
        return f"{pattern!r} cannot read back what it writes (check the directives)"
    return None
