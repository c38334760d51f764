"""Parallel ingest: files spread over worker processes store exactly what one process stores,
duplicate contents never race, and a worker with another key ring refuses to start."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hukou.db import create_engine_for, upgrade
from hukou.registry.ingest import IngestError
from hukou.registry.parallel import IngestJob, ingest_jobs, keyring_fingerprint
from hukou.security import KeyRing, generate_key_file
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from tests.registry.stored import outcomes

TODAY = datetime.date(2025, 12, 31)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parallel-city")
    generate_city(CityConfig(population=600, seed=31), out)
    return out


def _jobs(city: Path) -> list[IngestJob]:
    return [
        IngestJob(folder.name, path)
        for folder in sorted((city / "feeds").iterdir())
        for path in sorted(folder.iterdir())
    ]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.mark.storage
def test_two_workers_store_what_one_process_stores(
    engine: Engine, city: Path, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys.json"
    keyring = generate_key_file(key_file)
    jobs = _jobs(city)
    parallel = ingest_jobs(
        _url(engine), jobs, keyring=keyring, key_file=key_file, workers=2, today=TODAY
    )
    assert [(r.department, r.file_name) for r in parallel] == [
        (j.department, j.path.name) for j in jobs
    ]  # reports in job order, whatever order the workers finished in
    assert all(r.balanced and r.outcome == "ingested" for r in parallel)

    alone = create_engine_for(f"sqlite:///{tmp_path / 'alone.db'}")
    upgrade(alone)
    sequential = ingest_jobs(_url(alone), jobs, keyring=keyring, workers=1, today=TODAY)
    for ours, theirs in zip(parallel, sequential, strict=True):
        assert (ours.rows_in, ours.accepted, ours.quarantined) == (
            theirs.rows_in,
            theirs.accepted,
            theirs.quarantined,
        )
        assert outcomes(engine, ours.batch_id, keyring) == outcomes(alone, theirs.batch_id, keyring)
    alone.dispose()


@pytest.mark.storage
def test_the_same_content_twice_is_ingested_once(
    engine: Engine, city: Path, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys.json"
    keyring = generate_key_file(key_file)
    [first] = sorted((city / "feeds" / "housing").iterdir())
    copy = tmp_path / "copy" / first.name
    copy.parent.mkdir()
    shutil.copy(first, copy)
    reports = ingest_jobs(
        _url(engine),
        [IngestJob("housing", first), IngestJob("housing", copy)],
        keyring=keyring,
        key_file=key_file,
        workers=2,
        today=TODAY,
    )
    assert sorted(r.outcome for r in reports) == ["already_ingested", "ingested"]
    assert reports[0].batch_id == reports[1].batch_id


@pytest.mark.storage
def test_a_worker_with_another_key_ring_refuses(engine: Engine, city: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    generate_key_file(key_file)
    other = KeyRing.generate()
    assert keyring_fingerprint(other) != keyring_fingerprint(KeyRing.from_file(key_file))
    with pytest.raises(IngestError, match="a worker loaded a different key ring"):
        ingest_jobs(_url(engine), _jobs(city)[:2], keyring=other, key_file=key_file, workers=2)
