"""``hukou keys``: rotate master keys, re-wrap data keys, re-encrypt old tokens, retire keys.

The key file holds the master keys; they wrap the data keys that encrypt values
(:mod:`hukou.security.datakeys`). A rotation adds a master key; ``reencrypt``
re-wraps every data key under it and moves tokens written directly with a
master key (``v1``, from before envelope encryption) to their data keys.

Unlike the rest of :mod:`hukou.security`, this module sits at the top with
``hukou.cli``: it reads the settings and opens the database, and it finds the
encrypted columns every capability declares (:func:`hukou.security.columns.discover`).
Mount it with ``app.add_typer(keys_app, name="keys")``.

Nothing printed here holds key material or a decrypted value: key ids, table
and column names, row keys and counts only. Exit codes: 0 done, 1 refused or
failed rows (listed), 2 usage or configuration errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from hukou.clikit import settings_or_exit
from hukou.db import create_engine_for
from hukou.security.columns import EncryptedColumn, discover
from hukou.security.datakeys import DataKeys, data_key_census
from hukou.security.fields import FieldCipher
from hukou.security.keys import KeyFileError, KeyRing, activate, rotate
from hukou.security.rotation import (
    DEFAULT_BATCH_SIZE,
    ColumnReport,
    KeyInUseError,
    KeyState,
    MasterKeyStatus,
    ReencryptReport,
    census,
    key_status,
    reencrypt,
    retire_unused_key,
)
from hukou.security.selftest import SelfTestError, run_self_tests

__all__ = ["keys_app"]

keys_app = typer.Typer(
    help="Master-key rotation: add a key, re-wrap data keys, re-encrypt old tokens, retire keys.",
    no_args_is_help=True,
)

_FAILURES_SHOWN = 20

FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="the key file (default: HUKOU_KEY_FILE or <data dir>/keys.json)"),
]
BatchOption = Annotated[
    int, typer.Option("--batch-size", min=1, help="rows per transaction while re-encrypting")
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _key_file(file: Path | None) -> Path:
    """The key file to change; refused when the keys come inline from HUKOU_KEYS."""
    if file is not None:
        return file
    settings = settings_or_exit()
    if settings.keys is not None:
        typer.echo(
            "error: the keys come from HUKOU_KEYS, which this command cannot rewrite: "
            "give --file with the key file it was made from, then update the secret",
            err=True,
        )
        raise typer.Exit(2)
    return settings.resolved_key_file


def _ring(file: Path | None) -> KeyRing:
    """The key ring to re-encrypt or count with; never generated here."""
    try:
        if file is not None:
            return KeyRing.from_file(file)
        settings = settings_or_exit()
        if settings.keys is not None:
            return KeyRing.from_json(settings.keys.get_secret_value(), source="HUKOU_KEYS")
        return KeyRing.from_file(settings.resolved_key_file)
    except KeyFileError as error:
        raise _fail(str(error)) from None


@contextmanager
def _engine() -> Iterator[Engine]:
    """The configured database, closed afterwards (no pooled connection left behind)."""
    engine = create_engine_for(settings_or_exit().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _columns() -> tuple[EncryptedColumn, ...]:
    return discover()


def _progress(column: ColumnReport) -> None:
    typer.echo(
        f"  {column.name}: batch {column.batches}, {column.scanned} rows scanned, "
        f"{column.rewritten} rewritten"
    )


def _summary(report: ReencryptReport) -> None:
    old = ", ".join(report.old_key_ids) or "none"
    typer.echo(f"re-encrypted under {report.active_key_id} (old keys: {old})")
    typer.echo(f"data keys re-wrapped: {report.data_keys_rewrapped}")
    typer.echo(f"{'table':<28} {'scanned':>9} {'rewritten':>10}")
    for table, (scanned, rewritten) in report.by_table().items():
        typer.echo(f"{table:<28} {scanned:>9} {rewritten:>10}")
    raced = sum(column.changed_meanwhile for column in report.columns)
    if raced:
        typer.echo(f"{raced} rows changed meanwhile: run `hukou keys reencrypt` again")
    for failure in report.failures[:_FAILURES_SHOWN]:
        typer.echo(
            f"failed: {failure.table}.{failure.column} row {failure.row_key}: {failure.problem}",
            err=True,
        )
    if len(report.failures) > _FAILURES_SHOWN:
        typer.echo(f"... and {len(report.failures) - _FAILURES_SHOWN} more failed rows", err=True)
    if not report.complete:
        typer.echo("stopped early: run `hukou keys reencrypt` again to continue")


def _run_reencrypt(ring: KeyRing, batch_size: int, max_batches: int | None) -> ReencryptReport:
    try:
        run_self_tests()  # nothing is encrypted on a library that fails the vectors
    except SelfTestError as error:
        raise _fail(str(error)) from None
    with _engine() as engine:
        report = reencrypt(
            engine,
            FieldCipher(ring, DataKeys(engine, ring)),
            _columns(),
            batch_size=batch_size,
            max_batches=max_batches,
            on_batch=_progress,
        )
    _summary(report)
    return report


def _retire(file: Path | None, key_id: str) -> None:
    path = _key_file(file)
    try:
        with _engine() as engine:
            ring = retire_unused_key(engine, _columns(), path, key_id)
    except (KeyInUseError, KeyFileError) as error:
        raise _fail(str(error)) from None
    typer.echo(f"retired {key_id} from {path}; keys left: {', '.join(ring.key_ids)}")
    typer.echo("roll the file out to every node; keep the old file with the old backups")


@keys_app.command("rotate")
def rotate_command(
    file: FileOption = None,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="id of the new key (default k<year><next>)")
    ] = None,
    make_active: Annotated[
        bool,
        typer.Option(
            "--activate/--no-activate",
            help="encrypt with the new key now, or only add it (for a rolling restart)",
        ),
    ] = True,
    then_reencrypt: Annotated[
        bool,
        typer.Option(
            "--reencrypt/--no-reencrypt",
            help="re-encrypt every stored token at once (only safe with no other node running)",
        ),
    ] = False,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
) -> None:
    """Add a new field key to the key file (and make it active); old keys stay to decrypt."""
    path = _key_file(file)
    try:
        ring = rotate(path, key_id=key_id, activate=make_active)
    except KeyFileError as error:
        raise _fail(str(error)) from None
    added = ring.key_ids[-1]
    state = "active" if make_active else f"not active yet (active: {ring.active_key_id})"
    typer.echo(f"added key {added} to {path}, {state}; keys: {', '.join(ring.key_ids)}")
    if then_reencrypt and make_active:
        report = _run_reencrypt(ring, batch_size, None)
        if report.failures:
            raise typer.Exit(1)
    elif make_active:
        typer.echo("next: roll the file out to every node, then `hukou keys reencrypt`")
    else:
        typer.echo(f"next: roll the file out to every node, then `hukou keys activate {added}`")


@keys_app.command("activate")
def activate_command(
    key_id: Annotated[str, typer.Argument(help="the key id to encrypt with from now on")],
    file: FileOption = None,
) -> None:
    """Make a key already in the key file the active one (second step of a rolling rotation)."""
    path = _key_file(file)
    try:
        ring = activate(path, key_id)
    except KeyFileError as error:
        raise _fail(str(error)) from None
    typer.echo(f"active key of {path}: {ring.active_key_id}")
    typer.echo("next: roll the file out to every node, then `hukou keys reencrypt`")


@keys_app.command("reencrypt")
def reencrypt_command(
    file: FileOption = None,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
    max_batches: Annotated[
        int | None,
        typer.Option("--max-batches", min=1, help="stop after this many batches (run again later)"),
    ] = None,
    retire_key: Annotated[
        str | None,
        typer.Option("--retire", help="afterwards, remove this key if no token uses it any more"),
    ] = None,
) -> None:
    """Re-encrypt every stored token of an old key under the active key, in batches.

    Safe while the platform serves, and safe to stop: run it again to resume.
    """
    report = _run_reencrypt(_ring(file), batch_size, max_batches)
    if report.failures:
        raise typer.Exit(1)
    if retire_key is not None:
        _retire(file, retire_key)


def _state_text(key: MasterKeyStatus) -> str:
    return {
        KeyState.ACTIVE: "active",
        KeyState.MISSING: "NOT IN THE KEY RING: what it wraps or encrypted cannot be decrypted",
        KeyState.IN_USE: "old: run `hukou keys reencrypt`",
        KeyState.UNUSED: f"unused: may be retired (`hukou keys retire {key.key_id}`)",
        KeyState.UNCOUNTED: "old: tokens not counted",
    }[key.state]


@keys_app.command("status")
def status_command(file: FileOption = None) -> None:
    """Per master key, the data keys it wraps and the old tokens it encrypted: which keys
    may be retired; per purpose, the data keys live and shredded."""
    ring = _ring(file)
    with _engine() as engine:
        counts = census(engine, _columns())
        status = key_status(ring, data_key_census(engine), counts)
    typer.echo(f"active master key: {status.active_key_id}")
    typer.echo(f"{'master key':<26} {'data keys':>9} {'v1 tokens':>9}  state")
    for key in status.master_keys:
        typer.echo(
            f"{key.key_id:<26} {key.data_keys:>9} {key.v1_tokens or 0:>9}  {_state_text(key)}"
        )
    typer.echo(f"{'purpose (data-key scope)':<26} {'live':>9} {'shredded':>9}")
    for scope in status.scopes:
        typer.echo(f"{scope.scope:<26} {scope.live:>9} {scope.shredded:>9}")
    for name, column in counts.columns.items():
        v2 = sum(counts.data_key_tokens.get(name, {}).values())
        v1 = ", ".join(f"{k}={n}" for k, n in sorted(column.items())) or "none"
        typer.echo(f"  {name}: {v2} tokens under data keys; v1 tokens: {v1}")
    for name in counts.absent:
        typer.echo(f"  {name}: table absent from this database")


@keys_app.command("retire")
def retire_command(
    key_id: Annotated[str, typer.Argument(help="the old key id to remove from the key file")],
    file: FileOption = None,
) -> None:
    """Remove an old key from the key file; refused while any stored token uses it."""
    _retire(file, key_id)
