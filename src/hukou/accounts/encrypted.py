"""The accounts' encrypted columns, for key rotation and the token census.

Only the TOTP secret is encrypted (passwords are argon2id hashes, session ids
and login-attempt keys are digests: nothing to re-encrypt). See
:mod:`hukou.security.columns`.
"""

from __future__ import annotations

from typing import Final

from hukou.accounts.model import UserRow
from hukou.accounts.store import TOTP_CONTEXT
from hukou.security.columns import EncryptedColumn

__all__ = ["ENCRYPTED_COLUMNS"]

ENCRYPTED_COLUMNS: Final = (
    EncryptedColumn(UserRow.__tablename__, "id", UserRow.totp_secret.key, context=TOTP_CONTEXT),
)
"""A second factor's secret (base32), encrypted because the server must read it back."""
