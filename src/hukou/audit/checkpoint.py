"""Signed checkpoints: the ledger's tree head as a C2SP signed note.

A checkpoint (c2sp.org/tlog-checkpoint) is the note text::

    <origin>
    <tree size in decimal>
    <base64 root hash>

signed as a C2SP signed note (c2sp.org/signed-note): the text, a blank line,
then one line per signature, ``— <key name> <base64(4-byte key ID || signature)>``.
The format is the one of the Go checksum database, Sigstore and the
transparency-dev witnesses, so the tools auditors already run can read ours.

The signature is **Ed25519** (signed-note signature type ``0x01``, RFC 8032).
The national algorithm would be SM2, but the ``cryptography`` package does not
expose SM2 signing (pyca/cryptography issues 6857 and 9658: no plan; pull
requests 5894 and 9350 stalled), and this project implements no primitive by
hand. SM2 can be added as another signature type (``0xff`` and an identifier,
as the spec reserves) where a 国密 HSM provides it; verifiers ignore signature
types they do not know, so both can sign side by side.

The checkpoint does not say which hash built the tree: that is a property of
the log, fixed with its origin. Hukou's ledger uses SM3 (see
:mod:`hukou.audit.merkle`); both SM3 and SHA-256 roots are 32 bytes.

Opening a checkpoint checks, in order: the note's syntax, the checkpoint's
lines, the origin, then the signature of the log's key. Each failure raises its
own :class:`CheckpointError` subclass that names what failed.

>>> signer = NoteSigner.from_seed("hukou.example/audit", bytes(32))
>>> note = sign_checkpoint(Checkpoint("hukou.example/audit", 2, bytes(32)), signer)
>>> note.splitlines()[:4]
['hukou.example/audit', '2', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', '']
>>> note.splitlines()[4][:36]
'— hukou.example/audit GzxNFg+Yt3Cfyp'
>>> open_checkpoint(note, origin="hukou.example/audit", log_key=signer.verifier()).size
2
>>> open_checkpoint(note, origin="example.org", log_key=signer.verifier())
Traceback (most recent call last):
...
hukou.audit.checkpoint.OriginMismatchError: origin is 'hukou.example/audit', expected 'example.org'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointError",
    "InvalidSignatureError",
    "MalformedCheckpointError",
    "MalformedKeyError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OriginMismatchError",
    "UnverifiedCheckpointError",
    "VerifiedNote",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "sign_checkpoint",
    "sign_note",
]

ED25519 = 0x01
"""The signed-note signature type of Ed25519."""
MAX_SIGNATURES = 100
"""More signature lines than this are refused (the spec's floor is 16; Go's sumdb uses 100)."""

_SIGNATURE_PREFIX = "— "  # em dash (U+2014), space
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**64 - 1


class CheckpointError(ValueError):
    """A signed note or checkpoint was refused; the subclass says why."""


class MalformedCheckpointError(CheckpointError):
    """The note or checkpoint text breaks the format; the message names the line."""


class MalformedKeyError(CheckpointError):
    """A signer or verifier key string is not a valid Ed25519 note key."""


class OriginMismatchError(CheckpointError):
    """The checkpoint is from another log than the one expected."""


class InvalidSignatureError(CheckpointError):
    """A signature from a known key does not verify: the note was altered or forged."""


class UnverifiedCheckpointError(CheckpointError):
    """No signature from the expected key: the note may be genuine, but is not trusted."""


def _is_valid_name(name: str) -> bool:
    """Key names are non-empty UTF-8, with no Unicode space and no ``+`` (signed-note §Format)."""
    try:
        name.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def _key_id(name: str, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || 0x01 || public key)[:4]``, big-endian (signed-note §Ed25519)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes:
    """Standard base64 (RFC 4648 §4) in its one canonical spelling, else :class:`binascii.Error`.

    Canonical: padded, no other characters, no stray bits. A lenient decoder
    would let two different texts, hence two different signed notes, carry
    the same key or root hash.
    """
    decoded = base64.b64decode(text.encode("ascii"), validate=True)
    if base64.b64encode(decoded).decode("ascii") != text:
        raise binascii.Error("not canonical base64")
    return decoded


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _decode_key(text: str, what: str) -> tuple[str, int, bytes]:
    """``<name>+<8 hex key ID>+<base64(0x01 || 32 bytes)>`` to its parts, checked."""
    name, _, rest = text.partition("+")
    id_hex, _, key64 = rest.partition("+")
    try:
        key = _b64decode(key64)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedKeyError(f"{what}: key is not base64") from None
    if not _is_valid_name(name):
        raise MalformedKeyError(f"{what}: invalid key name")
    if not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
        raise MalformedKeyError(f"{what}: key ID must be 8 hexadecimal digits")
    if len(key) != 33 or key[0] != ED25519:
        raise MalformedKeyError(f"{what}: not an Ed25519 key (type 0x01 and 32 bytes)")
    return name, int(id_hex, 16), key[1:]


class NoteVerifier:
    """The public half: a key name, its 32-bit key ID and an Ed25519 public key."""

    __slots__ = ("_key", "key_id", "name")

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        if not _is_valid_name(name):
            raise MalformedKeyError("key names must be non-empty, without spaces or '+'")
        self.name = name
        self._key = public_key
        self.key_id = _key_id(name, _raw_public(public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse the standard verifier key ``<name>+<key ID>+<base64 key>`` (Go ``note``)."""
        name, key_id, raw = _decode_key(vkey, "verifier key")
        try:
            public_key = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise MalformedKeyError("verifier key: not an Ed25519 public key") from None
        verifier = cls(name, public_key)
        if verifier.key_id != key_id:
            raise MalformedKeyError("verifier key: key ID does not match the name and key")
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key string to hand to auditors and witnesses."""
        encoded = base64.b64encode(bytes([ED25519]) + _raw_public(self._key)).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"NoteVerifier({self.name!r}, key_id={self.key_id:08x})"


class NoteSigner:
    """The private half. The key never appears in ``repr`` or in error messages."""

    __slots__ = ("_key", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self._verifier = NoteVerifier(name, private_key.public_key())

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A fresh key pair from the operating system's random source."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> NoteSigner:
        """From a 32-byte RFC 8032 private key (seed), e.g. one unwrapped from the key file."""
        if len(seed) != 32:
            raise MalformedKeyError("an Ed25519 seed is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse the Go ``note`` signer key ``PRIVATE+KEY+<name>+<key ID>+<base64 seed>``."""
        prefix = "PRIVATE+KEY+"
        if not skey.startswith(prefix):
            raise MalformedKeyError("signer key must start with PRIVATE+KEY+")
        name, key_id, seed = _decode_key(skey.removeprefix(prefix), "signer key")
        signer = cls.from_seed(name, seed)
        if signer.key_id != key_id:
            raise MalformedKeyError("signer key: key ID does not match the name and key")
        return signer

    @property
    def name(self) -> str:
        """The key name written in each signature line."""
        return self._verifier.name

    @property
    def key_id(self) -> int:
        """The 32-bit key ID that prefixes each signature."""
        return self._verifier.key_id

    def verifier(self) -> NoteVerifier:
        """The matching public key."""
        return self._verifier

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (deterministic, RFC 8032)."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, key_id={self.key_id:08x}, <private key hidden>)"


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key it claims, and the raw signature after the key ID."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class VerifiedNote:
    """A note whose text is signed by at least one known key.

    ``verified`` lists the signatures that verified; ``unverified`` those from
    keys the caller did not know (ignored, as the spec requires).
    """

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _check_characters(text: str, what: str) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if any(ch < " " for ch in line):
            raise MalformedCheckpointError(f"{what} line {number} has a control character")


def sign_note(text: str, *signers: NoteSigner) -> str:
    """``text`` followed by a blank line and one signature line per signer."""
    if not signers:
        raise ValueError("a note needs at least one signer")
    if not text.endswith("\n"):
        raise MalformedCheckpointError("note text must end with a newline")
    _check_characters(text, "note text")
    message = text.encode()
    lines = []
    for signer in signers:
        blob = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{_SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n")
    return text + "\n" + "".join(lines)


def _decode_note(note: str | bytes) -> tuple[str, list[tuple[str, NoteSignature]]]:
    """Split a signed note into its text and its signature lines (with the line's text)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedCheckpointError("note is not valid UTF-8") from None
    _check_characters(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedCheckpointError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedCheckpointError("note must end with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedCheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    text_lines = text.count("\n")
    signatures = []
    for offset, line in enumerate(lines):
        where = f"signature line {offset + 1} (note line {text_lines + 2 + offset})"
        if not line.startswith(_SIGNATURE_PREFIX):
            raise MalformedCheckpointError(f"{where} does not start with an em dash and a space")
        name, _, encoded = line.removeprefix(_SIGNATURE_PREFIX).partition(" ")
        if not _is_valid_name(name):
            raise MalformedCheckpointError(f"{where} has an invalid key name")
        try:
            blob = _b64decode(encoded)
        except (binascii.Error, UnicodeEncodeError):
            raise MalformedCheckpointError(f"{where} signature is not base64") from None
        if len(blob) < 5:
            raise MalformedCheckpointError(f"{where} signature is too short")
        key_id = int.from_bytes(blob[:4], "big")
        signatures.append((line, NoteSignature(name, key_id, blob[4:])))
    return text, signatures


def open_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> VerifiedNote:
    """Parse a signed note and check its signatures against the known keys.

    As c2sp.org/signed-note requires: signatures from unknown keys (name and
    key ID not both known) are ignored; a signature from a known key that does
    not verify rejects the whole note (:class:`InvalidSignatureError`); a note
    without any verified signature is rejected (:class:`UnverifiedCheckpointError`).
    """
    text, signatures = _decode_note(note)
    return _verify(text, signatures, verifiers)


def _verify(
    text: str,
    signatures: list[tuple[str, NoteSignature]],
    verifiers: Iterable[NoteVerifier],
) -> VerifiedNote:
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        if slot in known and known[slot].vkey != verifier.vkey:
            raise ValueError(f"two verifier keys share {verifier.name}+{verifier.key_id:08x}")
        known[slot] = verifier
    message = text.encode()
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    seen_lines: set[str] = set()
    for line, signature in signatures:
        slot = (signature.name, signature.key_id)
        key = known.get(slot)
        if key is None:
            if line not in seen_lines:
                seen_lines.add(line)
                unverified.append(signature)
            continue
        if slot in seen:  # one verdict per key, as Go's note.Open
            continue
        seen.add(slot)
        if not key.verify(message, signature.signature):
            raise InvalidSignatureError(
                f"signature by {signature.name}+{signature.key_id:08x} does not verify"
            )
        verified.append(signature)
    if not verified:
        raise UnverifiedCheckpointError("note has no signature from a known key")
    return VerifiedNote(text, tuple(verified), tuple(unverified))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: its origin, its size and its root hash (c2sp.org/tlog-checkpoint)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or any(ch < " " for ch in self.origin):
            raise MalformedCheckpointError("origin must be one non-empty line of text")
        if not 0 <= self.size <= _MAX_SIZE:
            raise MalformedCheckpointError(f"tree size must be in 0..2**64-1, got {self.size}")
        if not self.root_hash:
            raise MalformedCheckpointError("root hash must not be empty")
        for extension in self.extensions:
            if not extension or any(ch < " " for ch in extension):
                raise MalformedCheckpointError("extension lines must be non-empty lines of text")

    def text(self) -> str:
        """The note text that is signed, ending with a newline."""
        root = base64.b64encode(self.root_hash).decode()
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str, *, hash_size: int = 32) -> Checkpoint:
    """A checkpoint from its note text (signatures already removed and checked).

    The tree size must be plain ASCII decimal without leading zeros and the
    root hash strict base64 of ``hash_size`` bytes: a lenient parser would give
    two texts, hence two signatures, for one tree head.
    """
    if not text.endswith("\n"):
        raise MalformedCheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpointError("checkpoint needs origin, tree size and root hash lines")
    for number, line in enumerate(lines, start=1):
        if not line:
            raise MalformedCheckpointError(f"checkpoint line {number} is empty")
    origin, size_line, root_line, *extensions = lines
    if not _DECIMAL.fullmatch(size_line) or int(size_line) > _MAX_SIZE:
        raise MalformedCheckpointError("checkpoint line 2 (tree size) is not a decimal number")
    try:
        root_hash = _b64decode(root_line)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedCheckpointError("checkpoint line 3 (root hash) is not base64") from None
    if len(root_hash) != hash_size:
        raise MalformedCheckpointError(
            f"checkpoint line 3 (root hash) has {len(root_hash)} bytes, expected {hash_size}"
        )
    return Checkpoint(origin, int(size_line), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, *signers: NoteSigner) -> str:
    """The signed note of ``checkpoint``; the log's key name should equal the origin."""
    return sign_note(checkpoint.text(), *signers)


def open_checkpoint(
    note: str | bytes,
    *,
    origin: str,
    log_key: NoteVerifier,
    hash_size: int = 32,
) -> Checkpoint:
    """Parse and verify a signed checkpoint of the log ``origin`` signed with ``log_key``.

    Other signatures (witnesses, a rotated key) are ignored, as the spec
    requires; the log's own must be there and valid.
    """
    text, signatures = _decode_note(note)
    checkpoint = parse_checkpoint(text, hash_size=hash_size)
    if checkpoint.origin != origin:
        raise OriginMismatchError(f"origin is {checkpoint.origin!r}, expected {origin!r}")
    try:
        _verify(text, signatures, [log_key])
    except UnverifiedCheckpointError:
        raise UnverifiedCheckpointError(
            f"checkpoint has no signature by {log_key.name}+{log_key.key_id:08x}"
        ) from None
    return checkpoint
