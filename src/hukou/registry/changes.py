"""The registry's state changes as audit-ledger entries, in the transaction of the change.

Every batch ingested, linkage run, clerical decision and quarantine purge is an
entry (capability ``registry``): an auditor replays who changed the registry and
when from the same verifiable log as every read of personal data. Entries carry
ids and actions only, never values (:class:`hukou.audit.entry.LedgerEntry`
refuses them).
"""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from hukou.audit import ledger
from hukou.audit.entry import Outcome

__all__ = ["CAPABILITY", "record_change"]

CAPABILITY = "registry"


def record_change(
    session: Session,
    *,
    actor: str,
    department: str,
    action: str,
    object_id: str,
    outcome: Outcome = Outcome.SUCCEEDED,
    purpose: str | None = None,
    fields: tuple[str, ...] = (),
    at: datetime.datetime | None = None,
) -> int:
    """Append the change to the ledger in ``session``'s transaction; its sequence number."""
    return ledger.record_change(
        session,
        capability=CAPABILITY,
        actor=actor,
        department=department,
        action=action,
        object_id=object_id,
        outcome=outcome,
        purpose=purpose,
        fields=fields,
        at=at,
    )
