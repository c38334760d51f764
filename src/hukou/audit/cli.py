"""``hukou audit``: the signing key, checkpoints, proofs and the full verification.

Exit codes: 0 on success; 1 when verification fails (the first bad entry or
checkpoint is named) or a key, index or size is wrong; 2 for usage errors
(Typer's own) and database failures (:func:`hukou.clikit.run_guarded`).
Nothing printed contains an entry's content or the private key; hashes are in
base64, as in checkpoints.
"""

from __future__ import annotations

import base64
import json
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from hukou.audit.checkpoint import NoteSigner, NoteVerifier
from hukou.audit.keys import (
    DEFAULT_ORIGIN,
    LedgerKeyError,
    generate_signer_file,
    ledger_key_file,
    load_signer,
    load_verifier,
)
from hukou.audit.ledger import (
    DEFAULT_CHUNK,
    LedgerError,
    checkpoint,
    consistency_proof,
    inclusion_proof,
    latest_checkpoint,
    verify,
)
from hukou.clikit import console, engine_or_exit, errors, settings_or_exit
from hukou.db import session_scope

__all__ = ["audit_app"]

audit_app = typer.Typer(
    help="Verifiable audit ledger (审计日志): signing key, checkpoints, proofs, verification.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
KeyOption = Annotated[
    Path | None,
    typer.Option("--key", help="the signing key file (default: HUKOU_LEDGER_KEY_FILE)"),
]


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(1)


def _key_path(key: Path | None) -> Path:
    return key or ledger_key_file(settings_or_exit())


def _signer(key: Path | None) -> NoteSigner:
    path = _key_path(key)
    try:
        signer = load_signer(path)
    except LedgerKeyError as error:
        raise _fail(str(error)) from None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        errors.print(
            f"warning: {path} is readable by others; run `chmod 600 {path}`", highlight=False
        )
    return signer


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database, whose engine is closed afterwards."""
    engine = engine_or_exit()
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _emit_json(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")


@audit_app.command("keygen")
def keygen(
    origin: Annotated[
        str, typer.Option("--origin", help="the ledger's name, first line of every checkpoint")
    ] = DEFAULT_ORIGIN,
    out: Annotated[
        Path | None, typer.Option("--out", help="file to create (default: HUKOU_LEDGER_KEY_FILE)")
    ] = None,
) -> None:
    """Create the checkpoint signing key (Ed25519, mode 0600); never overwrites a key."""
    path = _key_path(out)
    try:
        signer = generate_signer_file(path, origin)
    except LedgerKeyError as error:
        raise _fail(str(error)) from None
    console.print(f"created {path} (mode 0600) for origin {signer.name}", highlight=False)
    console.print("public verifier key (give it to auditors):", highlight=False)
    typer.echo(signer.verifier().vkey)


@audit_app.command("key")
def key(key: KeyOption = None) -> None:
    """Print the public verifier key: with it anyone can check checkpoints offline."""
    typer.echo(_signer(key).verifier().vkey)


@audit_app.command("checkpoint")
def checkpoint_command(key: KeyOption = None, as_json: JsonOption = False) -> None:
    """Sign the ledger's current size and root hash and store the checkpoint."""
    signer = _signer(key)
    try:
        with _session() as session:
            stored = checkpoint(session, signer)
    except LedgerError as error:
        raise _fail(str(error)) from None
    if as_json:
        _emit_json(
            {
                "origin": stored.origin,
                "size": stored.size,
                "root_hash": _b64(stored.root_hash),
                "note": stored.note,
            }
        )
        return
    typer.echo(stored.note, nl=False)


@audit_app.command("verify")
def verify_command(
    as_json: JsonOption = False,
    key: KeyOption = None,
    vkey: Annotated[
        str | None,
        typer.Option("--vkey", help="the public verifier key, instead of the signing key file"),
    ] = None,
    chunk: Annotated[int, typer.Option(min=1, help="entries read per query")] = DEFAULT_CHUNK,
) -> None:
    """Recompute every entry and the tree, check every checkpoint; exit 1 at the first bad one."""
    verifier: NoteVerifier
    if vkey is not None:
        try:
            verifier = load_verifier(vkey)
        except LedgerKeyError as error:
            raise _fail(str(error)) from None
    else:
        verifier = _signer(key).verifier()
    try:
        with _session() as session:
            report = verify(session, verifier=verifier, chunk=chunk)
    except LedgerError as error:
        raise _fail(str(error)) from None
    if as_json:
        _emit_json(report.as_json())
    else:
        line = report.summary()
        if report.ok:
            console.print(f"[green]{line}[/green] in {report.seconds:.1f} s", highlight=False)
        else:
            errors.print(f"[red]{line}[/red]", highlight=False)
            for finding in report.findings[1:]:
                errors.print(f"  also: {finding.message}", highlight=False)
            if report.checkpoints_unchecked:
                errors.print(
                    f"  {report.checkpoints_unchecked} later checkpoints were not reached",
                    highlight=False,
                )
    raise typer.Exit(0 if report.ok else 1)


def _default_size(size: int | None) -> int:
    """The size asked for, else the latest signed one: a proof is worth its checkpoint."""
    if size is not None:
        return size
    with _session() as session:
        latest = latest_checkpoint(session)
    if latest is None:
        raise _fail("no checkpoint yet: run `hukou audit checkpoint` or give --size")
    return latest.size


@audit_app.command("proof")
def proof(
    index: Annotated[int, typer.Argument(min=0, help="the entry's sequence number")],
    size: Annotated[
        int | None, typer.Option(min=1, help="tree size (default: the latest checkpoint's)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the inclusion proof of entry INDEX (audit path, bottom hash first, base64)."""
    tree_size = _default_size(size)
    try:
        with _session() as session:
            found = inclusion_proof(session, index, tree_size)
    except LedgerError as error:
        raise _fail(str(error)) from None
    hashes = [_b64(value) for value in found.hashes]
    if as_json:
        _emit_json(
            {"index": found.index, "size": found.size, "hash": found.hash_name, "hashes": hashes}
        )
        return
    console.print(
        f"entry {found.index} in the tree of {found.size} ({found.hash_name}): "
        f"{len(hashes)} hashes",
        highlight=False,
    )
    for value in hashes:
        typer.echo(value)


@audit_app.command("consistency")
def consistency(
    old: Annotated[int, typer.Argument(min=0, help="the earlier tree size")],
    new: Annotated[int, typer.Argument(min=0, help="the later tree size")],
    as_json: JsonOption = False,
) -> None:
    """Print the proof that the tree of NEW entries extends the tree of OLD (base64)."""
    try:
        with _session() as session:
            found = consistency_proof(session, old, new)
    except LedgerError as error:
        raise _fail(str(error)) from None
    hashes = [_b64(value) for value in found.hashes]
    if as_json:
        _emit_json(
            {
                "first": found.first,
                "second": found.second,
                "hash": found.hash_name,
                "hashes": hashes,
            }
        )
        return
    console.print(
        f"tree {found.first} → {found.second} ({found.hash_name}): {len(hashes)} hashes",
        highlight=False,
    )
    for value in hashes:
        typer.echo(value)
