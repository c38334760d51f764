"""The ledger over HTTP: the latest signed checkpoint, inclusion and consistency proofs.

Everything served here is safe to publish: a checkpoint is a size and a hash,
a proof is a list of hashes, and each leaf hash blinds its entry with a random
nonce (:mod:`hukou.audit.entry`). Entries themselves are *not* served: they
name persons, and who may read which entry comes with accounts (see
docs/audit.md). Clients check a proof against a checkpoint whose signature
they verified with the ledger's public key (``hukou audit key``), never
against anything this API says without a signature.

Hashes are base64, as in the checkpoint note. Errors are JSON with a
``detail`` that says what to fix.
"""

from __future__ import annotations

import base64
import datetime
import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hukou.audit.ledger import (
    CorruptLedgerError,
    LedgerError,
    OutOfRangeError,
    StoredCheckpoint,
    consistency_proof,
    inclusion_proof,
    latest_checkpoint,
    ledger_hasher,
)
from hukou.db import session_scope

__all__ = ["CheckpointBody", "ConsistencyProofBody", "InclusionProofBody", "router"]

log = logging.getLogger("hukou.audit.routes")

router = APIRouter(prefix="/api/v1/ledger", tags=["audit"])


class CheckpointBody(BaseModel):
    """The latest signed tree head; ``note`` is the signed text to verify."""

    model_config = ConfigDict(extra="forbid")

    origin: str = Field(description="the ledger's name, first line of the note")
    size: int = Field(description="entries the tree covers")
    root_hash: str = Field(description="base64 root hash (as on the note's third line)")
    hash: str = Field(description="the tree's hash function: SM3 or SHA-256")
    note: str = Field(description="the C2SP signed note: checkpoint text and Ed25519 signature")
    created_at: datetime.datetime


class InclusionProofBody(BaseModel):
    """Entry ``index`` is leaf ``index`` of the tree of ``size`` (RFC 9162 §2.1.3)."""

    model_config = ConfigDict(extra="forbid")

    index: int
    size: int
    hash: str
    hashes: list[str] = Field(description="the audit path, bottom hash first, base64")


class ConsistencyProofBody(BaseModel):
    """The tree of ``second`` entries extends the tree of ``first`` (RFC 9162 §2.1.4)."""

    model_config = ConfigDict(extra="forbid")

    first: int
    second: int
    hash: str
    hashes: list[str] = Field(description="the consistency proof, base64")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _refused(error: LedgerError) -> HTTPException:
    if isinstance(error, OutOfRangeError):
        return HTTPException(404, detail=str(error))
    if isinstance(error, CorruptLedgerError):
        log.error("audit ledger storage problem: %s", error)
        return HTTPException(
            500, detail="the ledger cannot produce this proof; it must be verified"
        )
    return HTTPException(409, detail=str(error))


def _latest(request: Request) -> StoredCheckpoint | None:
    with session_scope(request.app.state.engine) as session:
        return latest_checkpoint(session)


def _latest_size(request: Request, name: str) -> int:
    latest = _latest(request)
    if latest is None:
        raise HTTPException(404, detail=f"no checkpoint has been signed yet; give {name}")
    return latest.size


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint",
    responses={404: {"description": "no checkpoint has been signed yet"}},
)
def get_checkpoint(request: Request) -> CheckpointBody:
    """The latest checkpoint: verify ``note`` with the ledger's public key before trusting it."""
    with session_scope(request.app.state.engine) as session:
        latest = latest_checkpoint(session)
        hasher = ledger_hasher(session)
    if latest is None or hasher is None:
        raise HTTPException(404, detail="no checkpoint has been signed yet")
    return CheckpointBody(
        origin=latest.origin,
        size=latest.size,
        root_hash=_b64(latest.root_hash),
        hash=hasher.name,
        note=latest.note,
        created_at=latest.created_at,
    )


@router.get(
    "/proof/inclusion",
    summary="Inclusion proof of one entry",
    responses={404: {"description": "no such entry or tree size"}},
)
def get_inclusion_proof(
    request: Request,
    index: Annotated[int, Query(ge=0, description="the entry's sequence number")],
    size: Annotated[
        int | None, Query(ge=1, description="tree size; default: the latest checkpoint's")
    ] = None,
) -> InclusionProofBody:
    """The audit path of entry ``index`` in the tree of ``size`` entries."""
    if size is None:
        size = _latest_size(request, "size")
    if index >= size:
        raise HTTPException(400, detail=f"entry {index} is outside a tree of size {size}")
    try:
        with session_scope(request.app.state.engine) as session:
            found = inclusion_proof(session, index, size)
    except LedgerError as error:
        raise _refused(error) from None
    return InclusionProofBody(
        index=found.index,
        size=found.size,
        hash=found.hash_name,
        hashes=[_b64(value) for value in found.hashes],
    )


@router.get(
    "/proof/consistency",
    summary="Consistency proof between two tree sizes",
    responses={404: {"description": "a tree size beyond the ledger"}},
)
def get_consistency_proof(
    request: Request,
    first: Annotated[int, Query(ge=0, description="the earlier tree size")],
    second: Annotated[
        int | None, Query(ge=0, description="the later tree size; default: the latest checkpoint's")
    ] = None,
) -> ConsistencyProofBody:
    """Proof that the tree of ``second`` entries only appended to the tree of ``first``."""
    if second is None:
        second = _latest_size(request, "second")
    if first > second:
        raise HTTPException(400, detail=f"first ({first}) must not exceed second ({second})")
    try:
        with session_scope(request.app.state.engine) as session:
            found = consistency_proof(session, first, second)
    except LedgerError as error:
        raise _refused(error) from None
    return ConsistencyProofBody(
        first=found.first,
        second=found.second,
        hash=found.hash_name,
        hashes=[_b64(value) for value in found.hashes],
    )
