"""Ingest many files at once: one worker process per core.

Standardising and encrypting a row is Python work bound to one core, and a city's
feeds are dozens of files, so files are spread over processes (largest first, so
the last file to finish is a small one). Each worker opens its own engine from the
database URL and loads the key ring itself from the same settings as its parent: a
:class:`~hukou.security.KeyRing` refuses to be pickled, so key material never
crosses a process boundary. The worker proves it holds the same ring by a
fingerprint (key id and a digest of the index key), never the key.

Every guarantee of :func:`hukou.registry.ingest.ingest_file` holds per file:
content hash, chunked commits, resume after a crash. Two files with the same
content for one department are never ingested at the same time (the second one
runs after, and is the no-op it would be in sequence).
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from hukou.db import create_engine_for
from hukou.registry.ingest import BatchReport, IngestError, content_digest, ingest_file
from hukou.security import KeyRing
from hukou.security.sm import sm3

__all__ = [
    "IngestJob",
    "city_jobs",
    "default_workers",
    "ingest_jobs",
    "keyring_fingerprint",
]


@dataclass(frozen=True, slots=True)
class IngestJob:
    """One file of one department."""

    department: str
    path: Path


def city_jobs(city: Path) -> list[IngestJob]:
    """Every feed file of a synthetic city folder (``feeds/<department>/*``), in order."""
    return [
        IngestJob(department.name, path)
        for department in sorted((city / "feeds").iterdir())
        for path in sorted(department.iterdir())
    ]


def default_workers() -> int:
    """One worker per core the process may use."""
    return max(1, len(os.sched_getaffinity(0)))


def keyring_fingerprint(keyring: KeyRing) -> str:
    """Which ring this is, without a bit of key material: active key id and SM3 of the index key.

    >>> len(keyring_fingerprint(KeyRing.generate("k1")).split(":")[1])
    16
    """
    return f"{keyring.active_key_id}:{sm3(keyring.index_key).hex()[:16]}"


# One engine and key ring per worker process, set by _start_worker.
_worker: dict[str, object] = {}


def _start_worker(database_url: str, key_file: str | None, fingerprint: str) -> None:
    """Open the worker's engine and key ring; a problem is kept for the first job to report.

    An exception raised here would only break the pool with a traceback on stderr;
    raised from a job it reaches the caller as the error it is.
    """
    from hukou.config import get_settings  # noqa: PLC0415  (only in worker processes)
    from hukou.keyring import load_keyring  # noqa: PLC0415

    try:
        keyring = KeyRing.from_file(key_file) if key_file else load_keyring(get_settings())
    except Exception as error:
        _worker["error"] = f"a worker could not load the key ring: {error}"
        return
    if keyring_fingerprint(keyring) != fingerprint:
        _worker["error"] = "a worker loaded a different key ring than its parent"
        return
    _worker["engine"] = create_engine_for(database_url)
    _worker["keyring"] = keyring


def _run_job(
    job: IngestJob, digest: str, today: datetime.date | None, chunk_rows: int
) -> BatchReport:
    if "error" in _worker:
        raise IngestError(str(_worker["error"]))
    engine, keyring = _worker["engine"], _worker["keyring"]
    assert isinstance(engine, Engine)
    assert isinstance(keyring, KeyRing)
    return ingest_file(
        engine,
        job.department,
        job.path,
        keyring=keyring,
        today=today,
        chunk_rows=chunk_rows,
        digest=digest,
    )


def _waves(jobs: Sequence[IngestJob], digests: Sequence[str]) -> list[list[int]]:
    """Job indexes in waves: no two jobs of one wave have the same department and content."""
    seen: dict[tuple[str, str], int] = {}
    waves: list[list[int]] = []
    for index, (job, digest) in enumerate(zip(jobs, digests, strict=True)):
        wave = seen.get((job.department, digest), -1) + 1
        seen[(job.department, digest)] = wave
        while len(waves) <= wave:
            waves.append([])
        waves[wave].append(index)
    for wave_jobs in waves:  # largest first: the pool ends on small files
        wave_jobs.sort(key=lambda i: jobs[i].path.stat().st_size, reverse=True)
    return waves


def ingest_jobs(
    database_url: str,
    jobs: Sequence[IngestJob],
    *,
    keyring: KeyRing,
    key_file: Path | None = None,
    workers: int | None = None,
    today: datetime.date | None = None,
    chunk_rows: int = 5000,
    on_done: Callable[[BatchReport], None] | None = None,
) -> list[BatchReport]:
    """Ingest ``jobs`` over ``workers`` processes; the reports come back in job order.

    ``keyring`` is the parent's ring; workers load theirs from ``key_file`` or, when
    it is ``None``, from the settings (HUKOU_KEYS or HUKOU_KEY_FILE), and must find
    the same one. With one worker everything runs in this process.
    """
    count = default_workers() if workers is None else workers
    reports: list[BatchReport | None] = [None] * len(jobs)
    if count <= 1 or len(jobs) <= 1:
        engine = create_engine_for(database_url)
        try:
            for index, job in enumerate(jobs):
                report = ingest_file(
                    engine,
                    job.department,
                    job.path,
                    keyring=keyring,
                    today=today,
                    chunk_rows=chunk_rows,
                )
                reports[index] = report
                if on_done is not None:
                    on_done(report)
        finally:
            engine.dispose()
        return [r for r in reports if r is not None]
    context = multiprocessing.get_context("spawn")  # no inherited threads or connections
    initargs = (database_url, None if key_file is None else str(key_file))
    with ProcessPoolExecutor(
        max_workers=min(count, len(jobs)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(*initargs, keyring_fingerprint(keyring)),
    ) as pool:
        digests = [content_digest(job.path) for job in jobs]  # read once, here
        for wave in _waves(jobs, digests):
            futures: dict[Future[BatchReport], int] = {
                pool.submit(_run_job, jobs[index], digests[index], today, chunk_rows): index
                for index in wave
            }
            for future in as_completed(futures):
                index = futures[future]
                report = future.result()
                reports[index] = report
                if on_done is not None:
                    on_done(report)
    return [r for r in reports if r is not None]
