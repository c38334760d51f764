"""Who may read which item of a person, for what: the access decision, as plain values.

Deny by default. An item is returned to a department only when one of these holds:

- the department is the item's provider (its own data, read under its own duty);
- the resident reads their own data (PIPL art. 45: everything, ``never`` included);
- an approved agreement in force names the provider, the department, the item and
  the purpose; the item is not ``never`` shared; and, when the purpose's legal
  basis is consent, the person has consented and not withdrawn.

Every other item is denied with the first reason that applies, so the ledger and
the caller can say exactly why (:class:`Denial`). The decision knows nothing of
the database: the store gives it the agreements and the consent it found.

>>> from hukou.exchange.catalog import load_catalog
>>> import datetime
>>> catalog = load_catalog()
>>> deal = Agreement(
...     "A1", "public_security", "education", frozenset({"name", "registered_division"}),
...     frozenset({"school_enrolment"}), datetime.date(2026, 1, 1), None, approved=True,
... )
>>> decision = decide(
...     catalog, department="education", purpose="school_enrolment",
...     fields=["name", "registered_division", "identity_number", "clinic_id"],
...     agreements=[deal], today=datetime.date(2026, 6, 1),
... )
>>> decision.allowed
('name', 'registered_division')
>>> {field: str(reason) for field, reason in decision.denied.items()}
{'identity_number': 'no_agreement', 'clinic_id': 'never_shared'}
>>> decision.outcome
'partial'
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from hukou.exchange.catalog import Catalog, Share

__all__ = ["Agreement", "Decision", "Denial", "decide"]


class Denial(StrEnum):
    """Why an item was not returned; the first that applies is given."""

    NOT_PERMITTED = "not_permitted"  # the reader's roles may not read this (or this person)
    UNKNOWN_PURPOSE = "unknown_purpose"  # not an enumerated purpose
    UNKNOWN_FIELD = "unknown_field"  # not in the catalogue: never shared
    NEVER_SHARED = "never_shared"  # 不予共享
    NO_AGREEMENT = "no_agreement"  # no approved agreement names provider, reader and item
    NOT_IN_FORCE = "not_in_force"  # agreements exist, none valid today
    PURPOSE_NOT_AGREED = "purpose_not_agreed"  # in force, but not for this purpose
    NO_CONSENT = "no_consent"  # the purpose rests on consent, none is given (or withdrawn)


@dataclass(frozen=True, slots=True)
class Agreement:
    """A sharing agreement: ``provider`` lets ``consumer`` read ``fields`` for ``purposes``.

    ``approved`` is true once a data officer of the provider approved it; ``revoked``
    ends it at once, whatever its validity window says.
    """

    id: str
    provider: str
    consumer: str
    fields: frozenset[str]
    purposes: frozenset[str]
    valid_from: datetime.date
    valid_until: datetime.date | None
    approved: bool = False
    revoked: bool = False

    def in_force(self, today: datetime.date) -> bool:
        """Approved, not revoked, and ``today`` within its validity window (both ends included)."""
        return (
            self.approved
            and not self.revoked
            and self.valid_from <= today
            and (self.valid_until is None or today <= self.valid_until)
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """The items allowed (in the order asked), the denied ones with their reason, and
    the agreement each allowed item was read under (``None``: the provider's own or the
    resident's own data)."""

    allowed: tuple[str, ...]
    denied: Mapping[str, Denial]
    basis: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def outcome(self) -> str:
        """``allowed`` (everything asked), ``partial`` or ``denied`` (nothing)."""
        if not self.denied:
            return "allowed"
        return "partial" if self.allowed else "denied"


def _reason(
    catalog: Catalog,
    name: str,
    *,
    department: str,
    purpose: str,
    agreements: Sequence[Agreement],
    today: datetime.date,
    consent: bool,
) -> tuple[Denial | None, str | None]:
    """The denial for one item, or ``None`` and the agreement it is read under."""
    item = catalog.fields.get(name)
    if item is None:
        return Denial.UNKNOWN_FIELD, None
    if item.provider == department:
        return None, None
    if item.share is Share.NEVER:
        return Denial.NEVER_SHARED, None
    naming = [
        a
        for a in agreements
        if a.provider == item.provider and a.consumer == department and name in a.fields
    ]
    if not naming:
        return Denial.NO_AGREEMENT, None
    in_force = [a for a in naming if a.in_force(today)]
    if not in_force:
        return Denial.NOT_IN_FORCE, None
    for_purpose = sorted((a for a in in_force if purpose in a.purposes), key=lambda a: a.id)
    if not for_purpose:
        return Denial.PURPOSE_NOT_AGREED, None
    if catalog.purposes[purpose].needs_consent and not consent:
        return Denial.NO_CONSENT, None
    return None, for_purpose[0].id


def decide(
    catalog: Catalog,
    *,
    department: str,
    purpose: str,
    fields: Iterable[str],
    agreements: Sequence[Agreement],
    today: datetime.date,
    consent: bool = False,
    own_data: bool = False,
) -> Decision:
    """Which of ``fields`` ``department`` may read for ``purpose`` today.

    ``consent``: the person has a consent in force for this department and purpose
    (asked only when the purpose rests on consent). ``own_data``: the reader is the
    resident the data is about, reading for ``self_access``.
    """
    asked = list(dict.fromkeys(fields))  # each item once, in the order asked
    if purpose not in catalog.purposes:
        return Decision((), MappingProxyType(dict.fromkeys(asked, Denial.UNKNOWN_PURPOSE)))
    allowed: list[str] = []
    denied: dict[str, Denial] = {}
    basis: dict[str, str | None] = {}
    for name in asked:
        reason: Denial | None
        agreement: str | None = None
        if own_data and purpose == "self_access":
            reason = None if name in catalog.fields else Denial.UNKNOWN_FIELD
        else:
            reason, agreement = _reason(
                catalog,
                name,
                department=department,
                purpose=purpose,
                agreements=agreements,
                today=today,
                consent=consent,
            )
        if reason is None:
            allowed.append(name)
            basis[name] = agreement
        else:
            denied[name] = reason
    return Decision(tuple(allowed), MappingProxyType(denied), MappingProxyType(basis))
