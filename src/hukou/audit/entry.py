"""What a ledger entry says, and the one byte string its leaf hashes.

Two kinds of event are recorded:

- ``access``: someone (``actor``, an account id, of ``department``) read
  ``fields`` of a person (``person_id``, the registry's id, never an identity
  number) for a declared ``purpose``, perhaps within a case, and the
  ``outcome`` (allowed, denied, partial);
- ``state_change``: a capability (``capability``) did ``action`` to an object
  (``object_id``) on someone's behalf, with its outcome (succeeded, failed,
  denied).

**Canonical encoding.** An entry is hashed as sorted-key, compact JSON in
UTF-8 (no insignificant whitespace, non-ASCII kept as UTF-8), every key always
present (``null`` when unset). There is exactly one encoding of an entry, so a
verifier that re-encodes gets the same bytes. The encoding carries the entry's
own sequence number (``seq``): moving an entry to another position changes
what its leaf must hash to, so a reordering is caught at the first moved entry.
It also carries ``v`` (the schema version) and ``nonce`` (16 random bytes in
hex): inclusion proofs publish the hashes of *other* entries, and an entry's
fields (department, purpose, person, time) are guessable; the nonce makes a
leaf hash useless for confirming a guess about someone else's record.

**No secrets.** Entries are kept forever and shown to residents and auditors.
A value that looks like a full identity number (18 digits, or the old 15), a
mainland mobile number, a password or token, a key, a PEM block or an SM4
ciphertext token is refused with :class:`SecretInEntryError`; its message
names the field and what it looks like, never the value.

>>> import datetime
>>> at = datetime.datetime(2026, 12, 1, 8, 30, tzinfo=datetime.UTC)
>>> entry = LedgerEntry.access(
...     actor="u-1001", department="110105-rsj", purpose="social_insurance.enrolment",
...     person_id="R0123456789abcdef0123", fields=("name", "birth_date"),
...     outcome=Outcome.ALLOWED, at=at, nonce="00" * 16)
>>> encode_entry(entry, 7)[:60]
b'{"action":null,"actor":"u-1001","at":"2026-12-01T08:30:00.00'
>>> decode_entry(encode_entry(entry, 7)) == (7, entry)
True
>>> LedgerEntry.access(actor="u-1001", department="d", purpose="p",
...     person_id="11010519491231002X", fields=("name",), outcome=Outcome.ALLOWED)
Traceback (most recent call last):
...
hukou.audit.entry.SecretInEntryError: person_id looks like an identity number; entries carry ...
"""

from __future__ import annotations

import datetime
import enum
import json
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "ENTRY_VERSION",
    "EntryError",
    "EntryKind",
    "LedgerEntry",
    "Outcome",
    "SecretInEntryError",
    "canonical_document",
    "decode_entry",
    "encode_entry",
    "find_secret",
]

ENTRY_VERSION: Final = 1
"""The schema version written as ``v`` in every entry."""

_MAX_TEXT = 200
_MAX_FIELDS = 200


class EntryError(ValueError):
    """An entry is malformed: a missing value, a wrong type, an unknown key, bad JSON."""


class SecretInEntryError(EntryError):
    """A value looks like personal data or a secret that must never enter the ledger."""


class EntryKind(enum.StrEnum):
    """What happened: a read of personal data, or a change of a capability's state."""

    ACCESS = "access"
    STATE_CHANGE = "state_change"


class Outcome(enum.StrEnum):
    """How it ended. ``partial``: some of the fields asked for were withheld."""

    ALLOWED = "allowed"
    DENIED = "denied"
    PARTIAL = "partial"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


_OUTCOMES: Final = {
    EntryKind.ACCESS: frozenset({Outcome.ALLOWED, Outcome.DENIED, Outcome.PARTIAL}),
    EntryKind.STATE_CHANGE: frozenset({Outcome.SUCCEEDED, Outcome.FAILED, Outcome.DENIED}),
}

# The kinds of value the ledger must never hold, each with what the error reports
# instead of the value. Every check has a cheap pre-test (a substring or a simple
# run), so a clean entry, the common case, costs a few microseconds.
_DIGIT_RUN: Final = re.compile(r"[0-9][0-9 +-]{10,}")
# Numbers count only as whole tokens (not inside a hex id such as R0000…05a0, where
# runs of digits are common), and identity numbers only with a real birth date, so
# that legitimate identifiers are not refused by chance.
_IDENTITY: Final = re.compile(
    r"(?<![0-9A-Za-z])[0-9]{6}(?:(?P<long>(?:19|20)[0-9]{6})[0-9]{3}[0-9Xx]|(?P<short>[0-9]{6})[0-9]{3})"
    r"(?![0-9A-Za-z])"
)
_MOBILE: Final = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9A-Za-z])"
)
_LITERALS: Final = (
    ("-----BEGIN ", "a PEM key or certificate"),
    ("PRIVATE+KEY+", "a signer key"),
    ("$argon2", "a password hash"),
    ("$2b$", "a password hash"),
    ("$scrypt", "a password hash"),
)
_CIPHERTEXT: Final = re.compile(r"\bsm4gcm:v[0-9]+:")
_CREDENTIAL_WORDS: Final = ("pass", "pwd", "secret", "token", "key", "authorization", "bearer")
_CREDENTIAL: Final = re.compile(
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|authorization)\s*[:=]"
    r"|\bbearer\s+\S{8,}"
)
_JWT: Final = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# Random keys in base64: long, and mixing upper case, lower case and digits (hex
# digests and UUIDs, which are legitimate object ids, have no upper case).
_BASE64_RUN: Final = re.compile(r"[A-Za-z0-9+/_-]{40,}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FIELD_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")
_NONCE: Final = re.compile(r"[0-9a-f]{32}")
# The string encoder json.dumps itself uses with ensure_ascii=False (C when available).
_json_string: Final[Callable[[str], str]] = json.encoder.encode_basestring


def _has_birth_date(match: re.Match[str]) -> bool:
    """Whether an identity-number-shaped match carries a real birth date (GB 11643)."""
    long, short = match.group("long"), match.group("short")
    digits = long if long is not None else "19" + short
    try:
        datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def find_secret(value: str) -> str | None:
    """What ``value`` looks like if it is personal data or a secret (``None`` if clean).

    Digits are matched after NFKC, so full-width digits do not slip through.

    >>> find_secret("138 1234 5678"), find_secret("case 2026-000123")
    ('a mobile phone number', None)
    """
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    if _DIGIT_RUN.search(value):
        if any(_has_birth_date(match) for match in _IDENTITY.finditer(value)):
            return "an identity number"
        if _MOBILE.search(value):
            return "a mobile phone number"
    for literal, name in _LITERALS:
        if literal in value:
            return name
    lower = value.lower()
    if "sm4gcm:" in lower and _CIPHERTEXT.search(lower):
        return "an SM4 ciphertext token"
    if any(word in lower for word in _CREDENTIAL_WORDS) and _CREDENTIAL.search(lower):
        return "a credential"
    if "eyJ" in value and _JWT.search(value):
        return "a JSON web token"
    for run in _BASE64_RUN.findall(value):
        mixed = any(c.isupper() for c in run) and any(c.islower() for c in run)
        if mixed and any(c.isdigit() for c in run):
            return "a key or token"
    return None


def _new_nonce() -> str:
    return secrets.token_hex(16)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _check_text(name: str, value: object, *, required: bool) -> None:
    if value is None:
        if required:
            raise EntryError(f"{name} is required")
        return
    if not isinstance(value, str):
        raise EntryError(f"{name} must be text, got {type(value).__name__}")
    if not value.strip():
        raise EntryError(f"{name} must not be blank")
    if len(value) > _MAX_TEXT:
        raise EntryError(f"{name} is longer than {_MAX_TEXT} characters")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One event for the ledger; validated on construction, so a bad one never gets a number.

    ``at`` must be timezone-aware and is kept in UTC. Use :meth:`access` and
    :meth:`state_change`, which ask for what each kind needs.
    """

    kind: EntryKind
    actor: str
    department: str
    outcome: Outcome
    purpose: str | None = None
    case_id: str | None = None
    person_id: str | None = None
    fields: tuple[str, ...] = ()
    capability: str | None = None
    action: str | None = None
    object_id: str | None = None
    at: datetime.datetime = field(default_factory=_now)
    nonce: str = field(default_factory=_new_nonce)

    def __post_init__(self) -> None:
        try:
            kind = EntryKind(self.kind)
            outcome = Outcome(self.outcome)
        except ValueError:
            raise EntryError("kind or outcome is not one of the known values") from None
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "outcome", outcome)
        if outcome not in _OUTCOMES[kind]:
            allowed = ", ".join(sorted(_OUTCOMES[kind]))
            raise EntryError(f"the outcome of {kind} entries is one of: {allowed}")
        if not isinstance(self.at, datetime.datetime) or self.at.utcoffset() is None:
            raise EntryError("at must be a timezone-aware datetime")
        object.__setattr__(self, "at", self.at.astimezone(datetime.UTC))
        if not isinstance(self.nonce, str) or not _NONCE.fullmatch(self.nonce):
            raise EntryError("nonce must be 32 lower-case hexadecimal digits")
        if isinstance(self.fields, list):
            object.__setattr__(self, "fields", tuple(self.fields))
        if not isinstance(self.fields, tuple):
            raise EntryError("fields must be a list of field names")
        if len(self.fields) > _MAX_FIELDS:
            raise EntryError(f"an entry names at most {_MAX_FIELDS} fields")
        for position, name in enumerate(self.fields):
            if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
                raise EntryError(
                    f"fields[{position}] is not a field name "
                    "(a letter, then letters, digits, '_', '.', ':' or '-')"
                )
        access = kind is EntryKind.ACCESS
        _check_text("actor", self.actor, required=True)
        _check_text("department", self.department, required=True)
        _check_text("purpose", self.purpose, required=access)
        _check_text("case_id", self.case_id, required=False)
        _check_text("person_id", self.person_id, required=False)
        _check_text("capability", self.capability, required=not access)
        _check_text("action", self.action, required=not access)
        _check_text("object_id", self.object_id, required=not access)
        if access and not self.fields:
            raise EntryError("an access entry names the fields that were asked for")
        self._check_secrets()

    def _check_secrets(self) -> None:
        """Refuse control characters and secrets, naming the field but never the value.

        All text is searched at once (the common, clean case costs one regex
        pass); only a hit is searched field by field to name the culprit.
        """
        named = (
            ("actor", self.actor),
            ("department", self.department),
            ("purpose", self.purpose),
            ("case_id", self.case_id),
            ("person_id", self.person_id),
            ("capability", self.capability),
            ("action", self.action),
            ("object_id", self.object_id),
            *((f"fields[{i}]", name) for i, name in enumerate(self.fields)),
        )
        values = [value for _, value in named if value]
        if _CONTROL.search("".join(values)):
            for name, value in named:
                if value and _CONTROL.search(value):
                    raise EntryError(f"{name} contains a control character")
        if find_secret("\n".join(values)) is None:
            return
        for name, value in named:
            looks_like = find_secret(value) if value else None
            if looks_like is not None:
                raise SecretInEntryError(
                    f"{name} looks like {looks_like}; entries carry no secrets"
                )

    @classmethod
    def access(
        cls,
        *,
        actor: str,
        department: str,
        purpose: str,
        fields: tuple[str, ...] | list[str],
        outcome: Outcome,
        person_id: str | None = None,
        case_id: str | None = None,
        at: datetime.datetime | None = None,
        nonce: str | None = None,
    ) -> LedgerEntry:
        """A read of ``fields`` of a person (or of a batch, without ``person_id``)."""
        return cls(
            kind=EntryKind.ACCESS,
            actor=actor,
            department=department,
            purpose=purpose,
            fields=tuple(fields),
            outcome=outcome,
            person_id=person_id,
            case_id=case_id,
            at=at or _now(),
            nonce=nonce or _new_nonce(),
        )

    @classmethod
    def state_change(
        cls,
        *,
        actor: str,
        department: str,
        capability: str,
        action: str,
        object_id: str,
        outcome: Outcome,
        purpose: str | None = None,
        person_id: str | None = None,
        case_id: str | None = None,
        fields: tuple[str, ...] | list[str] = (),
        at: datetime.datetime | None = None,
        nonce: str | None = None,
    ) -> LedgerEntry:
        """``capability`` did ``action`` to ``object_id`` (``fields``: what it changed)."""
        return cls(
            kind=EntryKind.STATE_CHANGE,
            actor=actor,
            department=department,
            capability=capability,
            action=action,
            object_id=object_id,
            outcome=outcome,
            purpose=purpose,
            person_id=person_id,
            case_id=case_id,
            fields=tuple(fields),
            at=at or _now(),
            nonce=nonce or _new_nonce(),
        )


_KEYS: Final = frozenset(
    {
        "v",
        "seq",
        "nonce",
        "kind",
        "at",
        "actor",
        "department",
        "purpose",
        "case_id",
        "person_id",
        "fields",
        "outcome",
        "capability",
        "action",
        "object_id",
    }
)


def _timestamp(at: datetime.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ``: always microseconds, so one instant has one spelling."""
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_document(entry: LedgerEntry, seq: int) -> dict[str, object]:
    """The JSON object of ``entry`` as leaf ``seq``: the schema, key by key."""
    return {
        "v": ENTRY_VERSION,
        "seq": seq,
        "nonce": entry.nonce,
        "kind": entry.kind.value,
        "at": _timestamp(entry.at),
        "actor": entry.actor,
        "department": entry.department,
        "purpose": entry.purpose,
        "case_id": entry.case_id,
        "person_id": entry.person_id,
        "fields": list(entry.fields),
        "outcome": entry.outcome.value,
        "capability": entry.capability,
        "action": entry.action,
        "object_id": entry.object_id,
    }


def _string(value: str | None) -> str:
    return "null" if value is None else _json_string(value)


def encode_entry(entry: LedgerEntry, seq: int) -> bytes:
    """The canonical bytes of ``entry`` as leaf ``seq``: what the leaf hash is computed over.

    Exactly ``json.dumps(canonical_document(entry, seq), sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`` in UTF-8 (the tests hold it
    to that), written out key by key in sorted order with the same C string
    encoder: the generic encoder's key sorting made it a third of an append.
    """
    if seq < 0:
        raise EntryError(f"sequence numbers start at 0, got {seq}")
    text = (
        f'{{"action":{_string(entry.action)},"actor":{_json_string(entry.actor)},'
        f'"at":"{_timestamp(entry.at)}","capability":{_string(entry.capability)},'
        f'"case_id":{_string(entry.case_id)},"department":{_json_string(entry.department)},'
        f'"fields":[{",".join(map(_json_string, entry.fields))}],"kind":"{entry.kind.value}",'
        f'"nonce":"{entry.nonce}","object_id":{_string(entry.object_id)},'
        f'"outcome":"{entry.outcome.value}","person_id":{_string(entry.person_id)},'
        f'"purpose":{_string(entry.purpose)},"seq":{seq},"v":{ENTRY_VERSION}}}'
    )
    return text.encode("utf-8")


def _parse_timestamp(value: object) -> datetime.datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise EntryError("at is not a UTC timestamp ending in Z")
    try:
        parsed = datetime.datetime.fromisoformat(value[:-1])
    except ValueError:
        raise EntryError("at is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is not None:
        raise EntryError("at must carry no offset besides Z")
    return parsed.replace(tzinfo=datetime.UTC)


def decode_entry(data: bytes | str) -> tuple[int, LedgerEntry]:
    """The sequence number and entry of canonical bytes; refuses any non-canonical spelling.

    Re-encoding must give the input back byte for byte, so two texts can never
    stand for one entry.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        document: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EntryError("entry is not JSON in UTF-8") from None
    if not isinstance(document, dict):
        raise EntryError("entry is not a JSON object")
    if set(document) != _KEYS:
        raise EntryError("entry keys are not those of the schema")
    if document["v"] != ENTRY_VERSION:
        raise EntryError(f"entry schema version is not {ENTRY_VERSION}")
    seq = document["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise EntryError("seq is not a sequence number")
    fields = document["fields"]
    if not isinstance(fields, list):
        raise EntryError("fields is not a list")
    entry = LedgerEntry(
        kind=document["kind"],
        actor=document["actor"],
        department=document["department"],
        outcome=document["outcome"],
        purpose=document["purpose"],
        case_id=document["case_id"],
        person_id=document["person_id"],
        fields=tuple(fields),
        capability=document["capability"],
        action=document["action"],
        object_id=document["object_id"],
        at=_parse_timestamp(document["at"]),
        nonce=document["nonce"],
    )
    if encode_entry(entry, seq) != raw:
        raise EntryError("entry is not in canonical form")
    return seq, entry
