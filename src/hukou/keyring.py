"""The key ring of this installation: inline (HUKOU_KEYS), a key file, or a new one for demos.

Production never generates keys silently (a lost generated key is lost data); a
development machine gets a fresh 0600 key file on first use so `make demo` needs no
setup. :func:`data_cipher` is the cipher every capability encrypts with: the ring's
master keys wrap the database's data keys (envelope encryption).
"""

from __future__ import annotations

from functools import cache, lru_cache

from sqlalchemy import Engine

from hukou.config import ConfigurationError, Settings
from hukou.security import (
    DataKeys,
    FieldCipher,
    KeyFileError,
    KeyRing,
    generate_key_file,
    run_self_tests,
)

__all__ = ["data_cipher", "load_keyring"]


@lru_cache(maxsize=16)
def _data_keys(engine: Engine, keyring: KeyRing) -> DataKeys:
    return DataKeys(engine, keyring)


def data_cipher(engine: Engine, keyring: KeyRing, *scopes: str) -> FieldCipher:
    """The cipher for values stored in ``engine``'s database: data keys wrapped by ``keyring``.

    One data-key cache per process, database and ring. The purpose-wide keys of
    ``scopes`` are made now if they do not exist yet: call this before opening
    the transaction that encrypts, because on SQLite creating a key inside
    another open write transaction would wait for that transaction.
    """
    data_keys = _data_keys(engine, keyring)
    for scope in scopes:
        data_keys.current(scope)
    return FieldCipher(keyring, data_keys)


@cache
def _self_tested() -> bool:
    # The national algorithms are checked against their official vectors once per
    # process, before the first value is encrypted with them.
    run_self_tests()
    return True


def load_keyring(settings: Settings) -> KeyRing:
    """The key ring for ``settings``; generated under the data folder outside production."""
    _self_tested()
    if settings.keys is not None:
        return KeyRing.from_json(settings.keys.get_secret_value(), source="HUKOU_KEYS")
    path = settings.resolved_key_file
    if path.exists():
        return KeyRing.from_file(path)
    if settings.env == "production":
        raise ConfigurationError(f"no key file at {path}: set HUKOU_KEY_FILE or HUKOU_KEYS")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return generate_key_file(path)
    except KeyFileError:
        if path.exists():  # another process created it first
            return KeyRing.from_file(path)
        raise
