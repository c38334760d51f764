"""The whole city: layout, manifest, determinism, truth complete and consistent with the files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from hukou.cli import app
from hukou.synth.city import FEEDS, generate_city
from hukou.synth.config import CityConfig
from hukou.synth.defects import DEFECT_KINDS
from tests.synth.feedcheck import records_in

DEPARTMENTS = {
    "public_security",
    "hr_social_security",
    "education",
    "medical_insurance",
    "civil_affairs",
    "housing",
    "tax",
}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city") / "a"
    generate_city(CityConfig(population=4000, seed=3), out)
    return out


def test_layout_has_every_department_and_the_world(city: Path) -> None:
    assert {department for department, _ in FEEDS} == DEPARTMENTS
    for department in DEPARTMENTS:
        files = list((city / "feeds" / department).iterdir())
        assert files, department
    for path in (
        "facilities/schools.csv",
        "facilities/clinics.csv",
        "applications/applications_2025.csv",
        "points/applicants_2025.csv",
        "truth/persons.parquet",
        "truth/households.parquet",
        "truth/employers.parquet",
        "truth/records.parquet",
    ):
        assert (city / path).is_file(), path


def test_manifest_lists_every_file_with_its_hash(city: Path) -> None:
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(city).as_posix() for p in city.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"manifest.json"}
    for path, entry in listed.items():
        data = (city / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    assert manifest["persons"] == 4000
    assert manifest["config"]["seed"] == 3


def test_same_seed_gives_byte_identical_output(city: Path, tmp_path: Path) -> None:
    generate_city(CityConfig(population=4000, seed=3), tmp_path / "b")
    first = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    second = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert first["files"] == second["files"]


def test_other_seed_gives_another_city(city: Path, tmp_path: Path) -> None:
    generate_city(CityConfig(population=4000, seed=4), tmp_path / "c")
    first = json.loads((city / "manifest.json").read_text(encoding="utf-8"))
    other = json.loads((tmp_path / "c" / "manifest.json").read_text(encoding="utf-8"))
    assert first["files"] != other["files"]


def test_truth_covers_every_record_of_every_file(city: Path) -> None:
    records = pl.read_parquet(city / "truth" / "records.parquet")
    per_file = dict(records.group_by("file").len().iter_rows())
    feed_files = sorted(p for p in (city / "feeds").rglob("*") if p.is_file())
    assert {p.relative_to(city).as_posix() for p in feed_files} == set(per_file)
    for path in feed_files:
        assert records_in(path) == per_file[path.relative_to(city).as_posix()], path
    positions = records.group_by("file").agg(pl.col("position").sort())
    for file, found in positions.iter_rows():
        assert found == list(range(2, 2 + len(found))), file


def test_truth_records_point_at_real_people(city: Path) -> None:
    records = pl.read_parquet(city / "truth" / "records.parquet")
    persons = pl.read_parquet(city / "truth" / "persons.parquet")
    assert records["person_id"].is_in(persons["person_id"].implode()).all()
    assert persons["actual_division"].null_count() == 0
    assert persons["actual_since"].null_count() == 0
    assert set(records["department"].unique()) == DEPARTMENTS


def test_about_eight_percent_of_records_are_defective(city: Path) -> None:
    records = pl.read_parquet(city / "truth" / "records.parquet")
    share = (records["defects"] != "").mean()
    assert share is not None
    assert 0.06 < float(share) < 0.11  # the plan reports 8.3 %
    kinds = set(records["defects"].str.split(";").explode().unique().to_list()) - {""}
    generic = {kind.split(":")[0] for kind in kinds}
    assert generic <= set(DEFECT_KINDS), generic - set(DEFECT_KINDS)  # every kind documented
    for kind in (
        "name_homophone",
        "id_transposed",
        "id_legacy_15",
        "duplicate_row",
        "missing_field",
        "malformed_line",
        "stale_address",
        "death_not_known",
    ):
        assert kind in generic, kind


def test_clean_scale_gives_clean_feeds(tmp_path: Path) -> None:
    from hukou.synth.config import DefectRates  # noqa: PLC0415

    generate_city(CityConfig(population=1500, seed=2, defects=DefectRates(scale=0)), tmp_path / "c")
    records = pl.read_parquet(tmp_path / "c" / "truth" / "records.parquet")
    generic = records.filter(
        (pl.col("defects") != "") & ~pl.col("defects").str.contains("death_not_known|stale_lease")
    )
    assert generic.height == 0, generic.head()


def test_command_line(tmp_path: Path) -> None:
    out = tmp_path / "cli-city"
    result = CliRunner().invoke(
        app, ["synth", "city", "--population", "1200", "--seed", "9", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1,200 people" in result.output
    assert (out / "manifest.json").is_file()
