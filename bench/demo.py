"""Benchmark: `make demo` from a clean clone until the console answers (issue 8).

Target: a served console within 5 minutes on the development machine (default city).
Clones this repository's HEAD into a temporary folder, runs `make demo` there, polls
http://127.0.0.1:PORT/healthz, prints the seconds to the first 200 and the set-up's own
step times, then stops the server. Python wheels come from uv's cache when it is warm
(say so when recording: a machine that never installed them downloads them first).

    .venv/bin/python bench/demo.py [--port 8000]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 900


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hukou-demo-") as work:
        clone = Path(work) / "hukou"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        log_path = Path(work) / "demo.log"
        env = {**os.environ, "HUKOU_PORT": str(args.port)}
        started = time.perf_counter()
        with log_path.open("w") as log:
            demo = subprocess.Popen(
                ["make", "demo"],
                cwd=clone,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                while time.perf_counter() - started < LIMIT_SECONDS:
                    try:
                        url = f"http://127.0.0.1:{args.port}/healthz"
                        with urllib.request.urlopen(url, timeout=1) as answer:
                            if answer.status == 200:
                                break
                    except OSError:
                        time.sleep(0.5)
                    if demo.poll() is not None:
                        raise SystemExit(f"make demo stopped:\n{log_path.read_text()[-2000:]}")
                else:
                    raise SystemExit("no console after 15 minutes")
                served = time.perf_counter() - started
            finally:
                os.killpg(demo.pid, signal.SIGTERM)
                demo.wait(timeout=30)
        text = log_path.read_text()
        steps = re.search(r"set up in [^\n]*\n?[^\n]*\)", text)
        print(f"make demo from a clean clone: console served after {served:.1f} s")
        print(" ".join(steps.group(0).split()) if steps else "(no step times in the log)")


if __name__ == "__main__":
    main()
