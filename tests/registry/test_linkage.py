"""Linkage on a synthetic city, without a database: exact stage, Splink stage, the rule
that two valid identity numbers are never merged, scoring, determinism, the baseline.

The input frame is built the way ingest builds ``registry_record`` (same readers, same
standardisation, duplicate lines dropped, quarantined rows left out), and every record
carries its true person from the city's truth, matched by file and line.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from hukou.registry.linkage import (
    TWO_VALID_NUMBERS,
    LinkageResult,
    link_records,
    pairwise_scores,
    splink_baseline,
)
from hukou.registry.readers import RawRecord, read_csv, read_jsonl, read_xlsx
from hukou.registry.spec import FileSpec, find_spec
from hukou.registry.standardise import standardise
from hukou.standards import identity
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig

TODAY = datetime.date(2025, 12, 31)
MISTYPED = ("id_mistyped", "id_transposed", "id_wrong_check")
RECORD_SCHEMA = {
    "department": pl.String,
    "file": pl.String,
    "position": pl.Int64,
    "identity_number": pl.String,
    "identity_valid": pl.Boolean,
    "name": pl.String,
    "sex": pl.String,
    "birth_date": pl.Date,
    "address": pl.String,
    "registered_division": pl.String,
}
CRAFTED_KEY = 10_000_000  # record keys of the hand-made namesakes, far from the city's


# --------------------------------------------------------------------------- building the input


def _raw_records(path: Path, file: FileSpec) -> Iterator[RawRecord]:
    if file.format == "csv":
        encoding = None if file.encoding in (None, "detect") else file.encoding
        return read_csv(path, encoding=encoding, delimiter=file.delimiter or ",")[2]
    if file.format == "jsonl":
        return read_jsonl(path, skip_lines=file.skip_lines)
    return read_xlsx(path, sheet=file.sheet or 0)[1]


def load_records(city: Path) -> pl.DataFrame:
    """The accepted records of every feed of ``city``, with ``person_id`` and ``defects``.

    What ingest would store, without the database: malformed and duplicate lines and
    rows with a fatal problem are left out (ingest quarantines them).
    """
    rows: list[dict[str, object]] = []
    for path in sorted((city / "feeds").rglob("*")):
        if not path.is_file():
            continue
        [file] = find_spec(path.parent.name).files_for(path.name)
        seen: set[bytes] = set()
        for raw in _raw_records(path, file):
            line = hashlib.blake2b(raw.raw.encode("utf-8"), digest_size=16).digest()
            if raw.values is None or line in seen:
                continue
            seen.add(line)
            result = standardise(raw.values, file, today=TODAY)
            if not result.accepted:
                continue
            values = result.values
            birth = values.get("birth_date")
            rows.append(
                {
                    "department": path.parent.name,
                    "file": path.relative_to(city).as_posix(),
                    "position": raw.position,
                    "identity_number": values.get("identity_number"),
                    "identity_valid": result.identity_status == "valid",
                    "name": values.get("name"),
                    "sex": values.get("sex"),
                    "birth_date": birth if isinstance(birth, datetime.date) else None,
                    "address": values.get("address"),
                    "registered_division": values.get("registered_division"),
                }
            )
    truth = pl.read_parquet(city / "truth" / "records.parquet").select(
        "file", "position", "person_id", "defects"
    )
    return (
        pl.DataFrame(rows, schema=RECORD_SCHEMA)
        .join(truth, on=["file", "position"], how="left", validate="1:1")
        .with_row_index("record_key")
        .with_columns(pl.col("record_key").cast(pl.Int64))
    )


def _valid_number(address: str, born: str, sequence: str) -> str:
    body = address + born + sequence
    number = body + identity.check_character(body)
    assert identity.is_valid(number, today=TODAY)
    return number


def namesakes() -> pl.DataFrame:
    """Two people with one rare name, one birth date, one address, different valid
    numbers — and a third record with the name, birth date, address and no number.

    The third record scores as high against either person: linkage may join it to
    one of them, never both, and must flag the refused join.
    """
    a = _valid_number("320505", "19900101", "337")
    b = _valid_number("320505", "19900101", "357")
    base = {
        "department": "housing",
        "name": "欧阳靖远",
        "sex": "1",
        "birth_date": datetime.date(1990, 1, 1),
        "address": "江苏省苏州市虎丘区玉山路217号26幢829室",
        "registered_division": "320505",
    }
    rows = [
        {**base, "identity_number": a, "identity_valid": True, "department": "public_security"},
        {**base, "identity_number": a, "identity_valid": True, "department": "tax"},
        {**base, "identity_number": b, "identity_valid": True, "department": "public_security"},
        {**base, "identity_number": b, "identity_valid": True, "department": "medical_insurance"},
        {**base, "identity_number": None, "identity_valid": False},
    ]
    return pl.DataFrame(rows, schema={c: RECORD_SCHEMA[c] for c in rows[0]}).with_columns(
        pl.int_range(CRAFTED_KEY, CRAFTED_KEY + len(rows), dtype=pl.Int64).alias("record_key")
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("linkage") / "city"
    generate_city(CityConfig(population=3000, seed=1), out)
    frame = load_records(out)
    assert frame["person_id"].null_count() == 0
    return frame


@pytest.fixture(scope="module")
def linkage_input(records: pl.DataFrame) -> pl.DataFrame:
    """The city's records plus the hand-made namesakes."""
    return pl.concat([records, namesakes()], how="diagonal_relaxed")


@pytest.fixture(scope="module")
def result(linkage_input: pl.DataFrame) -> LinkageResult:
    return link_records(linkage_input)


@pytest.fixture(scope="module")
def city_clusters(result: LinkageResult) -> pl.DataFrame:
    """Clusters of the city's records only (the namesakes have no truth)."""
    return result.clusters.filter(pl.col("record_key") < CRAFTED_KEY)


# --------------------------------------------------------------------------- the result's shape


def test_every_record_gets_exactly_one_cluster(
    linkage_input: pl.DataFrame, result: LinkageResult
) -> None:
    clusters = result.clusters
    assert clusters.height == linkage_input.height
    assert clusters["record_key"].n_unique() == clusters.height
    assert set(clusters["record_key"]) == set(linkage_input["record_key"])
    assert clusters["cluster_id"].null_count() == 0
    assert set(clusters["method"]) <= {"exact", "probabilistic", "singleton"}
    probabilistic = clusters["method"] == "probabilistic"
    assert clusters.filter(probabilistic)["probability"].null_count() == 0
    assert clusters.filter(~probabilistic)["probability"].null_count() == (~probabilistic).sum()


def test_exact_stage_clusters_every_record_sharing_a_valid_number(
    records: pl.DataFrame, result: LinkageResult
) -> None:
    valid = records.filter("identity_valid").join(result.clusters, on="record_key")
    per_number = valid.group_by("identity_number").agg(pl.col("cluster_id").n_unique())
    assert per_number["cluster_id"].max() == 1
    assert set(valid["method"]) == {"exact"}
    number, cluster_id = valid.select("identity_number", "cluster_id").row(0)
    assert cluster_id == "N:" + hashlib.sha256(number.encode()).hexdigest()[:16]
    assert not valid.filter(pl.col("cluster_id").str.contains(pl.col("identity_number"))).height


def test_two_valid_numbers_are_never_in_one_cluster(
    linkage_input: pl.DataFrame, result: LinkageResult
) -> None:
    numbers = (
        linkage_input.filter("identity_valid")
        .join(result.clusters, on="record_key")
        .group_by("cluster_id")
        .agg(pl.col("identity_number").n_unique().alias("numbers"))
    )
    assert numbers["numbers"].max() == 1


def test_a_record_between_two_valid_numbers_is_flagged_not_merged(result: LinkageResult) -> None:
    crafted = result.clusters.filter(pl.col("record_key") >= CRAFTED_KEY).sort("record_key")
    a, a2, b, b2, loose = crafted["cluster_id"].to_list()
    assert a == a2 != b == b2
    assert loose in (a, b)  # joined to one of them …
    flagged = result.flags.filter(pl.col("reason") == TWO_VALID_NUMBERS)
    pairs = set(zip(flagged["cluster_id"], flagged["other_cluster_id"], strict=True))
    assert {(a, b), (b, a)} <= pairs  # … and the join to the other refused, on both
    refused = result.review_pairs.filter(pl.col("reason") == TWO_VALID_NUMBERS)
    assert CRAFTED_KEY + 4 in set(refused["record_key_l"]) | set(refused["record_key_r"])
    assert (refused["probability"] >= 0.95).all()
    assert {"name_l", "name_r", "birth_date_l", "identity_number_r"} <= set(refused.columns)


def test_review_pairs_lie_in_the_band_or_were_refused(result: LinkageResult) -> None:
    review = result.review_pairs
    band = review.filter(pl.col("reason") == "review_band")
    assert ((band["probability"] >= 0.5) & (band["probability"] < 0.95)).all()
    assert (band["cluster_id_l"] != band["cluster_id_r"]).all()
    assert set(review["reason"]) <= {"review_band", TWO_VALID_NUMBERS}


# --------------------------------------------------------------------------- quality


def test_pairwise_f1_on_a_3000_person_city(
    records: pl.DataFrame,
    city_clusters: pl.DataFrame,
    result: LinkageResult,
    record_property: Callable[[str, object], None],
) -> None:
    scores = pairwise_scores(city_clusters, records.select("record_key", "person_id"))
    record_property("linkage_scores", scores)
    record_property("linkage_stats", {k: v for k, v in result.stats.items() if k != "model"})
    print(f"\nlinkage on 3000 people: {scores}")
    assert scores["f1"] >= 0.99
    assert scores["precision"] >= 0.995


def test_mistyped_numbers_are_linked_to_their_person(
    records: pl.DataFrame, city_clusters: pl.DataFrame
) -> None:
    labelled = records.join(city_clusters, on="record_key")
    mistyped = labelled.filter(
        ~pl.col("identity_valid") & pl.col("defects").str.contains("|".join(MISTYPED))
    )
    others = labelled.join(mistyped.select("record_key"), on="record_key", how="anti")
    # Where the person's other records are: the cluster most of them are in.
    home = (
        others.group_by("person_id", "cluster_id")
        .len()
        .sort(["person_id", "len", "cluster_id"], descending=[False, True, False])
        .unique("person_id", keep="first")
        .select("person_id", pl.col("cluster_id").alias("home"))
    )
    checked = mistyped.join(home, on="person_id")  # people with another record
    assert checked.height >= 50
    share = int((checked["cluster_id"] == checked["home"]).sum()) / checked.height
    print(f"\nmistyped numbers linked to their person: {share:.3f} of {checked.height}")
    assert share >= 0.95


def test_ours_beats_splink_alone(records: pl.DataFrame, city_clusters: pl.DataFrame) -> None:
    truth = records.select("record_key", "person_id")
    baseline = splink_baseline(records.drop("person_id", "defects"))
    assert baseline.height == records.height
    ours = pairwise_scores(city_clusters, truth)
    theirs = pairwise_scores(baseline, truth)
    print(f"\nF1 ours {ours['f1']:.5f}, Splink alone {theirs['f1']:.5f}")
    assert ours["f1"] > theirs["f1"]


def test_same_records_same_clusters_and_splink_stays_quiet(
    linkage_input: pl.DataFrame, result: LinkageResult, caplog: pytest.LogCaptureFixture
) -> None:
    splink_logger = logging.getLogger("splink")
    before = (splink_logger.level, splink_logger.propagate, list(splink_logger.handlers))
    with caplog.at_level(logging.DEBUG):
        again = link_records(linkage_input)
    assert again.clusters.equals(result.clusters)
    assert again.review_pairs.equals(result.review_pairs)
    assert again.flags.equals(result.flags)
    assert not [r for r in caplog.records if r.name.startswith("splink")]
    assert (splink_logger.level, splink_logger.propagate, list(splink_logger.handlers)) == before
    assert isinstance(again.stats["splink_warnings"], list)


# --------------------------------------------------------------------------- small cases


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    schema = {
        "record_key": pl.Int64,
        "department": pl.String,
        "identity_number": pl.String,
        "identity_valid": pl.Boolean,
        "name": pl.String,
        "sex": pl.String,
        "birth_date": pl.Date,
    }
    return pl.DataFrame(rows, schema=schema)


def test_only_valid_numbers_needs_no_model() -> None:
    a = _valid_number("320505", "19800101", "123")
    b = _valid_number("320505", "19800101", "124")
    frame = _frame(
        [
            {"record_key": 1, "department": "tax", "identity_number": a, "identity_valid": True},
            {"record_key": 2, "department": "tax", "identity_number": a, "identity_valid": True},
            {"record_key": 3, "department": "tax", "identity_number": b, "identity_valid": True},
        ]
    )
    out = link_records(frame)
    assert out.clusters["method"].to_list() == ["exact"] * 3
    ids = out.clusters["cluster_id"].to_list()
    assert ids[0] == ids[1] != ids[2]
    assert out.review_pairs.is_empty()
    assert out.flags.is_empty()
    assert out.stats["records_needing_link"] == 0


def test_the_registrys_keyed_index_names_the_cluster() -> None:
    a = _valid_number("320505", "19800101", "123")
    frame = _frame(
        [
            {"record_key": 7, "department": "tax", "identity_number": a, "identity_valid": True},
            {"record_key": 9, "department": "tax", "identity_number": a, "identity_valid": True},
        ]
    ).with_columns(pl.lit("ab" * 32).alias("identity_index"))
    assert set(link_records(frame).clusters["cluster_id"]) == {"N:" + "ab" * 8}


def test_a_stated_birth_date_against_the_number_is_flagged() -> None:
    a = _valid_number("320505", "19800101", "123")  # a man born 1 January 1980
    frame = _frame(
        [
            {"record_key": 1, "department": "public_security", "identity_number": a,
             "identity_valid": True, "sex": "1", "birth_date": datetime.date(1980, 1, 1)},
            {"record_key": 2, "department": "education", "identity_number": a,
             "identity_valid": True, "sex": "2", "birth_date": datetime.date(2012, 5, 3)},
        ]
    )  # fmt: skip
    flags = link_records(frame).flags
    assert set(flags["reason"]) == {"birth_date_disagrees", "sex_disagrees"}


def test_a_frame_too_small_to_learn_from_links_nothing_by_chance() -> None:
    a = _valid_number("320505", "19800101", "123")
    wrong_check = a[:-1] + ("0" if a[-1] != "0" else "1")
    born = datetime.date(1980, 1, 1)
    frame = _frame(
        [
            {"record_key": 1, "department": "tax", "identity_number": a, "identity_valid": True,
             "name": "张三", "sex": "1", "birth_date": born},
            {"record_key": 2, "department": "hr_social_security", "identity_number": a,
             "identity_valid": True, "name": "张三", "sex": "1", "birth_date": born},
            {"record_key": 3, "department": "tax", "identity_number": wrong_check,
             "identity_valid": False, "name": "张三"},
        ]
    )  # fmt: skip
    out = link_records(frame)
    assert out.clusters.filter(pl.col("record_key") == 3)["method"].item() == "singleton"
    assert out.stats["em_sessions_skipped"]  # reported, not raised
    assert any("made neutral" in line for line in out.stats["completed_parameters"])


def test_input_is_checked() -> None:
    frame = _frame([{"record_key": 1, "department": "tax"}, {"record_key": 1, "department": "tax"}])
    with pytest.raises(ValueError, match="unique"):
        link_records(frame)
    with pytest.raises(ValueError, match="lack column"):
        link_records(frame.drop("birth_date"))
    with pytest.raises(ValueError, match="review_band"):
        link_records(frame.head(1), review_band=(0.9, 0.5))


# --------------------------------------------------------------------------- pairwise scores


def _scores(clusters: list[str], persons: list[str]) -> dict[str, float]:
    keys = list(range(len(clusters)))
    return pairwise_scores(
        pl.DataFrame({"record_key": keys, "cluster_id": clusters}),
        pl.DataFrame({"record_key": keys, "person_id": persons}),
    )


def test_pairwise_scores_perfect() -> None:
    scores = _scores(["a", "a", "a", "b", "b", "c"], ["p", "p", "p", "q", "q", "r"])
    assert scores["precision"] == scores["recall"] == scores["f1"] == 1.0
    assert scores["true_pairs"] == scores["predicted_pairs"] == scores["true_positive_pairs"] == 4


def test_pairwise_scores_all_merged() -> None:
    # Six records of three people (3, 2, 1) in one cluster: 15 pairs claimed, 4 true.
    scores = _scores(["x"] * 6, ["p", "p", "p", "q", "q", "r"])
    assert scores["predicted_pairs"] == 15
    assert scores["true_positive_pairs"] == scores["true_pairs"] == 4
    assert scores["precision"] == pytest.approx(4 / 15)
    assert scores["recall"] == 1.0
    assert scores["f1"] == pytest.approx(2 * (4 / 15) / (4 / 15 + 1))  # 8/19
    assert scores["false_positive_pairs"] == 11


def test_pairwise_scores_all_split() -> None:
    scores = _scores(["a", "b", "c", "d", "e", "f"], ["p", "p", "p", "q", "q", "r"])
    assert scores["predicted_pairs"] == 0
    assert scores["precision"] == 1.0  # nothing claimed, nothing wrong
    assert scores["recall"] == 0.0
    assert scores["f1"] == 0.0
    assert scores["false_negative_pairs"] == 4


def test_pairwise_scores_needs_the_same_records() -> None:
    with pytest.raises(ValueError, match="same record keys"):
        pairwise_scores(
            pl.DataFrame({"record_key": [1, 2], "cluster_id": ["a", "a"]}),
            pl.DataFrame({"record_key": [1], "person_id": ["p"]}),
        )
