"""The working-day clock: filing day not counted, 调休 honoured, pauses excluded."""

from __future__ import annotations

import datetime as dt

from hukou.casework.clock import Clock, Pause, SlaStatus


def test_five_working_days_from_a_monday_end_next_monday() -> None:
    clock = Clock(dt.date(2025, 6, 16), 5)
    assert clock.deadline(dt.date(2025, 6, 16)) == dt.date(2025, 6, 23)


def test_holidays_and_make_up_days_count_as_the_state_council_says() -> None:
    # Filed the day before National Day 2025 (1-8 October off; Sunday 28 September and
    # Saturday 11 October are working days).
    clock = Clock(dt.date(2025, 9, 30), 3)
    assert clock.deadline(dt.date(2025, 9, 30)) == dt.date(2025, 10, 11)
    assert clock.used(dt.date(2025, 10, 8)) == 0


def test_waiting_for_material_stops_the_clock() -> None:
    # Asked for material on Wednesday, supplied the next Wednesday: five working days.
    clock = Clock(dt.date(2025, 6, 16), 5, (Pause(dt.date(2025, 6, 18), dt.date(2025, 6, 25)),))
    assert clock.paused(dt.date(2025, 7, 1)) == 5
    assert clock.deadline(dt.date(2025, 7, 1)) == dt.date(2025, 6, 30)
    assert clock.used(dt.date(2025, 6, 30)) == 5
    # An open pause runs to today.
    waiting = Clock(dt.date(2025, 6, 16), 5, (Pause(dt.date(2025, 6, 18)),))
    assert waiting.paused(dt.date(2025, 6, 20)) == 2


def test_status_escalates_when_a_day_is_left_and_breaches_after_the_deadline() -> None:
    clock = Clock(dt.date(2025, 6, 16), 5)
    assert clock.status(dt.date(2025, 6, 18)) is SlaStatus.ON_TRACK  # 2 used, 3 left
    assert clock.status(dt.date(2025, 6, 20)) is SlaStatus.AT_RISK  # 4 used, 1 left
    assert clock.status(dt.date(2025, 6, 24)) is SlaStatus.BREACHED
    assert clock.status(dt.date(2025, 6, 30), decided_on=dt.date(2025, 6, 23)) is (
        SlaStatus.ON_TRACK
    )
    assert clock.status(dt.date(2025, 6, 30), decided_on=dt.date(2025, 6, 24)) is (
        SlaStatus.BREACHED
    )
