"""``hukou security``: check the national algorithms, create and rotate key files, pseudonym keys.

Nothing printed here ever contains key material: ``status`` shows key ids and
counts, ``keygen`` and ``rotate`` say which id became active. Exit codes: 0 on
success, 1 when a self-test fails or a key file is missing, invalid or would
be overwritten, 2 for usage errors (Typer's own).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Annotated

import typer

from hukou.security.keys import KeyFileError, KeyRing, generate_key_file, is_private, rotate
from hukou.security.pseudonym import PSEUDONYM_FILE_ENV, generate_pseudonym_key_file
from hukou.security.selftest import check_vectors

__all__ = ["security_app"]

security_app = typer.Typer(
    help="National-algorithm (国密 SM3/SM4) self-test and field-encryption key files.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@security_app.command("selftest")
def selftest() -> None:
    """Check SM3, SM4 and SM4-GCM against the official test vectors."""
    results = check_vectors()
    for result in results:
        status = "OK  " if result.ok else "FAIL"
        line = f"{status} {result.vector.name} ({result.vector.source})"
        typer.echo(line if result.ok else f"{line}: {result.problem}")
    if not all(result.ok for result in results):
        raise _fail("the installed cryptography library fails the national-algorithm vectors")


@security_app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option("--out", help="the key file to create (mode 0600)")],
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="id of the first key (default k<year>a)")
    ] = None,
) -> None:
    """Create a key file with a random field key and index key; never overwrites."""
    try:
        ring = generate_key_file(out, key_id=key_id)
    except KeyFileError as error:
        raise _fail(str(error)) from None
    typer.echo(f"created {out} (mode 0600): active key {ring.active_key_id}")
    typer.echo("keep a backup in a safe place: without this file the encrypted data is lost")


@security_app.command("pseudonym-keygen")
def pseudonym_keygen(
    out: Annotated[Path, typer.Option("--out", help="the pseudonym key file to create (0600)")],
) -> None:
    """Create the pseudonym key file (HMAC-SM3, analytics exports); never overwrites.

    Keep it apart from the field key file (another folder or secret store) and
    never ship it with an export.
    """
    try:
        generate_pseudonym_key_file(out)
    except KeyFileError as error:
        raise _fail(str(error)) from None
    typer.echo(f"created {out} (mode 0600); point {PSEUDONYM_FILE_ENV} at it")
    typer.echo("changing this key later changes every pseudonym: back it up")


@security_app.command("rotate")
def rotate_command(
    file: Annotated[Path, typer.Option("--file", help="the key file to rotate")],
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="id of the new key (default k<year><next>)")
    ] = None,
) -> None:
    """Add a new field key and make it active; old keys stay to decrypt old values."""
    try:
        ring = rotate(file, key_id=key_id)
    except KeyFileError as error:
        raise _fail(str(error)) from None
    typer.echo(f"rotated {file}: active key {ring.active_key_id}, {len(ring.key_ids)} keys")
    typer.echo("restart the services, then `hukou keys reencrypt` (see docs/security.md)")


@security_app.command("status")
def status(
    file: Annotated[Path | None, typer.Option("--file", help="a key file")] = None,
    env: Annotated[
        str | None, typer.Option("--env", help="an environment variable holding the key JSON")
    ] = None,
) -> None:
    """Show the active key id and the key ids of a key file (never the keys)."""
    if (file is None) == (env is None):
        raise _fail("give exactly one of --file and --env")
    try:
        ring = KeyRing.from_file(file) if file is not None else KeyRing.from_env(str(env))
    except KeyFileError as error:
        raise _fail(str(error)) from None
    typer.echo(f"active key: {ring.active_key_id}")
    typer.echo(f"field keys: {len(ring.key_ids)} ({', '.join(ring.key_ids)})")
    typer.echo("index key: present")
    if file is not None and not is_private(file):
        mode = stat.S_IMODE(file.stat().st_mode)
        typer.echo(
            f"warning: {file} has mode {mode:04o}; run `chmod 600 {file}`: "
            "others on this machine can read the keys",
            err=True,
        )
