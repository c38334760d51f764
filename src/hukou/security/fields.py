"""Column-level encryption of personal data, and blind indexes to search it.

A value is stored as a token::

    sm4gcm:v1:<key id>:<base64url(nonce || ciphertext || tag), unpadded>

- SM4-GCM with a fresh random 12-byte nonce per value, so equal values give
  different tokens (nobody can see that two people share a phone number);
- the *context* (``"registry.person.identity_number"``) is the GCM associated
  data: it is not stored but must be given again to decrypt, so a token copied
  into another column, or another table, fails authentication;
- the key id says which key of the ring decrypts it, so keys can rotate while
  old rows stay readable.

A blind index is the hex HMAC-SM3 of ``purpose || NUL || value`` under the
separate index key: deterministic, so ``WHERE identity_number_index = ?`` finds
a person without decrypting every row, and keyed, so whoever reads the database
without the key cannot test guesses (an unkeyed hash of an 18-digit identity
number is brute-forced in minutes). The purpose separates indexes: the same
phone number indexed for two purposes gives two unrelated values.

>>> from hukou.security.keys import KeyRing
>>> cipher = FieldCipher(KeyRing.generate("k2025a"))
>>> token = cipher.encrypt("11010519491231002X", context="registry.person.identity_number")
>>> token.startswith("sm4gcm:v1:k2025a:"), "11010519491231002X" in token
(True, False)
>>> cipher.decrypt(token, context="registry.person.identity_number")
'11010519491231002X'
>>> cipher.decrypt(token, context="registry.person.phone")
Traceback (most recent call last):
...
hukou.security.sm.DecryptionError: authentication failed: wrong key, wrong context or altered data
>>> a = cipher.blind_index("11010519491231002X", purpose="person.identity_number")
>>> a == cipher.blind_index("11010519491231002X", purpose="person.identity_number"), len(a)
(True, 64)
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence

from hukou.security.keys import KEY_ID_PATTERN, KeyRing
from hukou.security.sm import NONCE_SIZE, SM4GCM, TAG_SIZE, DecryptionError, HmacSM3

__all__ = [
    "TOKEN_PREFIX",
    "FieldCipher",
    "MalformedTokenError",
    "UnknownKeyError",
]

TOKEN_PREFIX = "sm4gcm:v1:"  # noqa: S105 (a format tag, not a password)
"""Algorithm and format version: a future format gets a new prefix, old tokens stay readable."""

_TOKEN = re.compile(rf"{re.escape(TOKEN_PREFIX)}({KEY_ID_PATTERN}):([A-Za-z0-9_-]+)")
_MIN_PAYLOAD = NONCE_SIZE + TAG_SIZE
_MAX_CACHED_PURPOSES = 64


class MalformedTokenError(DecryptionError):
    """The text is not an ``sm4gcm:v1`` token at all (e.g. a plaintext left in the column)."""


class UnknownKeyError(DecryptionError):
    """The token names a key id the key ring does not hold (retired, or another ring)."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _check_context(context: str) -> bytes:
    if not context:
        raise ValueError("an encryption context is required (e.g. 'registry.person.phone')")
    return context.encode("utf-8")


def _check_purpose(purpose: str) -> bytes:
    if not purpose or "\0" in purpose:
        raise ValueError("a blind-index purpose is required and must not contain NUL")
    return purpose.encode("utf-8") + b"\0"


def _parse(token: str) -> tuple[str, bytes]:
    """The key id and raw payload; :class:`MalformedTokenError` without echoing the token."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise MalformedTokenError(f"not an {TOKEN_PREFIX} token")
    key_id, text = match.groups()
    try:
        payload = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedTokenError("token payload is not valid base64url") from None
    if len(payload) < _MIN_PAYLOAD:
        raise MalformedTokenError("token payload is too short to hold a nonce and a tag")
    return key_id, payload


class FieldCipher:
    """Encrypts, decrypts and blind-indexes column values with one :class:`KeyRing`.

    Build one per process (or per key ring) and share it: it holds the keyed
    SM4 objects and pre-keyed HMAC states, which is where reuse saves time.
    Thread-safe: nothing it holds is mutated after construction except a small
    cache of per-purpose HMAC states, filled under the GIL.
    """

    __slots__ = ("_active", "_ciphers", "_index", "_index_key", "_ring")

    def __init__(self, keyring: KeyRing) -> None:
        self._ring = keyring
        self._active = keyring.active_key_id
        self._ciphers = {key_id: SM4GCM(keyring.key(key_id)) for key_id in keyring.key_ids}
        self._index_key = keyring.index_key
        self._index: dict[str, HmacSM3] = {}

    def __repr__(self) -> str:
        return f"FieldCipher({self._ring!r})"

    @property
    def keyring(self) -> KeyRing:
        """The key ring this cipher uses."""
        return self._ring

    # --- encryption -----------------------------------------------------------------

    def encrypt(self, value: str, *, context: str) -> str:
        """The token of ``value`` under the active key, bound to ``context``."""
        return self._seal(value, _check_context(context), os.urandom(NONCE_SIZE))

    def _seal(self, value: str, aad: bytes, nonce: bytes) -> str:
        sealed = self._ciphers[self._active].encrypt(nonce, value.encode("utf-8"), aad)
        return f"{TOKEN_PREFIX}{self._active}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The value; :class:`DecryptionError` (or a subclass) if it cannot be trusted."""
        return self._open(token, _check_context(context))

    def _open(self, token: str, aad: bytes) -> str:
        key_id, payload = _parse(token)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(f"token was encrypted with key {key_id!r}, not in the key ring")
        plaintext = cipher.decrypt(payload[:NONCE_SIZE], payload[NONCE_SIZE:], aad)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # authentic but not ours: only with a leaked key
            raise DecryptionError("decrypted value is not UTF-8 text") from None

    def key_id(self, token: str) -> str:
        """The id of the key that encrypted ``token`` (no decryption)."""
        return _parse(token)[0]

    def needs_rotation(self, token: str) -> bool:
        """Whether ``token`` was encrypted with a key other than the active one."""
        return self.key_id(token) != self._active

    def reencrypt(self, token: str, *, context: str) -> str:
        """``token`` under the active key; unchanged if it already is.

        It is always decrypted first, so a token that is corrupt, of another
        column or of an unknown key raises here rather than being passed on.
        """
        aad = _check_context(context)
        value = self._open(token, aad)
        if not self.needs_rotation(token):
            return token
        return self._seal(value, aad, os.urandom(NONCE_SIZE))

    def encrypt_many(self, values: Sequence[str | None], *, context: str) -> list[str | None]:
        """:meth:`encrypt` for a column; ``None`` (a missing value) stays ``None``.

        Faster than a loop over :meth:`encrypt`: the context is encoded once and
        the nonces come from one ``os.urandom`` call, sliced; every value still
        gets its own fresh random 12-byte nonce.
        """
        aad = _check_context(context)
        seal = self._seal
        nonces = os.urandom(NONCE_SIZE * len(values))
        return [
            None if value is None else seal(value, aad, nonces[i : i + NONCE_SIZE])
            for i, value in zip(range(0, len(nonces), NONCE_SIZE), values, strict=True)
        ]

    def decrypt_many(self, tokens: Sequence[str | None], *, context: str) -> list[str | None]:
        """:meth:`decrypt` for a column; ``None`` stays ``None``; the first bad token raises."""
        aad = _check_context(context)
        open_ = self._open
        return [None if token is None else open_(token, aad) for token in tokens]

    # --- blind index ----------------------------------------------------------------

    def _indexer(self, purpose: str) -> HmacSM3:
        indexer = self._index.get(purpose)
        if indexer is None:
            indexer = HmacSM3(self._index_key, prefix=_check_purpose(purpose))
            if len(self._index) < _MAX_CACHED_PURPOSES:  # purposes are code constants
                self._index[purpose] = indexer
        return indexer

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Hex HMAC-SM3 of ``purpose || NUL || value`` with the index key.

        Normalise ``value`` first (e.g. an identity number to its 18-character
        upper-case form): ``"x"`` and ``"X"`` give different indexes.
        """
        return self._indexer(purpose).digest(value.encode("utf-8")).hex()

    def blind_index_many(self, values: Sequence[str | None], *, purpose: str) -> list[str | None]:
        """:meth:`blind_index` for a column; ``None`` stays ``None``."""
        digest = self._indexer(purpose).digest
        return [None if value is None else digest(value.encode("utf-8")).hex() for value in values]
