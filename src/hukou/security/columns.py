"""Where tokens are stored: each capability declares its encrypted columns in one place.

Key rotation, the token census and key retirement must visit *every* stored
token; a column someone forgot would keep an old key alive forever (or lose its
values once that key is retired). So each capability that stores tokens has a
module ``hukou.<capability>.encrypted`` with one tuple, ``ENCRYPTED_COLUMNS``,
and :func:`discover` collects them all: a new capability adds its module and is
walked, nothing central to edit. The walker (:mod:`hukou.security.rotation`)
knows nothing of any capability.

A column holds either one token per row (``context`` is its GCM associated
data) or a JSON object whose values may hold tokens (``json_context``: the
context of a token found anywhere under top-level key ``K`` is the template
with ``{key}`` replaced by ``K``; with ``json_member`` the keys are those of that
member of the object instead of the top level). ``subject_column`` names the column whose
value is the data-key subject of the row's tokens (e.g. the batch of a
quarantined line), so that a token moved to its data key gets its subject's:

>>> EncryptedColumn("accounts_user", "id", "totp_secret", context="accounts.user.totp_secret")
EncryptedColumn(accounts_user.totp_secret, context='accounts.user.totp_secret')
>>> fields = EncryptedColumn("registry_record", "id", "fields", json_context="registry.{key}")
>>> fields.context_for("phone")
'registry.phone'
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["DECLARATIONS_ATTRIBUTE", "DECLARATIONS_MODULE", "EncryptedColumn", "discover"]

DECLARATIONS_MODULE = "encrypted"
"""The module name, inside a capability package, that declares its encrypted columns."""
DECLARATIONS_ATTRIBUTE = "ENCRYPTED_COLUMNS"
"""The tuple of :class:`EncryptedColumn` that module exports."""

_KEY = "{key}"


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    """One column that stores tokens: where it is and how to find each token's context.

    ``primary_key`` must be a single, orderable column: the walker pages by it
    (keyset pagination), so a crashed run resumes and no batch holds a long lock.
    """

    table: str
    primary_key: str
    column: str
    context: str | None = None
    json_context: str | None = None
    subject_column: str | None = None
    json_member: str | None = None

    def __post_init__(self) -> None:
        if (self.context is None) == (self.json_context is None):
            raise ValueError(
                f"{self.table}.{self.column}: give exactly one of context and json_context"
            )
        if self.json_member is not None and self.json_context is None:
            raise ValueError(f"{self.table}.{self.column}: json_member needs json_context")
        for name in (self.table, self.primary_key, self.column, self.subject_column or "s"):
            if not name.replace("_", "").isalnum():  # the walker puts them in SQL
                raise ValueError(f"not a plain SQL identifier: {name!r}")

    @property
    def is_json(self) -> bool:
        """Whether the column holds a JSON object with tokens among its values."""
        return self.json_context is not None

    def keyed(self, document: object) -> object:
        """The part of a JSON column's document whose keys name the tokens' contexts."""
        if self.json_member is not None and isinstance(document, dict):
            return document.get(self.json_member, {})
        return document

    def context_for(self, key: str | None = None) -> str:
        """The context of a token: the column's, or the one of JSON key ``key``."""
        if self.context is not None:
            return self.context
        if key is None:
            raise ValueError(f"{self.table}.{self.column}: a JSON column's context needs a key")
        return str(self.json_context).replace(_KEY, key)

    def __repr__(self) -> str:
        how = f"context={self.context!r}" if self.context else f"json_context={self.json_context!r}"
        return f"EncryptedColumn({self.table}.{self.column}, {how})"


def check_unique(columns: Iterable[EncryptedColumn]) -> tuple[EncryptedColumn, ...]:
    """The columns, refusing two declarations of the same table and column."""
    seen: dict[tuple[str, str], EncryptedColumn] = {}
    for column in columns:
        where = (column.table, column.column)
        if where in seen:
            raise ValueError(f"{column.table}.{column.column} is declared twice")
        seen[where] = column
    return tuple(seen.values())


def discover(package: str = "hukou") -> tuple[EncryptedColumn, ...]:
    """Every ``<package>.<capability>.encrypted.ENCRYPTED_COLUMNS``, in capability order.

    Only the declaration modules are imported (and so their capability
    packages); a capability without one is not imported at all.
    """
    root = importlib.import_module(package)
    found: list[EncryptedColumn] = []
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        spec = info.module_finder.find_spec(f"{package}.{info.name}", None)
        locations: Sequence[str] = (spec.submodule_search_locations or []) if spec else []
        if not any(m.name == DECLARATIONS_MODULE for m in pkgutil.iter_modules(locations)):
            continue
        module = importlib.import_module(f"{package}.{info.name}.{DECLARATIONS_MODULE}")
        declared = getattr(module, DECLARATIONS_ATTRIBUTE)
        if not all(isinstance(column, EncryptedColumn) for column in declared):
            raise TypeError(f"{module.__name__}.{DECLARATIONS_ATTRIBUTE} must hold EncryptedColumn")
        found.extend(declared)
    return check_unique(found)
