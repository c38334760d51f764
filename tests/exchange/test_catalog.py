"""The sharing catalogue: complete against the feed specs, and strict when malformed."""

from __future__ import annotations

import pytest

from hukou.exchange.catalog import PLATFORM, CatalogError, load_catalog, parse_catalog
from hukou.registry import INFERRED_FIELDS
from hukou.registry.golden import _NOT_PERSONAL
from hukou.registry.spec import load_all


def _golden_fields() -> set[str]:
    return {
        column.field
        for spec in load_all()
        for file in spec.files
        for column in file.columns
        if column.field and column.field not in _NOT_PERSONAL
    }


def test_every_item_a_golden_record_can_hold_is_catalogued() -> None:
    catalog = load_catalog()
    assert _golden_fields() | set(INFERRED_FIELDS) == set(catalog.fields)


def test_providers_are_the_departments_that_rank_an_item_best() -> None:
    catalog = load_catalog()
    departments = {spec.department for spec in load_all()}
    assert {item.provider for item in catalog.fields.values()} <= departments | {PLATFORM}
    assert catalog.fields["phone"].provider == "hr_social_security"  # ranks 1 of 1, 2, 3
    assert catalog.fields["education"].provider == "public_security"  # ranks 2 against 3
    assert {catalog.fields[name].provider for name in INFERRED_FIELDS} == {PLATFORM}


def test_every_purpose_has_a_known_legal_basis() -> None:
    catalog = load_catalog()
    assert {purpose.basis for purpose in catalog.purposes.values()} <= set(catalog.bases)
    assert catalog.purposes["community_services"].needs_consent
    assert not catalog.purposes["statistics"].needs_consent


GOOD = """\
version: 1
legal_bases:
  statutory_duty: {zh: 法定职责, law: PIPL 13}
purposes:
  statistics: {zh: 统计, en: Statistics, basis: statutory_duty, law: 统计法}
fields:
  name: {share: conditional, mask: name}
"""


def test_a_minimal_catalogue_parses() -> None:
    catalog = parse_catalog(GOOD, "test.yaml", {"name": "public_security"})
    assert catalog.fields["name"].provider == "public_security"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("share: conditional", "share: sometimes"),
            "test.yaml: fields.name, line 7: share 'sometimes' is not one of",
        ),
        (GOOD.replace("mask: name", "mask: blur"), "fields.name, line 7: mask 'blur'"),
        (
            GOOD.replace("basis: statutory_duty", "basis: whim"),
            "purposes.statistics, line 5: basis 'whim'",
        ),
        (GOOD.replace("version: 1", "version: 2"), "line 1: version must be 1"),
        (GOOD + "extra: 1\n", "line 8: unknown key 'extra'"),
        (GOOD.replace("mask: name}", "mask: name, colour: red}"), "line 7: unknown key 'colour'"),
        (GOOD.replace("  name:", "  nickname:"), "fields.nickname, line 7: no feed spec ranks"),
        ("fields: [", "test.yaml: not valid YAML"),
    ],
)
def test_errors_name_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_catalog(text, "test.yaml", {"name": "public_security"})


def test_every_department_must_share_what_its_feed_carries() -> None:
    catalog = load_catalog()
    carried = {
        spec.department: {
            column.field for file in spec.files for column in file.columns if column.field
        }
        for spec in load_all()
    }
    assert set(catalog.must_share) == set(carried)
    for department, items in catalog.must_share.items():
        assert set(items) <= carried[department], department
        assert all(catalog.fields[item].provider == department for item in items)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("must_share:\n  public_security: [nickname]\n", "'nickname' is not in fields"),
        ("must_share:\n  housing: [name]\n", "'name' is provided by public_security"),
        ("must_share:\n  public_security: name\n", "must be a list of items"),
    ],
)
def test_must_share_is_checked(section: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(GOOD + section, "test.yaml", {"name": "public_security"})
