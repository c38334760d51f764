"""The vectorised golden records give, byte for byte, what the scalar path gives.

The scalar path is :func:`hukou.registry.golden.golden_record` per cluster plus the
JSON link stored before it used golden_frame. That JSON writer lives only here now
(``_golden``, ``_golden_json``, ``_conflicts_json``, and the hukou lookup of
``_residence``), as the reference: this file pins the stored format.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from hukou.db import session_scope
from hukou.registry import golden_frame as golden_frame_module
from hukou.registry.golden import (
    Candidate,
    GoldenRecord,
    Provenance,
    golden_record,
    source_order,
    stored_golden,
)
from hukou.registry.golden_frame import (
    INPUT_SCHEMA,
    OUTPUT_SCHEMA,
    golden_frame,
    iter_golden_frames,
)
from hukou.registry.model import Batch, SourceRecord
from hukou.registry.spec import load_all
from hukou.security import KeyRing
from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig
from tests.registry.stored import ingest_city

KEYRING = KeyRing.generate()
SPEC_AUTHORITY = {spec.department: dict(spec.authority) for spec in load_all()}


# --- the scalar path (committed link.py) ------------------------------------------------


def _golden(members: pl.DataFrame, authority: Mapping[str, Mapping[str, int]]) -> GoldenRecord:
    records = []
    for row in members.iter_rows(named=True):
        provenance = Provenance(
            row["department"], row["batch_id"], row["file_name"], row["position"], row["as_of"]
        )
        values: dict[str, object] = json.loads(row["fields"])
        values.update(name=row["name"], sex=row["sex"], birth_date=row["birth_date"])
        records.append((provenance, values))
    return golden_record(records, authority)


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _golden_json(golden: GoldenRecord) -> str:
    cited = sorted({c.provenance for c in golden.values.values()}, key=source_order)
    index = {provenance: number for number, provenance in enumerate(cited)}
    return json.dumps(
        {
            "fields": {
                name: [index[c.provenance], c.rank, _json(c.value)]
                for name, c in golden.values.items()
            },
            "sources": [
                {
                    "department": p.department,
                    "batch_id": p.batch_id,
                    "file": p.file_name,
                    "position": p.position,
                    "as_of": p.as_of.isoformat(),
                }
                for p in cited
            ],
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _conflicts_json(golden: GoldenRecord) -> str | None:
    if not golden.conflicts:
        return None
    return json.dumps(
        [
            {
                "field": c.field,
                "chosen": c.chosen.provenance.department,
                "others": [
                    {"department": o.provenance.department, "position": o.provenance.position}
                    for o in c.others
                ],
            }
            for c in golden.conflicts
        ],
        ensure_ascii=False,
    )


HOUSEHOLD_STRINGS = ("household_number", "relationship", "person_status", "registered_address")


def scalar_frame(records: pl.DataFrame, authority: Mapping[str, Mapping[str, int]]) -> pl.DataFrame:
    """What golden_frame must return, cluster by cluster through the scalar path
    (members in ascending record_key: the order of arrival)."""
    rows = []
    ordered = records.sort("record_key")
    for (cluster_id,), members in ordered.group_by("cluster_id", maintain_order=True):
        golden = _golden(members, authority)
        hukou = golden.values.get("registered_division")
        usable = hukou is not None and isinstance(hukou.value, str)
        birth = golden.value("birth_date")
        rows.append(
            {
                "cluster_id": cluster_id,
                "golden": _golden_json(golden),
                "conflicts": _conflicts_json(golden),
                "name": golden.value("name"),
                "sex": golden.value("sex"),
                "birth_date": birth if isinstance(birth, datetime.date) else None,
                "registered_division": hukou.value if usable and hukou else None,
                "registered_division_rank": hukou.rank if usable and hukou else None,
                "registered_division_as_of": hukou.provenance.as_of if usable and hukou else None,
                **{
                    f"{name}_department": chosen.provenance.department
                    if (chosen := golden.values.get(name))
                    else None
                    for name in ("sex", "birth_date")
                },
                **{
                    name: value if isinstance(value := golden.value(name), str) else None
                    for name in HOUSEHOLD_STRINGS
                },
            }
        )
    return pl.DataFrame(rows, schema=OUTPUT_SCHEMA).sort("cluster_id")


def assert_same(records: pl.DataFrame, authority: Mapping[str, Mapping[str, int]]) -> None:
    expected = scalar_frame(records, authority)
    got = golden_frame(records, authority)
    assert got.schema == expected.schema
    assert got["cluster_id"].to_list() == expected["cluster_id"].to_list()
    for column in OUTPUT_SCHEMA:
        differ = got[column].ne_missing(expected[column])
        if differ.any():
            at = int(differ.arg_max() or 0)
            raise AssertionError(
                f"{column} of cluster {got['cluster_id'][at]!r}:\n"
                f"  frame:  {got[column][at]!r}\n  scalar: {expected[column][at]!r}"
            )


# --- crafted records --------------------------------------------------------------------

DAY = datetime.date(2025, 6, 1)
AUTHORITY = {
    "public_security": {"name": 1, "birth_date": 1, "registered_division": 1, "address": 3},
    "housing": {"address": 1},
    "tax": {"employer_name": 1, "registered_division": 2},
}


def _record(
    cluster: str,
    key: int,
    department: str,
    fields: Mapping[str, object],
    *,
    as_of: datetime.date = DAY,
    name: str | None = None,
    sex: str | None = None,
    birth: datetime.date | None = None,
    batch: str | None = None,
    file_name: str | None = None,
) -> dict[str, object]:
    return {
        "cluster_id": cluster,
        "record_key": key,
        "department": department,
        "batch_id": batch or f"batch-{department}",
        "file_name": file_name or f"{department}.csv",
        "position": key + 1,
        "as_of": as_of,
        "fields": json.dumps(fields, ensure_ascii=False, sort_keys=True),
        "name": name,
        "sex": sex,
        "birth_date": birth,
    }


def _frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=INPUT_SCHEMA)


def _one(frame: pl.DataFrame, authority: Mapping[str, Mapping[str, int]] = AUTHORITY) -> Any:
    assert_same(frame, authority)
    out = golden_frame(frame, authority)
    assert out.height == 1
    return out.row(0, named=True)


def test_authority_then_recency_then_later_arrival() -> None:
    later = DAY + datetime.timedelta(days=3)
    row = _one(
        _frame(
            _record("c", 5, "tax", {"address": "T", "employer_name": "E1"}, as_of=later),
            _record("c", 1, "housing", {"address": "H1"}),
            _record("c", 3, "housing", {"address": "H3"}),  # same rank, same day: later wins
            _record("c", 2, "tax", {"employer_name": "E2"}, as_of=later),
        )
    )
    golden = stored_golden(row["golden"])
    assert golden["address"].value == "H3"
    assert golden["address"].rank == 1
    assert golden["employer_name"].value == "E1"  # same rank and day: key 5 came later
    conflicts = json.loads(row["conflicts"])
    assert [c["field"] for c in conflicts] == ["address", "employer_name"]
    # Others in the scalar order: rank, then recency, then later arrival first.
    assert conflicts[0]["others"] == [
        {"department": "housing", "position": 2},
        {"department": "tax", "position": 6},
    ]


def test_unranked_fields_and_departments_come_last() -> None:
    row = _one(
        _frame(
            _record("c", 1, "police_station", {"address": "X", "hobby": "go"}),  # unknown dept
            _record("c", 2, "public_security", {"address": "Y", "hobby": "chess"}),
        )
    )
    golden = stored_golden(row["golden"])
    assert golden["address"].provenance.department == "public_security"
    assert golden["address"].rank == 3
    assert golden["hobby"] == Candidate(
        "hobby",
        "chess",
        99,
        Provenance("public_security", "batch-public_security", "public_security.csv", 3, DAY),
    )
    # The one record both values come from is listed once.
    assert json.loads(row["golden"])["sources"] == [
        {
            "as_of": "2025-06-01",
            "batch_id": "batch-public_security",
            "department": "public_security",
            "file": "public_security.csv",
            "position": 3,
        }
    ]


def test_none_values_and_record_fields_are_skipped() -> None:
    row = _one(
        _frame(
            _record(
                "c",
                1,
                "public_security",
                {"address": None, "record_number": "R1", "event_type": "birth"},
            ),
            _record("c", 2, "housing", {"registered_at": "2025-01-01T00:00:00", "address": "A"}),
        )
    )
    assert set(stored_golden(row["golden"])) == {"address"}
    assert row["conflicts"] is None
    assert row["name"] is None


def test_a_cluster_with_no_values_has_an_empty_golden_record() -> None:
    row = _one(_frame(_record("c", 1, "tax", {"address": None})))
    assert row["golden"] == '{"fields": {}, "sources": []}'
    assert row["conflicts"] is None
    assert row["registered_division"] is None


def test_record_columns_replace_fields_of_the_same_name() -> None:
    row = _one(
        _frame(
            _record("c", 1, "tax", {"name": "from fields", "sex": "X"}, name="张伟", sex=None),
            _record("c", 2, "public_security", {}, birth=datetime.date(987, 3, 4)),
        )
    )
    golden = stored_golden(row["golden"])
    assert golden["name"].value == "张伟"
    assert "sex" not in golden  # the column's None replaced the field's "X"
    assert golden["birth_date"].value == "0987-03-04"
    assert row["birth_date"] == datetime.date(987, 3, 4)


def test_value_types_round_trip_and_python_equality_decides_conflicts() -> None:
    frame = _frame(
        _record("ints", 1, "housing", {"n": 1, "big": 12345678901234567890123}),
        _record("ints", 2, "tax", {"n": True, "big": 12345678901234567890123}),  # True == 1
        _record("bools", 3, "housing", {"flag": False, "zero": 0}),
        _record("bools", 4, "tax", {"flag": 0, "zero": "0"}),  # 0 == False; "0" != 0
    )
    assert_same(frame, AUTHORITY)
    out = {row["cluster_id"]: row for row in golden_frame(frame, AUTHORITY).iter_rows(named=True)}
    ints = stored_golden(out["ints"]["golden"])
    assert ints["n"].value is True  # tax came later: its bool, not housing's int
    assert ints["big"].value == 12345678901234567890123
    assert out["ints"]["conflicts"] is None
    bools = stored_golden(out["bools"]["golden"])
    assert bools["flag"].value == 0
    assert not isinstance(bools["flag"].value, bool)
    assert bools["zero"].value == "0"
    assert [c["field"] for c in json.loads(out["bools"]["conflicts"])] == ["zero"]


def test_text_is_escaped_as_json_dumps_escapes_it() -> None:
    awkward = 'a "quoted" \\ back\nslash\t\x01\x7f\u2028 中文 é'
    assert_same(
        _frame(
            _record(
                "c",
                1,
                "tax",
                {"address": awkward, "note": "\\u4e2d"},
                name=awkward,
                batch='b"1',
                file_name="文件\\1.csv",
            ),
            _record("c", 2, "housing", {"address": "plain"}, sex="F"),
        ),
        AUTHORITY,
    )


def test_hukou_for_residence() -> None:
    later = DAY + datetime.timedelta(days=1)
    frame = _frame(
        _record("register", 1, "public_security", {"registered_division": "320505"}),
        _record("register", 2, "tax", {"registered_division": "320506"}, as_of=later),
        _record("tax only", 3, "tax", {"registered_division": "320508"}, as_of=later),
        _record("a number", 4, "tax", {"registered_division": 320508}),
        _record("none", 5, "tax", {"address": "A"}),
    )
    assert_same(frame, AUTHORITY)
    out = {row["cluster_id"]: row for row in golden_frame(frame, AUTHORITY).iter_rows(named=True)}
    assert out["register"]["registered_division"] == "320505"
    assert out["register"]["registered_division_rank"] == 1
    assert out["register"]["registered_division_as_of"] == DAY
    assert out["tax only"]["registered_division_rank"] == 2
    assert out["tax only"]["registered_division_as_of"] == later
    assert out["a number"]["registered_division"] is None  # not a str: no hukou for residence
    assert out["a number"]["registered_division_rank"] is None
    assert out["none"]["registered_division"] is None


def test_no_record_gives_no_cluster() -> None:
    assert golden_frame(_frame(), AUTHORITY).equals(pl.DataFrame(schema=OUTPUT_SCHEMA))


def _many() -> pl.DataFrame:
    departments = ("tax", "housing", "public_security")
    days = [DAY + datetime.timedelta(days=n % 3) for n in range(60)]
    return _frame(
        *(
            _record(f"c{n % 7}", n, departments[n % 3], {"address": f"A{n % 4}"}, as_of=days[n])
            for n in range(60)
        )
    )


def test_slices_give_the_same_clusters() -> None:
    frame = _many()
    whole = golden_frame(frame, AUTHORITY)
    assert golden_frame(frame, AUTHORITY, chunk_records=5).equals(whole)
    sliced = list(iter_golden_frames(frame, AUTHORITY, chunk_records=5))
    assert len(sliced) > 1
    assert pl.concat(sliced).sort("cluster_id").equals(whole)
    assert_same(frame, AUTHORITY)


def test_the_unpacked_sort_gives_the_same_order(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _many()
    packed = golden_frame(frame, AUTHORITY)
    # Key ranges too wide for one 64-bit key: the five-column sort is used instead.
    monkeypatch.setattr(golden_frame_module, "_bits", lambda largest: 64)
    assert golden_frame(frame, AUTHORITY).equals(packed)
    assert_same(frame, AUTHORITY)


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 1.5}',  # a float: ingest writes none, and 1.0 == 1 in Python
        '{"n": [1, 2]}',
        '{"n": {"m": 1}}',
        '{"a":1,"b":2}',  # other separators
        '{"a": "\\u4e2d"}',  # ensure_ascii text: the output would differ
        '{"a": "x\\/y"}',
        '["a"]',
        '{"a\\"b": 1}',
    ],
)
def test_text_that_is_not_json_dumps_of_scalars_is_refused(text: str) -> None:
    frame = _frame(_record("c", 1, "tax", {})).with_columns(pl.lit(text).alias("fields"))
    with pytest.raises(ValueError, match="golden_frame"):
        golden_frame(frame, AUTHORITY)


def test_missing_columns_and_nulls_are_refused() -> None:
    frame = _frame(_record("c", 1, "tax", {}))
    with pytest.raises(ValueError, match="missing"):
        golden_frame(frame.drop("as_of"), AUTHORITY)
    with pytest.raises(ValueError, match="null"):
        golden_frame(frame.with_columns(pl.lit(None, pl.Date).alias("as_of")), AUTHORITY)
    with pytest.raises(ValueError, match="types"):
        golden_frame(frame.with_columns(pl.col("position").cast(pl.String)), AUTHORITY)


# --- random records ---------------------------------------------------------------------

_DEPARTMENTS = ["public_security", "housing", "tax", "unranked"]
_KEYS = ["address", "n", "flag", "name", "record_number", "registered_division", "ümlaut"]
_texts = st.text(alphabet=st.sampled_from('ab1"\\\n\x00中é\u2028 '), max_size=4)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.integers(-(2**70), 2**70),
    _texts,
)
_DATES = [DAY, DAY + datetime.timedelta(days=1), datetime.date(1, 1, 1)]


@st.composite
def _records(draw: st.DrawFn) -> pl.DataFrame:
    count = draw(st.integers(1, 14))
    keys = draw(st.lists(st.integers(0, 10_000), min_size=count, max_size=count, unique=True))
    rows = []
    for key in keys:
        fields = draw(st.dictionaries(st.sampled_from(_KEYS), _values, max_size=5))
        rows.append(
            _record(
                draw(st.sampled_from(["c1", "c2", "c3", "集群"])),
                key,
                draw(st.sampled_from(_DEPARTMENTS)),
                fields,
                as_of=draw(st.sampled_from(_DATES)),
                name=draw(st.one_of(st.none(), _texts)),
                sex=draw(st.sampled_from([None, "M", "F"])),
                birth=draw(st.sampled_from([None, *_DATES])),
                batch=draw(st.sampled_from(["b1", "b2", 'b"3'])),
            )
            | {"position": draw(st.integers(1, 5))}
        )
    return _frame(*rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_records(), chunk=st.integers(1, 20))
def test_random_records_match_the_scalar_path(records: pl.DataFrame, chunk: int) -> None:
    authority = {"public_security": {"name": 1, "address": 2, "n": 1}, "housing": {"address": 1}}
    expected = scalar_frame(records, authority)
    assert golden_frame(records, authority, chunk_records=chunk).equals(expected)


# --- a small city, ingested on SQLite and PostgreSQL ------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden-city")
    generate_city(CityConfig(population=600, seed=44), out)
    return out


def _stored_records(engine: Engine) -> pl.DataFrame:
    """The records as committed link.py's load_records reads them (no decryption)."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                SourceRecord.id,
                SourceRecord.department,
                SourceRecord.batch_id,
                SourceRecord.file_name,
                SourceRecord.position,
                SourceRecord.name,
                SourceRecord.sex,
                SourceRecord.birth_date,
                SourceRecord.fields,
                Batch.started_at,
            ).join(Batch, Batch.id == SourceRecord.batch_id)
        ).all()
    return pl.DataFrame(
        {
            "record_key": [row.id for row in rows],
            "department": [row.department for row in rows],
            "batch_id": [row.batch_id for row in rows],
            "file_name": [row.file_name for row in rows],
            "position": [row.position for row in rows],
            "name": [row.name for row in rows],
            "sex": [row.sex for row in rows],
            "birth_date": [row.birth_date for row in rows],
            "as_of": [row.started_at.date() for row in rows],
            "fields": [row.fields for row in rows],
        },
        schema_overrides={"birth_date": pl.Date, "record_key": pl.Int64, "position": pl.Int64},
    )


@pytest.mark.storage
def test_every_cluster_of_a_city_matches_the_scalar_path(engine: Engine, city: Path) -> None:
    ingest_city(engine, city, KEYRING)
    records = _stored_records(engine)
    truth = pl.read_parquet(city / "truth" / "records.parquet")
    records = records.with_columns(
        pl.concat_str(pl.lit("feeds/"), "department", pl.lit("/"), "file_name").alias("file")
    ).join(truth.select("file", "position", "person_id"), on=["file", "position"], how="left")
    # Clusters: the true person (a record the truth lacks is a cluster of its own).
    records = records.with_columns(
        pl.coalesce("person_id", pl.col("record_key").cast(pl.String)).alias("cluster_id")
    )
    assert records["cluster_id"].n_unique() < records.height
    assert_same(records, SPEC_AUTHORITY)
    # And in slices, as a million-person run computes it.
    sliced = golden_frame(records, SPEC_AUTHORITY, chunk_records=records.height // 4)
    assert sliced.equals(golden_frame(records, SPEC_AUTHORITY))
