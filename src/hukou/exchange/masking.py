"""Masked forms of personal data (脱敏), as the platform shows them by default.

Every read through :mod:`hukou.exchange` returns masked values unless the reader
holds the unmask permission and gives a reason. The forms follow what Chinese
government and bank systems print (GB/T 35273 §A "去标识化" practice and the
common 身份证号 ``110105********002X`` convention), so a clerk recognises them:

- identity number: the six-digit division of issue and the last four characters
  (the check character stays, so a clerk can compare with a card in hand);
- name: the first character, a ``*`` for each middle character, the last one
  (``张*三``); two-character names keep the surname (``张*``);
- mobile phone: the first three and last four digits (``138****5678``);
- address: only the province, prefecture and county (``江苏省苏州市昆山市``),
  the level the statistics need, never the street and door;
- any other text: a fixed ``***``, which says nothing about its length.

Pure functions of strings: no key, no database, so the same masking is applied in
the API, the console and exports.

>>> mask_identity_number("11010519491231002X")
'110105********002X'
>>> mask_name("张三"), mask_name("张小三"), mask_name("欧阳娜娜"), mask_name("Ann")
('张*', '张*三', '欧**娜', 'A*n')
>>> mask_phone("13812345678")
'138****5678'
>>> mask_address("江苏省苏州市昆山市前进路338号6幢805室")
'江苏省苏州市昆山市'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from functools import cache

from hukou.standards import divisions, identity

__all__ = [
    "HIDDEN",
    "Mask",
    "apply_mask",
    "mask_address",
    "mask_identity_number",
    "mask_name",
    "mask_phone",
]

HIDDEN = "***"
"""What a masked value with no safe partial form becomes: constant, so its length leaks nothing."""


class Mask(StrEnum):
    """How a catalogue field is masked by default."""

    NONE = "none"  # shown as it is (codes, dates of events, statuses)
    IDENTITY_NUMBER = "identity_number"
    NAME = "name"
    PHONE = "phone"
    ADDRESS = "address"
    HIDDEN = "hidden"  # nothing of it is shown masked
    YEAR = "year"  # a date reduced to its year


_DIGITS = re.compile(r"[0-9]+")
_KEPT_OF_NUMBER = 10  # the division of issue (6) and the last four characters


def mask_identity_number(value: str) -> str:
    """``110105********002X`` for 18 characters, ``110105*****002`` for old 15-digit numbers.

    Anything of ten characters or fewer is hidden whole: it cannot keep ten
    characters and still hide something.
    """
    if len(identity.normalise(value)) <= _KEPT_OF_NUMBER:
        return HIDDEN
    return identity.mask(value, keep_start=6, keep_end=4)


def mask_name(value: str) -> str:
    """``张*三``: first and last character, one ``*`` per hidden character; ``张*`` for two."""
    text = value.strip()
    if len(text) <= 1:
        return "*" if text else ""
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_phone(value: str) -> str:
    """``138****5678`` for an 11-digit mobile number; other numbers keep their last four digits."""
    digits = "".join(_DIGITS.findall(value))
    if len(digits) == 13 and digits.startswith("86"):  # +86, China's country code
        digits = digits[2:]
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return HIDDEN


@cache
def _county_names() -> frozenset[str]:
    """Full names (province + prefecture + county) of every county-level division."""
    return frozenset(
        divisions.full_name(item.code)
        for item in divisions.all_divisions()
        if item.level == "county" and item.is_current and item.name not in ("市辖区", "县")
    )


# Fallback for addresses written without a known county: cut after the first
# county-level suffix that follows a province or prefecture.
_ADMINISTRATIVE = re.compile(
    r"^(?:[^省]{2,7}省|[^区]{2,10}自治区|北京市|天津市|上海市|重庆市)?"
    r"(?:[^市州盟]{2,10}?(?:市|自治州|地区|盟))?"
    r"[^区县市旗]{1,10}?(?:区|县|市|旗)"
)


def mask_address(value: str) -> str:
    """The address cut to its county (区县), or ``***`` when no county can be recognised."""
    text = value.strip()
    names = _county_names()
    for end in range(min(len(text), 40), 3, -1):
        if text[:end] in names:
            return text[:end]
    match = _ADMINISTRATIVE.match(text)
    if match and len(match.group(0)) < len(text):
        return match.group(0)
    return HIDDEN


def _year(value: str) -> str:
    return value[:4] if len(value) >= 4 and value[:4].isdigit() else HIDDEN


_MASKS: Mapping[Mask, Callable[[str], str]] = {
    Mask.IDENTITY_NUMBER: mask_identity_number,
    Mask.NAME: mask_name,
    Mask.PHONE: mask_phone,
    Mask.ADDRESS: mask_address,
    Mask.HIDDEN: lambda _value: HIDDEN,
    Mask.YEAR: _year,
}


def apply_mask(mask: Mask, value: object) -> object:
    """``value`` in its masked form; ``None`` stays ``None`` (absence is not hidden)."""
    if value is None or mask is Mask.NONE:
        return value
    return _MASKS[mask](str(value))
