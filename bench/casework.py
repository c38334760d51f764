"""Benchmark: one-window filing over HTTP on PostgreSQL, and the simulated year.

Targets (issue 6): with the HTTP API on PostgreSQL and 50 concurrent clients on
loopback, filing an application that is decided instantly (秒批) has p95 <= 300 ms and
sustains >= 200 submissions/s; the simulated year of a 1,000,000-person city replays in
at most 5 minutes. Anchor, same run: pgbench's built-in simple-update script on the same
server, same number of clients.

    .venv/bin/python bench/casework.py [--population 20000] [--clients 50] [--seconds 20]
        [--workers 1] [--reuse DIR]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--year-city DIR --year-database URL --year-keys FILE]

The HTTP part builds its own registry: a synthetic city generated, ingested and linked
into a fresh PostgreSQL database (``hukou_bench_casework``), served by ``hukou serve``
(one uvicorn process) with one window-clerk account per client. Each client files 户籍证明
(``register_certificate``) for people registered in the city — every fact read through
``exchange`` with its ledger entry, the case, its facts and its steps written — as fast
as answers come, on a keep-alive connection of its own (a small HTTP/1.1 client written
here: the load generator runs on the same two cores as the server and the database, and
must cost them little). Printed beside the rates: the CPU time per filing of the server,
of PostgreSQL (all its processes) and of the load generator over the measured window.
``--reuse DIR`` keeps the registry, key file and clerks in DIR and reuses them next time
(the city takes about a minute to build). The year part runs ``hukou.casework.replay``
on an already linked registry (``bench/registry.py`` leaves one in its work folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx2 as httpx
import psycopg
from sqlalchemy.engine import make_url

from hukou.accounts import AccountKind, Level, Role
from hukou.accounts.events import ignore_events
from hukou.accounts.store import TOTP_CONTEXT, AccountStore, UnknownDepartmentError
from hukou.casework.replay import built_city, replay_year
from hukou.db import create_engine_for, session_scope
from hukou.keyring import data_cipher
from hukou.registry import persons_facts
from hukou.registry.model import Person
from hukou.security import KeyRing, scope_of

PASSWORD = "Bench-Clerk-2026"
SECRET_KEY = "bench-casework-secret-key-0123456789abcdef"
PORT = 8765
DATABASE = "hukou_bench_casework"


def _fresh_database(admin_url: str) -> str:
    """A new empty database beside ``admin_url``'s; its SQLAlchemy URL."""
    url = make_url(admin_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    return url.set(database=DATABASE).render_as_string(hide_password=False)


def _registered_here(url: str, keyring: KeyRing, city: str = "3205") -> list[str]:
    engine = create_engine_for(url)
    with session_scope(engine) as db:
        ids = list(db.scalars(Person.__table__.select().with_only_columns(Person.id)))
        facts = persons_facts(db, data_cipher(engine, keyring), ids, ["registered_division"])
    engine.dispose()
    return sorted(
        person
        for person, found in facts.items()
        if str(found.values.get("registered_division", "")).startswith(city)
    )


def _clerks(url: str, keyring: KeyRing, count: int) -> list[str]:
    """``count`` window clerks of public security; their user names."""
    engine = create_engine_for(url)
    store = AccountStore(
        data_cipher(engine, keyring, scope_of(TOTP_CONTEXT)), SECRET_KEY, on_event=ignore_events
    )
    names = []
    with session_scope(engine) as db:
        try:
            store.department(db, "public_security")
        except UnknownDepartmentError:
            store.create_department(db, "public_security", "公安局", Level.CITY)
        for index in range(count):
            name = f"bench-clerk-{index:03d}-{uuid.uuid4().hex[:6]}"
            store.create_user(
                db,
                kind=AccountKind.STAFF,
                username=name,
                password=PASSWORD,
                display_name="压测窗口",
                department_code="public_security",
                roles=[Role.WINDOW_CLERK],
                must_change_password=False,
            )
            names.append(name)
    engine.dispose()
    return names


def _serve(url: str, key_file: Path, work: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HUKOU_DATABASE_URL": url,
        "HUKOU_KEY_FILE": str(key_file),
        "HUKOU_DATA_DIR": str(work / "data"),
        "HUKOU_SECRET_KEY": SECRET_KEY,
    }
    hukou = Path(sys.executable).parent / "hukou"
    server = subprocess.Popen(
        [str(hukou), "serve", "--port", str(PORT), "--workers", str(workers)],
        env=env,
        stdout=(work / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"the server did not start; see {work / 'server.log'}")


async def _login(client: httpx.AsyncClient, name: str, window: int) -> dict[str, str]:
    """A clerk's bearer header. The cookie jar is emptied after: a login carrying another
    clerk's session cookie would end that session. Each clerk logs in from a window of its
    own (``X-Forwarded-For``, which uvicorn believes from loopback): fifty logins from one
    address, run after run, would meet the per-address login limit."""
    answer = await client.post(
        "/api/v1/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"X-Forwarded-For": f"10.20.{window // 250}.{window % 250 + 1}"},
    )
    client.cookies.clear()
    answer.raise_for_status()
    body = answer.json()
    if body["outcome"] != "ok":
        raise SystemExit(f"login of a bench clerk needs {body['outcome']}")
    return {"Authorization": f"Bearer {answer.cookies['hukou_session']}"}


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (``hukou serve --workers N`` runs N children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def _postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cpu_now(server: int) -> dict[str, float]:
    """CPU seconds so far of the server, PostgreSQL (every process of it) and this bench."""
    own = os.times()
    return {
        "server": sum(_cpu(pid) for pid in _tree(server)),
        "postgres": sum(_cpu(pid) for pid in _postgres_pids()),
        "load": own.user + own.system,
    }


class _Client:
    """One client's keep-alive HTTP/1.1 connection, written by hand: the load runs on the
    same two cores as the server, and httpx spent more time per request than the server
    spends filing one (each answer here costs a few tens of microseconds)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls) -> _Client:
        return cls(*await asyncio.open_connection("127.0.0.1", PORT))

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines[1:]
            if line.lower().startswith("content-length:")
        )
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _load(
    clerks: list[str], people: list[str], seconds: float, warmup: float, server: int
) -> tuple[list[float], dict[str, int], dict[str, float]]:
    """Each clerk files certificates in a loop; latencies of answers in the measured window."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as client:
        tokens = [
            (await _login(client, name, index))["Authorization"][7:]
            for index, name in enumerate(clerks)
        ]
    connections = [await _Client.open() for _ in clerks]
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    start = time.perf_counter()
    measured_from, stop = start + warmup, start + warmup + seconds
    counter = 0
    cpu: dict[str, float] = {}

    async def meter() -> None:
        await asyncio.sleep(measured_from - time.perf_counter())
        before = _cpu_now(server)
        await asyncio.sleep(stop - time.perf_counter())
        after = _cpu_now(server)
        cpu.update({name: after[name] - before[name] for name in after})

    async def worker(index: int) -> None:
        nonlocal counter
        while True:
            sent = time.perf_counter()
            if sent >= stop:
                return
            person = people[(index * 7919 + counter) % len(people)]
            counter += 1
            body = json.dumps({"service": "register_certificate", "applicant_id": person})
            status, answer = await connections[index].post(
                "/api/v1/cases", body.encode(), tokens[index]
            )
            done = time.perf_counter()
            if sent >= measured_from and done <= stop:
                latencies.append(done - sent)
                key = f"{status} {json.loads(answer)['state']}" if status == 201 else str(status)
                outcomes[key] = outcomes.get(key, 0) + 1

    try:
        await asyncio.gather(meter(), *(worker(i) for i in range(len(clerks))))
    finally:
        for connection in connections:
            connection.close()
    return latencies, outcomes, cpu


def _pgbench(admin_url: str, clients: int, seconds: int) -> float:
    """pgbench's simple-update transactions per second, same server and clients."""
    url = make_url(admin_url)
    args = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    scratch = "hukou_bench_pgbench"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {scratch}")
    pgbench = shutil.which("pgbench") or "pgbench"
    subprocess.run(
        [pgbench, *args, "-i", "-q", "-s", "10", scratch], check=True, capture_output=True
    )
    run = subprocess.run(
        [
            pgbench,
            *args,
            "-b",
            "simple-update",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            scratch,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"tps = ([0-9.]+)", run.stdout)
    if found is None:
        raise SystemExit(f"pgbench printed no tps:\n{run.stdout}")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    return float(found.group(1))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _setup(args: argparse.Namespace, work: Path) -> tuple[list[str], list[str], Path]:
    """The registry, its key file, the people to file for and the clerks; built once
    and kept in ``work`` (``--reuse`` skips the build when ``work`` already holds one)."""
    saved = work / "setup.json"
    if args.reuse and saved.exists():
        known = json.loads(saved.read_text(encoding="utf-8"))
        return known["people"], known["clerks"], work / "keys.json"
    url = _fresh_database(args.database)
    started = time.perf_counter()
    with built_city(args.population, lambda _text: None, database_url=url) as city:
        people = _registered_here(url, city.keyring)
        clerks = _clerks(url, city.keyring, args.clients)
        shutil.copyfile(city.key_file, work / "keys.json")
    (work / "keys.json").chmod(0o600)
    saved.write_text(json.dumps({"people": people, "clerks": clerks}), encoding="utf-8")
    print(
        f"registry of {args.population:,} people on PostgreSQL built in "
        f"{time.perf_counter() - started:.0f} s; {len(people):,} registered here"
    )
    return people, clerks, work / "keys.json"


def _http_part(args: argparse.Namespace) -> None:
    work = args.reuse or Path(tempfile.mkdtemp(prefix="hukou-bench-casework-"))
    work.mkdir(parents=True, exist_ok=True)
    people, clerks, key_file = _setup(args, work)
    if len(clerks) < args.clients:
        raise SystemExit(f"{work} holds {len(clerks)} clerks; build it again without --reuse")
    url = make_url(args.database).set(database=DATABASE).render_as_string(hide_password=False)
    server = _serve(url, key_file, work, args.workers)
    try:
        latencies, outcomes, cpu = asyncio.run(
            _load(clerks[: args.clients], people, args.seconds, args.warmup, server.pid)
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if not latencies:
        raise SystemExit(f"no filing was answered in the measured window; see {work}/server.log")
    rate = len(latencies) / args.seconds
    anchor = _pgbench(args.database, args.clients, int(args.seconds))
    p50, p95, p99 = (
        statistics.median(latencies) * 1000,
        _percentile(latencies, 0.95) * 1000,
        _percentile(latencies, 0.99) * 1000,
    )
    print(
        f"{args.clients} clients, {args.seconds:.0f} s measured after {args.warmup:.0f} s "
        f"warm-up: {len(latencies):,} filings, {rate:,.1f} /s; latency p50 {p50:.0f} ms, "
        f"p95 {p95:.0f} ms, p99 {p99:.0f} ms; answers {json.dumps(outcomes)}"
    )
    spread = ", ".join(
        f"p{round(share * 100)} {_percentile(latencies, share) * 1000:.0f}"
        for share in (0.1, 0.25, 0.75, 0.9)
    )
    print(f"latency spread (ms): {spread}")
    print(
        "CPU per filing in the measured window: "
        + ", ".join(f"{name} {used / len(latencies) * 1000:.2f} ms" for name, used in cpu.items())
    )
    print(
        f"anchor: pgbench simple-update, {args.clients} clients: {anchor:,.0f} tps; "
        f"filings/s ÷ pgbench tps = {rate / anchor:.3f}"
    )
    if args.reuse is None:
        shutil.rmtree(work, ignore_errors=True)


def _year_part(args: argparse.Namespace) -> None:
    engine = create_engine_for(args.year_database)
    keyring = KeyRing.from_file(args.year_keys)
    started = time.perf_counter()
    report, population = replay_year(
        args.year_city,
        engine,
        keyring,
        scenario="all",
        overrides={},
        city_code="3205",
        progress=lambda text: print(text, flush=True),
    )
    seconds = time.perf_counter() - started
    print(
        f"simulated year: {report.applications:,} applications of a city of {population:,} "
        f"in {seconds:.1f} s; instant {report.instant_share:.1%}, zero-visit "
        f"{report.zero_visit_share:.1%}, median {report.median_workdays} / p95 "
        f"{report.p95_workdays} working days, SLA breaches {report.sla_breach_share:.2%}"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "HUKOU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--year-city", type=Path, default=None)
    parser.add_argument("--year-database", default=None)
    parser.add_argument("--year-keys", type=Path, default=None)
    parser.add_argument("--no-http", action="store_true", help="only the simulated year")
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="keep the registry, keys and clerks in this folder and reuse them next time",
    )
    args = parser.parse_args()
    if not args.no_http:
        _http_part(args)
    if args.year_city is not None:
        if args.year_database is None or args.year_keys is None:
            raise SystemExit("--year-city needs --year-database and --year-keys")
        _year_part(args)


if __name__ == "__main__":
    main()
