"""The simulated year on hand-made applications: 秒批 on registry facts, material pausing
the clock, a queue that a department's capacity drains day by day, stages in order,
refusals, weekends, and the staffing file."""

from __future__ import annotations

import datetime
import math

import pytest

from hukou.casework.catalog import Channel, load_catalog
from hukou.casework.simulation import Application, Staffing, load_staffing, simulate
from hukou.yamldoc import DocumentError, parse_document

CATALOG = load_catalog()
CITY = "3205"
MONDAY = datetime.date(2025, 6, 16)
SATURDAY = datetime.date(2025, 6, 21)
HERE = {("subject", "registered_division"): "320508"}
STAFFING = Staffing(
    tasks_per_reviewer_day=10,
    reviewers_per_100k={"public_security": 1, "housing": 1},
    material_workdays={"at_hand": 2, "to_obtain": 7},  # type: ignore[arg-type]
)


def _app(
    number: int,
    service: str = "register_certificate",
    *,
    values: dict[tuple[str, str], object] | None = None,
    channel: Channel = Channel.ONLINE,
    day: datetime.date = MONDAY,
    eligible: bool = True,
    documents: bool = True,
) -> Application:
    return Application(
        id=f"A{number:06d}",
        service=service,
        channel=channel,
        filed_on=day,
        values=HERE if values is None else values,
        eligible=eligible,
        documents_complete=documents,
    )


def _run(apps: list[Application], reviewers: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    return simulate(
        apps,
        CATALOG,
        reviewers or {"public_security": 1, "housing": 1},
        STAFFING,
        city=CITY,
    )


def test_registry_facts_decide_online_at_once_with_no_visit() -> None:
    report = _run([_app(1), _app(2)])
    assert report.instant_share == 1.0
    assert report.zero_visit_share == 1.0
    assert (report.median_workdays, report.p95_workdays, report.sla_breach_share) == (0, 0, 0)
    figures = report.services["register_certificate"]
    assert (figures.applications, figures.material_share) == (2, 0.0)


def test_a_queue_drains_at_the_departments_capacity() -> None:
    # Nothing proven: every certificate goes to public security, 10 tasks a working day.
    apps = [_app(i, values={}) for i in range(25)]
    report = _run(apps)
    assert report.instant_share == 0.0
    # 10 decided on Tuesday (1 working day), 10 on Wednesday (2), 5 on Thursday (3).
    assert report.median_workdays == 2
    assert report.p95_workdays == 3
    # The limit is 1 working day: the 15 decided later breached it.
    assert report.sla_breach_share == pytest.approx(15 / 25)
    # Monday evening all 25 wait (a task is worked from the day after it opened).
    assert report.departments["public_security"].max_backlog == 25
    assert report.departments["public_security"].tasks == 25
    # Twice the reviewers, twice the pace.
    faster = _run(apps, {"public_security": 2, "housing": 1})
    assert faster.p95_workdays == math.ceil(25 / 20)


def test_material_stops_the_clock_and_costs_the_zero_visit() -> None:
    # 出生一件事 online, no birth on record: the certificate is asked for.
    birth = _app(
        1,
        "birth_registration",
        values={("applicant", "registered_division"): "320508"},
        documents=False,
    )
    report = _run([birth], {"public_security": 1, "medical_insurance": 1, "hr_social_security": 1})
    figures = report.services["birth_registration"]
    assert (figures.instant_share, figures.zero_visit_share, figures.material_share) == (
        0.0,
        0.0,
        1.0,
    )
    # Seven working days to get the paper do not count; the three reviews in parallel take one.
    assert figures.median_workdays == 1
    assert figures.sla_breach_share == 0.0


def test_at_a_window_the_papers_are_handed_over_at_filing() -> None:
    birth = _app(
        1,
        "birth_registration",
        values={("applicant", "registered_division"): "320508"},
        channel=Channel.WINDOW,
    )
    report = _run([birth], {"public_security": 1, "medical_insurance": 1, "hr_social_security": 1})
    figures = report.services["birth_registration"]
    # Handed over: no wait for material, but a person checks the paper (review).
    assert (figures.instant_share, figures.zero_visit_share, figures.material_share) == (
        0.0,
        0.0,
        1.0,
    )
    assert figures.median_workdays == 1


def test_stages_follow_each_other_and_a_refusal_stops_at_the_first() -> None:
    living = {("subject", "actual_residence_division"): "320508"}
    move = _app(1, "household_move", values=living, channel=Channel.WINDOW, documents=True)
    refused = _app(
        2, "household_move", values=living, channel=Channel.WINDOW, documents=True, eligible=False
    )
    report = _run([move, refused])
    figures = report.services["household_move"]
    # Housing on Tuesday, public security on Wednesday; the refusal ends with housing.
    assert figures.median_workdays == pytest.approx(1.5)
    assert report.departments["housing"].tasks == 2
    assert report.departments["public_security"].tasks == 1
    assert report.several_departments_share == 1.0


def test_a_saturday_filing_is_counted_from_monday() -> None:
    report = _run([_app(1, values={}, day=SATURDAY)])
    assert report.median_workdays == 1  # worked on Monday, the first working day after


def test_unknown_services_are_counted_not_dropped() -> None:
    report = _run([_app(1), _app(2, "no_such_service")])
    assert report.applications == 1
    assert report.skipped == {"no_such_service": 1}


def test_the_backlog_is_reported_over_time() -> None:
    report = _run([_app(i, values={}) for i in range(100)])
    assert report.backlog[0]["open_tasks"] == 100
    assert report.backlog[-1]["open_tasks"] < 100
    assert report.as_json()["targets"]["median_workdays"] == 5


def test_staffing_scales_with_the_city_and_overrides_win() -> None:
    staffing = load_staffing()
    small = staffing.reviewers(20_000, {})
    big = staffing.reviewers(1_000_000, {"tax": 3})
    assert all(count >= 1 for count in small.values())
    assert big["public_security"] == round(staffing.reviewers_per_100k["public_security"] * 10)
    assert big["tax"] == 3


def test_a_broken_staffing_file_names_its_line() -> None:
    text = "tasks_per_reviewer_day: 0\nreviewers_per_100k: {}\nmaterial_workdays: {at_hand: 1}\n"
    with pytest.raises(DocumentError) as caught:
        parse_document(text, "staffing.yaml", Staffing)
    lines = {(p.line, p.key) for p in caught.value.problems}
    assert (1, "tasks_per_reviewer_day") in lines
    assert (3, "material_workdays.to_obtain") in lines
