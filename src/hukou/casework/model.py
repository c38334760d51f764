"""The tables of casework: cases, their department tasks, the facts that decided them,
the waits for material, and the outbox of messages to residents.

Persons are named by their registry id (never an identity number); what a fact's value
was is not stored here, only whether it held and the ledger entry of the read that
showed it, so the case file never becomes a second copy of the registry.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hukou.db import Base

__all__ = [
    "CaseFact",
    "CaseMaterial",
    "CaseNotification",
    "CasePause",
    "CaseRating",
    "CaseRow",
    "CaseTask",
    "Rectification",
]

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class CaseRow(Base):
    """One application (办件), from filing to delivery."""

    __tablename__ = "casework_case"
    __table_args__ = (
        Index("ix_casework_case_subject_id", "subject_id"),
        Index("ix_casework_case_applicant_id", "applicant_id"),
        Index("ix_casework_case_state_first_contact", "state", "first_contact"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    service: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(24))
    applicant_id: Mapped[str | None] = mapped_column(String(24))
    subject_id: Mapped[str | None] = mapped_column(String(24))
    first_contact: Mapped[str] = mapped_column(String(64))  # 首接部门: owns the case
    filed_by: Mapped[str] = mapped_column(String(64))  # account id of whoever filed
    helper_id: Mapped[str | None] = mapped_column(String(24))  # 帮办代办: the helper (person)
    helper_relation: Mapped[str | None] = mapped_column(String(32))
    employer_code: Mapped[str | None] = mapped_column(String(18))  # 企业服务站 batch filing
    batch_id: Mapped[str | None] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)  # bumped by every step: one writer wins
    filed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    filed_on: Mapped[datetime.date] = mapped_column(Date)
    limit_workdays: Mapped[int] = mapped_column(Integer)
    instant_decision: Mapped[bool] = mapped_column(Boolean)
    decision_row: Mapped[int | None] = mapped_column(Integer)
    proposed: Mapped[str | None] = mapped_column(String(16))
    reason_zh: Mapped[str | None] = mapped_column(Text)
    reason_en: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_on: Mapped[datetime.date | None] = mapped_column(Date)
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    escalated: Mapped[str | None] = mapped_column(String(16))  # at_risk | breached


class CaseTask(Base):
    """One department's part of a case (并联审批: tasks of a stage run together)."""

    __tablename__ = "casework_task"
    __table_args__ = (
        UniqueConstraint("case_id", "department"),
        Index("ix_casework_task_department_state", "department", "state"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("casework_case.id"))
    department: Mapped[str] = mapped_column(String(64))
    stage: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class CaseFact(Base):
    """Whether one fact of a case held, how it was known, and the read that showed it."""

    __tablename__ = "casework_fact"

    case_id: Mapped[str] = mapped_column(ForeignKey("casework_case.id"), primary_key=True)
    fact: Mapped[str] = mapped_column(String(64), primary_key=True)
    holds: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # registry | material | missing
    ledger_seq: Mapped[int | None] = mapped_column(_BigId)


class CasePause(Base):
    """A wait for the resident's material (补正): the clock stops from start to end."""

    __tablename__ = "casework_pause"
    __table_args__ = (Index("ix_casework_pause_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("casework_case.id"))
    started_on: Mapped[datetime.date] = mapped_column(Date)
    ended_on: Mapped[datetime.date | None] = mapped_column(Date)
    materials: Mapped[str] = mapped_column(Text)  # JSON list of material codes asked for


class CaseNotification(Base):
    """A message to a resident about their case, to be sent by a channel (outbox)."""

    __tablename__ = "casework_notification"
    __table_args__ = (Index("ix_casework_notification_sent_at", "sent_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("casework_case.id"))
    person_id: Mapped[str | None] = mapped_column(String(24))
    template: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # sms | in_app
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class CaseRating(Base):
    """The resident's rating of a delivered case (政务服务好差评, GB/T 39735): once per case."""

    __tablename__ = "casework_rating"

    case_id: Mapped[str] = mapped_column(ForeignKey("casework_case.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)  # 1 非常不满意 … 5 非常满意
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of reason codes, no free text
    rated_by: Mapped[str] = mapped_column(String(64))
    rated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class Rectification(Base):
    """The task a 差评 opens for the first-contact department: look into it, put it right,
    answer the resident, by a deadline in working days."""

    __tablename__ = "casework_rectification"
    __table_args__ = (Index("ix_casework_rectification_department", "department", "closed_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("casework_case.id"), unique=True)
    department: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[datetime.date] = mapped_column(Date)
    opened_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))


class CaseMaterial(Base):
    """A file the resident (or the window, scanning it) handed in for a case (补正材料):
    the content encrypted, with what it is, its size and SM3 digest."""

    __tablename__ = "casework_material"
    __table_args__ = (Index("ix_casework_material_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("casework_case.id"))
    material: Mapped[str] = mapped_column(String(64))  # the catalogue's material code
    file_name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sm3: Mapped[str] = mapped_column(String(64))
    content_token: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
