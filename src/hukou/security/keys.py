"""The key ring: field-encryption keys (one active) and a separate blind-index key.

Two purposes, two kinds of key, never shared:

- **field keys** (SM4, 16 bytes each, named by a key id such as ``k2025a``)
  encrypt column values; the active one encrypts, all of them decrypt, so that
  rotation never makes old rows unreadable;
- **the index key** (HMAC-SM3, 32 bytes = the SM3 output size, as RFC 2104
  recommends) computes blind indexes. It is drawn independently at key
  generation and a key ring whose index key equals a field key, or whose field
  keys repeat, is refused: a key used both to encrypt and to MAC gives an
  attacker who learns one use a handle on the other.

The key file is JSON::

    {"version": 1, "active": "k2025a",
     "keys": {"k2025a": "<32 hex digits>"}, "index_key": "<64 hex digits>"}

The same JSON can come from an environment variable (a container secret).
Error messages name the file, the key id and what is wrong, never key material.

>>> ring = KeyRing.generate("k2025a")
>>> ring.active_key_id, ring.key_ids
('k2025a', ('k2025a',))
>>> ring
KeyRing(active='k2025a', keys=1, <key material hidden>)
>>> rotated = ring.with_new_key("k2025b")
>>> rotated.active_key_id, rotated.key_ids, rotated.index_key == ring.index_key
('k2025b', ('k2025a', 'k2025b'), True)
"""

from __future__ import annotations

import binascii
import datetime
import json
import os
import re
import secrets
import string
from collections.abc import Collection, Mapping
from itertools import count, product
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hukou.security.sm import KEY_SIZE

__all__ = [
    "INDEX_KEY_SIZE",
    "KEY_FILE_MODE",
    "KEY_FILE_VERSION",
    "KEY_ID_PATTERN",
    "KeyFileError",
    "KeyRing",
    "activate",
    "generate_key_file",
    "is_private",
    "retire",
    "rotate",
    "write_private",
]

KEY_FILE_VERSION = 1
KEY_FILE_MODE = 0o600
"""Owner read/write only: the key file is as secret as every record it protects."""
INDEX_KEY_SIZE = 32
"""HMAC-SM3 key length: the digest size, the strength RFC 2104 recommends."""

KEY_ID_PATTERN = r"[A-Za-z][A-Za-z0-9_-]{0,23}"
"""A key id: a letter, then at most 23 letters, digits, ``-`` or ``_``: never ``:``, the token's
separator, and never as long as a hex key (32 or 64 digits), so that a key pasted
into the wrong place is not taken for an id and echoed in an error message."""
_KEY_ID = re.compile(KEY_ID_PATTERN)


def _shown(key_id: object) -> str:
    """A key id fit for a message: quoted if well-formed, else not repeated at all."""
    if isinstance(key_id, str) and _KEY_ID.fullmatch(key_id):
        return repr(key_id)
    return "(not a valid key id, not shown)"


class KeyFileError(ValueError):
    """The key file or key ring is missing or invalid; the message holds no key material."""


def _decode_key(text: object, *, size: int, what: str, source: str) -> bytes:
    if not isinstance(text, str):
        raise KeyFileError(f"{source}: {what} must be a hex string")
    try:
        key = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{source}: {what} is not hexadecimal") from None
    if len(key) != size:
        raise KeyFileError(
            f"{source}: {what} must be {size} bytes ({2 * size} hex digits), got {len(key)} bytes"
        )
    return key


def _validate(active: str, keys: Mapping[str, bytes], index_key: bytes, *, source: str) -> None:
    """Refuse what would make encryption unsafe or tokens unreadable."""
    if not keys:
        raise KeyFileError(f"{source}: no field keys")
    for key_id, key in keys.items():
        if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
            raise KeyFileError(
                f"{source}: a key id is malformed (expected a letter, then at most 23 "
                "letters, digits, '-' or '_'; it is not shown in case it is a key)"
            )
        if len(key) != KEY_SIZE:
            raise KeyFileError(f"{source}: key {_shown(key_id)} must be {KEY_SIZE} bytes")
    if active not in keys:
        raise KeyFileError(f"{source}: active key id {_shown(active)} is not among the keys")
    if len(index_key) != INDEX_KEY_SIZE:
        raise KeyFileError(f"{source}: index key must be {INDEX_KEY_SIZE} bytes")
    distinct = {bytes(key) for key in keys.values()}
    if len(distinct) != len(keys):
        raise KeyFileError(f"{source}: two key ids hold the same key")
    # A 32-byte index key cannot equal a 16-byte field key, but one built from
    # field keys (k || k, copy-and-paste) would still be a key used twice.
    if index_key[:KEY_SIZE] in distinct or index_key[KEY_SIZE:] in distinct:
        raise KeyFileError(f"{source}: the index key reuses a field key")


class KeyRing:
    """An immutable set of named field keys, the active key id and the index key.

    Immutable so that a ring shared by every request cannot change under a
    running encryption; rotation produces a new ring (:meth:`with_new_key`).
    Its ``repr`` never shows key material, so a ring in a log line or a
    traceback's locals leaks nothing.
    """

    __slots__ = ("_active", "_index_key", "_keys")

    _active: str
    _index_key: bytes
    _keys: Mapping[str, bytes]

    def __init__(self, *, active: str, keys: Mapping[str, bytes], index_key: bytes) -> None:
        _validate(active, keys, index_key, source="key ring")
        object.__setattr__(self, "_active", active)
        object.__setattr__(self, "_keys", MappingProxyType({k: bytes(v) for k, v in keys.items()}))
        object.__setattr__(self, "_index_key", bytes(index_key))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("KeyRing is immutable; use with_new_key() to rotate")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("KeyRing is immutable")

    def __repr__(self) -> str:
        return f"KeyRing(active={self._active!r}, keys={len(self._keys)}, <key material hidden>)"

    def __copy__(self) -> KeyRing:
        return self  # immutable: a copy would be indistinguishable

    def __deepcopy__(self, memo: object) -> KeyRing:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        """Refuse pickling: pickles end up in caches, queues and temporary files.

        A worker process (parallel ingest) loads the ring itself with
        :meth:`from_file` or :meth:`from_env`, from the same setting as its parent.
        """
        raise TypeError(
            "a KeyRing cannot be pickled, so that key material never lands in a pickle; "
            "load it in each worker process with KeyRing.from_file() or KeyRing.from_env()"
        )

    @property
    def active_key_id(self) -> str:
        """The id of the key that encrypts new values."""
        return self._active

    @property
    def active_key(self) -> bytes:
        """The 16-byte SM4 key that encrypts new values."""
        return self._keys[self._active]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every field key id, oldest first."""
        return tuple(self._keys)

    @property
    def index_key(self) -> bytes:
        """The 32-byte HMAC-SM3 key of the blind index."""
        return self._index_key

    def key(self, key_id: str) -> bytes:
        """The field key with this id; :class:`KeyError` if the ring lacks it."""
        return self._keys[key_id]

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    # --- building rings -------------------------------------------------------------

    @classmethod
    def generate(cls, key_id: str | None = None) -> KeyRing:
        """A new ring: one random field key and an independent random index key."""
        key_id = key_id or _next_key_id(())
        return cls(
            active=key_id,
            keys={key_id: secrets.token_bytes(KEY_SIZE)},
            index_key=secrets.token_bytes(INDEX_KEY_SIZE),
        )

    def with_new_key(self, key_id: str | None = None, *, activate: bool = True) -> KeyRing:
        """A new ring with a fresh random field key, made active; old keys still decrypt.

        The index key is kept: changing it would change every blind index, which
        is a re-indexing project of its own, not a routine rotation.

        ``activate=False`` adds the key without encrypting with it yet: on several
        nodes every node must be able to *decrypt* with a key before any node
        *encrypts* with it (see :meth:`with_active`).
        """
        key_id = key_id or _next_key_id(self._keys)
        if key_id in self._keys:
            raise KeyFileError(f"key ring: key id {_shown(key_id)} already exists")
        keys = dict(self._keys)
        keys[key_id] = secrets.token_bytes(KEY_SIZE)
        return KeyRing(
            active=key_id if activate else self._active, keys=keys, index_key=self._index_key
        )

    def with_active(self, key_id: str) -> KeyRing:
        """The same keys with ``key_id`` encrypting from now on.

        >>> ring = KeyRing.generate("k2025a").with_new_key("k2025b", activate=False)
        >>> ring.active_key_id, ring.with_active("k2025b").active_key_id
        ('k2025a', 'k2025b')
        """
        if key_id not in self._keys:
            raise KeyFileError(f"key ring: no key {_shown(key_id)} to activate")
        return KeyRing(active=key_id, keys=self._keys, index_key=self._index_key)

    def without_key(self, key_id: str) -> KeyRing:
        """The ring without ``key_id``: tokens of that key become unreadable for good.

        Only for a key no stored token uses any more (count them first, see
        :mod:`hukou.security.rotation`); the active key is never removed.

        >>> ring = KeyRing.generate("k2025a").with_new_key("k2025b")
        >>> ring.without_key("k2025a").key_ids
        ('k2025b',)
        >>> ring.without_key("k2025b")
        Traceback (most recent call last):
        ...
        hukou.security.keys.KeyFileError: key ring: 'k2025b' is active; activate another key first
        """
        if key_id not in self._keys:
            raise KeyFileError(f"key ring: no key {_shown(key_id)} to retire")
        if key_id == self._active:
            raise KeyFileError(f"key ring: {_shown(key_id)} is active; activate another key first")
        keys = {k: v for k, v in self._keys.items() if k != key_id}
        return KeyRing(active=self._active, keys=keys, index_key=self._index_key)

    @classmethod
    def from_json(cls, text: str, *, source: str = "key ring") -> KeyRing:
        """Parse the key-file JSON; ``source`` names the file or variable in errors."""
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as error:
            # The decoder's message gives a position only; the document stays out of it.
            raise KeyFileError(
                f"{source}: not valid JSON ({error.msg} at line {error.lineno})"
            ) from None
        if not isinstance(document, dict):
            raise KeyFileError(f"{source}: must be a JSON object")
        if document.get("version") != KEY_FILE_VERSION:
            raise KeyFileError(f"{source}: unsupported version (expected {KEY_FILE_VERSION})")
        keys = document.get("keys")
        if not isinstance(keys, dict) or not keys:
            raise KeyFileError(f"{source}: 'keys' must be a non-empty object of key id → hex key")
        active = document.get("active")
        if not isinstance(active, str):
            raise KeyFileError(f"{source}: 'active' must name the active key id")
        decoded = {
            key_id: _decode_key(text, size=KEY_SIZE, what=f"key {_shown(key_id)}", source=source)
            for key_id, text in keys.items()
        }
        index_key = _decode_key(
            document.get("index_key"), size=INDEX_KEY_SIZE, what="index_key", source=source
        )
        _validate(active, decoded, index_key, source=source)
        return cls(active=active, keys=decoded, index_key=index_key)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> KeyRing:
        """Load a key file (see the module docstring for its format)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyFileError(f"key file {path} does not exist") from None
        except UnicodeDecodeError:
            raise KeyFileError(f"key file {path}: not UTF-8 text") from None
        except OSError as error:
            raise KeyFileError(f"key file {path}: cannot be read ({error.strerror})") from None
        return cls.from_json(text, source=f"key file {path}")

    @classmethod
    def from_env(cls, variable: str, environ: Mapping[str, str] | None = None) -> KeyRing:
        """Load the key-file JSON held by an environment variable (a container secret)."""
        environ = os.environ if environ is None else environ
        text = environ.get(variable)
        if not text:
            raise KeyFileError(f"environment variable {variable} is not set")
        return cls.from_json(text, source=f"environment variable {variable}")

    def to_json(self) -> str:
        """The key-file JSON of this ring (it contains key material: write it 0600)."""
        document = {
            "version": KEY_FILE_VERSION,
            "active": self._active,
            "keys": {key_id: key.hex() for key_id, key in self._keys.items()},
            "index_key": self._index_key.hex(),
        }
        return json.dumps(document, indent=2) + "\n"


def _next_key_id(existing: Collection[str], year: int | None = None) -> str:
    """``k<year><letters>``: readable, and sorted by age within a year.

    >>> _next_key_id((), year=2025), _next_key_id(("k2025a",), year=2025)
    ('k2025a', 'k2025b')
    >>> _next_key_id([f"k2025{c}" for c in "abcdefghijklmnopqrstuvwxyz"], year=2025)
    'k2025aa'
    """
    year = year or datetime.datetime.now(datetime.UTC).year
    for length in count(1):
        for letters in product(string.ascii_lowercase, repeat=length):
            candidate = f"k{year}{''.join(letters)}"
            if candidate not in existing:
                return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 and ``text``; fail if it exists (O_EXCL).

    The mode is given to ``open`` itself, so the keys are never readable by
    others, not even between creation and a later ``chmod``; the ``fchmod``
    only undoes an unusual umask that would have removed the owner's rights.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        os.fchmod(descriptor, KEY_FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            descriptor = -1  # the file object owns it now
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        if descriptor != -1:
            os.close(descriptor)
        path.unlink(missing_ok=True)
        raise


def generate_key_file(path: str | os.PathLike[str], *, key_id: str | None = None) -> KeyRing:
    """Write a new key file (mode 0600) and return its ring; never overwrites a file."""
    path = Path(path)
    ring = KeyRing.generate(key_id)
    try:
        write_private(path, ring.to_json())
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    except OSError as error:
        raise KeyFileError(f"key file {path}: cannot be written ({error.strerror})") from None
    return ring


def _replace_file(path: Path, ring: KeyRing) -> KeyRing:
    """Write ``ring`` over the key file atomically; return it.

    A 0600 temporary file in the same folder, then ``os.replace``: a crash
    leaves either the old or the new file, never a half-written one that would
    lose every key.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        write_private(temporary, ring.to_json())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise KeyFileError(f"key file {path}: cannot be rewritten ({error.strerror})") from None
    return ring


def rotate(
    path: str | os.PathLike[str], *, key_id: str | None = None, activate: bool = True
) -> KeyRing:
    """Add a fresh field key to the key file (active unless ``activate=False``).

    The file is replaced atomically. Old keys are kept: existing tokens must
    still decrypt until they are re-encrypted.
    """
    path = Path(path)
    return _replace_file(path, KeyRing.from_file(path).with_new_key(key_id, activate=activate))


def activate(path: str | os.PathLike[str], key_id: str) -> KeyRing:
    """Make ``key_id`` (already in the key file) the key that encrypts new values."""
    path = Path(path)
    return _replace_file(path, KeyRing.from_file(path).with_active(key_id))


def retire(path: str | os.PathLike[str], key_id: str) -> KeyRing:
    """Remove ``key_id`` from the key file.

    This module cannot see the database: call it through
    :func:`hukou.security.rotation.retire_unused_key`, which refuses while any
    stored token still uses the key.
    """
    path = Path(path)
    return _replace_file(path, KeyRing.from_file(path).without_key(key_id))


def is_private(path: str | os.PathLike[str]) -> bool:
    """Whether only the owner may read or write the file (no group or other bits)."""
    return Path(path).stat().st_mode & 0o077 == 0
