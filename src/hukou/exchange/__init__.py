"""Governed sharing: the catalogue, agreements, consent, masking, and the one door.

Every read of a person's data by a department or a resident goes through
:meth:`Exchange.read` (or :meth:`Exchange.read_batch`) with a purpose: the
decision (agreement, purpose, consent; deny by default) is in
:mod:`~hukou.exchange.policy`, the masked forms in :mod:`~hukou.exchange.masking`,
the 共享清单 in :mod:`~hukou.exchange.catalog` and ``data/catalog.yaml``, the
agreement workflow in :mod:`~hukou.exchange.agreements`, and the resident's
own view of who read their data in :mod:`~hukou.exchange.tracker`.
See docs/exchange.md.
"""

from hukou.exchange.agreements import (
    AgreementError,
    AgreementView,
    agreements_for,
    approve,
    consent_in_force,
    give_consent,
    list_agreements,
    propose,
    reject,
    revoke,
    withdraw_consent,
)
from hukou.exchange.catalog import Catalog, CatalogError, FieldItem, Purpose, Share, load_catalog
from hukou.exchange.masking import Mask, apply_mask
from hukou.exchange.policy import Agreement, Decision, Denial, decide
from hukou.exchange.service import (
    Asked,
    Exchange,
    PersonView,
    ReadRefusedError,
    automatic_reader,
)

__all__ = [
    "Agreement",
    "AgreementError",
    "AgreementView",
    "Asked",
    "Catalog",
    "CatalogError",
    "Decision",
    "Denial",
    "Exchange",
    "FieldItem",
    "Mask",
    "PersonView",
    "Purpose",
    "ReadRefusedError",
    "Share",
    "agreements_for",
    "apply_mask",
    "approve",
    "automatic_reader",
    "consent_in_force",
    "decide",
    "give_consent",
    "list_agreements",
    "load_catalog",
    "propose",
    "reject",
    "revoke",
    "withdraw_consent",
]
