"""What the account store reports as it happens, for the audit ledger to record.

The store calls an :data:`EventSink` with the database session of the change, so
a sink that appends to the ledger in that session commits or rolls back together
with the change itself. Events carry ids and codes only: never a password, a
TOTP secret or code, a session id, or the user name someone typed (which is
sometimes a password typed in the wrong field): a failed login for a name with
no account has no ``user_id`` at all.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

__all__ = ["FAILURES", "AccountEvent", "EventSink", "ignore_events"]

FAILURES = frozenset(
    {"login.failed", "login.locked", "login.rate_limited", "password.change_refused"}
)
"""The event kinds that record a refusal; every other kind records a change that happened."""


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """One security-relevant change or login outcome."""

    kind: str
    """e.g. ``login.succeeded``, ``login.failed``, ``role.granted``, ``session.ended``."""
    at: datetime.datetime
    user_id: str | None = None
    """The account concerned, if there is one."""
    actor_id: str | None = None
    """The account that made the change (an administrator), if not the user itself."""
    detail: str = ""
    """A code such as a role or department code; never personal data or a secret."""

    @property
    def failed(self) -> bool:
        """Whether this records a refusal (a failed login, a lockout) rather than a change."""
        return self.kind in FAILURES


EventSink = Callable[[Session, AccountEvent], None]


def ignore_events(_db: Session, _event: AccountEvent) -> None:
    """The default sink: events go nowhere until the ledger is wired in."""
