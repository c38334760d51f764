"""The table of data keys (envelope encryption), owned by :mod:`hukou.security.datakeys`.

One row per data key: the random SM4 key that encrypts values of one *scope*
(a purpose such as ``registry.record``) and, for keys that must be erasable on
their own, one *subject* (a feed batch, an account). The key is stored wrapped
by a master key of the key file; the master key id says which. Shredding a key
clears ``wrapped`` and ``master_key_id`` and sets ``shredded_at``: the row stays
as a tombstone, so a token of that key is reported as erased, not as corrupt.
"""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hukou.db.base import Base

__all__ = ["DataKeyRow"]


class DataKeyRow(Base):
    """A data key, wrapped by a master key (or shredded)."""

    __tablename__ = "security_data_key"
    __table_args__ = (UniqueConstraint("scope", "subject"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))  # '' = the whole scope
    master_key_id: Mapped[str | None] = mapped_column(String(24), index=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)  # nonce || SM4-GCM(DEK) || tag
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    shredded_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
