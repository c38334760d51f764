"""Browser tests: a real ``hukou serve`` and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium
(``executable_path``), installed by scripts/system-deps.sh. Under ``CI=true`` a
missing Chromium fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import unavailable

CHROMIUM = os.environ.get("HUKOU_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[2] / "test-results" / "screenshots"
# Flags for a closed network: no background calls home, no first-run dialogs.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """``hukou serve`` on ``data_dir`` until the caller is done; its URL."""
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [*HUKOU, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail(f"hukou serve did not start: {(data_dir / 'server.log').read_text()}")
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


HUKOU = [sys.executable, "-m", "hukou.cli"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "HUKOU_DATA_DIR": str(data_dir), "HUKOU_ENV": "test"}
    env.pop("HUKOU_DATABASE_URL", None)
    return env


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``hukou serve`` on a fresh SQLite database, as ``make demo`` runs it."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = _env(data_dir)
    subprocess.run([*HUKOU, "db", "upgrade"], env=env, check=True, capture_output=True)
    yield from _serve(data_dir, env)


@dataclass(frozen=True)
class Demo:
    """A served demo: its URL, its data folder (the synthetic city's truth is in it)."""

    url: str
    data_dir: Path

    def state(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "demo.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``hukou demo`` set up on a small synthetic city, then served (as ``make demo``)."""
    data_dir = tmp_path_factory.mktemp("e2e-demo")
    env = _env(data_dir)
    done = subprocess.run(
        [*HUKOU, "demo", "--population", str(DEMO_POPULATION), "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for url in _serve(data_dir, env):
        yield Demo(url, data_dir)


DEMO_POPULATION = 1500


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM}; run scripts/system-deps.sh")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def browser_phone(browser: Browser) -> Iterator[Page]:
    """A page the size of a common phone screen (375 x 667)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 667})
    yield context.new_page()
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the journey's last screen under test-results/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
