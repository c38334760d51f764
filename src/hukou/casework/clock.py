"""The statutory clock of a case, in working days (调休 honoured, :mod:`hukou.standards`).

The day a case is filed does not count (期限开始之日不计算在内): a five-day limit on a
case filed on Monday ends on Monday a week later. Working days spent waiting for the
resident's material (补正) do not count either: each pause pushes the deadline by the
working days it covered. A case is *at risk* when at most ``AT_RISK_WORKDAYS`` remain,
and *breached* when decided, or still open, after its deadline; either escalates it to
the supervisor of the department that took it (首接负责制).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hukou.standards.workdays import WorkCalendar, default_calendar

__all__ = ["AT_RISK_WORKDAYS", "Clock", "Pause", "SlaStatus"]

AT_RISK_WORKDAYS: Final = 1
"""Working days left at which a case is escalated before it breaches."""


class SlaStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class Pause:
    """A wait for material: from the day it was asked to the day it came (open: ``None``)."""

    start: datetime.date
    end: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    """A case's working-day clock: filed on ``filed_on`` with a limit of ``limit`` days."""

    filed_on: datetime.date
    limit: int
    pauses: Sequence[Pause] = ()
    calendar: WorkCalendar | None = None

    def _calendar(self) -> WorkCalendar:
        return self.calendar or default_calendar()

    def paused(self, today: datetime.date) -> int:
        """Working days the pauses covered up to ``today`` (an open pause runs to today)."""
        calendar = self._calendar()
        return sum(
            calendar.workdays_between(pause.start, min(pause.end or today, today))
            for pause in self.pauses
            if pause.start < today
        )

    def deadline(self, today: datetime.date) -> datetime.date:
        """The last working day for a decision, as the pauses up to ``today`` put it."""
        return self._calendar().add_workdays(self.filed_on, self.limit + self.paused(today))

    def used(self, day: datetime.date) -> int:
        """Working days counted from filing to ``day`` (pauses excluded)."""
        if day <= self.filed_on:
            return 0
        return self._calendar().workdays_between(self.filed_on, day) - self.paused(day)

    def status(self, today: datetime.date, *, decided_on: datetime.date | None = None) -> SlaStatus:
        """On track, at risk (escalate now) or breached, on ``today`` or as decided."""
        day = decided_on or today
        deadline = self.deadline(day)
        if day > deadline:
            return SlaStatus.BREACHED
        if decided_on is None and self.limit - self.used(day) <= AT_RISK_WORKDAYS:
            return SlaStatus.AT_RISK
        return SlaStatus.ON_TRACK
