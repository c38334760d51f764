"""GB/T 2260 divisions: history, hierarchy, names."""

from __future__ import annotations

import datetime

import pytest

from hukou.standards import divisions
from hukou.standards.errors import UnknownCodeError


def test_table_is_the_full_three_levels() -> None:
    levels = {d.level for d in divisions.all_divisions()}
    assert levels == {"province", "prefecture", "county"}
    provinces = [d for d in divisions.all_divisions() if d.level == "province"]
    assert len(provinces) == 34  # 31 mainland + Taiwan, Hong Kong, Macao
    assert sum(1 for d in divisions.all_divisions() if d.level == "county") > 5000


def test_historic_code_with_years() -> None:
    chaoyang = divisions.division("440524")
    assert chaoyang.periods[0].start == 1983
    assert chaoyang.periods[-1].end == 1993
    assert not chaoyang.is_current
    assert divisions.valid_at("440524", datetime.date(1983, 1, 1))
    assert divisions.valid_at("440524", datetime.date(1993, 12, 31))
    assert not divisions.valid_at("440524", datetime.date(1994, 1, 1))


def test_reused_code_carries_each_name_in_its_years() -> None:
    # 440511: 郊区 1984-1991, unused 1992-2002, 金平区 since 2003
    assert divisions.name_at("440511", datetime.date(1990, 1, 1)) == "郊区"
    assert divisions.name_at("440511", datetime.date(1995, 1, 1)) is None
    assert divisions.name_at("440511", datetime.date(2010, 1, 1)) == "金平区"
    assert divisions.division("440511").name == "金平区"


def test_abolished_beijing_districts() -> None:
    assert divisions.name_at("110103", datetime.date(2000, 1, 1)) == "崇文区"
    assert not divisions.valid_at("110103", datetime.date(2011, 1, 1))
    assert divisions.valid_on_or_after("110103", datetime.date(2010, 6, 1))
    assert not divisions.valid_on_or_after("110103", datetime.date(2011, 6, 1))


def test_hierarchy() -> None:
    assert divisions.parent("320506").code == "320500"  # 吴中区 → 苏州市
    assert divisions.parent("320500").code == "320000"
    assert divisions.parent("320000") is None
    assert divisions.level_of("320506") == "county"
    kids = {d.code for d in divisions.children("320500", datetime.date(2024, 1, 1))}
    assert {"320505", "320506", "320507", "320508", "320509", "320581"} <= kids
    assert "320502" not in kids  # 沧浪区, merged into 姑苏区 in 2012


def test_full_name() -> None:
    assert divisions.full_name("320506", datetime.date(2024, 1, 1)) == "江苏省苏州市吴中区"
    assert divisions.full_name("110105", datetime.date(2024, 1, 1)) == "北京市朝阳区"


def test_lookup_by_full_and_short_name() -> None:
    assert [d.code for d in divisions.lookup("广西壮族自治区")] == ["450000"]
    assert [d.code for d in divisions.lookup("内蒙古")] == ["150000"]
    chaoyang = {d.code for d in divisions.lookup("朝阳区", datetime.date(2024, 1, 1))}
    assert {"110105", "220104"} <= chaoyang  # Beijing and Changchun
    assert divisions.lookup("不存在的地方") == ()


def test_unknown_code() -> None:
    assert divisions.get("999999") is None
    with pytest.raises(UnknownCodeError):
        divisions.division("999999")


def test_source_revision_is_named() -> None:
    assert divisions.source_revision().startswith("python-stdnum ")
