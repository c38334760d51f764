"""The casework's encrypted columns, for key rotation and the token census.

Only the content of material files is encrypted (cases hold registry ids and codes, no
personal values). See :mod:`hukou.security.columns`.
"""

from __future__ import annotations

from typing import Final

from hukou.casework.materials import CONTENT_CONTEXT
from hukou.casework.model import CaseMaterial
from hukou.security.columns import EncryptedColumn

__all__ = ["ENCRYPTED_COLUMNS"]

ENCRYPTED_COLUMNS: Final = (
    EncryptedColumn(
        CaseMaterial.__tablename__,
        "id",
        CaseMaterial.content_token.key,
        context=CONTENT_CONTEXT,
    ),
)
"""A material file's content (base64 inside the token)."""
