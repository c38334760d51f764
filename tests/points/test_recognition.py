"""Cross-region recognition: months earned elsewhere counted at the region's factor from its
date, the frame and the line-by-line view agreeing; a region file naming a stranger city is
refused with its line; two policies compared by category on the same applicants."""

from __future__ import annotations

import datetime
from pathlib import Path

import polars as pl
import pytest

from hukou.points.engine import score_frame
from hukou.points.policy import load_policies
from hukou.points.recognition import (
    compare_categories,
    elsewhere_column,
    load_region,
    load_regions,
    portable,
    recognised,
)
from hukou.yamldoc import DocumentError

REGION = load_regions()["yangtze_delta"]
SHANGHAI = load_policies()["shanghai"]


def _applicant(day: datetime.date, suzhou: int, hefei: int, local: int) -> dict[str, object]:
    return {
        "application_date": day,
        "birth_date": datetime.date(1990, 3, 1),
        "education": "bachelor_degree",
        "residence_permit": True,
        "insured_months": local,
        elsewhere_column("insured_months", "suzhou"): suzhou,
        elsewhere_column("insured_months", "hefei"): hefei,
    }


def test_months_elsewhere_count_at_the_factor_from_the_rule_s_date() -> None:
    rows = [
        _applicant(datetime.date(2025, 3, 1), suzhou=48, hefei=20, local=12),
        _applicant(datetime.date(2025, 3, 1), suzhou=100, hefei=0, local=0),  # capped at 60
        _applicant(datetime.date(2023, 3, 1), suzhou=48, hefei=20, local=12),  # before the rule
    ]
    frame = portable(REGION, "shanghai", pl.DataFrame(rows))
    # 12 + 48 × 0.5 + 20 × 0.3 = 42; 60 × 0.5 = 30; before 2024 nothing is recognised.
    assert frame["insured_months"].to_list() == [42, 30, 12]
    for row, months in zip(rows, frame["insured_months"].to_list(), strict=True):
        lines = recognised(REGION, "shanghai", row)
        assert int(str(row["insured_months"])) + sum(line.counted for line in lines) == months
    scored = score_frame(SHANGHAI, frame)
    alone = score_frame(SHANGHAI, pl.DataFrame(rows))
    assert (scored["score"] - alone["score"]).to_list() == [750, 750, 0]  # 30 months × 3/12


def test_a_region_naming_a_stranger_city_is_refused_with_its_line(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[2] / "src/hukou/points/data/regions/yangtze-delta.yaml"
    broken = shipped.read_text(encoding="utf-8").replace("earned_in: hefei", "earned_in: wuhan")
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        load_region(path)
    (problem,) = caught.value.problems
    assert problem.key == "recognises.shanghai.3.earned_in"
    assert problem.line is not None
    assert "wuhan" in broken.splitlines()[problem.line - 1]


def test_two_policies_side_by_side_by_category() -> None:
    rows = [
        {
            "application_date": datetime.date(2022, 5, 10),
            "birth_date": datetime.date(1985, 6, 20),
            "insured_months": 132,
            "rented_months": 132,
            "education": "bachelor_degree",
        }
    ]
    table = compare_categories([load_policies()["beijing"], SHANGHAI], pl.DataFrame(rows))
    assert set(table) == {"就业", "居住", "教育", "贡献", "扣减"}
    assert table["就业"]["beijing"]["mean"] == 33.0  # 132 months × 0.25
    assert table["就业"]["shanghai"]["mean"] == 33.0  # 11 years × 3
    assert table["教育"]["beijing"]["mean"] == 15.0
    assert table["教育"]["shanghai"]["mean"] == 90.0
    shares = sum(table[c]["beijing"]["share"] for c in table)
    assert shares == pytest.approx(1.0, abs=1e-3)
