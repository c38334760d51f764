"""Protection of personal data with the national (国密) algorithms.

- :mod:`~hukou.security.sm`: SM3, HMAC-SM3, SM4 and SM4-GCM on ``cryptography``;
- :mod:`~hukou.security.selftest`: the official vectors (GB/T 32905, GB/T 32907,
  GM/T 0042, RFC 8998), run at start-up;
- :mod:`~hukou.security.keys`: the key ring and its key file (generation, rotation,
  activation, retirement);
- :mod:`~hukou.security.datakeys`: envelope encryption (data keys per purpose, wrapped
  by the master keys) and crypto-shredding; its table is in :mod:`~hukou.security.model`;
- :mod:`~hukou.security.fields`: encrypted column values and blind indexes;
- :mod:`~hukou.security.columns`: how a capability declares its encrypted columns;
- :mod:`~hukou.security.rotation`: re-encryption in batches, the token census, retiring keys;
- :mod:`~hukou.security.pseudonym`: keyed pseudonyms (HMAC-SM3) for analytics exports;
- :mod:`~hukou.security.cli`: ``hukou security`` (import it yourself: it needs Typer);
- :mod:`~hukou.security.keys_cli`: ``hukou keys`` (the one module here that reads the
  settings and opens the database; import it yourself).

Apart from ``keys_cli`` and the data-key table (declared on :class:`hukou.db.Base`),
this package imports nothing else of Hukou's: callers
pass the key file path or environment variable from their settings, and the
engine and the declared columns to the re-encryption. Call :func:`run_self_tests`
once at start-up, before the first value is encrypted. See ``docs/security.md``.
"""

from hukou.security.columns import EncryptedColumn, discover
from hukou.security.datakeys import (
    DataKey,
    DataKeyCensus,
    DataKeys,
    ShreddedKeyError,
    UnknownDataKeyError,
    scope_of,
)
from hukou.security.fields import (
    DATA_KEY_PREFIX,
    TOKEN_MARK,
    TOKEN_PREFIX,
    FieldCipher,
    MalformedTokenError,
    UnknownKeyError,
)
from hukou.security.keys import (
    KeyFileError,
    KeyRing,
    activate,
    generate_key_file,
    retire,
    rotate,
)
from hukou.security.pseudonym import (
    PSEUDONYM_HEX_LENGTH,
    Pseudonymizer,
    PseudonymKey,
    check_apart,
    generate_pseudonym_key_file,
    load_pseudonym_key,
    pseudonym,
)
from hukou.security.rotation import (
    KeyInUseError,
    ReencryptReport,
    TokenCensus,
    census,
    reencrypt,
    retire_unused_key,
)
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
    "DATA_KEY_PREFIX",
    "PSEUDONYM_HEX_LENGTH",
    "TOKEN_MARK",
    "TOKEN_PREFIX",
    "DataKey",
    "DataKeyCensus",
    "DataKeys",
    "DecryptionError",
    "EncryptedColumn",
    "FieldCipher",
    "KeyFileError",
    "KeyInUseError",
    "KeyRing",
    "MalformedTokenError",
    "PseudonymKey",
    "Pseudonymizer",
    "ReencryptReport",
    "SelfTestError",
    "ShreddedKeyError",
    "TokenCensus",
    "UnknownDataKeyError",
    "UnknownKeyError",
    "activate",
    "census",
    "check_apart",
    "discover",
    "generate_key_file",
    "generate_pseudonym_key_file",
    "hmac_sm3",
    "load_pseudonym_key",
    "pseudonym",
    "reencrypt",
    "retire",
    "retire_unused_key",
    "rotate",
    "run_self_tests",
    "scope_of",
    "sm3",
    "sm4_encrypt_block",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]
