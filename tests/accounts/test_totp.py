"""TOTP: the RFC 6238 Appendix B vectors, the ±1 step window, replay, the key URI."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hukou.accounts.totp import (
    DIGITS,
    STEP_SECONDS,
    TotpEnrolment,
    new_secret,
    provisioning_uri,
    secret_from_base32,
    secret_to_base32,
    time_step,
    totp_code,
    verify_code,
)

RFC_SECRET = b"12345678901234567890"

# RFC 6238 Appendix B, the SHA-1 rows: (time in seconds, 8-digit TOTP).
RFC_6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "expected"), RFC_6238_SHA1)
def test_rfc6238_appendix_b_sha1_vectors(unix_time: int, expected: str) -> None:
    assert totp_code(RFC_SECRET, unix_time, digits=8) == expected
    at = datetime.datetime.fromtimestamp(unix_time, datetime.UTC)
    assert totp_code(RFC_SECRET, at, digits=8) == expected
    assert verify_code(RFC_SECRET, expected, at=unix_time, last_used_step=None, digits=8) == (
        unix_time // 30
    )


def test_six_digit_codes_are_the_last_six_of_the_eight() -> None:
    # Both are the same HOTP value mod 10^d (RFC 4226 §5.3).
    for unix_time, expected in RFC_6238_SHA1:
        assert totp_code(RFC_SECRET, unix_time) == expected[-6:]


def test_rfc_vector_steps() -> None:
    assert time_step(59) == 1
    assert time_step(1111111109) == 0x23523EC
    assert time_step(20000000000) == 0x27BC86AA


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-60, False), (-30, True), (0, True), (30, True), (60, False)]
)
def test_one_step_either_side_is_accepted(offset: int, accepted: bool) -> None:
    secret = new_secret()
    now = 1_800_000_015
    code = totp_code(secret, now + offset)
    step = verify_code(secret, code, at=now, last_used_step=None)
    assert (step is not None) is accepted
    if accepted:
        assert step == time_step(now + offset)


def test_a_used_code_is_refused_and_so_is_any_older_one() -> None:
    secret = new_secret()
    now = 1_800_000_015
    current, previous = totp_code(secret, now), totp_code(secret, now - 30)
    step = verify_code(secret, current, at=now, last_used_step=None)
    assert step == time_step(now)
    assert verify_code(secret, current, at=now, last_used_step=step) is None
    assert verify_code(secret, current, at=now + 10, last_used_step=step) is None
    assert verify_code(secret, previous, at=now, last_used_step=step) is None
    later = totp_code(secret, now + 30)
    assert verify_code(secret, later, at=now + 30, last_used_step=step) == step + 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "１２３４５６", "123 45"])
def test_malformed_codes_are_refused(typed: str) -> None:
    assert verify_code(RFC_SECRET, typed, at=59, last_used_step=None) is None


def test_spaces_in_a_code_are_ignored() -> None:
    code = totp_code(RFC_SECRET, 59)
    assert verify_code(RFC_SECRET, f" {code[:3]} {code[3:]} ", at=59, last_used_step=None) == 1


@given(st.integers(min_value=60, max_value=2**34), st.binary(min_size=16, max_size=64))
def test_the_current_code_always_verifies_once(unix_time: int, secret: bytes) -> None:
    code = totp_code(secret, unix_time)
    assert len(code) == DIGITS
    assert code.isdigit()
    step = verify_code(secret, code, at=unix_time, last_used_step=None)
    assert step is not None
    assert abs(step - unix_time // STEP_SECONDS) <= 1
    assert verify_code(secret, code, at=unix_time, last_used_step=step) is None


def test_secrets_are_160_bits_and_round_trip_through_base32() -> None:
    secret = new_secret()
    assert len(secret) == 20
    assert secret != new_secret()
    text = secret_to_base32(secret)
    assert len(text) == 32
    assert "=" not in text
    assert secret_from_base32(text) == secret
    spaced = " ".join(text[i : i + 4] for i in range(0, 32, 4)).lower()
    assert secret_from_base32(spaced) == secret
    assert secret_to_base32(RFC_SECRET) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def test_provisioning_uri_follows_the_key_uri_format() -> None:
    uri = provisioning_uri(RFC_SECRET, "wang.li", issuer="Hukou 户籍平台")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Hukou 户籍平台:wang.li"
    query = parse_qs(parts.query)
    assert query == {
        "secret": ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"],
        "digits": ["6"],
        "period": ["30"],
        "algorithm": ["SHA1"],
        "issuer": ["Hukou 户籍平台"],
    }


def test_enrolment_repr_hides_the_secret() -> None:
    enrolment = TotpEnrolment("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "otpauth://totp/x?secret=GEZD")
    assert "GEZD" not in repr(enrolment)
