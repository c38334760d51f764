"""Masked forms: what stays, what goes, and that the clear value never survives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hukou.exchange.masking import (
    HIDDEN,
    Mask,
    apply_mask,
    mask_address,
    mask_identity_number,
    mask_name,
    mask_phone,
)
from hukou.standards import identity

_BODY = st.from_regex(r"[1-6][0-9]{5}(19|20)[0-9]{9}", fullmatch=True)


@given(_BODY)
def test_identity_number_keeps_division_and_last_four_only(body: str) -> None:
    number = body + identity.check_character(body)
    masked = mask_identity_number(number)
    assert masked == number[:6] + "*" * 8 + number[-4:]
    assert number not in masked


def test_identity_number_forms() -> None:
    assert mask_identity_number("11010519491231002x") == "110105********002X"
    assert mask_identity_number("110105491231002") == "110105*****1002"
    assert mask_identity_number("1101054912") == HIDDEN


@given(st.text(alphabet="张王李赵欧阳小三娜伟", min_size=1, max_size=6))
def test_name_keeps_first_and_last_character(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked[0] == name[0] if len(name) > 1 else masked == "*"
    if len(name) >= 3:
        assert masked[-1] == name[-1]
        assert set(masked[1:-1]) == {"*"}
    if len(name) == 2:
        assert masked == name[0] + "*"


def test_name_forms() -> None:
    assert [mask_name(n) for n in ("张三", "张小三", "欧阳娜娜", "", "王")] == [
        "张*",
        "张*三",
        "欧**娜",
        "",
        "*",
    ]


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_keeps_three_and_four(phone: str) -> None:
    assert mask_phone(phone) == phone[:3] + "****" + phone[-4:]


def test_phone_forms() -> None:
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("0512-6789") == "****6789"
    assert mask_phone("123") == HIDDEN


def test_address_cut_to_county() -> None:
    assert mask_address("江苏省苏州市昆山市前进路338号6幢805室") == "江苏省苏州市昆山市"
    assert mask_address("北京市朝阳区建国路1号") == "北京市朝阳区"
    assert mask_address("上海市浦东新区世纪大道100号") == "上海市浦东新区"
    assert mask_address("前进路338号") == HIDDEN


def test_apply_mask_keeps_absence_and_hides_the_rest() -> None:
    assert apply_mask(Mask.NAME, None) is None
    assert apply_mask(Mask.NONE, "320583") == "320583"
    assert apply_mask(Mask.HIDDEN, "12345.67") == HIDDEN
    assert apply_mask(Mask.YEAR, "1990-05-17") == "1990"
