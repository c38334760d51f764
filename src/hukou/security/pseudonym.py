"""Keyed pseudonyms (HMAC-SM3) for analytics exports, under a key kept apart from the data.

An analytics export must let analysts join one person's rows across tables and
years without telling them who the person is. An unkeyed hash does not do that:
there are only about 10¹¹ plausible identity numbers, hashed in minutes. A keyed
pseudonym does, as long as the key stays with the platform and never travels
with an export::

    pseudonym = hex(HMAC-SM3(pseudonym key, "hukou.pseudonym.v1" ‖ NUL ‖ domain ‖ NUL ‖ value))[:32]

- **Deterministic**: the same value and domain give the same pseudonym in every
  export, so exports join.
- **Separated by domain** (``"census-2025"``, ``"school-demand"``): two exports
  for different purposes get unrelated pseudonyms and cannot be joined with each
  other, which is the point of purpose limitation (PIPL Art. 6). NUL cannot occur
  in a domain, so (domain, value) is read back unambiguously.
- **Its own key** (:class:`PseudonymKey`, 32 bytes, own file or environment
  setting, ``HUKOU_PSEUDONYM_KEY_FILE`` / ``HUKOU_PSEUDONYM_KEY``): never a field
  key or the blind-index key. Whoever holds the field keys need not hold it, and
  whoever receives an export never does; a ring whose keys equal it is refused
  (:func:`check_apart`). Replacing the key makes every pseudonym new (old exports
  no longer join new ones), which is how a leaked key is handled.

**Length.** 32 hex characters, 128 bits. For *n* distinct inputs in one domain,
the probability that two share a pseudonym is at most n(n-1)/2 / 2¹²⁸ (the
birthday bound): for the whole country (n = 1.5 × 10⁹) about 3.3 × 10⁻²¹, for a
city of ten million 1.5 × 10⁻²⁵; never in practice. 64 bits would not do:
n = 1.5 × 10⁹ gives about 6 %. The full 256 bits would add nothing but width.

**Normalise first.** The pseudonym is over exact text: pass identity numbers in
their 18-character upper-case form (``hukou.standards.identity.upgrade``), person
ids as stored.

>>> key = PseudonymKey(bytes(range(32)))
>>> a = pseudonym(key, "11010519491231002X", "census-2025")
>>> len(a), a == pseudonym(key, "11010519491231002X", "census-2025")
(32, True)
>>> a == pseudonym(key, "11010519491231002X", "school-demand")
False
>>> key
PseudonymKey(<key hidden>)
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hukou.security.keys import KeyFileError, KeyRing, write_private
from hukou.security.sm import HmacSM3

__all__ = [
    "PSEUDONYM_ENV",
    "PSEUDONYM_FILE_ENV",
    "PSEUDONYM_HEX_LENGTH",
    "PSEUDONYM_KEY_SIZE",
    "PseudonymKey",
    "Pseudonymizer",
    "check_apart",
    "generate_pseudonym_key_file",
    "load_pseudonym_key",
    "pseudonym",
]

PSEUDONYM_HEX_LENGTH = 32
"""128 bits: see the module docstring for the collision bound."""
PSEUDONYM_KEY_SIZE = 32
"""HMAC-SM3 key length: the digest size, as RFC 2104 recommends."""
PSEUDONYM_FILE_ENV = "HUKOU_PSEUDONYM_KEY_FILE"
"""Environment variable naming the pseudonym key file (its own file, not the key file)."""
PSEUDONYM_ENV = "HUKOU_PSEUDONYM_KEY"
"""Environment variable holding the pseudonym key file's JSON itself (a container secret)."""

_VERSION = 1
_PURPOSE = "pseudonym"
_LABEL = b"hukou.pseudonym.v1\0"


class PseudonymKey:
    """The 32-byte pseudonym key; its ``repr`` hides it and it refuses to be pickled."""

    __slots__ = ("_key",)

    _key: bytes

    def __init__(self, key: bytes) -> None:
        if len(key) != PSEUDONYM_KEY_SIZE:
            raise KeyFileError(f"a pseudonym key must be {PSEUDONYM_KEY_SIZE} bytes")
        object.__setattr__(self, "_key", bytes(key))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PseudonymKey is immutable")

    def __repr__(self) -> str:
        return "PseudonymKey(<key hidden>)"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a PseudonymKey cannot be pickled; load it in each process")

    @property
    def material(self) -> bytes:
        """The key bytes (for :class:`Pseudonymizer` and :func:`check_apart`)."""
        return self._key

    @classmethod
    def generate(cls) -> PseudonymKey:
        """A fresh random key."""
        return cls(secrets.token_bytes(PSEUDONYM_KEY_SIZE))

    @classmethod
    def from_json(cls, text: str, *, source: str = "pseudonym key") -> PseudonymKey:
        """Parse ``{"version": 1, "purpose": "pseudonym", "key": "<64 hex>"}``.

        The purpose is checked so that the field key file, given here by mistake,
        is refused rather than half-used.
        """
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as error:
            raise KeyFileError(f"{source}: not valid JSON (line {error.lineno})") from None
        if not isinstance(document, dict) or document.get("purpose") != _PURPOSE:
            raise KeyFileError(f'{source}: not a pseudonym key ("purpose": "{_PURPOSE}")')
        if document.get("version") != _VERSION:
            raise KeyFileError(f"{source}: unsupported version (expected {_VERSION})")
        hex_key = document.get("key")
        try:
            key = bytes.fromhex(hex_key) if isinstance(hex_key, str) else b""
        except ValueError:
            raise KeyFileError(f"{source}: the key is not hexadecimal") from None
        if len(key) != PSEUDONYM_KEY_SIZE:
            raise KeyFileError(f"{source}: the key must be {2 * PSEUDONYM_KEY_SIZE} hex digits")
        return cls(key)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PseudonymKey:
        """Load a pseudonym key file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyFileError(f"pseudonym key file {path} does not exist") from None
        except (OSError, UnicodeDecodeError):
            raise KeyFileError(f"pseudonym key file {path} cannot be read") from None
        return cls.from_json(text, source=f"pseudonym key file {path}")

    def to_json(self) -> str:
        """The key file's JSON (it holds the key: write it 0600)."""
        document = {"version": _VERSION, "purpose": _PURPOSE, "key": self._key.hex()}
        return json.dumps(document, indent=2) + "\n"


def generate_pseudonym_key_file(path: str | os.PathLike[str]) -> PseudonymKey:
    """Write a new pseudonym key file (mode 0600); never overwrites a file."""
    path = Path(path)
    key = PseudonymKey.generate()
    try:
        write_private(path, key.to_json())
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite it") from None
    except OSError as error:
        raise KeyFileError(f"{path}: cannot be written ({error.strerror})") from None
    return key


def load_pseudonym_key(environ: Mapping[str, str] | None = None) -> PseudonymKey:
    """The key from ``HUKOU_PSEUDONYM_KEY`` (JSON) or the file ``HUKOU_PSEUDONYM_KEY_FILE``.

    There is no default location and nothing is generated on first use: a
    pseudonym key made up silently would make today's export unjoinable with
    yesterday's.
    """
    environ = os.environ if environ is None else environ
    inline = environ.get(PSEUDONYM_ENV)
    if inline:
        return PseudonymKey.from_json(inline, source=f"environment variable {PSEUDONYM_ENV}")
    path = environ.get(PSEUDONYM_FILE_ENV)
    if not path:
        raise KeyFileError(
            f"no pseudonym key: set {PSEUDONYM_FILE_ENV} (create the file with "
            f"`hukou security pseudonym-keygen`) or {PSEUDONYM_ENV}"
        )
    return PseudonymKey.from_file(path)


def check_apart(key: PseudonymKey, ring: KeyRing) -> None:
    """Refuse a pseudonym key that is, or is built from, a key of the data key ring.

    One key, one purpose: a pseudonym key equal to the index key would make
    pseudonyms and blind indexes computable from each other's key.
    """
    material = key.material
    data_keys = [ring.index_key, *(ring.key(key_id) for key_id in ring.key_ids)]
    if any(data_key in material for data_key in data_keys):
        raise KeyFileError("the pseudonym key reuses a data key; generate a separate one")


class Pseudonymizer:
    """Pseudonyms for many values: the key and the domain are absorbed once per domain.

    >>> p = Pseudonymizer(PseudonymKey(bytes(range(32))))
    >>> p.many(["P0000001", None], domain="census-2025")[1] is None
    True
    """

    __slots__ = ("_domains", "_key")

    def __init__(self, key: PseudonymKey) -> None:
        self._key = key
        self._domains: dict[str, HmacSM3] = {}

    def __repr__(self) -> str:
        return "Pseudonymizer(<key hidden>)"

    def _mac(self, domain: str) -> HmacSM3:
        mac = self._domains.get(domain)
        if mac is None:
            if not domain or "\0" in domain:
                raise ValueError("a pseudonym domain is required and must not contain NUL")
            mac = HmacSM3(self._key.material, prefix=_LABEL + domain.encode("utf-8") + b"\0")
            if len(self._domains) < 64:  # domains are a handful of export names
                self._domains[domain] = mac
        return mac

    def one(self, value: str, *, domain: str) -> str:
        """The pseudonym of ``value`` in ``domain`` (32 hex characters)."""
        return self._mac(domain).digest(value.encode("utf-8")).hex()[:PSEUDONYM_HEX_LENGTH]

    def many(self, values: Sequence[str | None], *, domain: str) -> list[str | None]:
        """:meth:`one` for a column; ``None`` stays ``None``."""
        digest = self._mac(domain).digest
        return [
            None if value is None else digest(value.encode("utf-8")).hex()[:PSEUDONYM_HEX_LENGTH]
            for value in values
        ]


def pseudonym(key: PseudonymKey, value: str, domain: str) -> str:
    """The pseudonym of a person id or identity number ``value`` in export ``domain``."""
    return Pseudonymizer(key).one(value, domain=domain)
