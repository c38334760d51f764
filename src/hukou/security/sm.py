"""The national (国密) primitives Hukou uses: SM3, HMAC-SM3 and SM4 (block, GCM).

Everything here delegates to the ``cryptography`` package (its wheels bundle an
OpenSSL with SM3 and SM4); nothing is implemented by hand, because a home-made
block cipher cannot be certified and is the classic source of silent bugs. The
official vectors in :mod:`hukou.security.selftest` prove at start-up that the
installed library really computes the standard algorithms.

>>> sm3(b"abc").hex()
'66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0'
>>> key, nonce = bytes(16), bytes(12)
>>> sealed = sm4_gcm_encrypt(key, nonce, b"secret", b"context")
>>> len(sealed) == len(b"secret") + TAG_SIZE
True
>>> sm4_gcm_decrypt(key, nonce, sealed, b"context")
b'secret'
>>> sm4_gcm_decrypt(key, nonce, sealed, b"another context")
Traceback (most recent call last):
...
hukou.security.sm.DecryptionError: authentication failed: wrong key, wrong context or altered data
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "BLOCK_SIZE",
    "KEY_SIZE",
    "NONCE_SIZE",
    "SM4GCM",
    "TAG_SIZE",
    "DecryptionError",
    "HmacSM3",
    "hmac_sm3",
    "sm3",
    "sm4_encrypt_block",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]

KEY_SIZE = 16
"""SM4 keys are 128 bits (GB/T 32907-2016)."""
BLOCK_SIZE = 16
"""SM4 blocks are 128 bits."""
NONCE_SIZE = 12
"""96-bit GCM nonces, as in RFC 8998; other lengths are hashed by GCM and are refused here."""
TAG_SIZE = 16
"""Full 128-bit GCM tags; truncated tags weaken forgery resistance and are never produced."""

_AUTH_FAILED = "authentication failed: wrong key, wrong context or altered data"


class DecryptionError(ValueError):
    """Authenticated decryption failed; the message never contains key or plaintext."""


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"SM4 key must be {KEY_SIZE} bytes, got {len(key)}")


def _check_nonce(nonce: bytes) -> None:
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"SM4-GCM nonce must be {NONCE_SIZE} bytes, got {len(nonce)}")


def sm3(data: bytes) -> bytes:
    """The 32-byte SM3 digest of ``data`` (GB/T 32905-2016)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


class HmacSM3:
    """HMAC-SM3 keyed once, so that many messages skip the key schedule.

    Keying HMAC costs two SM3 compressions (inner and outer pad); copying a
    keyed state costs nothing of the sort. ``prefix`` is absorbed once too: the
    blind index hashes ``purpose || NUL || value`` for millions of values with
    the same purpose, and copying the state after the prefix is 2.5x faster than
    starting afresh for each value.

    >>> mac = HmacSM3(b"k" * 32)
    >>> mac.digest(b"abc") == hmac_sm3(b"k" * 32, b"abc")
    True
    >>> HmacSM3(b"k" * 32, prefix=b"ab").digest(b"c") == mac.digest(b"abc")
    True
    """

    __slots__ = ("_state",)

    def __init__(self, key: bytes, *, prefix: bytes = b"") -> None:
        if not key:
            raise ValueError("HMAC-SM3 key must not be empty")
        self._state = hmac.HMAC(key, hashes.SM3())
        if prefix:
            self._state.update(prefix)

    def digest(self, data: bytes) -> bytes:
        """The 32-byte MAC of prefix || ``data``."""
        state = self._state.copy()
        state.update(data)
        return state.finalize()

    def __repr__(self) -> str:
        return "HmacSM3(<key hidden>)"


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC (RFC 2104) with SM3: 32 bytes."""
    return HmacSM3(key).digest(data)


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with raw SM4 (ECB).

    Only for the standard's test vector: ECB leaks equal blocks and has no
    integrity, so nothing in Hukou encrypts data this way.
    """
    _check_key(key)
    if len(block) != BLOCK_SIZE:
        raise ValueError(f"SM4 block must be {BLOCK_SIZE} bytes, got {len(block)}")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 (test vector)
    return encryptor.update(block) + encryptor.finalize()


class SM4GCM:
    """SM4 in GCM mode (RFC 8998) with one key, reused for many messages.

    The ``cryptography`` package has no one-shot SM4 AEAD class, and a GCM
    context cannot be re-keyed with a new nonce, so each message needs a fresh
    context; building the key's algorithm object once saves what can be saved.
    Output is ``ciphertext || tag`` (16-byte tag), the layout of RFC 5116.
    """

    __slots__ = ("_algorithm",)

    def __init__(self, key: bytes) -> None:
        _check_key(key)
        self._algorithm = algorithms.SM4(key)

    def encrypt(self, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """``ciphertext || tag``. The nonce must never repeat under this key."""
        _check_nonce(nonce)
        encryptor = Cipher(self._algorithm, modes.GCM(nonce)).encryptor()
        if aad:
            encryptor.authenticate_additional_data(aad)
        body = encryptor.update(plaintext) + encryptor.finalize()
        return body + encryptor.tag

    def decrypt(self, nonce: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
        """The plaintext, or :class:`DecryptionError` if anything was altered."""
        _check_nonce(nonce)
        if len(sealed) < TAG_SIZE:
            raise DecryptionError("ciphertext is shorter than the authentication tag")
        body, tag = sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]
        decryptor = Cipher(self._algorithm, modes.GCM(nonce, tag)).decryptor()
        if aad:
            decryptor.authenticate_additional_data(aad)
        plaintext = decryptor.update(body)
        try:
            return plaintext + decryptor.finalize()
        except InvalidTag:
            raise DecryptionError(_AUTH_FAILED) from None

    def __repr__(self) -> str:
        return "SM4GCM(<key hidden>)"


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM (RFC 8998): ``ciphertext || 16-byte tag``."""
    return SM4GCM(key).encrypt(nonce, plaintext, aad)


def sm4_gcm_decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """Open ``ciphertext || tag``; :class:`DecryptionError` on a bad tag."""
    return SM4GCM(key).decrypt(nonce, sealed, aad)
