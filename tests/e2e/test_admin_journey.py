"""The security administrator's journey in Debian's Chromium, on a served demo: password
and second factor, the key ring's state, then a role granted from the accounts page."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Page

from hukou.accounts.totp import secret_from_base32, totp_code
from hukou.demo.seats import DEMO_PASSWORD
from tests.e2e.conftest import Demo, screenshot

pytestmark = pytest.mark.e2e


def test_the_security_admin_checks_the_keys_and_grants_a_role(page: Page, demo: Demo) -> None:
    seat = next(a for a in demo.state()["accounts"] if a["username"] == "secadmin")
    page.goto(demo.url + "/login")
    page.fill("#username", "secadmin")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    code = totp_code(secret_from_base32(seat["totp_secret"]), datetime.datetime.now(datetime.UTC))
    page.fill("#code", code)
    page.click("#code-submit")
    page.wait_for_url(demo.url + "/console/admin")  # the page of their duty, not the KPIs

    page.click("text=密钥")
    page.wait_for_url(demo.url + "/console/admin/keys")
    active = page.locator("#active-key").inner_text()
    assert page.locator(f"#key-{active} .state").inner_text().startswith("使用中")

    page.click("text=账号管理")
    page.wait_for_url(demo.url + "/console/admin")
    row = page.locator("#user-reviewer-tax")  # an account no other journey uses
    assert row.locator("[data-role=department_reviewer]").count() == 1
    row.locator("form.grant select").select_option("analyst")
    row.locator("form.grant button").click()
    page.wait_for_url(demo.url + "/console/admin?done=granted")
    assert page.locator("#admin-done").is_visible()
    assert page.locator("#user-reviewer-tax [data-role=analyst]").count() == 1
    screenshot(page, "journey-security-admin-grants-a-role")
