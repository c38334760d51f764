"""SM3, HMAC-SM3, SM4 and SM4-GCM against the standards' own answers, and the self-test."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from hukou.security import selftest
from hukou.security.cli import security_app
from hukou.security.selftest import SelfTestError, Vector, check_vectors, run_self_tests
from hukou.security.sm import (
    SM4GCM,
    DecryptionError,
    HmacSM3,
    hmac_sm3,
    sm3,
    sm4_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

runner = CliRunner()

# The vectors are written out again here, not imported from selftest, so that an
# error copied into both places would need two identical typos.
GCM_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
GCM_IV = bytes.fromhex("00001234567800000000ABCD")
GCM_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
GCM_PLAINTEXT = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
GCM_CIPHERTEXT = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
)
GCM_TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")
SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


# --- official vectors ---------------------------------------------------------------


def test_sm3_gbt_32905_example_1() -> None:
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm3_gbt_32905_example_2() -> None:
    expected = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert sm3(b"abcd" * 16).hex() == expected


def test_sm4_gbt_32907_example_1() -> None:
    assert sm4_encrypt_block(SM4_KEY, SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gbt_32907_example_2_one_million_encryptions() -> None:
    """The standard's second example: the installed SM4 iterated 1,000,000 times.

    One ECB context of the library is driven directly: through the wrapper this
    would take ten times as long, and the wrapper is covered by example 1.
    """
    encryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).encryptor()
    block = SM4_KEY
    for _ in range(1_000_000):
        block = encryptor.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_gcm_rfc_8998_encrypt() -> None:
    sealed = sm4_gcm_encrypt(GCM_KEY, GCM_IV, GCM_PLAINTEXT, GCM_AAD)
    assert sealed[:-16] == GCM_CIPHERTEXT
    assert sealed[-16:] == GCM_TAG


def test_sm4_gcm_rfc_8998_decrypt() -> None:
    assert sm4_gcm_decrypt(GCM_KEY, GCM_IV, GCM_CIPHERTEXT + GCM_TAG, GCM_AAD) == GCM_PLAINTEXT


# --- HMAC-SM3 -----------------------------------------------------------------------


def _rfc2104(key: bytes, data: bytes) -> bytes:
    """HMAC written out from RFC 2104 over our SM3: an independent construction."""
    block = 64
    if len(key) > block:
        key = sm3(key)
    key = key.ljust(block, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    return sm3(outer + sm3(inner + data))


# GM/T 0042-2015 appendix D.3, as reproduced in OpenSSL's
# test/recipes/30-test_evp_data/evpmac_sm3.txt and libxcrypt's test/alg-sm3-hmac.c.
GMT_0042_D3 = [
    (
        bytes(range(1, 33)),
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
        "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a",
    ),
    (
        bytes(range(1, 38)),
        b"\xcd" * 50,
        "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae",
    ),
    (
        b"\x0b" * 32,
        b"Hi There",
        "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882",
    ),
]


@pytest.mark.parametrize(("key", "data", "expected"), GMT_0042_D3)
def test_hmac_sm3_gmt_0042_appendix_d3(key: bytes, data: bytes, expected: str) -> None:
    assert hmac_sm3(key, data).hex() == expected
    assert _rfc2104(key, data).hex() == expected  # and so is the construction written out


@given(key=st.binary(min_size=1, max_size=100), data=st.binary(max_size=200))
def test_hmac_sm3_is_rfc_2104_over_sm3(key: bytes, data: bytes) -> None:
    assert hmac_sm3(key, data) == _rfc2104(key, data)


@given(prefix=st.binary(max_size=80), data=st.binary(max_size=80))
def test_prefixed_hmac_equals_hmac_of_the_concatenation(prefix: bytes, data: bytes) -> None:
    key = b"k" * 32
    mac = HmacSM3(key, prefix=prefix)
    assert mac.digest(data) == hmac_sm3(key, prefix + data)
    assert mac.digest(data) == mac.digest(data)  # the keyed state is copied, not consumed


def test_hmac_sm3_depends_on_the_key() -> None:
    assert hmac_sm3(b"a" * 32, b"x") != hmac_sm3(b"b" * 32, b"x")


def test_hmac_refuses_an_empty_key() -> None:
    with pytest.raises(ValueError, match="empty"):
        HmacSM3(b"")


# --- SM4-GCM behaviour ----------------------------------------------------------------

KEY = bytes(range(16))
NONCE = bytes(range(12))


@given(plaintext=st.binary(max_size=300), aad=st.binary(max_size=50))
def test_gcm_round_trip(plaintext: bytes, aad: bytes) -> None:
    sealed = sm4_gcm_encrypt(KEY, NONCE, plaintext, aad)
    assert len(sealed) == len(plaintext) + 16
    assert sm4_gcm_decrypt(KEY, NONCE, sealed, aad) == plaintext


def test_gcm_every_flipped_byte_is_detected() -> None:
    sealed = sm4_gcm_encrypt(KEY, NONCE, b"13800138000", b"ctx")
    for position in range(len(sealed)):
        altered = bytearray(sealed)
        altered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            sm4_gcm_decrypt(KEY, NONCE, bytes(altered), b"ctx")


@pytest.mark.parametrize(
    ("key", "nonce", "aad"),
    [
        (bytes(16), NONCE, b"ctx"),  # wrong key
        (KEY, bytes(12), b"ctx"),  # wrong nonce
        (KEY, NONCE, b"ctx2"),  # wrong associated data
        (KEY, NONCE, b""),  # associated data dropped
    ],
)
def test_gcm_wrong_parameters_fail(key: bytes, nonce: bytes, aad: bytes) -> None:
    sealed = sm4_gcm_encrypt(KEY, NONCE, b"secret value", b"ctx")
    with pytest.raises(DecryptionError) as caught:
        sm4_gcm_decrypt(key, nonce, sealed, aad)
    assert "secret" not in str(caught.value)


def test_gcm_truncated_input_fails_clearly() -> None:
    with pytest.raises(DecryptionError, match="shorter than the authentication tag"):
        sm4_gcm_decrypt(KEY, NONCE, b"\0" * 15)


@pytest.mark.parametrize(
    ("key", "nonce", "message"),
    [(bytes(15), NONCE, "key must be 16 bytes"), (KEY, bytes(16), "nonce must be 12 bytes")],
)
def test_gcm_wrong_sizes_are_refused(key: bytes, nonce: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sm4_gcm_encrypt(key, nonce, b"x")


def test_sm4_block_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="block must be 16 bytes"):
        sm4_encrypt_block(KEY, b"short")


def test_reused_cipher_gives_the_same_answers_as_one_shot() -> None:
    cipher = SM4GCM(GCM_KEY)
    for _ in range(3):
        assert cipher.encrypt(GCM_IV, GCM_PLAINTEXT, GCM_AAD) == GCM_CIPHERTEXT + GCM_TAG
    assert "0123" not in repr(cipher)


# --- self-test ------------------------------------------------------------------------


def test_self_tests_pass_with_the_installed_library() -> None:
    run_self_tests()
    assert [result.ok for result in check_vectors()] == [True] * len(selftest.VECTORS) == [True] * 6


def _broken(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported() -> bytes:
        raise RuntimeError("no SM4 in this build")

    monkeypatch.setattr(
        selftest,
        "VECTORS",
        (
            *selftest.VECTORS,
            Vector("wrong answer", "test", lambda: sm3(b"abc"), b"\0" * 32),
            Vector("missing algorithm", "test", unsupported, b""),
        ),
    )


def test_self_test_names_every_failing_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    _broken(monkeypatch)
    with pytest.raises(SelfTestError) as caught:
        run_self_tests()
    message = str(caught.value)
    assert "wrong answer" in message
    assert "missing algorithm" in message
    assert "RuntimeError" in message
    failed = [result.vector.name for result in check_vectors() if not result.ok]
    assert failed == ["wrong answer", "missing algorithm"]


def test_self_test_detects_a_library_that_accepts_a_forged_tag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selftest, "sm4_gcm_decrypt", lambda *_args: GCM_PLAINTEXT)
    with pytest.raises(SelfTestError, match="SM4-GCM decrypt"):
        run_self_tests()


def test_cli_selftest_prints_ok_per_vector() -> None:
    result = runner.invoke(security_app, ["selftest"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(selftest.VECTORS) == 6
    assert all(line.startswith("OK") for line in lines)
    assert any("RFC 8998" in line for line in lines)


def test_cli_selftest_fails_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _broken(monkeypatch)
    result = runner.invoke(security_app, ["selftest"])
    assert result.exit_code == 1
    assert "FAIL wrong answer" in result.stdout
    assert "fails the national-algorithm vectors" in result.stderr
