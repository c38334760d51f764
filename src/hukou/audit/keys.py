"""The checkpoint signing key: an Ed25519 note key in a file beside the data keys.

The file holds one line, the signer key in the format of Go's ``note`` package
(``PRIVATE+KEY+<name>+<key ID>+<base64>``), so the transparency-dev tools can
read it. The key's name is the ledger's *origin*, the first line of every
checkpoint (one name per city or province, e.g. ``hukou.suzhou.gov.cn/audit``).

Where it lives: ``HUKOU_LEDGER_KEY_FILE``, by default ``ledger.key`` in the
folder of the field-encryption key file (``HUKOU_KEY_FILE``, by default under
``HUKOU_DATA_DIR``). It is created with mode 0600 by ``hukou audit keygen``
and never overwritten: a lost key cannot sign again, but every checkpoint it
signed stays verifiable with the public key (``hukou audit key``), which
anyone may hold. Only the process that signs checkpoints needs the file; the
web server serves stored checkpoints and proofs without it.

The setting lives here rather than in :class:`hukou.config.Settings` because
it concerns only the ledger's signer; it is read the same way (environment or
``.env``).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from hukou.audit.checkpoint import CheckpointError, NoteSigner, NoteVerifier
from hukou.config import Settings
from hukou.security.keys import KEY_FILE_MODE, write_private  # 0600: whoever reads it can sign

__all__ = [
    "DEFAULT_ORIGIN",
    "KEY_FILE_MODE",
    "LedgerKeyError",
    "generate_signer_file",
    "ledger_key_file",
    "load_signer",
    "load_verifier",
    "signer_for",
]

DEFAULT_ORIGIN = "hukou.local/audit"
"""The origin a development key gets; production names its city (see docs/audit.md)."""


class LedgerKeyError(ValueError):
    """The signer key file is missing, unreadable, malformed or would be overwritten.

    Messages name the file, never the key.
    """


def ledger_key_file(settings: Settings) -> Path:
    """The signer key file: the setting, else ``ledger.key`` beside the data keys."""
    return settings.ledger_key_file or settings.resolved_key_file.parent / "ledger.key"


def _signer_key_text(signer: NoteSigner, seed: bytes) -> str:
    """The Go ``note`` signer key: ``PRIVATE+KEY+<name>+<key ID>+base64(0x01 || seed)``."""
    encoded = base64.b64encode(b"\x01" + seed).decode("ascii")
    return f"PRIVATE+KEY+{signer.name}+{signer.key_id:08x}+{encoded}\n"


def generate_signer_file(path: Path, origin: str = DEFAULT_ORIGIN) -> NoteSigner:
    """Create ``path`` (mode 0600) with a fresh key named ``origin``; never overwrite a file."""
    seed = os.urandom(32)
    try:
        signer = NoteSigner.from_seed(origin, seed)
    except CheckpointError as error:
        raise LedgerKeyError(f"origin {origin!r} is not a valid key name: {error}") from None
    text = _signer_key_text(signer, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_private(path, text)
    except FileExistsError:
        raise LedgerKeyError(
            f"{path} already exists; refusing to overwrite a signing key"
        ) from None
    except OSError as error:
        raise LedgerKeyError(f"{path}: cannot be created ({error.strerror})") from None
    return signer


def load_signer(path: Path) -> NoteSigner:
    """The signer kept in ``path``."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise LedgerKeyError(
            f"no checkpoint key at {path}: create one with `hukou audit keygen`"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not ASCII text"
        raise LedgerKeyError(f"{path}: cannot be read ({reason})") from None
    try:
        return NoteSigner.from_skey(text)
    except CheckpointError as error:
        raise LedgerKeyError(f"{path} does not hold a signer key ({error})") from None


def signer_for(settings: Settings) -> NoteSigner | None:
    """The installation's checkpoint signer; outside production, made on first use.

    Production never generates a key silently (the public key must be published
    before checkpoints mean anything): without a key file there is no signer, and
    checkpoints wait for `hukou audit keygen`.
    """
    path = ledger_key_file(settings)
    if path.exists():
        return load_signer(path)
    if settings.env == "production":
        return None
    try:
        return generate_signer_file(path)
    except LedgerKeyError:
        if path.exists():  # another process made it first
            return load_signer(path)
        raise


def load_verifier(vkey: str) -> NoteVerifier:
    """A verifier key as ``hukou audit key`` prints it (``<origin>+<key ID>+<base64>``)."""
    try:
        return NoteVerifier.from_vkey(vkey.strip())
    except CheckpointError as error:
        raise LedgerKeyError(f"not a verifier key: {error}") from None
