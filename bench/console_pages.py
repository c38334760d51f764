"""Benchmark: the heaviest console pages' load time on the default demo city (issue 8).

Target: the home page (the plan's KPIs) and a resident's profile at most 300 ms server time
on the default city (20,000 people). Sets the demo up in a data folder (``hukou demo
--no-serve``, reused when it exists), serves it with ``hukou serve``, logs the window clerk
in, and times ``GET /console`` and ``GET /console/persons/{id}`` (the birth story's parent,
whose household is read too) over 127.0.0.1, where the network adds next to nothing. The
anchor, in the same run: ``GET /healthz`` (one database round trip), so a slow machine shows
as a slow anchor and the ratio stays comparable.

    .venv/bin/python bench/console_pages.py [--data DIR] [--runs 30] [--port 8010]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from hukou.demo.seats import DEMO_PASSWORD

HUKOU = [sys.executable, "-m", "hukou.cli"]


def _opener() -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def _get(opener: urllib.request.OpenerDirector, url: str) -> str:
    with opener.open(url, timeout=30) as answer:
        return str(answer.read().decode("utf-8"))


def _post(opener: urllib.request.OpenerDirector, url: str, fields: dict[str, str]) -> str:
    data = urllib.parse.urlencode(fields).encode()
    with opener.open(url, data=data, timeout=30) as answer:
        return str(answer.read().decode("utf-8"))


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    if found is None:
        raise SystemExit(f"no {name} on the page")
    return found.group(1)


def _timed(
    opener: urllib.request.OpenerDirector, url: str, runs: int, *, shows: str = ""
) -> list[float]:
    page = _get(opener, url)  # warm: templates compiled, caches filled
    if shows not in page:
        raise SystemExit(f"{url} does not show {shows!r}: not the page meant to be timed")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _get(opener, url)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _summary(name: str, times: list[float], anchor: float) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    median = statistics.median(times)
    return (
        f"{name:<22} median {median:7.1f} ms  p95 {p95:7.1f} ms  ({median / anchor:5.1f}× anchor)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="demo data folder (reused)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--port", type=int, default=8010)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hukou-pages-") as scratch:
        data = args.data or Path(scratch)
        env = {**os.environ, "HUKOU_DATA_DIR": str(data), "HUKOU_PORT": str(args.port)}
        env.pop("HUKOU_DATABASE_URL", None)
        subprocess.run([*HUKOU, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        state = json.loads((data / "demo.json").read_text(encoding="utf-8"))
        parent = next(s for s in state["samples"] if s["service"] == "birth_registration")
        server = subprocess.Popen(
            [*HUKOU, "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(120):
                try:
                    _get(_opener(), base + "/healthz")
                    break
                except OSError:
                    time.sleep(0.5)
            opener = _opener()
            login = _get(opener, base + "/login")
            _post(
                opener,
                base + "/login",
                {
                    "login_token": _field(login, "login_token"),
                    "username": "clerk",
                    "password": DEMO_PASSWORD,
                },
            )
            search = _get(opener, base + "/console/persons")
            found = _post(
                opener,
                base + "/console/persons",
                {
                    "csrf_token": _field(search, "csrf_token"),
                    "purpose": "household_registration",
                    "identity_number": parent["applicant"],
                },
            )
            person = re.search(r'href="(/console/persons/[^"?]+)\?purpose=', found)
            if person is None:
                raise SystemExit("the story's parent was not found")
            anchor = statistics.median(_timed(opener, base + "/healthz", args.runs))
            print(f"population {state['population']:,}, {args.runs} runs each, 127.0.0.1")
            print(f"{'anchor GET /healthz':<22} median {anchor:7.1f} ms")
            pages = (
                ("GET /console", "/console", 'id="chart-services"'),
                ("GET profile", person.group(1), 'id="household"'),
            )
            for name, path, shows in pages:
                times = _timed(opener, base + path, args.runs, shows=shows)
                print(_summary(name, times, anchor))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
