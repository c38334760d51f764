"""GB 11643 identity numbers: official vectors, reasons, round trips, scalar == vectorised."""

from __future__ import annotations

import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hukou.standards import divisions, identity
from hukou.standards.identity import Reason
from hukou.standards.identity_frame import (
    birth_date_expr,
    check_frame,
    reason_expr,
    sex_expr,
    upgrade_expr,
)

TODAY = datetime.date(2026, 11, 29)
CURRENT_COUNTIES = sorted(
    d.code for d in divisions.all_divisions() if d.level == "county" and d.is_current
)


# --- official examples named in GB 11643-1999 and the issue -------------------------


def test_official_female_example() -> None:
    person = identity.parse("11010519491231002X", today=TODAY)
    assert (person.sex, person.birth_date, person.address_code) == (
        "2",
        datetime.date(1949, 12, 31),
        "110105",
    )
    assert person.check == "X"


def test_official_male_example_with_abolished_address_code() -> None:
    # 440524 (潮阳县) existed 1983-1993 only; the number is for life, so it stays valid.
    assert divisions.get("440524") is not None
    assert not divisions.valid_at("440524", datetime.date(2020, 1, 1))
    person = identity.parse("440524188001010014", today=TODAY)
    assert (person.sex, person.birth_date) == ("1", datetime.date(1880, 1, 1))


def test_official_check_character_x() -> None:
    assert identity.check_character("34052419800101001") == "X"


def test_right_checksum_but_impossible_date() -> None:
    assert identity.check_character("11010519490230002") == "0"  # the checksum is right
    assert identity.check("110105194902300020", today=TODAY).reason is Reason.BIRTH_DATE_IMPOSSIBLE


# --- reasons --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", Reason.MISSING),
        ("   ", Reason.MISSING),
        ("1101051949123100", Reason.LENGTH),
        ("11010519491231002XX", Reason.LENGTH),
        ("1101051949123100X2", Reason.CHARACTERS),
        ("11010519491231A02X", Reason.CHARACTERS),
        ("11010519491331002X", Reason.BIRTH_DATE_IMPOSSIBLE),
        ("110105190002290028", Reason.BIRTH_DATE_IMPOSSIBLE),  # 1900 was not a leap year
        ("110105202712010012", Reason.BIRTH_DATE_IN_FUTURE),
        ("990105194912310021", Reason.ADDRESS_CODE_UNKNOWN),
        ("11010519491231002Y", Reason.CHARACTERS),
        ("110105194912310021", Reason.CHECKSUM),
        ("110105194912310020", Reason.CHECKSUM),
    ],
)
def test_reasons(raw: str, reason: Reason) -> None:
    result = identity.check(raw, today=TODAY)
    assert result.reason is reason
    assert not result.valid
    assert result.parsed is None
    assert reason.message  # every reason has words for the data officer


def test_code_abolished_before_birth_is_rejected_but_not_after() -> None:
    # 440524 held until 1993: born 1993 fine, born 1994 cannot carry it.
    born_1993 = "44052419930101001"
    born_1994 = "44052419940101001"
    ok = born_1993 + identity.check_character(born_1993)
    bad = born_1994 + identity.check_character(born_1994)
    assert identity.check(ok, today=TODAY).valid
    assert identity.check(bad, today=TODAY).reason is Reason.ADDRESS_CODE_ABOLISHED_BEFORE_BIRTH


def test_leap_years_2000_and_1900() -> None:
    body_2000 = "11010520000229002"
    assert identity.check(body_2000 + identity.check_character(body_2000), today=TODAY).valid
    body_1900 = "11010519000229002"
    bad = body_1900 + identity.check_character(body_1900)
    assert identity.check(bad, today=TODAY).reason is Reason.BIRTH_DATE_IMPOSSIBLE
    # fifteen-digit numbers carry 19xx too: 000229 is 1900-02-29, impossible
    assert identity.check("110105000229002", today=TODAY).reason is Reason.BIRTH_DATE_IMPOSSIBLE


def test_hong_kong_macao_taiwan_residence_permit_codes() -> None:
    body = "81000019900101001"
    assert identity.check(body + identity.check_character(body), today=TODAY).valid


# --- normalisation, upgrade, masking ----------------------------------------------------


def test_normalise_full_width_lower_x_and_spaces() -> None:
    assert identity.normalise(" １１０１０５ １９４９１２３１ ００２ｘ ") == "11010519491231002X"
    assert identity.check("11010519491231002x", today=TODAY).valid


def test_upgrade_fifteen_digits() -> None:
    assert identity.upgrade("110105491231002", today=TODAY) == "11010519491231002X"
    legacy = identity.parse("110105491231002", today=TODAY)
    assert legacy.is_legacy
    assert legacy.check is None
    assert legacy.sex == "2"


def test_upgrade_rejects_invalid() -> None:
    with pytest.raises(identity.InvalidIdentityNumberError) as raised:
        identity.upgrade("110105491331002", today=TODAY)
    assert raised.value.reason is Reason.BIRTH_DATE_IMPOSSIBLE


def test_repr_and_errors_never_show_the_number() -> None:
    person = identity.parse("11010519491231002X", today=TODAY)
    assert "11010519491231002X" not in repr(person)
    assert identity.mask("11010519491231002X") == "110***********002X"
    error = identity.InvalidIdentityNumberError(Reason.CHECKSUM)
    assert "checksum" in str(error)


def test_address_name_in_year_of_birth() -> None:
    assert identity.parse("440524188001010014", today=TODAY).address_name is None  # 1880
    body = "44052419900101001"
    person = identity.parse(body + identity.check_character(body), today=TODAY)
    assert person.address_name == "潮阳县"


# --- properties -----------------------------------------------------------------------

birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1999, 12, 31))


@st.composite
def valid_legacy_numbers(draw: st.DrawFn) -> str:
    code = draw(st.sampled_from(CURRENT_COUNTIES))
    born = draw(birth_dates)
    sequence = draw(st.integers(0, 999))
    return f"{code}{born:%y%m%d}{sequence:03d}"


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    code = draw(st.sampled_from(CURRENT_COUNTIES))
    born = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    body = f"{code}{born:%Y%m%d}{sequence:03d}"
    return body + identity.check_character(body)


@given(valid_legacy_numbers())
def test_upgrade_then_validate(legacy: str) -> None:
    upgraded = identity.upgrade(legacy, today=TODAY)
    assert len(upgraded) == 18
    assert identity.check(upgraded, today=TODAY).valid
    old, new = identity.parse(legacy, today=TODAY), identity.parse(upgraded, today=TODAY)
    assert (old.birth_date, old.sex, old.address_code) == (
        new.birth_date,
        new.sex,
        new.address_code,
    )


@given(valid_numbers())
def test_parse_then_format(number: str) -> None:
    person = identity.parse(number, today=TODAY)
    rebuilt = f"{person.address_code}{person.birth_date:%Y%m%d}{person.sequence}{person.check}"
    assert rebuilt == number
    assert person.sex == ("1" if int(person.sequence) % 2 else "2")


@given(valid_numbers(), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_typo_is_caught(number: str, position: int, shift: int) -> None:
    digit = (int(number[position]) + shift) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]
    assert not identity.check(typo, today=TODAY).valid


# --- scalar and vectorised agree ------------------------------------------------------

noise = st.text(alphabet="0123456789Xx１２ ０\t-a", min_size=0, max_size=20)


def _mutations(number: str) -> list[str]:
    if len(number) < 10:
        return [number]
    swapped = number[:7] + number[8] + number[7] + number[9:]
    return [number, number[:17] + "0", swapped, number[:15], number.lower(), number[:6] + "1"]


@settings(max_examples=60)
@given(st.lists(st.one_of(valid_numbers(), valid_legacy_numbers(), noise), max_size=30))
def test_vectorised_matches_scalar(raw_numbers: list[str]) -> None:
    values: list[str | None] = [m for raw in raw_numbers for m in _mutations(raw)]
    values += [None, "110105491231002", "440524188001010014", "830000199001010010"]
    frame = check_frame(pl.DataFrame({"id": values}, schema={"id": pl.String}), "id", today=TODAY)
    for row in frame.iter_rows(named=True):
        expected = identity.check(row["id"] or "", today=TODAY)
        assert row["id_reason"] == (expected.reason.value if expected.reason else None), row
        if expected.parsed is None:
            assert (row["id_number"], row["id_birth_date"], row["id_sex"]) == (None, None, None)
        else:
            assert row["id_number"] == identity.upgrade(row["id"], today=TODAY)
            assert row["id_birth_date"] == expected.parsed.birth_date
            assert row["id_sex"] == expected.parsed.sex


def test_expressions_match_check_frame() -> None:
    values = ["11010519491231002X", "110105491231002", "110105194902300020", "bad", None]
    frame = pl.DataFrame({"id": values}, schema={"id": pl.String})
    by_frame = check_frame(frame, "id", today=TODAY)
    by_expr = (
        frame.lazy()
        .select(
            reason_expr(pl.col("id"), today=TODAY).alias("id_reason"),
            upgrade_expr(pl.col("id"), today=TODAY).alias("id_number"),
            birth_date_expr(pl.col("id"), today=TODAY).alias("id_birth_date"),
            sex_expr(pl.col("id"), today=TODAY).alias("id_sex"),
        )
        .collect()
    )
    assert by_expr.equals(by_frame.drop("id"))
    assert by_frame["id_reason"].to_list() == [
        None,
        None,
        "birth_date_impossible",
        "length",
        "missing",
    ]
