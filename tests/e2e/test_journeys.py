"""The console's journeys in Debian's Chromium, on a served demo (``hukou demo``).

A window clerk files a birth 一件事 for a parent and their newborn, sees it decided at
once (秒批) with the ledger entry of each fact read; the parent logs in to the portal
and finds the case and who read their data for it. Every request stays on 127.0.0.1.
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Request

from hukou.accounts.totp import secret_from_base32, totp_code
from hukou.demo.seats import DEMO_PASSWORD
from tests.e2e.conftest import Demo, screenshot

pytestmark = pytest.mark.e2e


def _log_in(page: Page, demo: Demo, username: str, landing: str) -> None:
    page.goto(demo.url + landing)
    assert page.url.startswith(demo.url + "/login")  # a page asks for a login first
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(demo.url + landing)


def _log_out(page: Page) -> None:
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login$"))


def test_birth_filed_at_the_window_is_decided_at_once_and_the_parent_sees_it(
    page: Page, demo: Demo
) -> None:
    hosts: set[str | None] = set()

    def remember(request: Request) -> None:
        hosts.add(urlparse(request.url).hostname)

    page.on("request", remember)
    _log_in(page, demo, "clerk", "/console")
    assert page.locator("h1").inner_text() == "工作台：关键指标"
    page.wait_for_selector("#chart-services[data-drawn=true]")  # ECharts, served locally
    assert page.locator("#kpi-error_rate .value").inner_text().endswith("%")

    page.click("text=一窗受理")
    page.click("button.sample[data-service=birth_registration]")
    assert page.input_value("#service") == "birth_registration"
    page.click("#check-submit")  # 预审: what the registry proves, before filing
    page.wait_for_selector("#check-facts")
    checked = page.locator("#check-facts tbody tr")
    assert checked.count() == 2
    assert {checked.nth(i).locator("td").nth(1).inner_text() for i in range(2)} == {"符合"}
    assert page.input_value("#service") == "birth_registration"  # the form stays as typed
    page.click("#file-submit")
    page.wait_for_url(re.compile(r".*/console/cases/C\d{8}[0-9A-F]{10}$"))
    case_id = page.locator("#case-id").inner_text()
    assert page.locator("#instant").inner_text() == "秒批"
    assert "已批准" in page.locator("#case-state").inner_text()
    facts = page.locator("#case-facts tbody tr")
    assert facts.count() == 2
    for row in range(2):
        cells = facts.nth(row).locator("td")
        assert cells.nth(1).inner_text() == "符合"
        assert cells.nth(2).inner_text() == "人口库（免证明）"
        assert re.fullmatch(r"#\d+", cells.nth(3).inner_text())
    screenshot(page, "journey-window-birth-decided")
    page.click("#deliver")  # 办结: the first contact hands over the result
    page.wait_for_load_state()
    assert "已送达" in page.locator("#case-state").inner_text()
    _log_out(page)

    parent = next(a for a in demo.state()["accounts"] if a["username"] == "resident1")
    assert "新生儿的父母" in parent["display_name"]
    _log_in(page, demo, "resident1", "/me")
    mine = page.locator("#my-cases")
    assert case_id in mine.inner_text()
    assert "已送达" in mine.inner_text()
    accesses = page.locator("#my-accesses tbody tr")
    about_case = [
        accesses.nth(i).inner_text()
        for i in range(accesses.count())
        if case_id in accesses.nth(i).inner_text()
    ]
    assert about_case, "the parent sees the reads made for their case"
    assert any("公安局" in row for row in about_case)  # the department by name
    rating = page.locator(f"#rate-{case_id}")
    rating.locator("input[name=score][value='5']").check()
    rating.locator("input[name=reason][value=fast]").check()
    rating.locator("button").click()
    page.wait_for_load_state()
    assert "已评价： 5/5" in page.locator("#my-cases").inner_text()
    page.select_option("#apply-service", "register_certificate")
    page.click("#apply-submit")
    page.wait_for_load_state()
    assert page.locator("#my-cases tbody tr").filter(has_text="户籍证明").count() == 1
    screenshot(page, "journey-resident-sees-case-and-accesses")
    assert hosts == {"127.0.0.1"}


def test_elderly_mode_on_a_phone(browser_phone: Page, demo: Demo) -> None:
    page = browser_phone
    _log_in(page, demo, "resident2", "/me")
    page.click("#switch-mode")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("class") == "elder"
    size = float(page.evaluate("getComputedStyle(document.body).fontSize").removesuffix("px"))
    assert size >= 22
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator("h1").inner_text() == "我的户籍服务"
    # One step per screen: big choices first, then only the chosen part.
    assert page.locator("#apply-form").count() == 0
    page.click("#step-accesses")
    page.wait_for_load_state()
    assert page.locator("#my-accesses").is_visible()
    assert page.locator("#apply-form").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "journey-elder-phone-portal")
    page.click("#step-back")
    page.click("#step-apply")
    page.wait_for_load_state()
    assert page.locator("#apply-form").is_visible()
    assert page.locator("#my-accesses").count() == 0


def test_a_wrong_password_is_refused_without_saying_whether_the_account_exists(
    page: Page, demo: Demo
) -> None:
    messages = []
    for name in ("clerk", "nobody-here"):
        page.goto(demo.url + "/login")
        page.fill("#username", name)
        page.fill("#password", "not-the-password")
        page.click("#login-submit")
        messages.append(page.locator("#login-message").inner_text())
    assert messages[0] == messages[1]
    assert page.url.endswith("/login")


def test_a_reviewer_approves_one_of_three_parallel_tasks(page: Page, demo: Demo) -> None:
    _log_in(page, demo, "clerk", "/console")
    page.goto(demo.url + "/console/window")
    page.click("button.sample:has-text('并联审核')")
    page.click("#file-submit")
    page.wait_for_url(re.compile(r".*/console/cases/C\d{8}[0-9A-F]{10}$"))
    case_id = page.locator("#case-id").inner_text()
    assert "部门审核中" in page.locator("#case-state").inner_text()
    tasks = page.locator("#case-tasks tbody tr")
    assert tasks.count() == 3  # public security, medical insurance, social security at once
    _log_out(page)

    _log_in(page, demo, "reviewer-medical_insurance", "/console")
    page.click("text=审核")
    page.wait_for_url(demo.url + "/console/inbox")
    task = page.locator("li.task", has=page.locator(f"text={case_id}"))
    assert "个工作日剩余" in task.inner_text()
    task.locator("button.approve").click()
    page.wait_for_url(demo.url + f"/console/cases/{case_id}")
    mine = page.locator("#case-tasks tbody tr")
    assert mine.count() == 1  # a reviewer sees their own department's task
    assert mine.nth(0).locator("td").nth(2).inner_text() == "已同意"
    screenshot(page, "journey-reviewer-approves-parallel-task")
    _log_out(page)

    _log_in(page, demo, "clerk", f"/console/cases/{case_id}")  # the first contact sees all
    states = {
        row.locator("td").nth(0).inner_text(): row.locator("td").nth(2).inner_text()
        for row in page.locator("#case-tasks tbody tr").all()
    }
    assert states["医疗保障局"] == "已同意"
    assert sorted(states.values()) == ["已同意", "待审核", "待审核"]
    assert "部门审核中" in page.locator("#case-state").inner_text()  # the others still decide


def test_an_analyst_simulates_a_points_reform(page: Page, demo: Demo) -> None:
    _log_in(page, demo, "analyst", "/console/points")
    assert page.locator("#indicators tbody tr").count() >= 10  # Beijing's indicators
    first = page.locator("#ranking tbody tr").first
    score = first.locator("td").nth(2).inner_text()
    first.locator("a").click()  # one applicant's explanation: the same score, line by line
    page.wait_for_load_state()
    assert f"积分 {score}" in page.locator("#explain-total").inner_text()
    assert page.locator("#explain-lines tbody tr").count() >= 10
    page.go_back()
    page.fill("#change", "education.master=40")
    page.click("#simulate")
    page.wait_for_selector("#chart-distribution[data-drawn=true]")
    page.wait_for_selector("#chart-categories[data-drawn=true]")
    before = float(page.locator("#cutoff-before").inner_text())
    after = float(page.locator("#cutoff-after").inner_text())
    assert after >= before  # more points for a degree cannot lower the cutoff
    changes = page.locator("#status-changes").inner_text()
    assert "新增落户" in changes
    screenshot(page, "journey-analyst-points-reform")
    page.fill("#change", "education.nothing=1")
    page.click("#simulate")
    assert page.locator("#points-error").is_visible()


def test_an_auditor_checks_a_proof_and_verifies_the_ledger(page: Page, demo: Demo) -> None:
    auditor = next(a for a in demo.state()["accounts"] if a["username"] == "auditor")
    page.goto(demo.url + "/console/audit")
    page.fill("#username", "auditor")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    code = totp_code(
        secret_from_base32(auditor["totp_secret"]), datetime.datetime.now(datetime.UTC)
    )
    page.fill("#code", code)
    page.click("#code-submit")
    page.wait_for_url(demo.url + "/console/audit")
    assert int(page.locator("#ledger-size").inner_text()) > 0
    page.goto(demo.url + "/console/audit/entries/0")  # the first entry: under the checkpoint
    assert page.locator("#proof-result").inner_text().startswith("包含证明已核验")
    page.goto(demo.url + "/console/audit")
    page.click("#verify")
    page.wait_for_selector("#verify-result")
    assert page.locator("#verify-result").inner_text().startswith("校验通过")
    screenshot(page, "journey-auditor-verifies-ledger")


def test_a_data_officer_resolves_a_review_pair(page: Page, demo: Demo) -> None:
    officer = next(a for a in demo.state()["accounts"] if a["username"] == "officer-registry")
    page.goto(demo.url + "/console/data")
    page.fill("#username", officer["username"])
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    code = totp_code(
        secret_from_base32(officer["totp_secret"]), datetime.datetime.now(datetime.UTC)
    )
    page.fill("#code", code)
    page.click("#code-submit")
    page.wait_for_url(demo.url + "/console/data")
    pairs = page.locator("section.pair")
    queued = pairs.count()
    assert queued > 0  # the demo's late, hand-typed leases
    first = pairs.first
    pair_id = first.get_attribute("id")
    assert first.locator("table.side-by-side td").count() >= 10  # two records side by side
    first.get_by_role("button", name="同一人（合并）").click()
    page.wait_for_url(demo.url + "/console/data#review")
    assert page.locator(f"#{pair_id}").count() == 0
    assert page.locator("section.pair").count() == queued - 1
    assert page.locator("#issue-list tbody tr").count() > 0  # conflicts and flags listed
    screenshot(page, "journey-data-officer-resolves-pair")
