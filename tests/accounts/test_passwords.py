"""argon2id hashing (format, rehash, normalisation) and the staff password policy."""

from __future__ import annotations

import pytest
from argon2 import Parameters, Type, extract_parameters
from hypothesis import given
from hypothesis import strategies as st

from hukou.accounts.errors import PasswordPolicyError
from hukou.accounts.passwords import (
    DEFAULT_PARAMETERS,
    RESIDENT_POLICY,
    STAFF_POLICY,
    PasswordHashing,
)

from .conftest import CHEAP, STRONG


@pytest.fixture(scope="module")
def default_hashing() -> PasswordHashing:
    return PasswordHashing()


def test_default_hash_is_argon2id_with_rfc9106_low_memory_parameters(
    default_hashing: PasswordHashing,
) -> None:
    hashed = default_hashing.hash(STRONG)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert STRONG not in hashed
    parameters = extract_parameters(hashed)
    assert parameters.type is Type.ID
    assert (parameters.salt_len, parameters.hash_len) == (16, 32)
    assert DEFAULT_PARAMETERS.memory_cost == 64 * 1024
    verdict = default_hashing.verify(hashed, STRONG)
    assert verdict.ok
    assert not verdict.needs_rehash


def test_equal_passwords_hash_differently_and_wrong_ones_fail() -> None:
    hashing = PasswordHashing(CHEAP)
    first, second = hashing.hash(STRONG), hashing.hash(STRONG)
    assert first != second
    assert hashing.verify(second, STRONG).ok
    assert not hashing.verify(first, STRONG + "x").ok


def test_changed_parameters_ask_for_a_rehash() -> None:
    old = PasswordHashing(CHEAP)
    stronger = Parameters(
        type=Type.ID,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=2,
        memory_cost=16,
        parallelism=1,
    )
    new = PasswordHashing(stronger)
    verdict = new.verify(old.hash(STRONG), STRONG)
    assert verdict.ok
    assert verdict.needs_rehash
    assert not new.verify(new.hash(STRONG), STRONG).needs_rehash


def test_full_width_input_is_the_same_password() -> None:
    hashing = PasswordHashing(CHEAP)
    assert hashing.verify(hashing.hash("Correct-Horse-7"), "Ｃｏｒｒｅｃｔ－Ｈｏｒｓｅ－７").ok


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA",  # argon2i: not accepted
        "$2b$12$abcdefghijklmnopqrstuuJ3QhfrmMNnuX1qwQ7O6g1B4iGAq2s1S",  # bcrypt
        "$argon2id$v=19$m=8,t=1,p=1$garbage",
    ],
)
def test_a_malformed_or_foreign_hash_never_matches(stored: str) -> None:
    assert PasswordHashing(CHEAP).verify(stored, "anything") == PasswordHashing(CHEAP).verify(
        stored, ""
    )
    assert not PasswordHashing(CHEAP).verify(stored, "anything").ok


def test_only_argon2id_is_configurable() -> None:
    argon2i = Parameters(
        type=Type.I, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=8, parallelism=1
    )
    with pytest.raises(ValueError, match="argon2id"):
        PasswordHashing(argon2i)


def test_repr_shows_cost_only() -> None:
    assert repr(PasswordHashing(CHEAP)) == "PasswordHashing(t=1, m=8 KiB, p=1)"


# --- policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Correct-Horse-7", []),
        ("correcthorsebattery", ["password.too_few_classes"]),
        ("Abc-1", ["password.too_short"]),
        ("WangLi-2026-spring", ["password.contains_username"]),
        (
            "wangli",
            ["password.too_short", "password.contains_username", "password.too_few_classes"],
        ),
        ("长城长城长城长城Abcd", []),  # Chinese characters count as "other"
        ("A1-" + "x" * 126, ["password.too_long"]),
    ],
)
def test_staff_policy(password: str, codes: list[str]) -> None:
    assert [m.code for m in STAFF_POLICY.violations(password, username="wangli")] == codes


def test_violations_are_bilingual_and_never_echo_the_password() -> None:
    password = "hunter2"
    with pytest.raises(PasswordPolicyError) as error:
        STAFF_POLICY.check(password, username="wangli")
    violations = error.value.violations
    assert [v.code for v in violations] == ["password.too_short", "password.too_few_classes"]
    for violation in violations:
        assert violation.en
        assert violation.zh
        assert violation.text("zh-CN") == violation.zh
        assert violation.text("en") == violation.en
    assert password not in str(error.value)
    assert password not in error.value.message.zh
    assert "密码" in error.value.message.zh


def test_a_short_username_is_not_searched() -> None:
    assert STAFF_POLICY.violations("Li-Correct-Horse-7", username="li") == ()


def test_resident_policy_is_lighter() -> None:
    assert RESIDENT_POLICY.violations("bluesky42") == ()
    assert STAFF_POLICY.violations("bluesky42") != ()


# Combining marks are left out: one after the name would compose with its last letter.
_around = st.text(st.characters(exclude_categories=["Mn", "Mc", "Me"]), max_size=20)


@given(st.from_regex(r"[a-z][a-z0-9]{2,15}", fullmatch=True), _around, _around)
def test_any_password_containing_the_username_is_refused(
    username: str, before: str, after: str
) -> None:
    for typed in (username, username.upper(), username.capitalize()):
        codes = [m.code for m in STAFF_POLICY.violations(before + typed + after, username=username)]
        assert "password.contains_username" in codes


@given(st.text(min_size=12, max_size=60))
def test_policy_is_total_and_consistent(password: str) -> None:
    violations = STAFF_POLICY.violations(password)
    assert all(v.code.startswith("password.") for v in violations)
    if not violations:
        STAFF_POLICY.check(password)
    else:
        with pytest.raises(PasswordPolicyError):
            STAFF_POLICY.check(password)
