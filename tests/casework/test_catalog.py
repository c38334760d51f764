"""The service catalog: every shipped service loads, and a wrong one is named line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hukou.casework.catalog import Outcome, load_catalog, load_departments, load_services
from hukou.exchange.catalog import load_catalog as load_sharing
from hukou.yamldoc import DocumentError

# The list of real services, and the synthetic city's application kinds.
REQUIRED = {
    "birth_registration",  # 出生一件事
    "graduate_settlement",  # 高校毕业生落户
    "points_settlement",  # 积分落户申请
    "household_move",  # 户口迁移 跨省通办
    "residence_permit_application",  # 居住证申领
    "residence_permit_renewal",  # 居住证签注
    "school_enrolment",  # 随迁子女入学
    "cross_region_medical",  # 异地就医备案
    "social_insurance_transfer",  # 社保关系转移
    "veteran_settlement",  # 退役军人落户
}
SYNTHETIC = {
    "birth_registration",
    "cross_region_medical",
    "death_cancellation",
    "household_move",
    "marriage_change",
    "register_certificate",
    "residence_permit_application",
    "residence_permit_renewal",
    "school_enrolment",
    "settlement_application",
    "spouse_move_in",
}


def test_every_shipped_service_loads_and_refers_to_what_exists() -> None:
    catalog = load_catalog()
    assert set(catalog.services) >= REQUIRED | SYNTHETIC
    sharing = load_sharing()
    departments = load_departments()
    for service in catalog.services.values():
        assert service.purpose in sharing.purposes
        assert service.first_contact in departments
        assert service.decision[-1].when == {}
        for fact in service.facts.values():
            assert fact.item is None or fact.item in sharing.fields


def test_the_birth_bundle_reviews_three_departments_in_parallel() -> None:
    birth = load_catalog()["birth_registration"]
    (stage,) = birth.stages
    assert {review.department for review in stage} == {
        "public_security",
        "medical_insurance",
        "hr_social_security",
    }
    assert birth.decision[0].then is Outcome.APPROVE


def test_staged_reviews_come_in_order() -> None:
    move = load_catalog()["household_move"]
    assert [[r.department for r in stage] for stage in move.stages] == [
        ["housing"],
        ["public_security"],
    ]


BROKEN = """\
code: broken_service
name: {zh: 坏的, en: Broken}
legal_reference: 某某条例第一条
first_contact: public_security
time_limit_workdays: 0
facts:
  registered_here:
    zh: 户口在本市
    en: Registered here
    item: hair_colour
    test: {in_city: true, present: true}
  unused:
    zh: 没有用到
    en: Never used
    material: {code: paper, zh: 纸, en: Paper}
reviews:
  - department: police_station
    task: {zh: 审核, en: Review}
decision:
  - when: {registered_here: true, undefined_fact: false}
    then: approve
    reason: {zh: 可以, en: Fine}
result: {zh: 证明, en: A certificate}
"""


def test_a_broken_service_gets_every_problem_with_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    with pytest.raises(DocumentError) as raised:
        load_services([tmp_path / "broken.yaml"])
    found = {(p.line, p.key) for p in raised.value.problems}
    assert found == {
        (5, "time_limit_workdays"),
        (10, "facts.registered_here.item"),
        (11, "facts.registered_here.test"),
        (17, "reviews.0.department"),
    }
    assert all(p.file == "broken.yaml" for p in raised.value.problems)


def test_references_across_the_file_are_checked_once_the_shape_is_right(tmp_path: Path) -> None:
    text = (
        BROKEN.replace("time_limit_workdays: 0", "time_limit_workdays: 5")
        .replace("hair_colour", "registered_division")
        .replace("{in_city: true, present: true}", "{in_city: true}")
        .replace("police_station", "public_security")
    )
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError) as raised:
        load_services([tmp_path / "broken.yaml"])
    messages = {(p.line, p.key): p.message for p in raised.value.problems}
    assert messages == {
        (20, "decision.0.when.undefined_fact"): "no fact 'undefined_fact' is defined",
        (20, "decision.0"): "the last row must have no 'when'",
        (12, "facts.unused"): "fact 'unused' is not used by any decision row",
    }


def test_two_files_with_one_code_are_refused(tmp_path: Path) -> None:
    shipped = Path(load_catalog().files["register_certificate"])
    text = (
        Path(__file__).parents[2] / "src/hukou/casework/data/services" / shipped.name
    ).read_text(encoding="utf-8")
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"also defined in a\.yaml"):
        load_services([tmp_path / "a.yaml", tmp_path / "b.yaml"])
