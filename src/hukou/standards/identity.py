"""GB 11643-1999 citizen identity numbers (公民身份号码).

An identity number is six digits of address code (GB/T 2260, the place of first
registration), eight of birth date, three of sequence (odd for men, even for women)
and one check character computed with ISO 7064 MOD 11-2. Numbers issued before 1999
have fifteen digits: a two-digit year and no check character.

Departments write these numbers with full-width digits, a lower-case x, spaces, or
as the old fifteen-digit form, and they mistype them. This module normalises what
can be normalised, and otherwise says precisely why a number is not valid, so that a
feed row is quarantined with a reason a data officer can act on.

>>> check("11010519491231002X").valid
True
>>> check("110105194902300020").reason
<Reason.BIRTH_DATE_IMPOSSIBLE: 'birth_date_impossible'>
>>> check_character("34052419800101001")
'X'
>>> upgrade("110105491231002")
'11010519491231002X'
"""

from __future__ import annotations

import datetime
import enum
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from hukou.standards import divisions

__all__ = [
    "SPECIAL_ADDRESS_CODES",
    "WEIGHTS",
    "IdentityCheck",
    "IdentityNumber",
    "InvalidIdentityNumberError",
    "Reason",
    "check",
    "check_character",
    "is_valid",
    "mask",
    "normalise",
    "parse",
    "upgrade",
]

# ISO 7064 MOD 11-2: weight of position i (0-based, left to right) is 2**(17-i) mod 11.
WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARACTERS = "10X98765432"
# Residence permits for residents of Hong Kong, Macao and Taiwan (港澳台居民居住证,
# 2018) use these address codes, which are not GB/T 2260 divisions.
SPECIAL_ADDRESS_CODES: frozenset[str] = frozenset({"810000", "820000", "830000"})
_SHAPE_18 = re.compile(r"[0-9]{17}[0-9X]")
_SHAPE_15 = re.compile(r"[0-9]{15}")
_WHITESPACE = re.compile(r"\s+")


class Reason(enum.StrEnum):
    """Why a number is not a valid identity number, in the order they are tested."""

    MISSING = "missing"
    LENGTH = "length"
    CHARACTERS = "characters"
    BIRTH_DATE_IMPOSSIBLE = "birth_date_impossible"
    BIRTH_DATE_IN_FUTURE = "birth_date_in_future"
    ADDRESS_CODE_UNKNOWN = "address_code_unknown"
    ADDRESS_CODE_ABOLISHED_BEFORE_BIRTH = "address_code_abolished_before_birth"
    CHECKSUM = "checksum"

    @property
    def message(self) -> str:
        """A sentence for a data officer (never containing the number itself)."""
        return _MESSAGES[self]


_MESSAGES: dict[Reason, str] = {
    Reason.MISSING: "no identity number was given",
    Reason.LENGTH: "an identity number has 18 characters (or 15 digits if issued before 1999)",
    Reason.CHARACTERS: "only digits are allowed, and X only as the 18th character",
    Reason.BIRTH_DATE_IMPOSSIBLE: "the birth date part is not a real calendar date",
    Reason.BIRTH_DATE_IN_FUTURE: "the birth date part lies in the future",
    Reason.ADDRESS_CODE_UNKNOWN: "the address code is not a GB/T 2260 division code",
    Reason.ADDRESS_CODE_ABOLISHED_BEFORE_BIRTH: (
        "the address code was abolished before the birth date, so it cannot be this person's"
    ),
    Reason.CHECKSUM: "the check character does not match (a digit is mistyped or transposed)",
}


class InvalidIdentityNumberError(ValueError):
    """Raised by :func:`parse` and :func:`upgrade` for a number that is not valid."""

    def __init__(self, reason: Reason) -> None:
        self.reason = reason
        super().__init__(f"{reason.value}: {reason.message}")


@dataclass(frozen=True, slots=True)
class IdentityNumber:
    """The fields a valid identity number encodes. ``repr`` masks the number."""

    number: str
    address_code: str
    birth_date: datetime.date
    sequence: str
    sex: Literal["1", "2"]  # GB/T 2261.1: 1 male, 2 female
    check: str | None  # None for a fifteen-digit number

    def __repr__(self) -> str:
        return f"IdentityNumber({mask(self.number)}, sex={self.sex}, born={self.birth_date})"

    @property
    def is_legacy(self) -> bool:
        """Whether this is a fifteen-digit number from before 1999."""
        return len(self.number) == 15

    @property
    def address_name(self) -> str | None:
        """The division name of the address code in the year of birth, when known."""
        return divisions.name_at(self.address_code, self.birth_date)


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """The verdict on one number: valid, or the first reason it is not."""

    reason: Reason | None
    parsed: IdentityNumber | None

    @property
    def valid(self) -> bool:
        """Whether the number passed every test."""
        return self.reason is None


def normalise(raw: str) -> str:
    """Remove the harmless differences: NFKC (full-width digits), white space, ``x``.

    >>> normalise(" １１０１０５ 19491231002x ")
    '11010519491231002X'
    """
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw)).upper()


def check_character(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first seventeen digits.

    >>> check_character("11010519491231002")
    'X'
    """
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("the body of an identity number is 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def _birth_date(number: str) -> datetime.date | None:
    text = number[6:14] if len(number) == 18 else "19" + number[6:12]
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def check(raw: str, *, today: datetime.date | None = None) -> IdentityCheck:
    """Validate a number and say why it fails, testing in the order of :class:`Reason`.

    ``today`` defaults to the current date; pass it to make a batch reproducible.

    >>> check("440524188001010014").valid  # its county was abolished in 1993: still valid
    True
    >>> check("11010519491231002X", today=datetime.date(1949, 12, 30)).reason.value
    'birth_date_in_future'
    """
    number = normalise(raw)
    if not number:
        return IdentityCheck(Reason.MISSING, None)
    if len(number) not in (15, 18):
        return IdentityCheck(Reason.LENGTH, None)
    shape = _SHAPE_18 if len(number) == 18 else _SHAPE_15
    if not shape.fullmatch(number):
        return IdentityCheck(Reason.CHARACTERS, None)
    born = _birth_date(number)
    if born is None:
        return IdentityCheck(Reason.BIRTH_DATE_IMPOSSIBLE, None)
    if born > (today or datetime.date.today()):
        return IdentityCheck(Reason.BIRTH_DATE_IN_FUTURE, None)
    address = number[:6]
    if address not in SPECIAL_ADDRESS_CODES:
        if divisions.get(address) is None:
            return IdentityCheck(Reason.ADDRESS_CODE_UNKNOWN, None)
        if not divisions.valid_on_or_after(address, born):
            return IdentityCheck(Reason.ADDRESS_CODE_ABOLISHED_BEFORE_BIRTH, None)
    check_char: str | None = None
    if len(number) == 18:
        check_char = number[17]
        if check_character(number[:17]) != check_char:
            return IdentityCheck(Reason.CHECKSUM, None)
    sequence = number[14:17] if len(number) == 18 else number[12:15]
    sex: Literal["1", "2"] = "1" if int(sequence[-1]) % 2 else "2"
    return IdentityCheck(None, IdentityNumber(number, address, born, sequence, sex, check_char))


def is_valid(raw: str, *, today: datetime.date | None = None) -> bool:
    """Shorthand for ``check(raw).valid``."""
    return check(raw, today=today).valid


def parse(raw: str, *, today: datetime.date | None = None) -> IdentityNumber:
    """The fields of a valid number; :class:`InvalidIdentityNumberError` otherwise.

    >>> person = parse("11010519491231002X")
    >>> person.sex, person.birth_date.isoformat(), person.address_code
    ('2', '1949-12-31', '110105')
    """
    result = check(raw, today=today)
    if result.parsed is None:
        assert result.reason is not None
        raise InvalidIdentityNumberError(result.reason)
    return result.parsed


def upgrade(raw: str, *, today: datetime.date | None = None) -> str:
    """The eighteen-digit form: insert the century 19, append the check character.

    Fifteen-digit numbers were issued from 1985 to people born in the 1900s, so the
    century is always 19. An eighteen-digit number comes back normalised.
    """
    person = parse(raw, today=today)
    if not person.is_legacy:
        return person.number
    body = person.number[:6] + "19" + person.number[6:]
    return body + check_character(body)


def mask(raw: str, *, keep_start: int = 3, keep_end: int = 4) -> str:
    """The number with its middle hidden, for logs, errors and screens.

    >>> mask("11010519491231002X")
    '110***********002X'
    """
    number = normalise(raw)
    if len(number) <= keep_start + keep_end:
        return "*" * len(number)
    hidden = len(number) - keep_start - keep_end
    return number[:keep_start] + "*" * hidden + number[len(number) - keep_end :]
