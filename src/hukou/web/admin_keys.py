"""The console's keys page (密钥) and its JSON twin: where the master-key rotation stands.

For the security administrator (``key.rotate``). It shows what ``hukou keys status``
prints, computed by the same function (:func:`hukou.security.rotation.key_status`): the
active master key, per master key the data keys it wraps and its state (active, old
and still in use — re-encrypt —, may be retired, missing from the key ring), per
purpose scope the data keys live and crypto-shredded.

The data-key census is one grouped query and runs on every view; the token census
reads every encrypted row of every declared column, so it runs only when asked for
(``POST``), never on a page view. Rotating, re-encrypting and retiring stay with the
command line (``hukou keys``): they rewrite the key file every node reads. Key ids,
table names and counts only: nothing here holds key material or a value.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from hukou.accounts import ActiveSession, Permission, require_permission
from hukou.accounts.admin_routes import ErrorBody
from hukou.security.columns import discover
from hukou.security.datakeys import data_key_census
from hukou.security.rotation import KeyState, KeyStatus, census, key_status
from hukou.web import render
from hukou.web.keys import request_keyring
from hukou.web.session import PageActor

__all__ = ["KeyStatusOut", "router", "status"]

router = APIRouter(
    responses={
        401: {"model": ErrorBody, "description": "not logged in"},
        403: {"model": ErrorBody, "description": "not permitted"},
        503: {"model": ErrorBody, "description": "the field keys are unavailable"},
    }
)

_Strict = ConfigDict(extra="forbid")


def status(request: Request, *, count_tokens: bool = False) -> KeyStatus:
    """The key ring against the database; ``count_tokens`` adds the full token census."""
    engine = request.app.state.engine
    ring = request_keyring(request)
    tokens = census(engine, discover()) if count_tokens else None
    return key_status(ring, data_key_census(engine), tokens)


class MasterKeyOut(BaseModel):
    model_config = _Strict
    key_id: str
    data_keys: int
    v1_tokens: int | None
    state: KeyState


class ScopeOut(BaseModel):
    model_config = _Strict
    scope: str
    live: int
    shredded: int


class ColumnOut(BaseModel):
    model_config = _Strict
    column: str
    data_key_tokens: int
    v1_tokens: dict[str, int]


class KeyStatusOut(BaseModel):
    """The rotation's state; ``columns`` only after a token census."""

    model_config = _Strict
    active_key_id: str
    master_keys: list[MasterKeyOut]
    scopes: list[ScopeOut]
    may_retire: list[str]
    needs_reencrypt: list[str]
    columns: list[ColumnOut] | None
    absent_tables: list[str] | None


def _columns(found: KeyStatus) -> list[ColumnOut] | None:
    if found.tokens is None:
        return None
    return [
        ColumnOut(
            column=name,
            data_key_tokens=sum(found.tokens.data_key_tokens.get(name, {}).values()),
            v1_tokens=dict(sorted(counts.items())),
        )
        for name, counts in found.tokens.columns.items()
    ]


def _status_out(found: KeyStatus) -> KeyStatusOut:
    return KeyStatusOut(
        active_key_id=found.active_key_id,
        master_keys=[
            MasterKeyOut(
                key_id=k.key_id, data_keys=k.data_keys, v1_tokens=k.v1_tokens, state=k.state
            )
            for k in found.master_keys
        ],
        scopes=[ScopeOut(scope=s.scope, live=s.live, shredded=s.shredded) for s in found.scopes],
        may_retire=list(found.with_state(KeyState.UNUSED)),
        needs_reencrypt=list(found.with_state(KeyState.IN_USE)),
        columns=_columns(found),
        absent_tables=None if found.tokens is None else list(found.tokens.absent),
    )


Rotator = Annotated[ActiveSession, Depends(require_permission(Permission.KEY_ROTATE))]


@router.get("/api/v1/admin/keys", tags=["admin"], response_model=KeyStatusOut)
def keys_json(request: Request, actor: Rotator) -> KeyStatusOut:
    """Master keys, data keys per master key and per purpose; no token census."""
    del actor
    return _status_out(status(request))


@router.post("/api/v1/admin/keys/census", tags=["admin"], response_model=KeyStatusOut)
def keys_census_json(request: Request, actor: Rotator) -> KeyStatusOut:
    """The same with every stored token counted (reads every encrypted row: slow)."""
    del actor
    return _status_out(status(request, count_tokens=True))


def _page(request: Request, actor: ActiveSession, found: KeyStatus) -> Response:
    return render(
        request,
        "admin_keys.html",
        {"actor": actor, "status": found, "body": _status_out(found)},
    )


@router.get("/console/admin/keys", include_in_schema=False)
def keys_page(request: Request, actor: PageActor) -> Response:
    """The rotation's state (the token census on request)."""
    actor.require(Permission.KEY_ROTATE)
    return _page(request, actor, status(request))


@router.post("/console/admin/keys/census", include_in_schema=False)
def census_page(request: Request, actor: PageActor) -> Response:
    """The same page after counting every stored token."""
    actor.require(Permission.KEY_ROTATE)
    return _page(request, actor, status(request, count_tokens=True))
