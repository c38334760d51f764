"""Column-level encryption of personal data, and blind indexes to search it.

A value is stored as a token::

    sm4gcm:v2:<data key id>:<base64url(nonce || ciphertext || tag), unpadded>

``v2`` tokens are encrypted with a *data key* of the value's purpose
(:mod:`hukou.security.datakeys`: envelope encryption, crypto-shredding), which
the master key of the key ring wraps. ``v1`` tokens, encrypted with a master key
directly, are what a cipher without data keys writes (tests, tools without a
database) and what databases from before envelope encryption hold; they stay
readable, and ``hukou keys reencrypt`` moves them to ``v2``.

- SM4-GCM with a fresh random 12-byte nonce per value, so equal values give
  different tokens (nobody can see that two people share a phone number);
- the *context* (``"registry.person.identity_number"``) is the GCM associated
  data: it is not stored but must be given again to decrypt, so a token copied
  into another column, or another table, fails authentication;
- the key id says which key decrypts it, so keys can rotate while old rows
  stay readable.

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

from hukou.security.datakeys import DataKeys, scope_of
from hukou.security.keys import KEY_ID_PATTERN, KeyRing
from hukou.security.sm import NONCE_SIZE, SM4GCM, TAG_SIZE, DecryptionError, HmacSM3

__all__ = [
    "DATA_KEY_PREFIX",
    "TOKEN_MARK",
    "TOKEN_PREFIX",
    "FieldCipher",
    "MalformedTokenError",
    "UnknownKeyError",
]

TOKEN_MARK = "sm4gcm:"  # noqa: S105 (a format tag, not a password)
"""How every token starts, whatever its version: what a scan for stored tokens looks for."""
TOKEN_PREFIX = "sm4gcm:v1:"  # noqa: S105
"""A token encrypted directly with a master key of the ring (the first format)."""
DATA_KEY_PREFIX = "sm4gcm:v2:"
"""A token encrypted with a data key (envelope encryption)."""

_TOKEN = re.compile(rf"sm4gcm:(v1|v2):({KEY_ID_PATTERN}):([A-Za-z0-9_-]+)")
_MIN_PAYLOAD = NONCE_SIZE + TAG_SIZE
_MAX_CACHED_PURPOSES = 64


class MalformedTokenError(DecryptionError):
    """The text is not an ``sm4gcm`` token at all (e.g. a plaintext left in the column)."""


class UnknownKeyError(DecryptionError):
    """The token names a key the cipher cannot reach (retired, another ring, no data keys)."""


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


def _seal(prefix: str, cipher: SM4GCM, value: str, aad: bytes, nonce: bytes) -> str:
    sealed = cipher.encrypt(nonce, value.encode("utf-8"), aad)
    return f"{prefix}{_b64encode(nonce + sealed)}"


def _parse(token: str) -> tuple[str, str, bytes]:
    """Version, key id and raw payload; :class:`MalformedTokenError` without echoing the token."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise MalformedTokenError(f"not an {TOKEN_MARK} token")
    version, key_id, text = match.groups()
    try:
        payload = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedTokenError("token payload is not valid base64url") from None
    if len(payload) < _MIN_PAYLOAD:
        raise MalformedTokenError("token payload is too short to hold a nonce and a tag")
    return version, key_id, payload


class FieldCipher:
    """Encrypts, decrypts and blind-indexes column values with one :class:`KeyRing`.

    With ``data_keys`` (the platform's normal case) values are encrypted with
    the data key of their purpose (``v2`` tokens, envelope encryption); without,
    with the ring's active key directly (``v1``). Either way both formats
    decrypt, given the keys.

    Build one per process (or per key ring) and share it: it holds the keyed
    SM4 objects and pre-keyed HMAC states, which is where reuse saves time.
    Thread-safe: nothing it holds is mutated after construction except small
    caches (HMAC states here, unwrapped data keys in ``data_keys``).
    """

    __slots__ = ("_active", "_ciphers", "_data_keys", "_index", "_index_key", "_ring")

    def __init__(self, keyring: KeyRing, data_keys: DataKeys | None = None) -> None:
        if data_keys is not None and data_keys.keyring is not keyring:
            raise ValueError("the data keys must be wrapped by this cipher's key ring")
        self._ring = keyring
        self._active = keyring.active_key_id
        self._ciphers = {key_id: SM4GCM(keyring.key(key_id)) for key_id in keyring.key_ids}
        self._data_keys = data_keys
        self._index_key = keyring.index_key
        self._index: dict[str, HmacSM3] = {}

    def __repr__(self) -> str:
        envelope = ", data keys" if self._data_keys is not None else ""
        return f"FieldCipher({self._ring!r}{envelope})"

    @property
    def keyring(self) -> KeyRing:
        """The key ring this cipher uses."""
        return self._ring

    @property
    def data_keys(self) -> DataKeys | None:
        """The data-key store (envelope encryption), or ``None`` for master-key tokens."""
        return self._data_keys

    # --- encryption -----------------------------------------------------------------

    def _sealer(self, context: str, subject: str) -> tuple[str, SM4GCM]:
        """The token prefix (version and key id) and the cipher new values get."""
        if self._data_keys is None:
            if subject:
                raise ValueError("a subject's key needs data keys (envelope encryption)")
            return f"{TOKEN_PREFIX}{self._active}:", self._ciphers[self._active]
        key = self._data_keys.current(scope_of(context), subject)
        return f"{DATA_KEY_PREFIX}{key.id}:", key.cipher

    def encrypt(self, value: str, *, context: str, subject: str = "") -> str:
        """The token of ``value``, bound to ``context``.

        ``subject`` (a batch id, an account id) selects that subject's own data
        key, which :meth:`DataKeys.shred` can destroy to erase its values.
        """
        aad = _check_context(context)
        prefix, cipher = self._sealer(context, subject)
        return _seal(prefix, cipher, value, aad, os.urandom(NONCE_SIZE))

    def decrypt(self, token: str, *, context: str) -> str:
        """The value; :class:`DecryptionError` (or a subclass) if it cannot be trusted."""
        return self._open(token, _check_context(context))

    def _opener(self, version: str, key_id: str, aad: bytes) -> SM4GCM:
        if version == "v1":
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise UnknownKeyError(
                    f"token was encrypted with key {key_id!r}, not in the key ring"
                )
            return cipher
        if self._data_keys is None:
            raise UnknownKeyError(f"token was encrypted with data key {key_id!r}: no data keys")
        key = self._data_keys.get(key_id)
        if key.scope != scope_of(aad.decode("utf-8")):
            raise DecryptionError(f"data key {key_id!r} is of another purpose than this value")
        return key.cipher

    def _open(self, token: str, aad: bytes) -> str:
        version, key_id, payload = _parse(token)
        cipher = self._opener(version, key_id, aad)
        plaintext = cipher.decrypt(payload[:NONCE_SIZE], payload[NONCE_SIZE:], aad)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # authentic but not ours: only with a leaked key
            raise DecryptionError("decrypted value is not UTF-8 text") from None

    def key_id(self, token: str) -> str:
        """The id of the key that encrypted ``token``: a master key (v1) or a data key (v2)."""
        return _parse(token)[1]

    def needs_rotation(self, token: str) -> bool:
        """Whether ``token`` must be re-encrypted by a rotation.

        With data keys: every ``v1`` token (it moves to its purpose's data key);
        ``v2`` tokens never (a master-key rotation re-wraps their data keys).
        Without: a token of a key other than the active one.
        """
        version, key_id, _ = _parse(token)
        if self._data_keys is not None:
            return version == "v1"
        return version == "v1" and key_id != self._active

    def rotation_prefixes(self) -> tuple[str, ...]:
        """The starts of the tokens :meth:`needs_rotation` accepts: what a walk searches for."""
        if self._data_keys is not None:
            return (TOKEN_PREFIX,)
        old = (key_id for key_id in self._ring.key_ids if key_id != self._active)
        return tuple(f"{TOKEN_PREFIX}{key_id}:" for key_id in old)

    def reencrypt(self, token: str, *, context: str, subject: str = "") -> str:
        """``token`` under the key it should have now; unchanged if it already is.

        It is always decrypted first, so a token that is corrupt, of another
        column or of an unknown key raises here rather than being passed on.
        """
        aad = _check_context(context)
        value = self._open(token, aad)
        if not self.needs_rotation(token):
            return token
        prefix, cipher = self._sealer(context, subject)
        return _seal(prefix, cipher, value, aad, os.urandom(NONCE_SIZE))

    def encrypt_many(
        self, values: Sequence[str | None], *, context: str, subject: str = ""
    ) -> list[str | None]:
        """:meth:`encrypt` for a column; ``None`` (a missing value) stays ``None``.

        Faster than a loop over :meth:`encrypt`: the key is looked up and the
        context encoded once, and the nonces come from one ``os.urandom`` call,
        sliced; every value still gets its own fresh random 12-byte nonce.
        """
        aad = _check_context(context)
        prefix, cipher = self._sealer(context, subject)
        nonces = os.urandom(NONCE_SIZE * len(values))
        return [
            None if value is None else _seal(prefix, cipher, value, aad, nonces[i : i + NONCE_SIZE])
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
