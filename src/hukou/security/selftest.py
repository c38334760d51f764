"""Known-answer tests with the official vectors, run before any personal data is touched.

A ``cryptography`` wheel built against a different OpenSSL, or a distribution
build without SM4, would otherwise fail only at the first encryption, or worse
compute something else. Checking the vectors of the standards themselves at
start-up (and in ``hukou security selftest``) turns that into one clear error.

>>> run_self_tests()
>>> [result.ok for result in check_vectors()]
[True, True, True, True, True, True]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hukou.security.sm import (
    DecryptionError,
    hmac_sm3,
    sm3,
    sm4_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

__all__ = ["VECTORS", "SelfTestError", "Vector", "VectorResult", "check_vectors", "run_self_tests"]


class SelfTestError(RuntimeError):
    """The installed library does not reproduce an official vector: do not encrypt anything."""


@dataclass(frozen=True, slots=True)
class Vector:
    """One known answer: ``compute()`` must return ``expected``."""

    name: str
    source: str
    compute: Callable[[], bytes]
    expected: bytes


@dataclass(frozen=True, slots=True)
class VectorResult:
    """The outcome of one vector; ``problem`` says what went wrong (no data values)."""

    vector: Vector
    ok: bool
    problem: str = ""


_SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
_HMAC_MESSAGE = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2

# RFC 8998 Appendix A.1 (SM4-GCM).
_GCM_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
_GCM_IV = bytes.fromhex("00001234567800000000ABCD")
_GCM_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
_GCM_PLAINTEXT = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
_GCM_CIPHERTEXT = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
)
_GCM_TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")


def _gcm_open() -> bytes:
    return sm4_gcm_decrypt(_GCM_KEY, _GCM_IV, _GCM_CIPHERTEXT + _GCM_TAG, _GCM_AAD)


def _gcm_rejects_altered_tag() -> bytes:
    """A negative answer: a library that accepts a flipped tag bit is worse than none."""
    altered = _GCM_CIPHERTEXT + _GCM_TAG[:-1] + bytes([_GCM_TAG[-1] ^ 0x01])
    try:
        sm4_gcm_decrypt(_GCM_KEY, _GCM_IV, altered, _GCM_AAD)
    except DecryptionError:
        return b"rejected"
    return b"accepted"


VECTORS: tuple[Vector, ...] = (
    Vector(
        name='SM3("abc")',
        source="GB/T 32905-2016 example 1",
        compute=lambda: sm3(b"abc"),
        expected=bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    ),
    Vector(
        name='SM3("abcd" x 16)',
        source="GB/T 32905-2016 example 2",
        compute=lambda: sm3(b"abcd" * 16),
        expected=bytes.fromhex("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
    ),
    Vector(
        # Blind indexes and pseudonyms are HMAC-SM3: check the MAC itself, not only SM3.
        name="HMAC-SM3",
        source="GM/T 0042-2015 appendix D.3, example 1",
        compute=lambda: hmac_sm3(bytes(range(1, 33)), _HMAC_MESSAGE),
        expected=bytes.fromhex("ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"),
    ),
    Vector(
        name="SM4 block",
        source="GB/T 32907-2016 example 1",
        compute=lambda: sm4_encrypt_block(_SM4_KEY, _SM4_KEY),
        expected=bytes.fromhex("681edf34d206965e86b3e94f536e4246"),
    ),
    Vector(
        name="SM4-GCM encrypt",
        source="RFC 8998 appendix A.1",
        compute=lambda: sm4_gcm_encrypt(_GCM_KEY, _GCM_IV, _GCM_PLAINTEXT, _GCM_AAD),
        expected=_GCM_CIPHERTEXT + _GCM_TAG,
    ),
    Vector(
        name="SM4-GCM decrypt",
        source="RFC 8998 appendix A.1, and the same with one tag bit flipped",
        compute=lambda: _gcm_open() + _gcm_rejects_altered_tag(),
        expected=_GCM_PLAINTEXT + b"rejected",
    ),
)


def _check(vector: Vector) -> VectorResult:
    try:
        actual = vector.compute()
    except Exception as error:  # e.g. UnsupportedAlgorithm from a build without SM4
        return VectorResult(vector, ok=False, problem=f"raised {type(error).__name__}: {error}")
    if actual != vector.expected:
        return VectorResult(vector, ok=False, problem="result differs from the official answer")
    return VectorResult(vector, ok=True)


def check_vectors() -> list[VectorResult]:
    """Every vector's outcome, in order; for reporting each one (the CLI prints them)."""
    return [_check(vector) for vector in VECTORS]


def run_self_tests() -> None:
    """Raise :class:`SelfTestError` naming every vector the installed library fails."""
    failed = [result for result in check_vectors() if not result.ok]
    if failed:
        details = "; ".join(f"{r.vector.name} ({r.vector.source}): {r.problem}" for r in failed)
        raise SelfTestError(f"national-algorithm self-test failed: {details}")
