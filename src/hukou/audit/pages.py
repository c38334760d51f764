"""The audit pages of the console (审计): the signed checkpoint, the latest entries or one
person's, an entry with its inclusion proof checked against the checkpoint, and a full
verification of the ledger.

For the audit administrator (``ledger.read``; verifying the whole ledger needs
``ledger.verify``). Entries name persons by their registry id (a pseudonym), never by
number or name. A proof is checked here with the installation's public key and also
given as JSON (``/api/v1/ledger/proof/inclusion``) for anyone to check themselves.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from hukou.accounts import ActiveSession, Permission
from hukou.audit import ledger
from hukou.audit.entry import decode_entry
from hukou.audit.merkle import InvalidProofError, verify_inclusion
from hukou.audit.model import EntryRow
from hukou.db import session_scope
from hukou.exchange.routes import ledger_signer
from hukou.web import render
from hukou.web.session import PageActor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

RECENT: Final = 50
_PERSON_ID: Final = 24


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _page(
    request: Request, actor: ActiveSession, extra: dict[str, Any], status_code: int = 200
) -> Response:
    person = request.query_params.get("person", "").strip()[:_PERSON_ID]
    with session_scope(request.app.state.engine) as db:
        head = ledger.latest_checkpoint(db)
        size = ledger.ledger_size(db)
        if person:
            rows = ledger.person_entries(db, person, limit=RECENT, newest=True)
            entries = [decode_entry(text) for _seq, text in reversed(rows)]  # (seq, entry)
        else:
            entries = [
                decode_entry(row.entry)
                for row in db.query(EntryRow).order_by(EntryRow.seq.desc()).limit(RECENT)
            ]
    context = {
        "actor": actor,
        "checkpoint": head,
        "root": None if head is None else _b64(head.root_hash),
        "size": size,
        "entries": entries,
        "person": person,
        **extra,
    }
    return render(request, "audit.html", context, status_code=status_code)


@router.get("/console/audit")
def audit_page(request: Request, actor: PageActor, person: str = Query(default="")) -> Response:
    """The checkpoint and the latest entries (or one person's: ``?person=ID``)."""
    del person  # read by _page from the query, bounded
    actor.require(Permission.LEDGER_READ)
    return _page(request, actor, {})


@router.post("/console/audit/verify")
def verify_page(request: Request, actor: PageActor) -> Response:
    """Recompute every leaf and node and check every checkpoint's signature."""
    actor.require(Permission.LEDGER_VERIFY)
    signer = ledger_signer(request)
    if signer is None:
        raise HTTPException(503, "no checkpoint key: run `hukou audit keygen`")
    with session_scope(request.app.state.engine) as db:
        report = ledger.verify(db, verifier=signer.verifier())
    return _page(request, actor, {"report": report})


@router.get("/console/audit/entries/{seq}")
def entry_page(request: Request, seq: int, actor: PageActor) -> Response:
    """One entry as stored (its canonical text) and its inclusion proof, checked."""
    actor.require(Permission.LEDGER_READ)
    with session_scope(request.app.state.engine) as db:
        row = db.get(EntryRow, seq) if 0 <= seq < 2**62 else None
        if row is None:
            raise HTTPException(404, "no such entry")
        head = ledger.latest_checkpoint(db)
        proof = None
        if head is not None and seq < head.size:
            proof = ledger.inclusion_proof(db, seq, head.size)
        hasher = ledger.ledger_hasher(db)
    checked: str | None = None
    if proof is not None and head is not None and hasher is not None:
        try:
            verify_inclusion(
                hasher.hash_leaf(row.entry.encode("utf-8")),
                seq,
                head.size,
                proof.hashes,
                head.root_hash,
                hasher=hasher,
            )
            checked = "ok"
        except InvalidProofError as error:
            checked = str(error)
    _seq, entry = decode_entry(row.entry)
    return render(
        request,
        "audit_entry.html",
        {
            "actor": actor,
            "seq": seq,
            "entry": entry,
            "text": row.entry,
            "checkpoint": head,
            "proof": None if proof is None else [_b64(h) for h in proof.hashes],
            "checked": checked,
        },
    )
