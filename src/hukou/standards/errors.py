"""The exceptions raised by `hukou.standards`.

Every standards function that cannot give an answer raises a subclass of
:class:`StandardsError` (itself a :class:`ValueError`), so a caller such as a feed
ingester can catch one type, quarantine the row and keep the message as the reason.
Messages never contain a full identity number, phone number or name.
"""

from __future__ import annotations

__all__ = [
    "CalendarYearUnknownError",
    "DateFormatError",
    "StandardsError",
    "UnknownCodeError",
]


class StandardsError(ValueError):
    """A value does not conform to a national standard."""


class UnknownCodeError(StandardsError):
    """A department wrote a value that no mapping of the code list knows.

    Unknown values are reported, never guessed: the caller decides whether to
    quarantine the row or extend the mapping.
    """

    def __init__(self, code_list: str, value: str) -> None:
        self.code_list = code_list
        self.value = value
        super().__init__(f"{code_list}: unknown value {value!r}")


class DateFormatError(StandardsError):
    """A date is written in none of the formats Chinese departments use."""


class CalendarYearUnknownError(StandardsError):
    """The working-day calendar has no data for a year.

    The State Council publishes each year's holiday notice in December; until an
    administrator loads it (``hukou calendar load``) deadlines in that year cannot
    be counted, and guessing would put statutory deadlines on holidays.
    """

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"no statutory holiday data for {year}; load the State Council notice "
            f"with `hukou calendar load FILE`"
        )
