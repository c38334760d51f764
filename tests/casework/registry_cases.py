"""Filings on the exchange tests' linked registry: the window's filing and who to file for.
Shared by the service and filing-desk tests."""

from __future__ import annotations

import datetime

from hukou.casework.catalog import Channel, load_catalog
from hukou.casework.store import Filing
from tests.exchange.conftest import TODAY, Registry, persons_with

NOW = datetime.datetime.combine(TODAY, datetime.time(10), tzinfo=datetime.UTC)
CITY = "3205"
CATALOG = load_catalog()


def window_filing(code: str, person_id: str, applicant_id: str | None = None) -> Filing:
    """A clerk of public security files ``code`` for ``person_id`` at the window."""
    return Filing(
        service=CATALOG[code],
        channel=Channel.WINDOW,
        applicant_id=applicant_id or person_id,
        subject_id=person_id,
        filed_by="u-clerk",
        department="public_security",
    )


def registered_here(registry: Registry) -> list[str]:
    """The people of the registry whose hukou is in the city."""
    return [
        person
        for person, values in persons_with(registry, ["registered_division"])
        if str(values.get("registered_division", "")).startswith(CITY)
    ]
