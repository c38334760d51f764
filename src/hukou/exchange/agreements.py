"""Sharing agreements and consents in the database: propose, approve, revoke; give, withdraw.

The workflow is the one a 数据共享 office runs on paper today, made exact:

1. the *consumer* department's data officer proposes an agreement: which items
   of which provider, for which purposes, from when until when;
2. the *provider*'s data officer approves or rejects it (never their own
   proposal: four eyes), after which it is immutable; a change is a new agreement;
3. either side's data officer can revoke it; the revocation ends reading at once.

Every step is a state-change entry in the audit ledger, in the same transaction.
Consent (for purposes whose legal basis is consent) is given and withdrawn by the
resident; withdrawal stops processing from that moment (PIPL art. 15).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.accounts import AccountKind, ActiveSession, Permission, PermissionDeniedError
from hukou.audit import ledger
from hukou.audit.entry import LedgerEntry, Outcome
from hukou.exchange.catalog import Catalog, Share
from hukou.exchange.model import AgreementRow, ConsentRow
from hukou.exchange.policy import Agreement

__all__ = [
    "AgreementError",
    "AgreementView",
    "agreements_for",
    "approve",
    "consent_in_force",
    "give_consent",
    "list_agreements",
    "propose",
    "reject",
    "revoke",
    "withdraw_consent",
]

_CAPABILITY = "exchange"


class AgreementError(ValueError):
    """An agreement that cannot be proposed or decided; the message says why."""


@dataclass(frozen=True, slots=True)
class AgreementView:
    """An agreement as the console and the API show it."""

    id: str
    provider: str
    consumer: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    valid_from: datetime.date
    valid_until: datetime.date | None
    status: str
    proposed_by: str
    decided_by: str | None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _view(row: AgreementRow) -> AgreementView:
    return AgreementView(
        row.id,
        row.provider,
        row.consumer,
        tuple(json.loads(row.fields)),
        tuple(json.loads(row.purposes)),
        row.valid_from,
        row.valid_until,
        row.status,
        row.proposed_by,
        row.decided_by,
    )


def _staff_department(actor: ActiveSession) -> str:
    if actor.kind is not AccountKind.STAFF or actor.department_code is None:
        raise PermissionDeniedError(Permission.AGREEMENT_PROPOSE)
    return actor.department_code


def _record(
    db: Session,
    actor: ActiveSession,
    department: str,
    action: str,
    object_id: str,
    *,
    purpose: str | None = None,
    person_id: str | None = None,
) -> None:
    """The state change as a ledger entry, in the same transaction as the change."""
    ledger.append(
        db,
        [
            LedgerEntry.state_change(
                actor=actor.user_id,
                department=department,
                capability=_CAPABILITY,
                action=action,
                object_id=object_id,
                outcome=Outcome.SUCCEEDED,
                purpose=purpose,
                person_id=person_id,
            )
        ],
    )


def propose(
    db: Session,
    catalog: Catalog,
    actor: ActiveSession,
    *,
    provider: str,
    fields: Iterable[str],
    purposes: Iterable[str],
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
) -> AgreementView:
    """A new agreement for the actor's department to read ``fields`` of ``provider``."""
    actor.require(Permission.AGREEMENT_PROPOSE)
    consumer = _staff_department(actor)
    items = sorted(set(fields))
    wanted = sorted(set(purposes))
    if not items or not wanted:
        raise AgreementError("an agreement names at least one item and one purpose")
    if provider == consumer:
        raise AgreementError("a department reads its own data without an agreement")
    for name in items:
        item = catalog.fields.get(name)
        if item is None:
            raise AgreementError(f"{name!r} is not in the sharing catalogue")
        if item.provider != provider:
            raise AgreementError(f"{name!r} is provided by {item.provider}, not {provider}")
        if item.share is Share.NEVER:
            raise AgreementError(f"{name!r} is never shared (不予共享)")
    unknown = [p for p in wanted if p not in catalog.purposes or p == "self_access"]
    if unknown:
        raise AgreementError(f"unknown purpose {unknown[0]!r}")
    if valid_until is not None and valid_until < valid_from:
        raise AgreementError("the agreement would end before it begins")
    row = AgreementRow(
        id=f"AG-{uuid.uuid4().hex[:12]}",
        provider=provider,
        consumer=consumer,
        fields=json.dumps(items),
        purposes=json.dumps(wanted),
        valid_from=valid_from,
        valid_until=valid_until,
        status="proposed",
        proposed_by=actor.user_id,
        proposed_at=_now(),
    )
    db.add(row)
    db.flush()
    _record(db, actor, consumer, "agreement.propose", row.id)
    return _view(row)


def _pending(db: Session, agreement_id: str) -> AgreementRow:
    row = db.get(AgreementRow, agreement_id, with_for_update=True)
    if row is None:
        raise AgreementError(f"no agreement {agreement_id!r}")
    return row


def _decide(db: Session, actor: ActiveSession, agreement_id: str, status: str) -> AgreementView:
    actor.require(Permission.AGREEMENT_APPROVE)
    row = _pending(db, agreement_id)
    if row.status != "proposed":
        raise AgreementError(f"agreement {agreement_id} is {row.status}, not awaiting a decision")
    if actor.department_code != row.provider:
        raise AgreementError("only the provider's data officer decides an agreement")
    if actor.user_id == row.proposed_by:
        raise AgreementError("an agreement is decided by someone other than its proposer")
    row.status = status
    row.decided_by = actor.user_id
    row.decided_at = _now()
    db.flush()
    _record(
        db,
        actor,
        row.provider,
        f"agreement.{'approve' if status == 'approved' else 'reject'}",
        row.id,
    )
    return _view(row)


def approve(db: Session, actor: ActiveSession, agreement_id: str) -> AgreementView:
    """The provider's data officer approves: reading may start on ``valid_from``."""
    return _decide(db, actor, agreement_id, "approved")


def reject(db: Session, actor: ActiveSession, agreement_id: str) -> AgreementView:
    """The provider's data officer refuses the proposal."""
    return _decide(db, actor, agreement_id, "rejected")


def revoke(db: Session, actor: ActiveSession, agreement_id: str) -> AgreementView:
    """Either side's data officer ends an approved agreement, at once."""
    actor.require(Permission.AGREEMENT_APPROVE)
    row = _pending(db, agreement_id)
    if row.status != "approved":
        raise AgreementError(f"agreement {agreement_id} is {row.status}, not approved")
    if actor.department_code not in (row.provider, row.consumer):
        raise AgreementError("only the provider's or the consumer's data officer revokes")
    row.status = "revoked"
    row.revoked_by = actor.user_id
    row.revoked_at = _now()
    db.flush()
    _record(db, actor, str(actor.department_code), "agreement.revoke", row.id)
    return _view(row)


def list_agreements(db: Session, department: str | None = None) -> list[AgreementView]:
    """Every agreement (or those a department provides or consumes), newest first."""
    statement = select(AgreementRow).order_by(AgreementRow.proposed_at.desc(), AgreementRow.id)
    if department is not None:
        statement = statement.where(
            (AgreementRow.provider == department) | (AgreementRow.consumer == department)
        )
    return [_view(row) for row in db.scalars(statement)]


def agreements_for(db: Session, consumer: str) -> list[Agreement]:
    """The approved or revoked agreements of a consumer, as the access decision reads them."""
    rows = db.scalars(
        select(AgreementRow).where(
            AgreementRow.consumer == consumer, AgreementRow.status.in_(("approved", "revoked"))
        )
    )
    return [
        Agreement(
            row.id,
            row.provider,
            row.consumer,
            frozenset(json.loads(row.fields)),
            frozenset(json.loads(row.purposes)),
            row.valid_from,
            row.valid_until,
            approved=True,
            revoked=row.status == "revoked",
        )
        for row in rows
    ]


def _own_person(actor: ActiveSession) -> str:
    if actor.kind is not AccountKind.RESIDENT or actor.person_id is None:
        raise PermissionDeniedError(Permission.CONSENT_MANAGE)
    actor.require(Permission.CONSENT_MANAGE)
    return actor.person_id


def give_consent(
    db: Session, catalog: Catalog, actor: ActiveSession, *, department: str, purpose: str
) -> None:
    """The resident consents to ``department`` processing their data for ``purpose``."""
    person = _own_person(actor)
    if purpose not in catalog.purposes or not catalog.purposes[purpose].needs_consent:
        raise AgreementError(f"{purpose!r} does not rest on consent")
    if consent_in_force(db, person, department, purpose):
        return
    db.add(ConsentRow(person_id=person, department=department, purpose=purpose, given_at=_now()))
    db.flush()
    _record(
        db,
        actor,
        department,
        "consent.give",
        f"{department}/{purpose}",
        purpose=purpose,
        person_id=person,
    )


def withdraw_consent(db: Session, actor: ActiveSession, *, department: str, purpose: str) -> bool:
    """Withdraw every consent in force for ``department`` and ``purpose``; whether one was."""
    person = _own_person(actor)
    rows: Sequence[ConsentRow] = db.scalars(
        select(ConsentRow).where(
            ConsentRow.person_id == person,
            ConsentRow.department == department,
            ConsentRow.purpose == purpose,
            ConsentRow.withdrawn_at.is_(None),
        )
    ).all()
    now = _now()
    for row in rows:
        row.withdrawn_at = now
    if rows:
        db.flush()
        _record(
            db,
            actor,
            department,
            "consent.withdraw",
            f"{department}/{purpose}",
            purpose=purpose,
            person_id=person,
        )
    return bool(rows)


def consent_in_force(db: Session, person_id: str, department: str, purpose: str) -> bool:
    """Whether the person has a consent for this department and purpose not withdrawn."""
    found = db.scalar(
        select(ConsentRow.id)
        .where(
            ConsentRow.person_id == person_id,
            ConsentRow.department == department,
            ConsentRow.purpose == purpose,
            ConsentRow.withdrawn_at.is_(None),
        )
        .limit(1)
    )
    return found is not None
