"""``Exchange.read``: the one door every read of a person's data goes through.

For each read, in one transaction: the reader's permission, the access decision
(:func:`hukou.exchange.policy.decide`: agreement, purpose, consent), the facts
from the registry, masking unless unmasking is permitted and reasoned, and one
ledger entry saying who read which items of whom, for what, with what outcome.
Denials are entries too, and are returned, not raised, so the entry is committed
with the caller's transaction; the HTTP layer turns a full denial into 403.

Reads of the same items for many persons (:meth:`Exchange.read_batch`) take one decision
and write one entry per person, so each resident sees every read of their data.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from sqlalchemy.orm import Session

from hukou.accounts import AccountKind, ActiveSession, Permission
from hukou.audit import ledger
from hukou.audit.entry import LedgerEntry, Outcome
from hukou.db.bulk import insert_rows
from hukou.exchange.agreements import agreements_for, consent_in_force
from hukou.exchange.catalog import Catalog
from hukou.exchange.masking import apply_mask
from hukou.exchange.model import UnmaskReasonRow
from hukou.exchange.policy import Agreement, Decision, Denial, decide
from hukou.registry import (
    PersonFacts,
    Provenance,
    find_by_identity_number,
    find_by_name_and_birth_date,
    person_facts,
    persons_facts,
)
from hukou.security.fields import FieldCipher

__all__ = [
    "SELF_ACCESS",
    "UNMASKED_SUFFIX",
    "Asked",
    "Exchange",
    "PersonView",
    "ReadRefusedError",
    "automatic_reader",
]

SELF_ACCESS = "self_access"
UNMASKED_SUFFIX = ":unmasked"
"""How the ledger marks an item that was shown unmasked (``identity_number:unmasked``)."""
_MIN_REASON = 4  # characters: "核查身份" is four
_MAX_BATCH = 10_000


class ReadRefusedError(ValueError):
    """A read that is malformed before any decision (no items, an empty batch, too big)."""


@dataclass(frozen=True, slots=True)
class Asked:
    """One read asked of :meth:`Exchange.read_many`: ``fields`` of one person, for a purpose."""

    actor: ActiveSession
    person_id: str
    fields: Sequence[str]
    purpose: str
    case_id: str | None = None
    unmask: Sequence[str] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PersonView:
    """What a reader gets of one person: allowed items (masked unless listed in
    ``unmasked``), their provenance, and why the other items were withheld."""

    person_id: str
    values: Mapping[str, object]
    provenance: Mapping[str, Provenance]
    unmasked: tuple[str, ...]
    denied: Mapping[str, Denial]
    outcome: Outcome
    ledger_seq: int
    unmask_refused: bool = False
    found: bool = True
    basis: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def _reader_department(actor: ActiveSession) -> str:
    if actor.kind is AccountKind.RESIDENT:
        return "resident"
    return actor.department_code or "unknown"


def _permitted(actor: ActiveSession, person_id: str, purpose: str, *, batch: bool) -> bool:
    if actor.kind is AccountKind.RESIDENT:
        return not batch and purpose == SELF_ACCESS and actor.person_id == person_id
    if purpose == SELF_ACCESS:
        return False
    return actor.has(Permission.PERSON_BATCH_READ if batch else Permission.PERSON_READ)


def _decision(
    db: Session,
    catalog: Catalog,
    actor: ActiveSession,
    person_id: str,
    fields: Sequence[str],
    *,
    purpose: str,
    today: datetime.date,
    agreements: Sequence[Agreement],
    batch: bool = False,
) -> Decision:
    if not _permitted(actor, person_id, purpose, batch=batch):
        return Decision((), MappingProxyType(dict.fromkeys(fields, Denial.NOT_PERMITTED)))
    department = _reader_department(actor)
    consent = (
        purpose in catalog.purposes
        and catalog.purposes[purpose].needs_consent
        and consent_in_force(db, person_id, department, purpose)
    )
    return decide(
        catalog,
        department=department,
        purpose=purpose,
        fields=fields,
        agreements=agreements,
        today=today,
        consent=consent,
        own_data=actor.kind is AccountKind.RESIDENT,
    )


def _reader_agreements(db: Session, actor: ActiveSession) -> list[Agreement]:
    """The agreements the reader's department holds, read once per call (not per person)."""
    if actor.kind is AccountKind.RESIDENT:
        return []
    return agreements_for(db, _reader_department(actor))


def _shown(catalog: Catalog, values: Mapping[str, object], unmasked: set[str]) -> dict[str, object]:
    """Values masked as the catalogue says, except ``unmasked`` (only catalogued items get here)."""
    return {
        name: value if name in unmasked else apply_mask(catalog.fields[name].mask, value)
        for name, value in values.items()
    }


@dataclass(frozen=True, slots=True)
class _Found:
    """One person's read before its ledger entry: the decision and the allowed values."""

    person_id: str
    decision: Decision
    facts: PersonFacts | None

    @property
    def found(self) -> bool:
        # Nothing allowed: whether the person exists is not the reader's business.
        return self.facts is not None or not self.decision.allowed

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.decision.outcome) if self.found else Outcome.DENIED

    @property
    def values(self) -> dict[str, object]:
        """Every allowed item, ``None`` where the registry holds no value: "no data" is an
        answer the reader is entitled to, unlike a withheld item."""
        if self.facts is None:
            return {}
        return {name: self.facts.values.get(name) for name in self.decision.allowed}

    def view(
        self, shown: dict[str, object], seq: int, *, clear: set[str], unmask_refused: bool
    ) -> PersonView:
        return PersonView(
            self.person_id,
            MappingProxyType(shown),
            MappingProxyType(dict(self.facts.provenance) if self.facts is not None else {}),
            tuple(sorted(clear)),
            self.decision.denied,
            self.outcome,
            seq,
            unmask_refused=unmask_refused,
            found=self.found,
            basis=self.decision.basis,
        )


def _entry(
    actor: ActiveSession,
    found: _Found,
    logged: Sequence[str],
    asked: Sequence[str],
    *,
    purpose: str,
    case_id: str | None,
) -> LedgerEntry:
    """The access entry of one person's read: the items returned, or those asked when none was."""
    return LedgerEntry.access(
        actor=actor.user_id,
        department=_reader_department(actor),
        purpose=purpose,
        fields=list(logged) or list(asked),
        outcome=found.outcome,
        person_id=found.person_id,
        case_id=case_id,
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One read ready for its ledger entry: what is shown, in clear, and why."""

    found: _Found
    shown: dict[str, object]
    clear: set[str]
    refused: bool
    """Unmasking was asked for and not allowed."""
    entry: LedgerEntry
    reason: str | None
    """The reason kept beside the entry when something was shown in clear to a reader
    other than the person themself."""


def _prepare(catalog: Catalog, read: Asked, found: _Found) -> _Prepared:
    """Mask what ``read`` may not see in clear, and write its ledger entry."""
    values = found.values
    own = read.actor.kind is AccountKind.RESIDENT
    wants_clear = {name for name in read.unmask if name in values}
    may_unmask = own or (
        read.actor.has(Permission.PERSON_UNMASK)
        and read.reason is not None
        and len(read.reason.strip()) >= _MIN_REASON
    )
    clear = set(values) if own else (wants_clear if may_unmask else set())
    shown = _shown(catalog, values, clear)
    logged = [f"{name}{UNMASKED_SUFFIX}" if name in clear and not own else name for name in shown]
    asked = list(dict.fromkeys(read.fields))
    entry = _entry(read.actor, found, logged, asked, purpose=read.purpose, case_id=read.case_id)
    kept = read.reason.strip() if clear and not own and read.reason is not None else None
    return _Prepared(found, shown, clear, bool(wants_clear) and not may_unmask, entry, kept)


@dataclass(frozen=True, slots=True)
class Exchange:
    """The door, with what it needs: the key ring's cipher and the sharing catalogue."""

    cipher: FieldCipher
    catalog: Catalog

    def _find(
        self,
        db: Session,
        actor: ActiveSession,
        person_id: str,
        asked: Sequence[str],
        *,
        purpose: str,
        today: datetime.date,
        agreements: Sequence[Agreement],
        batch: bool = False,
    ) -> _Found:
        decision = _decision(
            db,
            self.catalog,
            actor,
            person_id,
            asked,
            purpose=purpose,
            today=today,
            agreements=agreements,
            batch=batch,
        )
        facts = (
            person_facts(db, self.cipher, person_id, decision.allowed) if decision.allowed else None
        )
        return _Found(person_id, decision, facts)

    def read(
        self,
        db: Session,
        actor: ActiveSession,
        person_id: str,
        fields: Sequence[str],
        purpose: str,
        *,
        case_id: str | None = None,
        unmask: Sequence[str] = (),
        reason: str | None = None,
        today: datetime.date | None = None,
    ) -> PersonView:
        """Read ``fields`` of one person for ``purpose``, masked unless unmasking is allowed.

        ``unmask`` lists items to show in clear: it needs the unmask permission and a
        ``reason`` (kept beside the ledger entry); without both, the items come masked
        and ``unmask_refused`` says so. A resident reading their own data
        (``self_access``) sees it in clear. A person that does not exist gives an
        empty, ``found=False`` view (and still a ledger entry: the attempt is a fact).
        """
        asked = Asked(actor, person_id, fields, purpose, case_id, unmask, reason)
        return self.read_many(db, [asked], today=today)[0]

    def read_many(
        self, db: Session, reads: Sequence[Asked], *, today: datetime.date | None = None
    ) -> list[PersonView]:
        """:meth:`read` for each of ``reads``, each judged on its own, with fewer round trips:
        a department's agreements are read once, the golden records of reads allowed the
        same items in one query, and the ledger entries appended in one batch (in the
        order of ``reads``). For the filing desk, which files many cases at once."""
        day = today or _today()
        agreements: dict[tuple[AccountKind, str], list[Agreement]] = {}
        decisions: list[Decision] = []
        for read in reads:
            if not read.fields:
                raise ReadRefusedError("name at least one item to read")
            key = (read.actor.kind, _reader_department(read.actor))
            if key not in agreements:
                agreements[key] = _reader_agreements(db, read.actor)
            decisions.append(
                _decision(
                    db,
                    self.catalog,
                    read.actor,
                    read.person_id,
                    list(dict.fromkeys(read.fields)),
                    purpose=read.purpose,
                    today=day,
                    agreements=agreements[key],
                )
            )
        facts = self._facts_of_many(
            db, [(read.person_id, d.allowed) for read, d in zip(reads, decisions, strict=True)]
        )
        prepared = [
            _prepare(self.catalog, read, _Found(read.person_id, decision, found))
            for read, decision, found in zip(reads, decisions, facts, strict=True)
        ]
        seqs = ledger.append(db, [one.entry for one in prepared])
        insert_rows(
            db,
            UnmaskReasonRow,
            [
                {"ledger_seq": seq, "reason": one.reason}
                for seq, one in zip(seqs, prepared, strict=True)
                if one.reason is not None
            ],
        )
        return [
            one.found.view(one.shown, seq, clear=one.clear, unmask_refused=one.refused)
            for seq, one in zip(seqs, prepared, strict=True)
        ]

    def _facts_of_many(
        self, db: Session, wanted: Sequence[tuple[str, Sequence[str]]]
    ) -> list[PersonFacts | None]:
        """Each ``(person, items)``'s facts: persons asked the same items read in one query;
        a read of the identity number one at a time (it names the record it came from)."""
        facts: list[PersonFacts | None] = [None] * len(wanted)
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, (person, items) in enumerate(wanted):
            if not items:
                continue
            if "identity_number" in items:
                facts[index] = person_facts(db, self.cipher, person, items)
            else:
                groups.setdefault(tuple(items), []).append(index)
        for items, indexes in groups.items():
            people = [wanted[index][0] for index in indexes]
            if len(people) == 1:
                facts[indexes[0]] = person_facts(db, self.cipher, people[0], items)
                continue
            found = persons_facts(db, self.cipher, people, items)
            for index, person in zip(indexes, people, strict=True):
                facts[index] = found.get(person)
        return facts

    def search(
        self,
        db: Session,
        actor: ActiveSession,
        *,
        purpose: str,
        identity_number: str | None = None,
        name: str | None = None,
        birth_date: datetime.date | None = None,
        case_id: str | None = None,
    ) -> list[str]:
        """The persons with ``identity_number`` (or ``name`` and ``birth_date``); each
        find is a ledger entry (``lookup``, for ``purpose``): a search is an access."""
        actor.require(Permission.PERSON_READ)
        if purpose not in self.catalog.purposes or purpose == "self_access":
            raise ReadRefusedError("purpose: not one of the listed purposes")
        if identity_number is not None:
            found = find_by_identity_number(db, self.cipher, identity_number)
        elif name is not None and birth_date is not None:
            found = find_by_name_and_birth_date(db, name, birth_date)
        else:
            raise ReadRefusedError("give identity_number, or name and birth_date")
        ledger.append(
            db,
            [
                LedgerEntry.access(
                    actor=actor.user_id,
                    department=actor.department_code or "unknown",
                    purpose=purpose,
                    fields=["lookup"],
                    outcome=Outcome.ALLOWED,
                    person_id=person,
                    case_id=case_id,
                )
                for person in found
            ],
        )
        return found

    def read_batch(
        self,
        db: Session,
        actor: ActiveSession,
        person_ids: Sequence[str],
        fields: Sequence[str],
        purpose: str,
        *,
        case_id: str | None = None,
        today: datetime.date | None = None,
    ) -> list[PersonView]:
        """Read the same items of many persons for a department, masked, one entry per person.

        Needs the batch-read permission; never unmasks (a batch has no single reason).
        The department's agreements are read once for the whole batch.
        """
        asked = list(dict.fromkeys(fields))
        people = list(dict.fromkeys(person_ids))
        if not asked or not people:
            raise ReadRefusedError("name at least one item and one person")
        if len(people) > _MAX_BATCH:
            raise ReadRefusedError(f"at most {_MAX_BATCH:,} persons per batch")
        day = today or _today()
        agreements = _reader_agreements(db, actor)
        reads = [
            self._find(
                db,
                actor,
                person,
                asked,
                purpose=purpose,
                today=day,
                agreements=agreements,
                batch=True,
            )
            for person in people
        ]
        shown = [_shown(self.catalog, found.values, set()) for found in reads]
        seqs = ledger.append(
            db,
            [
                _entry(actor, found, list(values), asked, purpose=purpose, case_id=case_id)
                for found, values in zip(reads, shown, strict=True)
            ],
        )
        return [
            found.view(values, seq, clear=set(), unmask_refused=False)
            for found, values, seq in zip(reads, shown, seqs, strict=True)
        ]


_AUTOMATIC_PERMISSIONS: Final = frozenset({Permission.PERSON_READ, Permission.PERSON_UNMASK})


def automatic_reader(
    actor: str, department: str, display_name: str, now: datetime.datetime
) -> ActiveSession:
    """A department's automatic check (``actor`` such as ``system:casework``): it reads and
    unmasks what it judges under the department's agreements, and can do nothing else.
    Never a person's login: its reads name it in the ledger."""
    return ActiveSession(
        session_key="-",
        user_id=actor,
        username=actor,
        display_name=display_name,
        kind=AccountKind.STAFF,
        department_code=department,
        person_id=None,
        roles=frozenset(),
        permissions=_AUTOMATIC_PERMISSIONS,
        created_at=now,
        expires_at=now,
        password_change_due=False,
        csrf_token=secrets.token_urlsafe(16),  # never used: it takes no requests
    )
