"""Evaluation's accounting of every injected defect, on a small city and on crafted frames."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, update

from hukou.db import session_scope
from hukou.registry.evaluate import _accounting, evaluate, person_checks
from hukou.registry.link import link_all
from hukou.registry.model import Person
from hukou.registry.quality import ACTIVE_AFTER_DEATH, flag_json
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from hukou.synth.defects import DEFECT_KINDS
from tests.registry.stored import ingest_city

KEYRING = KeyRing.generate()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("evaluate-city")
    generate_city(CityConfig(population=1500, seed=33), out)
    return out


@pytest.fixture
def linked(engine: Engine, city: Path) -> Engine:
    ingest_city(engine, city, KEYRING)
    link_all(engine, KEYRING)
    return engine


def _store_flags(engine: Engine, *, drop: frozenset[str] = frozenset()) -> None:
    """Store the cross-checks computed from the stored golden JSON, without ``drop``."""
    checked = list(person_checks(engine))
    with session_scope(engine) as session:
        for person_id, records, flags in checked:
            stored = [flag_json(flag, records) for flag in flags if flag.code not in drop]
            session.execute(
                update(Person)
                .where(Person.id == person_id)
                .values(flags=json.dumps(stored) if stored else None)
            )


@pytest.mark.storage
def test_every_defect_kind_is_accounted_for(linked: Engine, city: Path) -> None:
    scores = evaluate(linked, city / "truth")
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    assert scores["quality_flags"] == "stored"  # link stores the cross-checks' flags
    unresolved = scores["unresolved"]
    assert isinstance(unresolved, int)
    assert scores["error_rate_after"] == unresolved / truth.height
    by_kind = scores["unresolved_by_kind"]
    assert isinstance(by_kind, dict)
    assert set(by_kind) <= set(DEFECT_KINDS)
    injected = truth.filter(pl.col("defects").str.contains("death_not_known")).height
    assert injected > 0
    # The registry knows most deaths: most out-of-date records are flagged, not all.
    assert by_kind.get("death_not_known", 0) < injected / 2
    before, after = scores["error_rate_before"], scores["error_rate_after"]
    assert isinstance(before, float)
    assert isinstance(after, float)
    assert 0 < after < before / 3


@pytest.mark.storage
def test_flags_stored_on_persons_are_used(linked: Engine, city: Path) -> None:
    by_link = evaluate(linked, city / "truth")
    assert by_link["quality_flags"] == "stored"
    with session_scope(linked) as session:  # as before link stored any flag
        session.execute(update(Person).values(flags=None))
    computed = evaluate(linked, city / "truth")
    assert computed["quality_flags"] == "computed"
    assert computed["error_rate_after"] == by_link["error_rate_after"]
    _store_flags(linked)
    stored = evaluate(linked, city / "truth")
    assert stored["quality_flags"] == "stored"
    assert stored["error_rate_after"] == computed["error_rate_after"]
    # Without the death check the same records are unresolved again.
    _store_flags(linked, drop=frozenset({ACTIVE_AFTER_DEATH}))
    blind = evaluate(linked, city / "truth")
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    by_kind = blind["unresolved_by_kind"]
    assert isinstance(by_kind, dict)
    assert (
        by_kind["death_not_known"]
        == truth.filter(
            pl.col("defects").str.contains("death_not_known")
            & ~pl.col("defects").str.contains("duplicate_row")
        ).height
    )
    assert blind["error_rate_after"] > stored["error_rate_after"]  # type: ignore[operator]


def _frames(
    defects: list[str], *, golden_name: str = "王玲", quarantined: list[str] | None = None
) -> pl.DataFrame:
    n = len(defects)
    truth = pl.DataFrame(
        {
            "department": ["tax"] * n,
            "file": ["feeds/tax/a.jsonl"] * n,
            "position": list(range(2, n + 2)),
            "record_id": [None] * n,
            "person_id": ["T1"] * n,
            "defects": defects,
        },
        schema_overrides={"record_id": pl.String},
    )
    accepted = [i for i in range(n) if quarantined is None or quarantined[i] == ""]
    records = pl.DataFrame(
        [(i + 1, "feeds/tax/a.jsonl", i + 2, "valid", "R1", True) for i in accepted],
        schema={
            "record_key": pl.Int64,
            "file": pl.String,
            "position": pl.Int64,
            "identity_status": pl.String,
            "cluster_id": pl.String,
            "person_has_number": pl.Boolean,
        },
        orient="row",
    )
    quarantine = pl.DataFrame(
        [("feeds/tax/a.jsonl", i + 2, [rule]) for i, rule in enumerate(quarantined or []) if rule],
        schema={"file": pl.String, "position": pl.Int64, "rules": pl.List(pl.String)},
        orient="row",
    )
    golden = pl.DataFrame(
        {
            "cluster_id": ["R1"],
            "golden_name": [golden_name],
            "golden_birth": ["1980-01-01"],
            "golden_address_from": ["feeds/tax/a.jsonl#5"],  # the stale_address line,
            "golden_fields": [["name", "phone"]],
        }
    )
    persons = pl.DataFrame(
        {"person_id": ["T1"], "true_name": ["王玲"], "true_birth": ["1980-01-01"]}
    )
    return _accounting(truth, persons, records, quarantine, golden, [])


def test_accounting_rules_on_crafted_records() -> None:
    out = _frames(
        ["", "name_homophone", "id_mistyped", "stale_address", "stale_lease", "a_new_kind"]
    )
    assert out["unresolved"].to_list() == [False, False, False, True, True, True]
    wrong_name = _frames(["name_homophone"], golden_name="王铃")
    assert wrong_name["unresolved"].to_list() == [True]


def test_quarantine_is_unresolved_unless_a_removed_copy() -> None:
    out = _frames(
        ["duplicate_row", "malformed_line", ""],
        quarantined=["duplicate_row", "malformed", "missing"],
    )
    assert out["unresolved"].to_list() == [False, True, True]  # a refused clean line too
