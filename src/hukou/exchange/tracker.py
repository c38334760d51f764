"""The resident's data tracker: every access to my data, each with its proof, and my copy.

A resident sees each ledger entry that names them (which department read which
items, for what purpose and case, when, and with what outcome) together with an
inclusion proof against the latest signed checkpoint. With the checkpoint's
public key (``hukou audit key``), anyone can check offline that the entry is in
the ledger everyone else sees: the platform cannot show a resident one history
and an auditor another. Entries newer than the latest checkpoint are listed as
awaiting the next one, not left out.

:func:`my_data` is the copy PIPL art. 45 gives a resident: everything the
registry holds on them, their consents, and their access history. Reading it is
itself an access, logged like any other.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.accounts import AccountKind, ActiveSession, Permission, PermissionDeniedError
from hukou.audit import ledger
from hukou.audit.checkpoint import NoteSigner
from hukou.audit.entry import LedgerEntry, Outcome, decode_entry
from hukou.exchange.model import ConsentRow
from hukou.registry import person_holdings
from hukou.security.fields import FieldCipher

__all__ = ["AccessRecord", "Tracker", "my_accesses", "my_data"]

_PAGE = 200


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One ledger entry about the resident, with what they need to verify it."""

    seq: int
    entry: LedgerEntry
    text: str  # the canonical entry: the leaf data (hash it to check the proof)
    proof: tuple[str, ...] | None  # base64 audit path; None while no checkpoint covers it
    tree_size: int | None


@dataclass(frozen=True, slots=True)
class Tracker:
    """A page of the resident's history and the checkpoint its proofs lead to."""

    person_id: str
    records: tuple[AccessRecord, ...]
    checkpoint: str | None  # the signed note (origin, size, root, signature)
    hash_name: str | None
    next_after: int | None  # pass as ``after`` for the next page


def _own_person(actor: ActiveSession, permission: Permission) -> str:
    if actor.kind is not AccountKind.RESIDENT or actor.person_id is None:
        raise PermissionDeniedError(permission)
    actor.require(permission)
    return actor.person_id


def my_accesses(
    db: Session,
    actor: ActiveSession,
    *,
    after: int = -1,
    limit: int = _PAGE,
    signer: NoteSigner | None = None,
    newest: bool = False,
) -> Tracker:
    """The resident's access history from ``after`` on, oldest first, with proofs (with
    ``newest``: the latest page, for the portal; no next page then).

    With a ``signer``, a checkpoint is signed first when the latest one does not
    cover the whole ledger, so that every entry shown comes with its proof.
    """
    person = _own_person(actor, Permission.SELF_READ)
    rows = ledger.person_entries(db, person, after=after, limit=min(limit, _PAGE), newest=newest)
    head = ledger.latest_checkpoint(db)
    if signer is not None and rows and (head is None or head.size <= rows[-1][0]):
        head = ledger.checkpoint(db, signer)
    records = []
    hash_name: str | None = None
    for seq, text in rows:
        _seq, entry = decode_entry(text)
        proof: tuple[str, ...] | None = None
        size: int | None = None
        if head is not None and seq < head.size:
            found = ledger.inclusion_proof(db, seq, head.size)
            proof = tuple(base64.b64encode(h).decode("ascii") for h in found.hashes)
            size, hash_name = head.size, found.hash_name
        records.append(AccessRecord(seq, entry, text, proof, size))
    return Tracker(
        person,
        tuple(records),
        None if head is None else head.note,
        hash_name,
        rows[-1][0] if len(rows) == min(limit, _PAGE) and rows and not newest else None,
    )


def my_data(db: Session, cipher: FieldCipher, actor: ActiveSession) -> dict[str, object]:
    """Everything held on the resident (PIPL art. 45), as one JSON-ready document."""
    person = _own_person(actor, Permission.SELF_EXPORT)
    holdings = person_holdings(db, cipher, person) or {"person_id": person}
    consents = [
        {
            "department": row.department,
            "purpose": row.purpose,
            "given_at": row.given_at.isoformat(),
            "withdrawn_at": None if row.withdrawn_at is None else row.withdrawn_at.isoformat(),
        }
        for row in db.scalars(
            select(ConsentRow).where(ConsentRow.person_id == person).order_by(ConsentRow.id)
        )
    ]
    history: list[dict[str, object]] = []
    after = -1
    while True:
        rows = ledger.person_entries(db, person, after=after, limit=_PAGE)
        history.extend({"seq": seq, "entry": text} for seq, text in rows)
        if len(rows) < _PAGE:
            break
        after = rows[-1][0]
    (seq,) = ledger.append(
        db,
        [
            LedgerEntry.access(
                actor=actor.user_id,
                department="resident",
                purpose="self_access",
                fields=["export"],
                outcome=Outcome.ALLOWED,
                person_id=person,
            )
        ],
    )
    return {
        **holdings,
        "consents": consents,
        "accesses": history,
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "export_ledger_seq": seq,
    }
