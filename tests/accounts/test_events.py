"""Which account events record a refusal: the ledger's outcome for each comes from here."""

from __future__ import annotations

import datetime

import pytest

from hukou.accounts.events import FAILURES, AccountEvent

AT = datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "kind", ["login.failed", "login.locked", "login.rate_limited", "password.change_refused"]
)
def test_refusals_are_failures(kind: str) -> None:
    assert AccountEvent(kind, AT).failed


@pytest.mark.parametrize(
    "kind", ["user.unlocked", "login.succeeded", "role.granted", "session.revoked"]
)
def test_changes_that_happened_are_not(kind: str) -> None:
    # "unlocked" contains "lock": a substring rule once got this wrong.
    assert not AccountEvent(kind, AT).failed
    assert kind not in FAILURES
