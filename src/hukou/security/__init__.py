"""Protection of personal data with the national (国密) algorithms.

- :mod:`~hukou.security.sm`: SM3, HMAC-SM3, SM4 and SM4-GCM on ``cryptography``;
- :mod:`~hukou.security.selftest`: the official vectors (GB/T 32905, GB/T 32907, RFC 8998);
- :mod:`~hukou.security.keys`: the key ring and its key file (generation, rotation);
- :mod:`~hukou.security.fields`: encrypted column values and blind indexes;
- :mod:`~hukou.security.cli`: ``hukou security`` (import it yourself: it needs Typer).

This package imports nothing else of Hukou's: callers pass the key file path or
environment variable from their settings. Call :func:`run_self_tests` once at
start-up, before the first value is encrypted. See ``docs/security.md``.
"""

from hukou.security.fields import (
    TOKEN_PREFIX,
    FieldCipher,
    MalformedTokenError,
    UnknownKeyError,
)
from hukou.security.keys import KeyFileError, KeyRing, generate_key_file, rotate
from hukou.security.selftest import SelfTestError, run_self_tests
from hukou.security.sm import (
    DecryptionError,
    hmac_sm3,
    sm3,
    sm4_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

__all__ = [
    "TOKEN_PREFIX",
    "DecryptionError",
    "FieldCipher",
    "KeyFileError",
    "KeyRing",
    "MalformedTokenError",
    "SelfTestError",
    "UnknownKeyError",
    "generate_key_file",
    "hmac_sm3",
    "rotate",
    "run_self_tests",
    "sm3",
    "sm4_encrypt_block",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]
