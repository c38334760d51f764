"""From a department's row to standard values, with every repair and every reason.

Pure: a row of text (as :mod:`hukou.registry.readers` returns it) and the file's spec
in, a :class:`Standardised` out. A value that can be put right is put right and the
repair noted (full-width digits, a 15-digit number, a birth date or sex read from a
valid identity number); a value that cannot is either fatal (a required field the
row is useless without: the row goes to quarantine with every reason) or kept aside
as an issue on an accepted row. An invalid identity number is not fatal: the record
is still accepted, because probabilistic linkage can still find its person from the
name and birth date, and the bad number is kept for that comparison.
"""

from __future__ import annotations

import datetime
import decimal
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from hukou.registry.fields import code_list_of
from hukou.registry.spec import STANDARD_DATES, ColumnSpec, FileSpec
from hukou.standards import dates, divisions, identity
from hukou.standards.errors import StandardsError
from hukou.standards.names import normalise_name

__all__ = ["Issue", "Standardised", "Standardiser", "standardise"]

_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_OLDEST_BIRTH = datetime.date(1880, 1, 1)
Value = str | int | bool | datetime.date | datetime.datetime | decimal.Decimal
# An unreadable value of a required field sends the row to quarantine, except for
# these kinds: a pupil's record with a mistyped guardian number or phone is still the
# pupil's record, and the problem is kept on it.
_INVALID_IS_NOT_FATAL = frozenset({"identity_number", "phone"})


def _plausible(field: str, value: datetime.date, today: datetime.date) -> bool:
    """Birth dates lie between 1880 and today; other dates within ten years of today.

    A lease may end in two years, a permit in five; a date in 2099 is a typo.
    """
    day = value.date() if isinstance(value, datetime.datetime) else value
    if field == "birth_date":
        return _OLDEST_BIRTH <= day <= today
    return _OLDEST_BIRTH <= day <= today + datetime.timedelta(days=3653)


@dataclass(frozen=True, slots=True)
class Issue:
    """Something wrong with one value: the field, the rule, the value as masked text."""

    field: str
    rule: str
    value: str | None = None

    def as_json(self) -> dict[str, str | None]:
        """For the quarantine and issue columns."""
        return {"field": self.field, "rule": self.rule, "value": self.value}


@dataclass(slots=True)
class Standardised:
    """A row in standard form: values by field, the identity number's verdict, notes."""

    values: dict[str, Value] = field(default_factory=dict)
    identity_status: str = "absent"  # valid | an identity.Reason value | absent
    parsed_identity: identity.IdentityNumber | None = None
    fatal: list[Issue] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # accepted, with these notes
    repairs: list[Issue] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Whether the row can be accepted (no fatal problem)."""
        return not self.fatal


def _mask(value: str, sensitive: bool) -> str:
    """Show enough to recognise a value in a report, never a whole personal datum."""
    if not sensitive:
        return value[:40]
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


class _ValueProblemError(ValueError):
    """A value that cannot be standardised; ``rule`` names what it breaks."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _date(text: str, column: ColumnSpec) -> datetime.date:
    if column.excel_serial and text.replace(".", "", 1).isdigit():
        serial = int(float(text))
        if serial <= 0 or serial == 60:
            raise _ValueProblemError("date_invalid")
        return _EXCEL_EPOCH + datetime.timedelta(days=serial)
    for pattern in column.dates or (STANDARD_DATES,):
        if pattern == STANDARD_DATES:
            try:
                return dates.parse_date(text)
            except StandardsError:
                continue
        try:
            return _fixed_width_date(text, pattern) or (
                datetime.datetime.strptime(text, pattern).date()
            )
        except ValueError:
            continue
    raise _ValueProblemError("date_invalid")


_FIXED_WIDTH = {"%Y%m%d": (8, ""), "%Y-%m-%d": (10, "-"), "%Y/%m/%d": (10, "/")}


def _fixed_width_date(text: str, pattern: str) -> datetime.date | None:
    """The common zero-padded forms read by slicing (strptime is slow); ``None``: not this form.

    Raises ``ValueError`` for an impossible date, as strptime does.

    >>> _fixed_width_date("20240229", "%Y%m%d"), _fixed_width_date("2024-3-1", "%Y-%m-%d")
    (datetime.date(2024, 2, 29), None)
    """
    form = _FIXED_WIDTH.get(pattern)
    if form is None or len(text) != form[0]:
        return None
    if form[1]:
        if text[4] != form[1] or text[7] != form[1]:
            return None
        digits = text[:4] + text[5:7] + text[8:]
    else:
        digits = text
    if not (digits.isascii() and digits.isdigit()):
        return None
    return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def _datetime(text: str, column: ColumnSpec) -> datetime.datetime:
    for pattern in column.dates:
        try:
            return datetime.datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise _ValueProblemError("datetime_invalid") from None


def _division(text: str, column: ColumnSpec) -> str:
    form = column.division or "code"
    if form == "code":
        if divisions.get(text) is None:
            raise _ValueProblemError("division_unknown")
        return text
    candidates = divisions.lookup(text) if form == "name" else _full_name_lookup(text)
    if column.within:
        prefix = column.within.rstrip("0")
        candidates = tuple(d for d in candidates if d.code.startswith(prefix))
    current = [d for d in candidates if d.is_current] or list(candidates)
    if len(current) != 1:
        raise _ValueProblemError("division_ambiguous" if current else "division_unknown")
    return current[0].code


@cache
def _counties_by_full_name() -> dict[str, str]:
    return {
        divisions.full_name(item.code): item.code
        for item in divisions.all_divisions()
        if item.level == "county" and item.is_current
    }


def _full_name_lookup(text: str) -> tuple[divisions.Division, ...]:
    """江苏省苏州市姑苏区 → the county, among today's divisions."""
    code = _counties_by_full_name().get(text)
    return () if code is None else (divisions.division(code),)


def _value(text: str, column: ColumnSpec) -> Value:
    """One non-empty cell to its standard value, or :class:`_ValueProblemError`."""
    definition = column.standard_field
    assert definition is not None
    if text in column.values:
        return column.values[text]
    kind = definition.kind
    if kind == "identity_number":  # another person's number (a guardian's)
        verdict = identity.check(text)
        if verdict.parsed is None:
            assert verdict.reason is not None
            raise _ValueProblemError(verdict.reason.value)
        return identity.upgrade(text)
    if kind == "code":
        try:
            return code_list_of(definition).lookup(text).code
        except StandardsError:
            raise _ValueProblemError("code_unknown") from None
    if kind == "enum":
        raise _ValueProblemError("value_unknown")
    if kind == "date":
        return _date(text, column)
    if kind == "datetime":
        return _datetime(text, column)
    if kind == "division":
        return _division(text, column)
    if kind == "integer":
        try:
            return int(decimal.Decimal(unicodedata.normalize("NFKC", text)))
        except (decimal.InvalidOperation, ValueError):
            raise _ValueProblemError("not_a_number") from None
    if kind == "decimal":
        try:
            return decimal.Decimal(unicodedata.normalize("NFKC", text))
        except decimal.InvalidOperation:
            raise _ValueProblemError("not_a_number") from None
    if kind == "phone":
        digits = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())
        if len(digits) != 11 or not digits.startswith("1"):
            raise _ValueProblemError("phone_invalid")
        return digits
    if kind == "boolean":
        raise _ValueProblemError("value_unknown")
    if kind == "name":
        try:
            return normalise_name(text)
        except StandardsError:
            raise _ValueProblemError("name_invalid") from None
    return unicodedata.normalize("NFKC", text).strip()


def _identity(text: str, result: Standardised, today: datetime.date) -> None:
    verdict = identity.check(text, today=today)
    normalised = identity.normalise(text)
    if verdict.parsed is None:
        assert verdict.reason is not None
        result.identity_status = verdict.reason.value
        # Kept (encrypted) for probabilistic matching; never used as a key.
        result.values["identity_number"] = normalised
        result.issues.append(Issue("identity_number", verdict.reason.value, identity.mask(text)))
        return
    result.identity_status = "valid"
    result.parsed_identity = verdict.parsed
    legacy = verdict.parsed.is_legacy
    number = identity.upgrade(normalised, today=today) if legacy else verdict.parsed.number
    result.values["identity_number"] = number
    if verdict.parsed.is_legacy:
        result.repairs.append(Issue("identity_number", "upgraded_15_to_18", identity.mask(text)))
    elif normalised != text:
        result.repairs.append(Issue("identity_number", "normalised", identity.mask(text)))


def _repair_from_identity(result: Standardised, file: FileSpec) -> None:
    """Sex and birth date are in a valid identity number: fill or correct them from it."""
    parsed = result.parsed_identity
    if parsed is None:
        return
    for name, truth in (("birth_date", parsed.birth_date), ("sex", parsed.sex)):
        column = file.column_for(name)
        if column is None:
            continue
        stated = result.values.get(name)
        problem = next((i for i in result.fatal + result.issues if i.field == name), None)
        if stated is None and problem is not None:
            result.fatal = [i for i in result.fatal if i.field != name]
            result.issues = [i for i in result.issues if i.field != name]
            result.values[name] = truth
            result.repairs.append(Issue(name, f"{problem.rule}:from_identity_number"))
        elif stated is not None and stated != truth:
            result.issues.append(Issue(name, "disagrees_with_identity_number"))


# What a person is, as opposed to what the record says happened: once the record
# carries a valid identity number, the golden record supplies these from the
# department that is authoritative for them, so their absence is a note, not a loss.
_PERSON_ATTRIBUTES = frozenset(
    {"name", "sex", "birth_date", "ethnicity", "education", "marital_status", "phone"}
)


def _soften_for_identified(result: Standardised) -> None:
    """A record identified by a valid number is kept despite a missing person attribute."""
    if result.identity_status != "valid":
        return
    kept = [issue for issue in result.fatal if issue.field in _PERSON_ATTRIBUTES]
    if kept:
        result.fatal = [issue for issue in result.fatal if issue.field not in _PERSON_ATTRIBUTES]
        result.issues.extend(kept)


# Kinds whose values are one person's own (every value new): caching gains nothing.
_UNCACHED_KINDS = frozenset({"identity_number", "phone"})
_CACHE_LIMIT = 200_000  # values per column before a cache starts afresh


class Standardiser:
    """Standardises the rows of one file, remembering each column's verdict per text.

    A department's file repeats the same few thousand texts in most columns (codes,
    dates, district names, employers): each is parsed once per run. The verdict for a
    text depends only on the column and ``today``, so the cache changes no result.
    """

    __slots__ = ("_caches", "file", "today")

    def __init__(self, file: FileSpec, *, today: datetime.date) -> None:
        self.file = file
        self.today = today
        self._caches: dict[str, dict[str, Value | Issue]] = {
            column.source: {} for column in file.mapped
        }

    def _verdict(self, text: str, column: ColumnSpec) -> Value | Issue:
        """The value of one non-empty cell, or the issue it raises (not yet placed)."""
        definition = column.standard_field
        assert definition is not None
        assert column.field is not None
        try:
            value = _value(text, column)
        except _ValueProblemError as problem:
            return Issue(column.field, problem.rule, _mask(text, definition.sensitive))
        if isinstance(value, datetime.date) and not _plausible(column.field, value, self.today):
            return Issue(column.field, "date_out_of_range", _mask(text, False))
        return value

    def _cached(self, text: str, column: ColumnSpec) -> Value | Issue:
        definition = column.standard_field
        assert definition is not None
        if definition.kind in _UNCACHED_KINDS:
            return self._verdict(text, column)
        cache = self._caches[column.source]
        found = cache.get(text)
        if found is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            found = cache[text] = self._verdict(text, column)
        return found

    def __call__(self, row: Mapping[str, str | None]) -> Standardised:
        """Standardise one parsed row of the file."""
        result = Standardised()
        for column in self.file.mapped:
            definition = column.standard_field
            assert definition is not None
            assert column.field is not None
            text = row.get(column.source)
            text = text.strip() if text is not None else None
            if not text:
                if column.empty_value is not None:
                    result.values[column.field] = column.empty_value
                elif column.required:
                    result.fatal.append(Issue(column.field, "missing"))
                continue
            if definition.kind == "identity_number" and column.field == "identity_number":
                _identity(text, result, self.today)
                continue
            verdict = self._cached(text, column)
            if isinstance(verdict, Issue):
                fatal = column.required and definition.kind not in _INVALID_IS_NOT_FATAL
                (result.fatal if fatal else result.issues).append(verdict)
                continue
            result.values[column.field] = verdict
        _repair_from_identity(result, self.file)
        _soften_for_identified(result)
        return result


def standardise(
    row: Mapping[str, str | None], file: FileSpec, *, today: datetime.date
) -> Standardised:
    """Standardise one parsed row of ``file``; ``today`` bounds dates (reproducible).

    For many rows of one file use a :class:`Standardiser`, which gives the same
    results and parses each repeated text once.
    """
    return Standardiser(file, today=today)(row)
