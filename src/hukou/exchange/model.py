"""Tables of the exchange: sharing agreements, consents, and the reasons for unmasking."""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hukou.db.base import Base

__all__ = ["AgreementRow", "ConsentRow", "UnmaskReasonRow"]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class AgreementRow(Base):
    """A sharing agreement from its draft to its approval, and its revocation.

    ``fields`` and ``purposes`` are JSON lists (sorted); an agreement is never edited
    after approval: a change is a new agreement, so the ledger's references stay true.
    """

    __tablename__ = "exchange_agreement"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    consumer: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)
    purposes: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime.date] = mapped_column(Date)
    valid_until: Mapped[datetime.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # proposed | approved | rejected | revoked
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_exchange_agreement_consumer", "consumer", "status"),)


class ConsentRow(Base):
    """A person's consent to one department for one consent-based purpose.

    Withdrawal stamps ``withdrawn_at``; the row stays, as evidence of what was
    lawful when (PIPL art. 15: withdrawal does not undo earlier processing).
    """

    __tablename__ = "exchange_consent"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(24))
    department: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_exchange_consent_person", "person_id", "department", "purpose"),)


class UnmaskReasonRow(Base):
    """Why someone saw a value unmasked: the reason text, kept beside the ledger entry.

    The ledger records that fields were unmasked (and by whom, for what); the free
    text of the reason may itself mention people, so it stays here, where access is
    controlled, instead of in the public, append-only ledger.
    """

    __tablename__ = "exchange_unmask_reason"

    ledger_seq: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(Text)
