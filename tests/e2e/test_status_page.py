"""The status page in a real browser: Chinese by default, English and elderly mode on
request, local fonts, and not one request leaving 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Request

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_status_page_journey(page: Page, server: str) -> None:
    requested: list[str] = []

    def remember(request: Request) -> None:
        requested.append(request.url)

    page.on("request", remember)
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "系统运行状态"
    assert page.locator("#verdict").inner_text() == "正常"
    # The Chinese font is the machine's own, not fetched.
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')") is True

    page.locator("#switch-lang").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "System status"

    page.locator("#switch-mode").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("class") == "elder"
    font_size = page.evaluate("getComputedStyle(document.body).fontSize")
    assert float(font_size.removesuffix("px")) >= 22

    page.goto(server + "/")  # both choices are remembered
    assert page.locator("h1").inner_text() == "System status"
    assert page.locator("html").get_attribute("class") == "elder"
    screenshot(page, "status-elder-en")

    hosts = {urlparse(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, requested


def test_phone_width_and_keyboard(browser_phone: Page, server: str) -> None:
    page = browser_phone
    page.goto(server + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # nothing overflows a phone screen
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    screenshot(page, "status-phone")


def test_api_docs_render_offline(page: Page, server: str) -> None:
    hosts: set[str | None] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname))
    page.goto(server + "/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Hukou" in page.locator(".swagger-ui .info .title").inner_text()
    assert hosts == {"127.0.0.1"}


def test_error_page_is_friendly(page: Page, server: str) -> None:
    response = page.goto(server + "/no-such-page")
    assert response is not None
    assert response.status == 404
    assert page.locator("h1").inner_text() == "页面不存在"
    assert len(page.locator("#correlation-id").inner_text()) == 32
