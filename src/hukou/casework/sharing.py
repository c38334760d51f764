"""What the service catalog asks of the sharing catalogue: the agreements 免证明 needs.

A fact is proven from the registry only if the first-contact department may read its item
for the service's purpose: its own item, or another department's under an approved
agreement. :func:`needed_agreements` lists, per provider and first-contact department,
the items and purposes the shipped services read — what a city's data officers must agree
for every fact to be provable, and what the demo seeds. :func:`unshareable` finds facts
no agreement could ever prove (an item shared ``never`` by another department): a service
that names one is asking for paper it could have avoided, or for data it may not have.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hukou.casework.catalog import Catalog
from hukou.exchange.catalog import Catalog as SharingCatalog
from hukou.exchange.catalog import Share

__all__ = ["Needed", "Read", "needed_agreements", "unshareable"]


@dataclass(frozen=True, slots=True)
class Needed:
    """Items ``consumer`` must be allowed to read from ``provider``, for ``purposes``."""

    provider: str
    consumer: str
    items: tuple[str, ...]
    purposes: tuple[str, ...]


Read = tuple[str, Sequence[str], str]
"""A read beyond the services' facts: (consumer department, items, purpose)."""


def _reads(
    catalog: Catalog, sharing: SharingCatalog, also: Iterable[Read]
) -> Iterable[tuple[str, str, str, str]]:
    """(provider, consumer, item, purpose) of every fact read from another department,
    and of the ``also`` reads."""
    for consumer, items, purpose in also:
        for item in items:
            provider = sharing.fields[item].provider
            if provider != consumer:
                yield provider, consumer, item, purpose
    for service in catalog.services.values():
        for fact in service.facts.values():
            if fact.item is None:
                continue
            provider = sharing.fields[fact.item].provider
            if provider != service.first_contact:
                yield provider, service.first_contact, fact.item, service.purpose


def needed_agreements(
    catalog: Catalog, sharing: SharingCatalog, also: Iterable[Read] = ()
) -> list[Needed]:
    """One agreement per (provider, consumer): the items and purposes the services read
    (and the ``also`` reads, e.g. the points office scoring a 积分落户 application)."""
    grouped: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for provider, consumer, item, purpose in _reads(catalog, sharing, also):
        items, purposes = grouped.setdefault((provider, consumer), (set(), set()))
        items.add(item)
        purposes.add(purpose)
    return [
        Needed(provider, consumer, tuple(sorted(items)), tuple(sorted(purposes)))
        for (provider, consumer), (items, purposes) in sorted(grouped.items())
    ]


def unshareable(catalog: Catalog, sharing: SharingCatalog) -> list[tuple[str, str]]:
    """(service, fact) pairs whose item another department never shares."""
    return sorted(
        (code, name)
        for code, service in catalog.services.items()
        for name, fact in service.facts.items()
        if fact.item is not None
        and sharing.fields[fact.item].provider != service.first_contact
        and sharing.fields[fact.item].share is Share.NEVER
    )
